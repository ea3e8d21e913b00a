#!/usr/bin/env bash
# The owner's interface gets a new MAC (netlink notification): it
# re-announces its VIPs with the new address and answers with it.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
vip=${L2_VIPS[0]}
owner=${L2_OWNER[$vip]}
new=02:00:00:00:00:99
l2_watch_start 20
L2_T0=$(date +%s.%N)
lab_exec "$owner" ip link set eth0 address "$new"
lab_wait 5 awk -v v="$vip" -v m="$new" -v t0="$L2_T0" \
	'$1 == "garp" && $3 == v && $4 == m && $2 > t0 { f = 1 } END { exit !f }' "$LAB_DIR/watch.out" ||
	lab_fail "$owner did not re-announce $vip with its new MAC"
l2_watch_stop
grep -q "l2announce: eth0 has a new MAC: re-announcing" "$LAB_DIR/$owner.log" || lab_fail "MAC change not logged"
out=$(lab_exec client python3 "$L2_HERE/arpwatch.py" probe eth0 2 150 "$vip")
[ "$out" = "$vip $new" ] || lab_fail "$vip answered by: $out"
echo "1 passed, 0 failed"
