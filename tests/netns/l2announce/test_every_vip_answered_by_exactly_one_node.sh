#!/usr/bin/env bash
# Three nodes started together split the VIPs among themselves: the client
# gets every VIP answered by exactly one MAC, every node owns some, no VIP
# is ever added to an interface, and /metrics shows the owners and that
# every ARP request a node received was answered, none dropped.
. "$(dirname "$0")/l2lab.sh"
l2_lab
for n in "${L2_NODES[@]}"; do l2_start "$n"; done
for n in "${L2_NODES[@]}"; do lab_wait 10 l2_ready "$n" || lab_fail "$n never reached quorum"; done
l2_owners
declare -A count=()
for v in "${L2_VIPS[@]}"; do count[${L2_OWNER[$v]}]=$((${count[${L2_OWNER[$v]}]:-0} + 1)); done
for n in "${L2_NODES[@]}"; do
	[ "${count[$n]:-0}" -gt 0 ] || lab_fail "$n owns no VIP: ${!count[*]} ${count[*]}"
	lab_exec "$n" ip -o addr show | grep -q '192\.168\.122\.1[0-9][0-9]' && lab_fail "a VIP was added to an interface on $n"
done
# Each node's metrics name the same owner the client sees.
for v in "${L2_VIPS[@]}"; do
	for n in "${L2_NODES[@]}"; do
		got=$(l2_metric "$n" "hearth_l2announce_vip_owner{vip=\"$v\",owner=\"${L2_OWNER[$v]}\"}")
		[ "$got" = 1 ] || lab_fail "$n does not report ${L2_OWNER[$v]} as owner of $v"
	done
done
answered=$(l2_metric "${L2_OWNER[${L2_VIPS[0]}]}" hearth_l2announce_arp_replies_total)
[ "${answered:-0}" -gt 0 ] || lab_fail "ARP replies not counted"
for n in "${L2_NODES[@]}"; do
	asked=$(l2_metric "$n" hearth_l2announce_arp_requests_total)
	answered=$(l2_metric "$n" hearth_l2announce_arp_replies_total)
	dropped=$(l2_metric "$n" hearth_l2announce_frames_dropped_total)
	[ -n "$asked" ] && [ "$asked" = "$answered" ] || lab_fail "$n answered $answered of $asked ARP requests"
	[ "$dropped" = 0 ] || lab_fail "$n: the kernel dropped '$dropped' frames for its packet socket"
done
echo "owners: $(for v in "${L2_VIPS[@]}"; do printf '%s=%s ' "${v##*.}" "${L2_OWNER[$v]}"; done)"
echo "1 passed, 0 failed"
