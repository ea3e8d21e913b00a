#!/usr/bin/env bash
# Fault injection: with HEARTH_NFT_FAULT=apply (a test hook, absent from
# Release builds) every reconcile batch carries an object the kernel
# refuses. The refused reload leaves `nft list ruleset` byte-identical,
# the kernel's error is logged, the module reports degraded, and the next
# good batch (a drift rebuild) makes it healthy again.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_require curl
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
      - {port: 5432, protocol: tcp, backends: [$1]}
metrics: {listen: 127.0.0.1:9477}
YAML
}
lab_exec node1 nft add table inet other
lab_exec node1 nft add chain inet other c '{ type filter hook input priority 0; }'
write_conf "10.244.1.5:5432, 10.244.2.7:5432"
HEARTH_NFT_FAULT=apply lab_hearthd node1 "$conf"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
grep -q "fault injection armed" "$LAB_DIR/node1.log" || lab_skip "this build has no fault-injection hook (Release)"
lab_wait 5 nft_metric node1 'hearth_module_up{module="nft"}' || lab_fail "no metrics"
[ "$(nft_metric node1 'hearth_module_up{module="nft"}')" = 1 ] || lab_fail "nft not healthy at start"
[ "$(nft_metric node1 'hearth_nft_elements{map="ep4"}')" = 2 ] || lab_fail "elements per map not reported"
[ "$(nft_metric node1 hearth_nft_batches_applied_total)" = 1 ] || lab_fail "applied batch not counted"
nft_metric node1 hearth_nft_batch_latency_seconds_count | grep -qx 1 || lab_fail "batch latency not observed"
before=$(nft_ruleset node1)

write_conf "10.244.1.5:5432, 10.244.3.9:5432, 10.244.4.1:5432"
kill -HUP "${LAB_PID[node1]}"
lab_wait_log node1 "reload refused" || lab_fail "the refused batch did not refuse the reload"
grep -q "nft: kernel refused the batch: No such file or directory" "$LAB_DIR/node1.log" || lab_fail "the kernel's error is not logged"
after=$(nft_ruleset node1)
[ "$before" = "$after" ] || lab_fail "refused batch changed the ruleset: $(diff <(echo "$before") <(echo "$after"))"
[ "$(nft_metric node1 'hearth_module_up{module="nft"}')" = 0.5 ] || lab_fail "nft does not report degraded"
[ "$(nft_metric node1 hearth_nft_batches_failed_total)" = 1 ] || lab_fail "failed batch not counted"
echo "refused batch: ruleset byte-identical, degraded"

# A rebuild (after someone deletes the table) is not a reconcile: it
# succeeds and the module is healthy again, with the configuration in force.
lab_exec node1 nft delete table inet hearth
lab_wait 3 nft_has_table node1 || lab_fail "table not rebuilt"
healthy() { [ "$(nft_metric node1 'hearth_module_up{module="nft"}')" = 1 ]; }
lab_wait 3 healthy || lab_fail "nft still degraded after a good batch"
[ "$(nft_ruleset node1)" = "$before" ] || lab_fail "rebuild did not restore the configuration in force"
echo "2 passed, 0 failed"
