#!/usr/bin/env bash
# The libvirt host's role: a "host" namespace between the lab segment
# (192.168.122.0/24 on eth0) and a LAN (198.51.100.0/24 on eth1) runs
# hearthd with a nat: section. Lab traffic to the LAN is masqueraded (the
# LAN has no route to the lab), a LAN client reaches a lab node through a
# port forward with its own address kept, and the input allow-list lets
# in 22/tcp, ICMP and replies but drops other ports.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_switch
lab_host host 192.168.122.1/24
lab_host node1 192.168.122.10/24
ip netns add "$(lab_ns lan)"
LAB_HOSTS+=(lan)
lab_exec lan ip link set lo up
ip -n "$(lab_ns host)" link add eth1 type veth peer name eth0 netns "$(lab_ns lan)"
lab_exec host ip addr add 198.51.100.1/24 dev eth1
lab_exec host ip link set eth1 up
lab_exec lan ip addr add 198.51.100.2/24 dev eth0
lab_exec lan ip link set eth0 up
lab_exec node1 ip route add default via 192.168.122.1
lab_exec host sysctl -qw net.ipv4.ip_forward=1
nft_ident lan lan 9000
nft_ident node1 node1 8443
nft_ident host host 22 2222

cat >"$LAB_DIR/host.yaml" <<'YAML'
node: {name: host}
nat:
  masquerade:
    - {source: 192.168.122.0/24, out_interface: eth1}
  port_forwards:
    - {in_interface: eth1, port: 443, protocol: tcp, to: 192.168.122.10:8443}
  allow_input: [22/tcp]
YAML
lab_hearthd host "$LAB_DIR/host.yaml"
lab_wait_log host "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving host

out=$(nft_ask node1 198.51.100.2 9000) || lab_fail "lab -> LAN failed: $out"
[ "$out" = "lan 198.51.100.1" ] || lab_fail "lab -> LAN answered '$out' (expected the host's LAN address as source)"
echo "lab -> LAN masqueraded"

out=$(nft_ask lan 198.51.100.1 443) || lab_fail "LAN -> host:443 port forward failed: $out"
[ "$out" = "node1 198.51.100.2" ] || lab_fail "port forward answered '$out' (expected node1 seeing the LAN client)"
echo "LAN -> host:443 forwarded to node1:8443, client address kept"

out=$(nft_ask lan 198.51.100.1 22) || lab_fail "allowed port 22 blocked: $out"
[ "$out" = "host 198.51.100.2" ] || lab_fail "port 22 answered '$out'"
lab_exec lan ping -c1 -W2 198.51.100.1 >/dev/null || lab_fail "ICMP to the host dropped"
out=$(nft_ask lan 198.51.100.1 2222) && lab_fail "port 2222 not in allow_input but reachable: $out"
lab_exec host bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222 && read -r l <&3' || lab_fail "loopback blocked by the allow-list"
echo "allow-list: 22/tcp, ICMP and loopback in, 2222/tcp dropped"

lab_stop "${LAB_PID[host]}"
nft_has_table host && lab_fail "SIGTERM left table inet hearth behind"
echo "SIGTERM removed the table"
echo "4 passed, 0 failed"
