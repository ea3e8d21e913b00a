#!/usr/bin/env bash
# Sets are created with room to double (so big loads need no rehashing in
# the kernel); a reload that outgrows them recreates the table in one
# transaction with bigger sets, and every service is there afterwards.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_require curl
lab_switch
lab_host node1 192.168.122.10/24
conf=$LAB_DIR/n1.yaml
write_conf() {
	{
		printf 'node: {name: node1, interface: eth0}\nmetrics: {listen: 127.0.0.1:9477}\n'
		printf 'pools: [{name: p, addresses: [10.1.0.0/16]}]\nservices:\n'
		for i in $(seq 0 $(($1 - 1))); do
			printf -- '- {name: s%d, address: 10.1.%d.%d, ports: [{port: 80, protocol: tcp, backends: [10.244.%d.1:80, 10.244.%d.2:80]}]}\n' \
				"$i" $((i / 250)) $((i % 250 + 1)) $((i % 250)) $((i % 250))
		done
	} >"$conf"
}
write_conf 2
lab_hearthd node1 "$conf" --log-level info
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
lab_exec node1 nft list map inet hearth ep4 | grep -q "size 1024" || lab_fail "ep4 not sized 1024"
[ "$(nft_metric node1 hearth_nft_rebuilds_total)" = 1 ] || lab_fail "rebuilds not 1 at start"

write_conf 600
kill -HUP "${LAB_PID[node1]}"
lab_wait_log node1 "configuration reloaded" || lab_fail "reload of 600 services not applied"
[ "$(nft_metric node1 hearth_nft_rebuilds_total)" = 2 ] || lab_fail "outgrowing ep4 did not recreate the table"
lab_exec node1 nft list map inet hearth ep4 | grep -q "size 4096" || lab_fail "ep4 not resized to 4096: $(lab_exec node1 nft list map inet hearth ep4 | head -4)"
[ "$(nft_metric node1 'hearth_nft_elements{map="ep4"}')" = 1200 ] || lab_fail "ep4 does not hold 1200 endpoints"
n=$(lab_exec node1 nft list map inet hearth ep4 | grep -oE '10\.244\.[0-9]+\.[12] \. 80' | wc -l)
[ "$n" = 1200 ] || lab_fail "the kernel's ep4 holds $n elements, not 1200"
echo "outgrown sets recreated with room: 1200 endpoints in ep4 (size 4096)"
echo "1 passed, 0 failed"
