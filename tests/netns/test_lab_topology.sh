#!/usr/bin/env bash
# The lab itself: the seed's hosts reach each other over the switch, the
# root namespace gains nothing, and cleanup removes every namespace.
. "$(dirname "$0")/lab.sh"
lab_init
before=$(ip -o link show | wc -l)
lab_seed
lab_exec client ping -c1 -W1 192.168.122.10 >/dev/null || lab_fail "client cannot reach node1"
lab_exec node3 ping -c1 -W1 192.168.122.11 >/dev/null || lab_fail "node3 cannot reach node2"
mac=$(lab_exec client ip neigh show 192.168.122.10 | awk '{print $5}')
[ "$mac" = "02:00:00:00:00:10" ] || lab_fail "node1's MAC is '$mac'"
after=$(ip -o link show | wc -l)
[ "$before" -eq "$after" ] || lab_fail "root namespace links changed ($before -> $after)"
ip netns list | grep -q "^$LAB_ID-node1" || lab_fail "namespace missing"
echo "1 passed, 0 failed"
