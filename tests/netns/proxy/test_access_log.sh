#!/usr/bin/env bash
# The access log (proxy.access_log, an extension to SPEC): off by default
# (no file); turned on by SIGHUP; one JSON line per request with time,
# client, method, host, path, status, bytes, route, backend, upstream and
# total latency and TLS (a 200, a 404 without a route, a request over
# TLS, a passthrough connection); SIGHUP after a rotation writes a new
# file; a file that cannot be reopened is kept, a new one that cannot be
# opened refuses the reload; the text format; turned off, requests are
# not logged.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_cert def a.test
px_cert backend pass.test
px_backend 1 8080
px_backend 2 8443 --tls "$LAB_DIR/backend.crt" "$LAB_DIR/backend.key"
LOG=$LAB_DIR/access.log
conf() {
	cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
proxy:
$1
  certificates: [{cert: $LAB_DIR/def.crt, key: $LAB_DIR/def.key}]
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
    - hostnames: [pass.test]
      tls: passthrough
      backends: [{address: 10.244.1.2:8443}]
EOC
}
# reload [refused]: SIGHUP; waits for the verdict, which must be applied
# (or refused).
reload() {
	local n r
	n=$(grep -cE "configuration applied|refused the new configuration" "$LAB_DIR/node1.log")
	r=$(grep -c "refused the new configuration" "$LAB_DIR/node1.log")
	kill -HUP "${LAB_PID[node1]}"
	lab_wait 10 bash -c "[ \$(grep -cE 'configuration applied|refused the new configuration' \
	    '$LAB_DIR/node1.log') -gt $n ]" || lab_fail "no reload verdict"
	local now=$(grep -c "refused the new configuration" "$LAB_DIR/node1.log")
	if [ "${1:-}" = refused ]; then
		[ "$now" -gt "$r" ] || lab_fail "reload not refused"
	else
		[ "$now" = "$r" ] || lab_fail "reload refused"
	fi
}
# lines FILE: how many lines FILE has (0 when absent).
lines() { [ -e "$1" ] && wc -l <"$1" || echo 0; }
wait_lines() {
	lab_wait 10 bash -c "[ \$( [ -e '$1' ] && wc -l <'$1' || echo 0) -ge $2 ]" ||
		lab_fail "$1 has $(lines "$1") lines, want $2"
}

conf ""
px_start "$LAB_DIR/conf.yaml"
px_expect "served without an access log" "be1 /x" "$(px_curl http://a.test/x)"
px_expect "404 without an access log" 404 "$(px_code http://b.test/x)"
[ -e "$LOG" ] && lab_fail "an access log was written while off"
PX_PASSED=$((PX_PASSED + 1))

conf "  access_log: $LOG"
reload
size200=$(px_curl -o /dev/null -w '%{size_download}' 'http://a.test/ok?q=1')
size404=$(px_curl -o /dev/null -w '%{size_download}' http://b.test/nope)
px_expect "a request over TLS" "be1 /t" \
    "$(px_curl --cacert "$LAB_DIR/def.crt" https://a.test/t)"
px_expect "a passthrough connection" "be2 /p" \
    "$(px_curl -k https://pass.test/p)"
wait_lines "$LOG" 4
python3 - "$LOG" "$size200" "$size404" <<'PY' || lab_fail "access log: $(cat "$LOG")"
import json, re, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 4, rows
keys = {"ts", "client", "tls", "method", "host", "path", "status", "bytes",
        "route", "backend", "upstream_ms", "ms"}
want = [
    dict(tls=False, method="GET", host="a.test", path="/ok?q=1", status=200,
         bytes=int(sys.argv[2]), route="a.test", backend="10.244.1.1:8080"),
    dict(tls=False, method="GET", host="b.test", path="/nope", status=404,
         bytes=int(sys.argv[3]), route=None, backend=None, upstream_ms=None),
    dict(tls=True, method="GET", host="a.test", path="/t", status=200,
         route="a.test", backend="10.244.1.1:8080"),
    dict(tls=True, status=0, route="pass.test", backend="10.244.1.2:8443"),
]
# Workers have their own buffers: lines are in order per worker only.
for w in want:
    r = [r for r in rows if r["status"] == w["status"] and
         r.get("path") == w.get("path", r.get("path"))]
    assert len(r) == 1, (w, rows)
    r = r[0]
    assert set(r) == keys, r
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", r["ts"]), r
    assert r["client"] == "192.168.122.50", r
    for k, v in w.items():
        assert r[k] == v, (k, r)
    assert isinstance(r["ms"], int) and r["ms"] >= 0, r
    if r["status"] == 200:
        assert isinstance(r["upstream_ms"], int), r
        assert 0 <= r["upstream_ms"] <= r["ms"], r
print("4 access-log lines as expected")
PY
PX_PASSED=$((PX_PASSED + 1))
px_expect "nothing dropped" 0 \
    "$(lab_exec node1 curl -s http://127.0.0.1:9477/metrics |
        sed -n 's/^hearth_proxy_access_log_dropped_total //p')"

# Rotation: the file is renamed, SIGHUP, new lines go to a new file.
mv "$LOG" "$LOG.1"
reload
px_expect "after rotation" "be1 /rotated" "$(px_curl http://a.test/rotated)"
wait_lines "$LOG" 1
grep -q '"path":"/rotated"' "$LOG" || lab_fail "rotated: $(cat "$LOG")"
px_expect "the old file keeps its lines" 4 "$(lines "$LOG.1")"

# The same file cannot be reopened (a directory in its place): the
# reload goes through and the open file is kept.
mv "$LOG" "$LOG.moved"
mkdir "$LOG"
reload
grep -q "cannot reopen the access log $LOG.*still writing the open file" \
    "$LAB_DIR/node1.log" || lab_fail "no warning about the reopen"
px_expect "not reopened" "be1 /kept" "$(px_curl http://a.test/kept)"
wait_lines "$LOG.moved" 2
grep -q '"path":"/kept"' "$LOG.moved" || lab_fail "kept: $(cat "$LOG.moved")"
rmdir "$LOG"
mv "$LOG.moved" "$LOG"
# A new file that cannot be opened: the reload is refused.
conf "  access_log: $LAB_DIR/nodir/access.log"
reload refused
px_expect "still logging to the old file" "be1 /still" "$(px_curl http://a.test/still)"
wait_lines "$LOG" 3
grep -q '"path":"/still"' "$LOG" || lab_fail "still: $(cat "$LOG")"

# The text format.
conf "  access_log: $LOG
  access_log_format: text"
reload
px_expect "text format request" "be1 /txt" "$(px_curl http://a.test/txt)"
wait_lines "$LOG" 4
line=$(tail -n1 "$LOG")
re='^[0-9T:.-]+Z 192\.168\.122\.50 "GET /txt" 200 [0-9]+ host=a\.test route=a\.test backend=10\.244\.1\.1:8080 upstream_ms=[0-9]+ ms=[0-9]+ tls=no$'
[[ "$line" =~ $re ]] || lab_fail "text line: $line"
PX_PASSED=$((PX_PASSED + 1))

# Off again: requests are not logged (a later file, turned on after them,
# shows the writer had its chance).
conf ""
reload
px_expect "served with the log off" "be1 /off" "$(px_curl http://a.test/off)"
conf "  access_log: $LOG.2"
reload
px_expect "logged again" "be1 /on" "$(px_curl http://a.test/on)"
wait_lines "$LOG.2" 1
cat "$LOG" "$LOG.1" "$LOG.2" | grep -q '/off' && lab_fail "a request was logged while off"
PX_PASSED=$((PX_PASSED + 1))
px_done
