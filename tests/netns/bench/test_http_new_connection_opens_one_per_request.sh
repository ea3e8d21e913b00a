#!/usr/bin/env bash
# --new-connection: one TCP connection per request (plus the preflight
# check, and at most one per connection cut at the deadline before its
# request), and every answered request is one the server logged.
. "$(dirname "$0")/common.sh"
bench_init
bench_server http 8080
out=$LAB_DIR/out.json
bx "$BENCH" http --url http://127.0.0.1:8080/ok --connections 2 --threads 1 \
	--duration 1 --new-connection --json >"$out" || lab_fail "hearth-bench exited $?"
n=$(j "$out" .requests)
check "n > 10" "only $n requests"
check "$(j "$out" '[.errors[]] | add') == 0" "errors: $(jq -c .errors "$out")"
expect_events http 8080 '^req /ok$' "$n"
c=$(events http 8080 '^conn$')
check "c >= n + 1 && c <= n + 3" "$c connections for $n requests"
echo "1 passed"
