#!/usr/bin/env bash
# Keep-alive load: every request hearth-bench reports answered is one the
# server logged, exactly, over a handful of connections; --json is one
# parseable object with the documented keys.
. "$(dirname "$0")/common.sh"
bench_init
bench_server http 8080
out=$LAB_DIR/out.json
bx "$BENCH" http --url http://127.0.0.1:8080/ok --connections 4 --threads 2 \
	--duration 1 --json >"$out" || lab_fail "hearth-bench exited $?"
[ "$(wc -l <"$out")" -eq 1 ] || lab_fail "--json printed more than one line"
jq -e 'type == "object"' "$out" >/dev/null || lab_fail "output is not a JSON object"
for k in requests_per_second latency_ms.p50 latency_ms.p90 latency_ms.p99 \
	latency_ms.p999 latency_ms.max errors.connect errors.timeout errors.status \
	errors.parse requests requests_sent; do
	jq -e ".$k | numbers" "$out" >/dev/null || lab_fail "no number at .$k"
done
n=$(j "$out" .requests)
check "n > 20" "only $n requests in 1 s"
check "$(j "$out" .requests_sent) == n" "sent $(j "$out" .requests_sent) but answered $n"
check "$(j "$out" '.status."2xx"') == n" "not every answer was a 2xx"
check "$(j "$out" '[.errors[]] | add') == 0" "errors: $(jq -c .errors "$out")"
expect_events http 8080 '^req /ok$' "$n"
# keep-alive: the 4 connections (and the preflight check) only
check "$(events http 8080 '^conn$') <= 5" "$(events http 8080 '^conn$') connections for keep-alive load"
lat=$(j "$out" '.latency_ms | (.p50 <= .p90 and .p90 <= .p99 and .p99 <= .p999 and .p999 <= .max and .p50 > 0)')
[ "$lat" = true ] || lab_fail "latency percentiles out of order: $(jq -c .latency_ms "$out")"
echo "1 passed"
