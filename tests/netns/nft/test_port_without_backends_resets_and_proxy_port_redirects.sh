#!/usr/bin/env bash
# A service port with no backend refuses new connections at once with a
# TCP reset (no hang), and a `target: proxy` port is redirected to the
# local listener on the same port (standing in for hearth's proxy), which
# sees the client's own address.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_seed
lab_exec client ip route add 192.168.122.100/32 via 192.168.122.10
lab_exec client ip route add 192.168.122.102/32 via 192.168.122.10
nft_ident node1 proxy 80

cat >"$LAB_DIR/n1.yaml" <<'YAML'
node: {name: node1}
pools:
  - {name: default, addresses: [192.168.122.100-192.168.122.150]}
services:
  - name: gateway
    address: 192.168.122.100
    ports:
      - {port: 80, protocol: tcp, target: proxy}
  - name: empty
    address: 192.168.122.102
    ports:
      - {port: 5433, protocol: tcp}
      - {port: 5353, protocol: udp}
YAML
lab_hearthd node1 "$LAB_DIR/n1.yaml"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1

out=$(nft_ask client 192.168.122.100 80) || lab_fail "VIP:80 did not reach the local listener: $out"
[ "$out" = "proxy 192.168.122.50" ] || lab_fail "VIP:80 answered '$out', not the local listener with the client's address"
echo "proxy port redirected to the local listener"

start=$(date +%s%N)
out=$(nft_ask client 192.168.122.102 5433)
rc=$?
ms=$((($(date +%s%N) - start) / 1000000))
echo "$out" | grep -q "Connection refused" || lab_fail "port without backends: rc $rc, '$out' (not a reset)"
echo "port without backends refused by a reset after ${ms} ms"

# UDP: an ICMP port unreachable, which a connected socket sees as refused.
out=$(lab_exec client python3 -c '
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("192.168.122.102", 5353))
s.send(b"x")
try:
    s.recv(100)
    print("answered")
except ConnectionRefusedError:
    print("refused")
except socket.timeout:
    print("timeout")
')
[ "$out" = refused ] || lab_fail "UDP port without backends: $out (not port unreachable)"
echo "UDP port without backends refused (ICMP port unreachable)"
echo "3 passed, 0 failed"
