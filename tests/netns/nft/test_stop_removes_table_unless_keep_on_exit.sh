#!/usr/bin/env bash
# SIGTERM removes table inet hearth; with nat.keep_on_exit: true the table
# stays (traffic keeps flowing while hearthd is down), and the next start
# takes it over without duplicates. Every stop is a clean exit (no
# sanitizer report in sanitizer builds).
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_switch
lab_host node1 192.168.122.10/24
conf=$LAB_DIR/n1.yaml
write_conf() {
	cat >"$conf" <<YAML
node: {name: node1}
pools:
  - {name: default, addresses: [192.168.122.100-192.168.122.150]}
services:
  - {name: db, address: 192.168.122.101, ports: [{port: 5432, protocol: tcp, backends: [10.244.1.5:5432]}]}
nat: {keep_on_exit: $1}
YAML
}
write_conf false
lab_hearthd node1 "$conf"
lab_wait_log node1 "nft: table inet hearth built" || lab_fail "table never built"
nft_wait_serving node1
lab_stop "${LAB_PID[node1]}"
rc=$?
[ $rc -eq 0 ] || lab_fail "hearthd exited $rc after SIGTERM"
grep -qE "Sanitizer|runtime error" "$LAB_DIR/node1.log" && lab_fail "sanitizer report on exit"
nft_has_table node1 && lab_fail "SIGTERM left the table behind"
echo "SIGTERM removed the table"

write_conf true
lab_hearthd node1 "$conf"
lab_wait 5 nft_has_table node1 || lab_fail "table never built"
nft_wait_serving node1
kept=$(lab_exec node1 nft list ruleset)
lab_stop "${LAB_PID[node1]}"
nft_has_table node1 || lab_fail "keep_on_exit: the table was removed"
[ "$(lab_exec node1 nft list ruleset)" = "$kept" ] || lab_fail "keep_on_exit: the table changed on exit"
lab_hearthd node1 "$conf"
two() { [ "$(grep -c 'nft: table inet hearth built' "$LAB_DIR/node1.log")" -ge 3 ]; }
lab_wait 5 two || lab_fail "second start did not build"
nft_wait_serving node1
[ "$(lab_exec node1 nft list ruleset)" = "$kept" ] || lab_fail "start over a kept table changed it"
lab_stop "${LAB_PID[node1]}" || lab_fail "hearthd did not exit cleanly"
grep -qE "Sanitizer|runtime error" "$LAB_DIR/node1.log" && lab_fail "sanitizer report on exit"
echo "keep_on_exit: table kept and taken over"
echo "2 passed, 0 failed"
