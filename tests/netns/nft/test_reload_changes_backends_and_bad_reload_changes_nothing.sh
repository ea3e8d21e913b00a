#!/usr/bin/env bash
# SIGHUP with a changed backend list: new connections reach the new
# backend and never the removed one, and only the changed elements move
# (the table is not rebuilt). A reload with an invalid file changes
# nothing: the ruleset is byte-identical and traffic keeps flowing.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_seed
lab_backend be1 10.244.1.5
lab_backend be2 10.244.2.7
lab_backend be3 10.244.3.9
lab_exec node1 sysctl -qw net.ipv4.ip_forward=1
lab_exec client ip route add 192.168.122.101/32 via 192.168.122.10
for b in be1 be2 be3; do nft_ident $b $b 5432; done

conf=$LAB_DIR/n1.yaml
write_conf() {
	cat >"$conf" <<YAML
node: {name: node1}
pools:
  - {name: default, addresses: [192.168.122.100-192.168.122.150]}
services:
  - name: db
    address: 192.168.122.101
    ports:
      - {port: 5432, protocol: tcp, backends: [$1]}
YAML
}
write_conf "10.244.1.5:5432, 10.244.2.7:5432"
lab_hearthd node1 "$conf"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
pid=${LAB_PID[node1]}

write_conf "10.244.1.5:5432, 10.244.3.9:5432"
kill -HUP "$pid"
lab_wait_log node1 "configuration reloaded" || lab_fail "reload not applied"
lab_wait_log node1 "nft: table inet hearth updated" || lab_fail "nft did not update the table"
[ "$(nft_count_log node1 'nft: table inet hearth (built|rebuilt)')" = 1 ] || lab_fail "reload rebuilt the table instead of changing elements"
seen=""
for i in $(seq 1 40); do
	line=$(nft_ask client 192.168.122.101 5432) || lab_fail "connection $i failed: $line"
	set -- $line
	[ "$1" != be2 ] || lab_fail "a new connection reached the removed backend be2"
	case " $seen " in *" $1 "*) ;; *) seen="$seen $1" ;; esac
done
[ "$(echo $seen | wc -w)" -eq 2 ] || lab_fail "after reload only$seen answered"
nft_ruleset node1 | grep -q "10.244.3.9 . 5432" || lab_fail "new backend missing from ep4"
nft_ruleset node1 | grep -q "10.244.2.7" && lab_fail "removed backend still in ep4"
echo "reload: new backend used, removed one gone ($seen)"

before=$(nft_ruleset node1)
printf 'node: {name: node1}\nservices:\n  - name: db\n    address: 192.168.122.101\n    ports: [{port: 99999, protocol: tcp}]\n' >"$conf"
kill -HUP "$pid"
lab_wait_log node1 "reload refused" || lab_fail "bad reload not refused"
after=$(nft_ruleset node1)
[ "$before" = "$after" ] || lab_fail "bad reload changed the ruleset: $(diff <(echo "$before") <(echo "$after"))"
nft_ask client 192.168.122.101 5432 | grep -qE '^be[13] ' || lab_fail "traffic stopped after a bad reload"
echo "bad reload: ruleset byte-identical"
echo "2 passed, 0 failed"
