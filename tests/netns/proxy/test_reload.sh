#!/usr/bin/env bash
# Reloads in process: SIGHUP adds a route while a 30 MB upload is in
# flight (it completes intact, the new route answers at once), an open
# WebSocket survives reloads, requests under repeated reloads all
# succeed; SIGTERM drains: the request in flight completes, then hearthd
# exits.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_backend 1 8080
px_backend 2 8080
conf() {
	cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
proxy:
  drain_seconds: 10
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
$1
EOC
}
conf ""
px_start "$LAB_DIR/conf.yaml"
pid=${LAB_PID[node1]}
px_expect "new.test before reload" 404 "$(px_code http://new.test/)"

head -c $((30 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/up30"
want=$(sha256sum <"$LAB_DIR/up30" | cut -d' ' -f1)
lab_bg client upload curl -sS --max-time 60 --limit-rate 8M \
    --resolve "a.test:80:$NODE" -H 'Transfer-Encoding: chunked' \
    --data-binary @"$LAB_DIR/up30" http://a.test/sha
up=$LAB_LAST_PID
lab_bg client ws python3 "$PX_DIR/ws_client.py" $NODE 80 a.test 4 "$LAB_DIR/go"
ws=$LAB_LAST_PID
sleep 1
conf "    - hostnames: [new.test]
      rules:
        - backends: [{address: 10.244.1.2:8080}]"
kill -HUP "$pid"
lab_wait_log node1 "proxy: configuration applied" 5 || lab_fail "reload not applied"
px_expect "new route right after SIGHUP" "be2 /n" "$(px_curl http://new.test/n)"
kill -0 "$up" 2>/dev/null || lab_fail "the upload was over before the reload"
touch "$LAB_DIR/go"
wait "$up" || lab_fail "upload failed"
px_expect "30 MB upload across the reload" "$want $((30 * 1024 * 1024))" \
    "$(cat "$LAB_DIR/upload.log")"
wait "$ws" || lab_fail "WebSocket broke across the reload"
px_expect "WebSocket across the reload" "ok 4" "$(cat "$LAB_DIR/ws.log")"

# 20 reloads 10 times a second while 200 requests run: none fails.
lab_bg client load bash -c "for i in \$(seq 1 200); do curl -s -o /dev/null \
    -w '%{http_code}\n' --resolve a.test:80:$NODE http://a.test/l\$i; done"
load=$LAB_LAST_PID
for i in $(seq 1 20); do kill -HUP "$pid"; sleep 0.1; done
wait "$load"
px_expect "requests under reloads" "200 200" \
    "$(sort "$LAB_DIR/load.log" | uniq -c | awk '{print $1, $2}')"
m=$(lab_exec node1 curl -s http://127.0.0.1:9477/metrics)
grep -q '^hearth_proxy_reloads_total 2[01]$' <<<"$m" || lab_fail "reload count: $(grep reloads <<<"$m")"
grep -q 'hearth_proxy_requests_total{route="a.test",code="200"' <<<"$m" ||
    lab_fail "no requests metric"
grep -q '^hearth_proxy_upstream_latency_seconds_count' <<<"$m" || lab_fail "no latency histogram"
grep -q '^hearth_proxy_active_connections' <<<"$m" || lab_fail "no active gauge"
PX_PASSED=$((PX_PASSED + 1))

# SIGTERM with a slow request in flight: it completes, then exit.
lab_bg client slow curl -sS --max-time 20 --resolve "a.test:80:$NODE" \
    'http://a.test/slow?s=2'
slow=$LAB_LAST_PID
sleep 0.5
kill -TERM "$pid"
lab_wait_log node1 "proxy: draining" 3 || lab_fail "no drain"
code=$(px_code --max-time 2 http://a.test/x || true)
px_expect "no new connections while draining" 000 "$code"
wait "$slow" || lab_fail "in-flight request failed during the drain"
px_expect "in-flight request completed" "slow" "$(cat "$LAB_DIR/slow.log")"
lab_wait 5 bash -c "! kill -0 $pid 2>/dev/null" || lab_fail "hearthd did not exit after the drain"
lab_wait_log node1 "proxy: drained" 1 || lab_fail "drain not reported"
px_done
