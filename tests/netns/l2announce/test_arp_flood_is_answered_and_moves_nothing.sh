#!/usr/bin/env bash
# A flood of ARP requests for one VIP (as fast as a core can send them),
# with its owner's hearthd held to one CPU: the owner goes on answering,
# its answering thread spends its real-time budget and drops to normal
# priority (so heartbeats and everything else still run), and no VIP
# moves: the other nodes never see the owner die.
. "$(dirname "$0")/l2lab.sh"
chrt -f 1 true 2>/dev/null || lab_skip "real-time scheduling not permitted here"
l2_lab
l2_up_all
vip=${L2_VIPS[0]}
owner=${L2_OWNER[$vip]}
taskset -a -p -c 0 "${LAB_PID[$owner]}" >/dev/null || lab_fail "cannot pin $owner"
taken() {
	local n sum=0
	for n in "${L2_NODES[@]}"; do
		sum=$((sum + $(l2_metric "$n" 'hearth_l2announce_ownership_changes_total{change="taken"}')))
	done
	echo "$sum"
}
taken0=$(taken)
answered0=$(l2_metric "$owner" hearth_l2announce_arp_replies_total)
[ "$(l2_metric "$owner" hearth_l2announce_responder_realtime)" = 1 ] ||
	lab_fail "the answering thread of $owner is not at real-time priority"
sent=$(lab_exec client taskset -c 1 python3 "$L2_HERE/flood.py" eth0 "$vip" 3)
answered=$(($(l2_metric "$owner" hearth_l2announce_arp_replies_total) - answered0))
throttled=$(l2_metric "$owner" hearth_l2announce_responder_throttled_total)
echo "flood: $sent requests sent, $answered answered, budget spent $throttled times"
[ "$answered" -gt $((sent / 2)) ] || lab_fail "only $answered of $sent requests answered"
[ "$throttled" -gt 0 ] || lab_fail "the flood never spent the real-time budget"
[ "$(taken)" = "$taken0" ] || lab_fail "VIPs moved during the flood"
lab_wait 5 test "$(l2_metric "$owner" hearth_l2announce_responder_realtime)" = 1 ||
	lab_fail "the answering thread did not return to real-time priority"
l2_owners
[ "${L2_OWNER[$vip]}" = "$owner" ] || lab_fail "$vip moved from $owner to ${L2_OWNER[$vip]}"
echo "1 passed, 0 failed"
