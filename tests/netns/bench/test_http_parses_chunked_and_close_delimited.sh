#!/usr/bin/env bash
# Chunked bodies keep the connection alive; bodies delimited by close
# make hearth-bench reconnect; both are counted as answers, not errors,
# and the byte count covers the whole responses.
. "$(dirname "$0")/common.sh"
bench_init
bench_server http 8080
out=$LAB_DIR/out.json
bx "$BENCH" http --url http://127.0.0.1:8080/chunked -c 2 -t 1 -d 0.5 --json >"$out" ||
	lab_fail "chunked run exited $?"
n=$(j "$out" .requests)
check "n > 5" "only $n chunked answers"
check "$(j "$out" '[.errors[]] | add') == 0" "errors on chunked: $(jq -c .errors "$out")"
expect_events http 8080 '^req /chunked$' "$n"
check "$(events http 8080 '^conn$') <= 3" "chunked answers did not keep the connection alive"

: >"$LAB_DIR/http-8080.events"
bx "$BENCH" http --url http://127.0.0.1:8080/close -c 2 -t 1 -d 0.5 --json >"$out" ||
	lab_fail "close-delimited run exited $?"
n=$(j "$out" .requests)
check "n > 5" "only $n close-delimited answers"
check "$(j "$out" '[.errors[]] | add') == 0" "errors on close: $(jq -c .errors "$out")"
expect_events http 8080 '^req /close$' "$n"
c=$(events http 8080 '^conn$')
check "c >= n + 1" "$c connections for $n answers delimited by close"
check "$(j "$out" .bytes) > n * 20" "bytes $(j "$out" .bytes) do not cover the bodies"
echo "1 passed"
