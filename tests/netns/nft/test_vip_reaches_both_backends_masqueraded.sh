#!/usr/bin/env bash
# A client's connections to VIP:port (IPv4 and IPv6) are DNATed by node1
# to the service's two backends in other namespaces, both backends are
# used, and each backend sees node1's address (masquerade), not the
# client's. The table holds no anonymous set.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_seed
lab_backend be1 10.244.1.5
lab_backend be2 10.244.2.7
# IPv6 on the segment and behind node1.
lab_exec node1 ip addr add fd00:122::10/64 dev eth0 nodad
lab_exec client ip addr add fd00:122::50/64 dev eth0 nodad
for b in be1 be2; do
	n=${b#be}
	lab_exec $b ip addr add "fd00:244::$n/64" dev eth0 nodad
	lab_exec $b ip -6 route add fd00:122::/64 dev eth0
done
lab_exec node1 ip -6 route add fd00:244::/64 dev eth0
lab_exec node1 sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# Until l2announce answers for the VIP, the client routes it to node1.
lab_exec client ip route add 192.168.122.101/32 via 192.168.122.10
lab_exec client ip -6 route add fd00:122::101/128 via fd00:122::10
nft_ident be1 be1 5432
nft_ident be2 be2 5432

cat >"$LAB_DIR/n1.yaml" <<'YAML'
node: {name: node1}
pools:
  - {name: default, addresses: [192.168.122.100-192.168.122.150, "fd00:122::100-fd00:122::1ff"]}
services:
  - name: db
    address: 192.168.122.101
    ports:
      - {port: 5432, protocol: tcp, backends: [10.244.1.5:5432, 10.244.2.7:5432]}
  - name: db6
    address: "fd00:122::101"
    ports:
      - {port: 5432, protocol: tcp, backends: ["[fd00:244::1]:5432", "[fd00:244::2]:5432"]}
YAML
lab_hearthd node1 "$LAB_DIR/n1.yaml"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1

for fam in 4 6; do
	if [ $fam = 4 ]; then vip=192.168.122.101 node=192.168.122.10; else vip=fd00:122::101 node=fd00:122::10; fi
	seen=""
	for i in $(seq 1 40); do
		line=$(nft_ask client "$vip" 5432) || lab_fail "IPv$fam connection $i to $vip:5432 failed: $line"
		set -- $line
		[ "$2" = "$node" ] || lab_fail "IPv$fam backend $1 saw source $2, not node1's $node (no masquerade)"
		case " $seen " in *" $1 "*) ;; *) seen="$seen $1" ;; esac
		[ "$(echo $seen | wc -w)" -eq 2 ] && break
	done
	[ "$(echo $seen | wc -w)" -eq 2 ] || lab_fail "IPv$fam: only$seen answered in 40 connections"
	echo "IPv$fam: both backends used ($seen), source is node1"
done

# An anonymous set would show as an inline "{ ... }" in a rule.
anon=$(lab_exec node1 nft list table inet hearth | awk '/^\tchain /{c=1; next} /^\t}/{c=0} c && /[{]/' | wc -l)
[ "$anon" = 0 ] || lab_fail "rules of table inet hearth hold $anon inline sets"
echo "1 passed, 0 failed"
