#!/usr/bin/env bash
# A reload that one module refuses (nft, with a batch the kernel rejects)
# is applied to none: the ruleset and the metrics endpoint stay as they
# were, and a later good reload moves the endpoint cleanly (no listener
# left behind on the old port).
. "$(dirname "$0")/../lab.sh"
lab_init
lab_require nft curl
lab_switch
lab_host n1 192.168.122.10/24
conf=$LAB_DIR/hearth.yaml
svc='pools: [{name: default, addresses: [192.168.122.100-192.168.122.150]}]
services:
  - name: db
    address: 192.168.122.101
    ports: [{port: 5432, protocol: tcp, backends: [BACKEND]}]'
write() { # BACKEND METRICS-LINE
	{ printf 'node: {name: n1, interface: eth0}\n'; sed "s/BACKEND/$1/" <<<"$svc"; printf '%s\n' "$2"; } >"$conf"
}
listening() { lab_exec n1 ss -Htln "sport = :$1" | grep -q .; }
metric() { lab_exec n1 curl -fsS "http://127.0.0.1:$1/metrics" | awk -v k="$2" '$1 == k {print $2}'; }

write 10.244.1.5:5432 'metrics: {listen: "127.0.0.1:9477"}'
HEARTH_NFT_FAULT=apply ip netns exec "$(lab_ns n1)" "$HEARTH_BIN/hearthd" -c "$conf" \
    --foreground --log-level debug >>"$LAB_DIR/n1.log" 2>&1 &
pid=$!
LAB_PIDS+=($pid)
lab_wait 10 lab_exec n1 curl -fsS http://127.0.0.1:9477/healthz || lab_fail "not serving"
before=$(lab_exec n1 nft list ruleset)

# New backends (nft refuses) and no metrics section: refused as a whole.
write 10.244.2.7:5432 ''
kill -HUP $pid
lab_wait_log n1 "reload refused" 5 || lab_fail "the reload was not refused"
[ "$(lab_exec n1 nft list ruleset)" = "$before" ] || lab_fail "the ruleset changed"
[ "$(metric 9477 'hearth_config_reloads_total{result="failed"}')" = 1 ] || lab_fail "metrics endpoint lost or reload not counted"

# A good reload (same backend, metrics moved) leaves nothing on :9477.
write 10.244.1.5:5432 'metrics: {listen: "127.0.0.1:9478"}'
kill -HUP $pid
lab_wait 5 lab_exec n1 curl -fsS http://127.0.0.1:9478/healthz || lab_fail "metrics did not move to :9478"
lab_wait 2 bash -c "! ip netns exec $(lab_ns n1) ss -Htln 'sport = :9477' | grep -q ." ||
    lab_fail "a listener is left behind on :9477"
lab_stop $pid
echo "1 passed, 0 failed"
