#!/usr/bin/env bash
# hearthd's life cycle as a user sees it: exit codes, --check-config,
# /metrics and /healthz, SIGHUP with a valid and an invalid file, graceful
# stop, a busy port (exit 3), sd_notify, and start without --foreground.
. "$(dirname "$0")/../lab.sh"
lab_init
lab_require curl python3
lab_switch
lab_host n1 192.168.122.10/24
H=$HEARTH_BIN/hearthd
conf=$LAB_DIR/hearth.yaml
metrics() { lab_exec n1 curl -fsS --max-time 2 "http://127.0.0.1:9477/$1"; }
reloads() { metrics metrics | awk -v r="$1" '$1 == "hearth_config_reloads_total{result=\""r"\"}" {print $2}'; }

# Usage and configuration errors.
"$H" --no-such-flag 2>"$LAB_DIR/usage.err"; rc=$?
[ $rc -eq 2 ] || lab_fail "bad usage exits $rc, not 2"
grep -q "unknown option --no-such-flag" "$LAB_DIR/usage.err" || lab_fail "bad usage message: $(cat "$LAB_DIR/usage.err")"
"$H" --log-level loud 2>/dev/null; [ $? -eq 2 ] || lab_fail "bad log level is not a usage error"
"$H" --version | grep -q '^hearthd ' || lab_fail "--version prints no version"

printf 'node:\n  name: n1\nmetrics:\n  listen: 127.0.0.1:9477\n' >"$conf"
out=$("$H" --check-config -c "$conf") || lab_fail "valid file refused: $out"
printf 'node:\n  name: n1\nmetrix:\n  listen: 127.0.0.1:9477\n' >"$LAB_DIR/bad.yaml"
"$H" --check-config -c "$LAB_DIR/bad.yaml" 2>"$LAB_DIR/bad.err"; rc=$?
[ $rc -eq 1 ] || lab_fail "--check-config of a bad file exits $rc, not 1"
grep -qE "^$LAB_DIR/bad.yaml:3:1: .*metrix" "$LAB_DIR/bad.err" || lab_fail "error lacks FILE:LINE:COL: $(cat "$LAB_DIR/bad.err")"
"$H" --check-config -c "$LAB_DIR/missing.yaml" 2>/dev/null; [ $? -eq 1 ] || lab_fail "a missing file is not a configuration error"
: >"$LAB_DIR/empty.yaml"
"$H" --check-config -c "$LAB_DIR/empty.yaml" >/dev/null || lab_fail "an empty file is not valid"

# sd_notify: a datagram socket stands in for systemd.
sock=$LAB_DIR/notify.sock
lab_bg n1 notify python3 -u -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
while True:
    print(s.recv(4096).decode().replace("\n", " "), flush=True)
' "$sock"
lab_wait 5 test -S "$sock" || lab_fail "notify socket did not appear"

# Start, serve metrics, reload good and bad, stop.
NOTIFY_SOCKET="$sock" ip netns exec "$(lab_ns n1)" "$H" -c "$conf" --foreground >>"$LAB_DIR/n1.log" 2>&1 &
pid=$!
LAB_PIDS+=($pid)
lab_wait 5 metrics healthz || lab_fail "/healthz never answered"
[ "$(metrics healthz)" = "ok" ] || lab_fail "/healthz is not ok"
metrics metrics | grep -q '^hearth_build_info{version="' || lab_fail "no build info in /metrics"
lab_wait 5 grep -q READY=1 "$LAB_DIR/notify.log" || lab_fail "no READY=1"
lab_exec n1 curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:9477/nope | grep -q 404 || lab_fail "unknown path is not 404"

