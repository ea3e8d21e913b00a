#!/usr/bin/env bash
# hearth touches only its own table: a foreign `inet other` table is
# byte-identical after 100 reconciles. When someone deletes hearth's table
# or flushes one of its chains, hearthd rebuilds it (the same ruleset)
# from the change notification. After kill -9 and a restart the ruleset is
# the same, with no duplicates.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_seed
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
      - {port: 5432, protocol: tcp, backends: [10.244.1.5:5432, $1]}
      - {port: 53, protocol: udp}
  - name: web
    address: 192.168.122.102
    ports:
      - {port: 80, protocol: tcp, target: proxy}
YAML
}
lab_exec node1 nft -f - <<'NFT'
table inet other {
	set blocked { type ipv4_addr; elements = { 203.0.113.7, 203.0.113.9 } }
	chain input { type filter hook input priority 10; policy accept;
		ip saddr @blocked counter drop
		tcp dport 2222 counter accept
	}
	chain pre { type nat hook prerouting priority -100; tcp dport 8080 redirect to :80; }
}
NFT
other=$(lab_exec node1 nft list table inet other)

write_conf 10.244.2.7:5432
lab_hearthd node1 "$conf"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
pid=${LAB_PID[node1]}
first=$(lab_exec node1 nft list table inet hearth)
log_has() { [ "$(nft_count_log node1 "$1")" -ge "$2" ]; }
table_is_first() { [ "$(lab_exec node1 nft list table inet hearth 2>&1)" = "$first" ]; }

for i in $(seq 1 100); do
	write_conf "10.244.2.$((i % 2 + 7)):5432"
	kill -HUP "$pid"
	lab_wait 10 log_has 'configuration reloaded' "$i" || lab_fail "reload $i not applied"
done
[ "$(nft_count_log node1 'nft: table inet hearth updated')" = 100 ] || lab_fail "not every reload changed the table"
[ "$(lab_exec node1 nft list table inet other)" = "$other" ] || lab_fail "table inet other changed after 100 reconciles"
[ "$(lab_exec node1 nft list table inet hearth)" = "$first" ] || lab_fail "the same configuration does not give the same table"
echo "100 reconciles: inet other byte-identical"

lab_exec node1 nft delete table inet hearth
start=$(date +%s%N)
lab_wait 3 nft_has_table node1 || lab_fail "table not rebuilt after deletion"
echo "deleted table rebuilt after $((($(date +%s%N) - start) / 1000000)) ms"
lab_wait 3 table_is_first || lab_fail "rebuilt table differs"

lab_exec node1 nft flush chain inet hearth prerouting
lab_wait 3 table_is_first || lab_fail "flushed chain not restored"
echo "flushed chain restored"
[ "$(lab_exec node1 nft list table inet other)" = "$other" ] || lab_fail "table inet other changed by the rebuilds"

lab_stop "$pid" KILL
nft_has_table node1 || lab_fail "kill -9 removed the table (no one could have)"
lab_hearthd node1 "$conf"
lab_wait 5 log_has 'nft: table inet hearth built' 2 || lab_fail "restart did not rebuild the table"
nft_wait_serving node1
[ "$(lab_exec node1 nft list table inet hearth)" = "$first" ] || lab_fail "ruleset after kill -9 and restart differs"
[ "$(lab_exec node1 nft list tables | grep -c 'table inet hearth')" = 1 ] || lab_fail "duplicate tables"
[ "$(lab_exec node1 nft list table inet other)" = "$other" ] || lab_fail "restart changed table inet other"
echo "kill -9 + restart: same ruleset, one table"
echo "4 passed, 0 failed"
