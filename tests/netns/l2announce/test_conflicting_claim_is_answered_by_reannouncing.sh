#!/usr/bin/env bash
# Another MAC claims a VIP (a gratuitous ARP from the client, as a
# misconfigured host would send): the owner counts a conflict and
# re-announces at once, so the client's ARP entry points back to it.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
vip=${L2_VIPS[0]}
owner=${L2_OWNER[$vip]}
l2_watch_start 20
L2_T0=$(date +%s.%N)
lab_exec client python3 "$L2_HERE/garp.py" eth0 "$vip" 02:00:00:00:00:66
lab_wait 5 bash -c "[ \"\$(ip netns exec $(lab_ns "$owner") curl -fsS http://127.0.0.1:9477/metrics | awk '\$1 == \"hearth_l2announce_conflicts_total\" {print \$2}')\" -ge 1 ]" ||
	lab_fail "$owner counted no conflict"
# Its re-announcement follows the forged claim.
lab_wait 5 awk -v v="$vip" -v m="${L2_MAC[$owner]}" -v t0="$L2_T0" \
	'$1 == "garp" && $3 == v && $4 == m && $2 > t0 { f = 1 } END { exit !f }' "$LAB_DIR/watch.out" ||
	lab_fail "$owner did not re-announce $vip"
l2_watch_stop
grep -q "l2announce: $vip claimed by 02:00:00:00:00:66; re-announcing" "$LAB_DIR/$owner.log" || lab_fail "conflict not logged"
# The client's kernel took the forged claim only as long as it went unanswered.
lab_exec client ping -c1 -W1 "$vip" >/dev/null 2>&1
mac=$(lab_exec client ip neigh show "$vip" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}')
[ "$mac" = "${L2_MAC[$owner]}" ] || lab_fail "client's entry for $vip is '$mac', not $owner's"
l2_owners
[ "${L2_OWNER[$vip]}" = "$owner" ] || lab_fail "$vip moved to ${L2_OWNER[$vip]}"
echo "1 passed, 0 failed"
