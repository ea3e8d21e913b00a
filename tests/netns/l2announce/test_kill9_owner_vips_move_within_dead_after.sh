#!/usr/bin/env bash
# kill -9 of a node: every VIP it owned is announced (GARP) and answered
# by a surviving node within dead_after_ms + 100 ms, the other VIPs stay
# where they were, and no VIP ever has two owners.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
victim=${L2_OWNER[${L2_VIPS[0]}]}
mapfile -t moved < <(l2_vips_of "$victim")
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
l2_watch_start 20
L2_T0=$(date +%s.%N)
kill -KILL "${LAB_PID[$victim]}"
l2_wait_moved "$victim" "${moved[@]}"
sleep 0.2
l2_watch_stop
l2_takeover_report "$victim" "${moved[@]}"
l2_never_two_owners || lab_fail "two owners seen"
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "${L2_OWNER[$v]}" != "$victim" ] || lab_fail "$v still answered by the dead $victim"
	[ "${before[$v]}" = "$victim" ] || [ "${L2_OWNER[$v]}" = "${before[$v]}" ] ||
		lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]} though its owner lives"
done
l2_check_bound $((L2_DEAD_MS + 100))
echo "1 passed, 0 failed"
