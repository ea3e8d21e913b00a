#!/usr/bin/env bash
# A node killed and started again takes back none of the VIPs the others
# took over (stickiness): after it has rejoined, the client sees the same
# owners as before it came back, and it announces nothing.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
victim=${L2_OWNER[${L2_VIPS[0]}]}
kill -KILL "${LAB_PID[$victim]}"
wait "${LAB_PID[$victim]}" 2>/dev/null
deadline=$(($(date +%s) + 10))
while l2_all_single; [ -n "$(l2_vips_of "$victim")" ]; do
	[ "$(date +%s)" -lt "$deadline" ] || lab_fail "VIPs never left $victim"
done
l2_owners
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
l2_start "$victim"
lab_wait 10 l2_ready "$victim" || lab_fail "$victim did not rejoin"
lab_wait 10 grep -q "l2announce: serving as $victim" "$LAB_DIR/$victim.log" || lab_fail "$victim never served"
l2_watch_start 20
# Give it two dead_after periods to (wrongly) claim anything.
sleep $(awk -v d=$L2_DEAD_MS 'BEGIN { print 2 * d / 1000 }')
l2_watch_stop
l2_never_two_owners || lab_fail "two owners seen while $victim rejoined"
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "${L2_OWNER[$v]}" = "${before[$v]}" ] || lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]}"
done
[ "$(l2_metric "$victim" hearth_l2announce_vips_owned)" = 0 ] || lab_fail "$victim owns VIPs again"
echo "1 passed, 0 failed"
