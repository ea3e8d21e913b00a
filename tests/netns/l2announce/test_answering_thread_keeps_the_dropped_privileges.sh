#!/usr/bin/env bash
# With node.run_as, the thread that answers ARP starts after the drop:
# every thread of hearthd runs as that user with at most the same three
# capabilities, bounding set and no_new_privs, and the thread answers for
# the node's VIPs. It gets real-time priority through RLIMIT_RTPRIO (not
# a kept capability) where hearthd may raise that limit (CAP_SYS_RESOURCE
# before the drop, or systemd's LimitRTPRIO); where it may not, it says
# so and answers at normal priority.
. "$(dirname "$0")/l2lab.sh"
id nobody >/dev/null 2>&1 || lab_skip "no user nobody"
l2_lab
sed -i 's/^node: {name: node1, interface: eth0}$/node: {name: node1, interface: eth0, run_as: nobody}/' "$LAB_DIR/node1.yaml"
grep -q 'run_as: nobody' "$LAB_DIR/node1.yaml" || lab_fail "config not changed"
l2_up_all
pid=${LAB_PID[node1]}
mapfile -t vips < <(l2_vips_of node1)
[ "${#vips[@]}" -gt 0 ] || lab_fail "node1 owns no VIP"
ntask=$(lab_threads_dropped "$pid" nobody) || exit 1
[ "$ntask" -ge 2 ] || lab_fail "no answering thread"
if chrt -f 1 true 2>/dev/null && prlimit --rtprio=1:1 true 2>/dev/null; then
	ps -L -o cls= -p "$pid" | grep -q FF || lab_fail "no thread at SCHED_FIFO: $(ps -L -o tid,cls,rtprio -p "$pid")"
	[ "$(l2_metric node1 hearth_l2announce_responder_realtime)" = 1 ] || lab_fail "metric says not real time"
	echo "answering thread at real-time priority"
else
	! ps -L -o cls= -p "$pid" | grep -q FF || lab_fail "a thread at SCHED_FIFO though RLIMIT_RTPRIO cannot be raised"
	[ "$(l2_metric node1 hearth_l2announce_responder_realtime)" = 0 ] || lab_fail "metric says real time"
	grep -q 'answering ARP/NDP on a thread at normal priority' "$LAB_DIR/node1.log" || lab_fail "no log line about the normal priority"
	echo "RLIMIT_RTPRIO cannot be raised here (no CAP_SYS_RESOURCE): answering thread at normal priority, as logged"
fi
before=$(l2_metric node1 hearth_l2announce_arp_replies_total)
l2_owners
[ "$(l2_metric node1 hearth_l2announce_arp_replies_total)" -gt "$before" ] || lab_fail "node1 answered nothing"
echo "1 passed, 0 failed (${#vips[@]} VIPs on node1, $ntask threads checked)"
