#!/usr/bin/env bash
# Where hearthd may not start the thread that answers ARP (here: the
# run_as user's process limit, RLIMIT_NPROC, as a TasksMax or an nproc
# limit would do), it says so and answers ARP on its event loop instead:
# the node still answers for its VIPs, every VIP has one owner, and the
# metrics say no real time.
. "$(dirname "$0")/l2lab.sh"
id nobody >/dev/null 2>&1 || lab_skip "no user nobody"
lab_require prlimit
l2_lab
sed -i 's/^node: {name: node1, interface: eth0}$/node: {name: node1, interface: eth0, run_as: nobody}/' "$LAB_DIR/node1.yaml"
grep -q 'run_as: nobody' "$LAB_DIR/node1.yaml" || lab_fail "config not changed"
# Root is exempt from RLIMIT_NPROC; once hearthd runs as nobody, its own
# thread count already reaches the limit of 1, so no thread can start.
prlimit --nproc=1 ip netns exec "$(lab_ns node1)" "$HEARTH_BIN/hearthd" \
	-c "$LAB_DIR/node1.yaml" --foreground --log-level debug >>"$LAB_DIR/node1.log" 2>&1 &
LAB_PID[node1]=$!
LAB_PIDS+=($!)
l2_start node2
l2_start node3
for n in "${L2_NODES[@]}"; do lab_wait 10 l2_ready "$n" || lab_fail "$n never reached quorum"; done
pid=${LAB_PID[node1]}
grep -q 'no answering thread; answering on the event loop' "$LAB_DIR/node1.log" ||
	lab_fail "no log line about answering on the loop"
[ "$(ps -L -o tid= -p "$pid" | wc -l)" -eq 1 ] || lab_fail "hearthd has threads: $(ps -L -o tid,comm -p "$pid")"
[ "$(l2_metric node1 hearth_l2announce_responder_realtime)" = 0 ] || lab_fail "metric says real time"
before=$(l2_metric node1 hearth_l2announce_arp_replies_total)
l2_owners
mapfile -t vips < <(l2_vips_of node1)
[ "${#vips[@]}" -gt 0 ] || lab_fail "node1 owns no VIP: $(echo $L2_LAST_PROBE)"
[ "$(l2_metric node1 hearth_l2announce_arp_replies_total)" -gt "$before" ] || lab_fail "node1 answered nothing"
# Still answering a while later, on the loop, for every VIP it owns.
sleep 1
l2_owners
for v in "${vips[@]}"; do
	[ "${L2_OWNER[$v]}" = node1 ] || lab_fail "$v moved from node1 to ${L2_OWNER[$v]}"
done
echo "1 passed, 0 failed (${#vips[@]} VIPs answered by node1's event loop)"