cp "$conf" "$LAB_DIR/good.yaml"
printf 'node:\n  name: n1\nmetrics:\n  listen: 127.0.0.1:9478\n' >"$conf"
kill -HUP $pid
lab_wait 5 lab_exec n1 curl -fsS --max-time 1 http://127.0.0.1:9478/healthz || lab_fail "metrics did not move to :9478 on reload"
lab_exec n1 curl -fsS --max-time 1 http://127.0.0.1:9477/healthz >/dev/null 2>&1 && lab_fail "old metrics port still open"
lab_wait 5 grep -q RELOADING=1 "$LAB_DIR/notify.log" || lab_fail "no RELOADING=1"
[ "$(lab_exec n1 curl -fsS http://127.0.0.1:9478/metrics | awk '$1 == "hearth_config_reloads_total{result=\"ok\"}" {print $2}')" = 1 ] || lab_fail "reload not counted"

printf 'node:\n  name: n1\nmetrics:\n  listen: 127.0.0.1:99999\n' >"$conf"
kill -HUP $pid
lab_wait_log n1 "reload refused" 5 || lab_fail "invalid reload not refused"
grep -qE "$conf:4:[0-9]+: " "$LAB_DIR/n1.log" || lab_fail "refused reload does not log FILE:LINE:COL"
kill -0 $pid || lab_fail "hearthd died on an invalid reload"
[ "$(lab_exec n1 curl -fsS http://127.0.0.1:9478/metrics | awk '$1 == "hearth_config_reloads_total{result=\"failed\"}" {print $2}')" = 1 ] || lab_fail "failed reload not counted"
lab_exec n1 curl -fsS http://127.0.0.1:9478/healthz >/dev/null || lab_fail "the running configuration did not stay in force"

t0=$(date +%s%N)
kill -TERM $pid
wait $pid; rc=$?
t1=$(date +%s%N)
[ $rc -eq 0 ] || lab_fail "SIGTERM exit code $rc"
[ $(((t1 - t0) / 1000000)) -lt 2000 ] || lab_fail "stop with nothing open took $(((t1 - t0) / 1000000)) ms"
lab_wait 2 grep -q STOPPING=1 "$LAB_DIR/notify.log" || lab_fail "no STOPPING=1"

# A port in use: exit 3 with one line naming it.
lab_bg n1 blocker python3 -c '
import socket, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9477)); s.listen(); time.sleep(60)'
lab_wait 5 lab_exec n1 python3 -c 'import socket; socket.create_connection(("127.0.0.1", 9477))' || lab_fail "blocker did not listen"
cp "$LAB_DIR/good.yaml" "$conf"
lab_exec n1 "$H" -c "$conf" --foreground 2>"$LAB_DIR/busy.err"; rc=$?
[ $rc -eq 3 ] || lab_fail "busy metrics port exits $rc, not 3"
grep -q "127.0.0.1:9477" "$LAB_DIR/busy.err" || lab_fail "exit 3 does not name the resource: $(cat "$LAB_DIR/busy.err")"
# Detached start reports the same verdict to its caller.
lab_exec n1 "$H" -c "$conf" 2>/dev/null; rc=$?
[ $rc -eq 3 ] || lab_fail "detached start with a busy port exits $rc, not 3"
lab_stop "$LAB_LAST_PID" KILL

# --log-format json: every line is one JSON object with ts, level, msg.
cp "$LAB_DIR/good.yaml" "$conf"
lab_stop "$LAB_LAST_PID" KILL 2>/dev/null
lab_wait 5 bash -c "! ip netns exec $(lab_ns n1) ss -Htln 'sport = :9477' | grep -q ." || lab_fail "port 9477 still busy"
ip netns exec "$(lab_ns n1)" "$H" -c "$conf" --foreground --log-format json 2>"$LAB_DIR/json.log" &
jpid=$!
LAB_PIDS+=($jpid)
lab_wait 5 metrics healthz || lab_fail "json-logging daemon does not serve"
lab_stop $jpid
python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert lines, "no log lines"
for l in lines:
    o = json.loads(l)
    assert set(o) == {"ts", "level", "msg"}, o
assert any(o for l in lines if json.loads(l)["msg"] == "stopped")
' "$LAB_DIR/json.log" || lab_fail "--log-format json lines do not parse: $(head -3 "$LAB_DIR/json.log")"

# Detached start succeeds and the daemon keeps running.
lab_exec n1 "$H" -c "$conf" 2>>"$LAB_DIR/n1.log"; rc=$?
[ $rc -eq 0 ] || lab_fail "detached start exits $rc"
lab_wait 5 metrics healthz || lab_fail "detached daemon does not serve"
dpid=$(lab_exec n1 ss -Htlnp 'sport = :9477' | sed -n 's/.*pid=\([0-9]*\).*/\1/p' | head -1)
[ -n "$dpid" ] || lab_fail "cannot find the detached daemon"
LAB_PIDS+=($dpid)
kill -TERM "$dpid"
lab_wait 5 bash -c "! kill -0 $dpid" || lab_fail "detached daemon did not stop"
echo "1 passed, 0 failed"
