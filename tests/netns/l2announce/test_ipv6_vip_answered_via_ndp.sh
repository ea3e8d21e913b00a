#!/usr/bin/env bash
# IPv6 VIPs: the client's kernel resolves each one by neighbour discovery
# (multicast solicitation to the solicited-node group, then unicast
# probes) to the MAC of the one node that owns it; when that node stops,
# the new owner's unsolicited NA moves the client's neighbour entry.
. "$(dirname "$0")/l2lab.sh"
V6=(fd00::100 fd00::101 fd00::102)
more=$(for v in "${V6[@]}"; do printf '  - {name: v6-%s, address: "%s"}\n' "${v##*:}" "$v"; done)
l2_lab "" "$more"
i=10
for h in node1 node2 node3; do lab_exec "$h" ip -6 addr add "fd00::$i/64" dev eth0 nodad; i=$((i + 1)); done
lab_exec client ip -6 addr add fd00::50/64 dev eth0 nodad
l2_up_all
v6owner() {
	local n
	for n in "${L2_NODES[@]}"; do
		[ "$(l2_metric "$n" "hearth_l2announce_vip_owned{vip=\"$1\"}")" = 1 ] && echo "$n"
	done
}
neigh() {
	lab_exec client ping -6 -c1 -W1 "$1" >/dev/null 2>&1
	lab_exec client ip -6 neigh show "$1" dev eth0 | awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}'
}
for v in "${V6[@]}"; do
	owners=$(v6owner "$v")
	[ "$(echo "$owners" | grep -c .)" = 1 ] || lab_fail "$v owned by '$owners'"
	mac=$(neigh "$v")
	[ "$mac" = "${L2_MAC[$owners]}" ] || lab_fail "$v resolved to '$mac', its owner is $owners (${L2_MAC[$owners]})"
	lab_exec "$owners" ip -o addr show | grep -q "$v" && lab_fail "$v added to an interface on $owners"
done
[ "$(l2_metric "$(v6owner "${V6[0]}")" hearth_l2announce_ndp_advertisements_total)" -ge 1 ] || lab_fail "NA not counted"
# The owner of the first one stops: the client's entry follows the new owner.
old=$(v6owner "${V6[0]}")
kill -TERM "${LAB_PID[$old]}"
new=
for t in $(seq 1 50); do
	new=$(v6owner "${V6[0]}")
	[ -n "$new" ] && [ "$new" != "$old" ] && break
	sleep 0.1
done
[ -n "$new" ] && [ "$new" != "$old" ] || lab_fail "${V6[0]} not taken over"
lab_wait 5 bash -c "ip netns exec $(lab_ns client) ip -6 neigh show ${V6[0]} dev eth0 | grep -q '${L2_MAC[$new]}'" ||
	lab_fail "client's neighbour entry for ${V6[0]} did not move to $new: $(lab_exec client ip -6 neigh show "${V6[0]}")"
[ "$(l2_metric "$new" hearth_l2announce_unsolicited_na_sent_total)" -ge 1 ] || lab_fail "no unsolicited NA counted"
echo "1 passed, 0 failed"
