#!/usr/bin/env bash
# Active health checks: a backend whose /healthz starts answering 500 is
# marked down within interval_ms * unhealthy_after (plus slack) and gets
# no more requests while the other backend serves them all; with every
# backend down the answer is 503; a recovered backend gets requests
# again; a backend that stops listening or stops answering its checks
# is down too; a reload keeps the state of backends that stay; a passthrough
# route's backends are checked over TLS; the metrics show both.
. "$(dirname "$0")/common.sh"
px_setup 1 2 3
px_cert backend pass.test
px_backend 1 8080
px_backend 2 8080
be2_pid=$LAB_LAST_PID
px_backend 3 8443 --tls "$LAB_DIR/backend.crt" "$LAB_DIR/backend.key"
conf() {
	cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
proxy:
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}, {address: 10.244.1.2:8080}]
          health_check: {path: /healthz, interval_ms: $1, timeout_ms: 150,
                         unhealthy_after: 2, healthy_after: 2}
    - hostnames: [pass.test]
      tls: passthrough
      health_check: {path: /healthz, interval_ms: 200}
      backends: [{address: 10.244.1.3:8443}]
$2
EOC
}
conf 200 ""
px_start "$LAB_DIR/conf.yaml"
pid=${LAB_PID[node1]}

metrics() { lab_exec node1 curl -s http://127.0.0.1:9477/metrics; }
# up BACKEND: the backend_up gauge of BACKEND (address:port).
up() { metrics | sed -n "s/^hearth_proxy_backend_up{backend=\"$1\".* //p"; }
checks() {
	metrics | sed -n "s/^hearth_proxy_health_checks_total{backend=\"$1\".*result=\"$2\"} //p"
}
# spread N: which backends answered N requests for a.test ("be1 be2 ...").
spread() {
	local i
	for i in $(seq 1 "$1"); do px_curl http://a.test/r; done |
	    awk '{print $1}' | sort | uniq -c | awk '{printf "%s%s=%s", sep, $2, $1; sep=" "}'
}
set_health() { lab_exec "be$1" curl -s -o /dev/null "http://127.0.0.1:${3:-8080}/_health?set=$2"; }

lab_wait 5 grep -q "GET /healthz .* host=a.test" "$LAB_DIR/be1.log" ||
    lab_fail "no health check reached be1 with Host a.test"
px_expect "both up: requests spread" "be1=10 be2=10" "$(spread 20)"

# be1's /healthz fails: down after 2 checks 200 ms apart (+ slack).
set_health 1 500
t0=$(date +%s%N)
lab_wait 10 grep -q "backend 10.244.1.1:8080 .* is down after 2 failed checks: status 500" \
    "$LAB_DIR/node1.log" || lab_fail "be1 not marked down within 10 s"
echo "be1 marked down after $((($(date +%s%N) - t0) / 1000000)) ms"
before=$(grep -c "GET /r " "$LAB_DIR/be1.log")
px_expect "be1 down: be2 serves all" "be2=20" "$(spread 20)"
px_expect "be1 got none of them" "$before" "$(grep -c "GET /r " "$LAB_DIR/be1.log")"
px_expect "gauge: be1 down" 0 "$(up 10.244.1.1:8080)"
px_expect "gauge: be2 up" 1 "$(up 10.244.1.2:8080)"
fails=$(checks 10.244.1.1:8080 fail)
[ "${fails:-0}" -ge 2 ] || lab_fail "failed checks of be1 not counted ($fails)"
PX_PASSED=$((PX_PASSED + 1))

# Every backend down: 503.
set_health 2 503
lab_wait 10 grep -q "backend 10.244.1.2:8080 .* is down" "$LAB_DIR/node1.log" ||
    lab_fail "be2 not marked down"
px_expect "all down: 503" 503 "$(px_code http://a.test/r)"

# Both recover: requests reach be1 again.
set_health 1 200
set_health 2 200
lab_wait 10 grep -q "backend 10.244.1.1:8080 .* is up again" "$LAB_DIR/node1.log" ||
    lab_fail "be1 not back up"
lab_wait 10 grep -q "backend 10.244.1.2:8080 .* is up again" "$LAB_DIR/node1.log" ||
    lab_fail "be2 not back up"
px_expect "recovered: requests spread again" "be1=10 be2=10" "$(spread 20)"

# be2 stops listening (connection refused): down, be1 serves all; back.
lab_stop "$be2_pid"
lab_wait 10 grep -q "backend 10.244.1.2:8080 .* is down after 2 failed checks: Connection refused" \
    "$LAB_DIR/node1.log" || lab_fail "be2 not down when it stopped listening"
px_expect "be2 not listening: be1 serves all" "be1=10" "$(spread 10)"
px_backend 2 8080
lab_wait 10 bash -c "[ \$(grep -c 'backend 10.244.1.2:8080 .* is up again' '$LAB_DIR/node1.log') -ge 2 ]" ||
    lab_fail "be2 not back up after listening again"

# be1's /healthz stops answering: each check times out (150 ms).
set_health 1 0
lab_wait 10 grep -q "backend 10.244.1.1:8080 .* is down after 2 failed checks: no answer within 150 ms" \
    "$LAB_DIR/node1.log" || lab_fail "be1 not down when its checks time out"
px_expect "be1 checks time out: be2 serves all" "be2=10" "$(spread 10)"
set_health 1 200
lab_wait 10 bash -c "[ \$(grep -c 'backend 10.244.1.1:8080 .* is up again' '$LAB_DIR/node1.log') -ge 2 ]" ||
    lab_fail "be1 not back up after answering again"

# The passthrough backend is checked over TLS with SNI and Host pass.test.
lab_wait 5 grep -q "GET /healthz .* host=pass.test" "$LAB_DIR/be3.log" ||
    lab_fail "no TLS health check reached be3"
px_expect "gauge: TLS backend up" 1 "$(up 10.244.1.3:8443)"
px_expect "no failed TLS checks" 0 "$(checks 10.244.1.3:8443 fail)"

# A reload keeps the state of backends that stay: be1 is down, the new
# interval (5 s) would take 10 s to find that out again.
set_health 1 500
lab_wait 10 bash -c "[ \$(grep -c 'backend 10.244.1.1:8080 .* is down' '$LAB_DIR/node1.log') -ge 3 ]" ||
    lab_fail "be1 not marked down a third time"
conf 5000 "    - hostnames: [new.test]
      rules: [{backends: [{address: 10.244.1.2:8080}]}]"
n=$(grep -c "configuration applied" "$LAB_DIR/node1.log")
kill -HUP "$pid"
lab_wait 5 bash -c "[ \$(grep -c 'configuration applied' '$LAB_DIR/node1.log') -gt $n ]" ||
    lab_fail "reload not applied"
px_expect "after reload: new route" "be2 /n" "$(px_curl http://new.test/n)"
px_expect "after reload: be1 still down" "be2=10" "$(spread 10)"
px_expect "after reload: gauge kept" 0 "$(up 10.244.1.1:8080)"
px_done
