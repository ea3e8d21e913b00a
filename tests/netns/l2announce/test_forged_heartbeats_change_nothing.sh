#!/usr/bin/env bash
# Heartbeats forged in the client's namespace change nothing: one from a
# stranger's address, ones spoofing node2's address signed with the wrong
# key (claiming every VIP, or saying node2 leaves), and a genuine
# heartbeat of node2 replayed. Each is dropped and counted; the owners and
# node2's liveness stay as they were.
. "$(dirname "$0")/l2lab.sh"
l2_lab
l2_up_all
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
F="python3 $L2_HERE/forge.py"
$F make node1 alive not-the-key "${L2_VIPS[@]}" >"$LAB_DIR/claim.bin"
$F make node2 leaving not-the-key >"$LAB_DIR/leave.bin"
lab_exec node2 $F capture "$LAB_DIR/real.bin" || lab_fail "no heartbeat of node2 captured"
[ -s "$LAB_DIR/real.bin" ] || lab_fail "empty capture"
for dst in 192.168.122.10 192.168.122.12; do
	lab_exec client $F send 192.168.122.50 "$dst" "$LAB_DIR/claim.bin"
	lab_exec client $F send 192.168.122.11 "$dst" "$LAB_DIR/claim.bin"
	lab_exec client $F send 192.168.122.11 "$dst" "$LAB_DIR/leave.bin"
	lab_exec client $F send 192.168.122.11 "$dst" "$LAB_DIR/real.bin"
done
drop() { l2_metric "$1" "hearth_l2announce_heartbeats_dropped_total{reason=\"$2\"}"; }
for n in node1 node3; do
	[ "$(drop $n not_a_member)" -ge 1 ] || lab_fail "$n did not count the stranger's heartbeat"
	[ "$(drop $n auth)" -ge 2 ] || lab_fail "$n did not count the forged heartbeats: $(drop $n auth)"
	[ "$(drop $n replay)" -ge 1 ] || lab_fail "$n did not count the replay"
	[ "$(l2_metric $n hearth_l2announce_heartbeat_auth_failures_total)" -ge 2 ] || lab_fail "auth failures not counted"
	[ "$(l2_metric $n "hearth_l2announce_peer_up{peer=\"node2\",address=\"192.168.122.11\"}")" = 1 ] ||
		lab_fail "$n thinks node2 is gone"
done
sleep $(awk -v d=$L2_DEAD_MS 'BEGIN { print d / 1000 }')
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "${L2_OWNER[$v]}" = "${before[$v]}" ] || lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]}"
done
echo "1 passed, 0 failed"
