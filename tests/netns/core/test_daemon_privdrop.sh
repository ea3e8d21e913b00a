#!/usr/bin/env bash
# node.run_as: hearthd drops to that user keeping exactly CAP_NET_ADMIN,
# CAP_NET_RAW and CAP_NET_BIND_SERVICE, and still serves and reloads.
. "$(dirname "$0")/../lab.sh"
lab_init
lab_require curl
id nobody >/dev/null 2>&1 || lab_skip "no user nobody"
lab_switch
lab_host n1 192.168.122.10/24
conf=$LAB_DIR/hearth.yaml
chmod 755 "$LAB_DIR"
printf 'node:\n  name: n1\n  run_as: nobody\nmetrics:\n  listen: 127.0.0.1:9477\n' >"$conf"
chmod 644 "$conf"
lab_hearthd n1 "$conf"
pid=${LAB_PID[n1]}
lab_wait 5 lab_exec n1 curl -fsS http://127.0.0.1:9477/healthz || lab_fail "does not serve after dropping privileges"
uid=$(awk '/^Uid:/ {print $2}' /proc/$pid/status)
[ "$uid" = "$(id -u nobody)" ] || lab_fail "runs as uid $uid"
eff=$(awk '/^CapEff:/ {print $2}' /proc/$pid/status)
bnd=$(awk '/^CapBnd:/ {print $2}' /proc/$pid/status)
# NET_BIND_SERVICE (10), NET_ADMIN (12), NET_RAW (13): 0x3400.
[ "$((16#$eff))" -eq $((0x3400)) ] || lab_fail "effective capabilities are $eff, not 0000000000003400"
[ "$((16#$bnd))" -eq $((0x3400)) ] || lab_fail "bounding set is $bnd"
grep -q '^NoNewPrivs:.*1' /proc/$pid/status || lab_fail "no_new_privs not set"
kill -HUP "$pid"
lab_wait_log n1 "configuration reloaded" 5 || lab_fail "reload after the drop failed"
lab_stop "$pid"
echo "1 passed, 0 failed"
