#!/usr/bin/env bash
# A graceful stop (SIGTERM) tells the peers: every VIP the node owned is
# announced and answered by another node within 100 ms, never two owners.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
victim=${L2_OWNER[${L2_VIPS[0]}]}
mapfile -t moved < <(l2_vips_of "$victim")
l2_watch_start 20
L2_T0=$(date +%s.%N)
kill -TERM "${LAB_PID[$victim]}"
l2_wait_moved "$victim" "${moved[@]}"
sleep 0.2
l2_watch_stop
l2_takeover_report "$victim" "${moved[@]}"
l2_never_two_owners || lab_fail "two owners seen"
wait "${LAB_PID[$victim]}"; rc=$?
[ $rc -eq 0 ] || lab_fail "$victim exited $rc after SIGTERM"
grep -q "l2announce: stopped; told the peers" "$LAB_DIR/$victim.log" || lab_fail "no leave logged"
l2_owners
for v in "${L2_VIPS[@]}"; do [ "${L2_OWNER[$v]}" != "$victim" ] || lab_fail "$v still on $victim"; done
l2_check_bound 100
echo "1 passed, 0 failed"
