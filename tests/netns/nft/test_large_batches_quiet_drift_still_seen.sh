#!/usr/bin/env bash
# Batches of thousands of elements are sent with hearthd's notification
# watch paused (so that the kernel builds no notification per element),
# and drift is still seen: a foreign change after a large load is undone
# from its notification, and foreign commits made while large batches
# are in flight are caught by the ruleset generation and answered with a
# rebuild, which leaves the table as the configuration says.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_require curl
lab_switch
lab_host node1 192.168.122.10/24
conf=$LAB_DIR/n1.yaml
N=800 # 800 services x 2 endpoints: 3,200 elements per full batch
# write_conf V: service i's endpoints are 10.244.x.(1 + 2V) and (2 + 2V).
write_conf() {
	{
		printf 'node: {name: node1, interface: eth0}\nmetrics: {listen: 127.0.0.1:9477}\n'
		printf 'pools: [{name: p, addresses: [10.1.0.0/16]}]\nservices:\n'
		for i in $(seq 0 $((N - 1))); do
			printf -- '- {name: s%d, address: 10.1.%d.%d, ports: [{port: 80, protocol: tcp, backends: [10.244.%d.%d:80, 10.244.%d.%d:80]}]}\n' \
				"$i" $((i / 250)) $((i % 250 + 1)) $((i % 250)) $((1 + 2 * $1)) $((i % 250)) $((2 + 2 * $1))
		done
	} >"$conf"
}
write_conf 0
lab_hearthd node1 "$conf" --log-level info
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
quiet=$(nft_metric node1 hearth_nft_quiet_batches_total)
[ "${quiet:-0}" -ge 1 ] || lab_fail "the load of $N services was not sent with notifications paused"
first=$(lab_exec node1 nft list table inet hearth)
n=$(grep -oE '10\.244\.[0-9]+\.[12] \. 80' <<<"$first" | wc -l)
[ "$n" = $((2 * N)) ] || lab_fail "ep4 holds $n endpoints, not $((2 * N))"
reloaded() { [ "$(nft_count_log node1 'configuration reloaded')" -ge "$1" ]; }
log_grew() { [ "$(nft_count_log node1 "$1")" -gt "$2" ]; }
table_is_first() { [ "$(lab_exec node1 nft list table inet hearth 2>&1)" = "$first" ]; }
echo "load of $N services sent quiet ($quiet batch)"

# The watch is back after the quiet batch: a foreign change is undone.
lab_exec node1 nft delete element inet hearth svc4 '{ 10.1.0.1 . tcp . 80 }'
start=$(date +%s%N)
lab_wait 3 table_is_first || lab_fail "foreign change after a quiet load not undone"
echo "foreign change after a quiet load undone after $((($(date +%s%N) - start) / 1000000)) ms"

# Someone else commits all the time (another table) while hearthd sends
# large batches: the generation moved by more than hearthd's own batch.
lab_bg node1 churn bash -c 'while :; do nft add table inet scratch; nft delete table inet scratch; done'
churn=$LAB_LAST_PID
pattern='changed while a large batch was sent without notifications'
drift_rebuilds=$(nft_count_log node1 'rebuilt \(drift\)')
reloads=0
for i in 1 2 3 4 5 6 7 8; do
	write_conf $((i % 2))
	kill -HUP "${LAB_PID[node1]}"
	reloads=$((reloads + 1))
	lab_wait 10 reloaded "$reloads" || lab_fail "reload $i not applied"
	[ "$(nft_count_log node1 "$pattern")" -ge 1 ] && break
done
lab_stop "$churn"
lab_exec node1 nft delete table inet scratch 2>/dev/null # if stopped in between
[ "$(nft_count_log node1 "$pattern")" -ge 1 ] || lab_fail "foreign commits during $reloads large batches went unnoticed"
lab_wait 3 log_grew 'rebuilt \(drift\)' "$drift_rebuilds" || lab_fail "no rebuild after commits seen by the generation"
echo "foreign commits during a large batch seen by the generation after $reloads reloads; table rebuilt"

write_conf 0
kill -HUP "${LAB_PID[node1]}"
lab_wait 10 reloaded $((reloads + 1)) || lab_fail "last reload not applied"
lab_wait 3 table_is_first || lab_fail "table differs from the configuration after the rebuilds"
[ "$(lab_exec node1 nft list tables | grep -c 'table inet hearth')" = 1 ] || lab_fail "duplicate tables: $(lab_exec node1 nft list tables)"
echo "table as configured after the rebuilds"
echo "3 passed, 0 failed"
