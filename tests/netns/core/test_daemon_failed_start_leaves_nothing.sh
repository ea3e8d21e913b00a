#!/usr/bin/env bash
# A start that fails on a later module (here l2announce: its interface does
# not exist) exits 3 naming the resource and undoes what the earlier
# modules did: no nftables table is left behind.
. "$(dirname "$0")/../lab.sh"
lab_init
lab_require nft
lab_switch
lab_host n1 192.168.122.10/24
conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<YAML
node: {name: n1, interface: nosuch0}
pools: [{name: default, addresses: [192.168.122.100-192.168.122.150]}]
services:
  - name: db
    address: 192.168.122.101
    ports: [{port: 5432, protocol: tcp, backends: [10.244.1.5:5432]}]
YAML
lab_exec n1 "$HEARTH_BIN/hearthd" -c "$conf" --foreground 2>"$LAB_DIR/err.log"; rc=$?
[ $rc -eq 3 ] || lab_fail "exit code $rc, not 3: $(cat "$LAB_DIR/err.log")"
grep -q nosuch0 "$LAB_DIR/err.log" || lab_fail "the error does not name the interface: $(cat "$LAB_DIR/err.log")"
grep -q "table inet hearth" <(lab_exec n1 nft list tables) && lab_fail "table inet hearth left behind"
echo "1 passed, 0 failed"
