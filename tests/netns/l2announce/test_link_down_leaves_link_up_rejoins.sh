#!/usr/bin/env bash
# Link down on a node's interface: it stops announcing (leaves) and the
# others take its VIPs within dead_after_ms + 100 ms, never two owners.
# Link up: it rejoins, sees quorum again and takes nothing back.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
victim=${L2_OWNER[${L2_VIPS[0]}]}
mapfile -t moved < <(l2_vips_of "$victim")
l2_watch_start 30
L2_T0=$(date +%s.%N)
lab_exec "$victim" ip link set eth0 down
l2_wait_moved "$victim" "${moved[@]}"
lab_wait 5 grep -q "l2announce: eth0 is down: leaving" "$LAB_DIR/$victim.log" || lab_fail "link down not noticed"
[ "$(l2_metric "$victim" hearth_l2announce_vips_owned)" = 0 ] || lab_fail "$victim still owns VIPs with its link down"
[ "$(l2_metric "$victim" hearth_l2announce_link_up)" = 0 ] || lab_fail "link_up metric not 0"
sleep 0.2
l2_owners
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
lab_exec "$victim" ip link set eth0 up
lab_wait 5 grep -q "l2announce: eth0 is up: rejoining" "$LAB_DIR/$victim.log" || lab_fail "link up not noticed"
lab_wait 5 l2_ready "$victim" || lab_fail "$victim did not rejoin"
sleep $(awk -v d=$L2_DEAD_MS 'BEGIN { print 2 * d / 1000 }')
l2_watch_stop
l2_takeover_report "$victim" "${moved[@]}"
l2_never_two_owners || lab_fail "two owners seen"
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "${L2_OWNER[$v]}" = "${before[$v]}" ] || lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]} after link up"
done
l2_check_bound $((L2_DEAD_MS + 100))
echo "1 passed, 0 failed"
