#!/usr/bin/env bash
# node.run_as: hearthd drops to that user keeping exactly CAP_NET_ADMIN,
# CAP_NET_RAW and CAP_NET_BIND_SERVICE, and still serves and reloads.
# Every thread (the DNS and proxy workers too, started while the modules
# open their sockets) runs as that user with at most those capabilities,
# the same bounding set and no_new_privs.
. "$(dirname "$0")/../lab.sh"
lab_init
lab_require curl
id nobody >/dev/null 2>&1 || lab_skip "no user nobody"
lab_switch
lab_host n1 192.168.122.10/24
conf=$LAB_DIR/hearth.yaml
chmod 755 "$LAB_DIR"
cat >"$conf" <<EOF
node:
  name: n1
  run_as: nobody
dns:
  listen: [127.0.0.1:53]
  zones:
    - origin: example.test
      views:
        - {name: all, clients: [0.0.0.0/0], records: ["@ 60 A 192.0.2.1"]}
proxy:
  http_port: 80
  https_port: 443
  routes:
    - hostnames: [a.test]
      rules:
        - {path_prefix: /, backends: [{address: 127.0.0.1:9}]}
metrics:
  listen: 127.0.0.1:9477
EOF
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
ntask=$(lab_threads_dropped "$pid" nobody) || exit 1
[ "$ntask" -ge 3 ] || lab_fail "only $ntask threads: are the DNS and proxy workers running?"
lab_exec n1 dig +short +time=2 @127.0.0.1 example.test A | grep -qx 192.0.2.1 || lab_fail "DNS does not answer after the drop"
kill -HUP "$pid"
lab_wait_log n1 "configuration reloaded" 5 || lab_fail "reload after the drop failed"
lab_stop "$pid"
echo "1 passed, 0 failed ($ntask threads checked)"
