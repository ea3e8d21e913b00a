#!/usr/bin/env bash
# SIGHUP with one service address removed and one added: the removed VIP
# is answered by nobody, the new one by exactly one node, and every
# unchanged VIP keeps its owner (no re-election on reload).
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
gone=${L2_VIPS[-1]}
unset 'L2_VIPS[-1]'
L2_VIPS+=(192.168.122.120)
for n in "${L2_NODES[@]}"; do l2_conf "$n"; kill -HUP "${LAB_PID[$n]}"; done
for n in "${L2_NODES[@]}"; do lab_wait 5 grep -q "configuration reloaded" "$LAB_DIR/$n.log" || lab_fail "$n did not reload"; done
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "$v" = 192.168.122.120 ] && continue
	[ "${L2_OWNER[$v]}" = "${before[$v]}" ] || lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]} on reload"
done
out=$(lab_exec client python3 "$L2_HERE/arpwatch.py" probe eth0 3 150 "$gone")
[ "$out" = "$gone -" ] || lab_fail "removed VIP still answered: $out"
echo "1 passed, 0 failed"
