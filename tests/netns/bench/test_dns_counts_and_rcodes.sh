#!/usr/bin/env bash
# DNS over UDP and TCP: every answered query is one the server answered,
# exactly; rcodes are tallied per answer (NOERROR for known names and the
# wildcard, NXDOMAIN otherwise); --json has the documented keys.
. "$(dirname "$0")/common.sh"
bench_init
bench_server dns 5300
q=$LAB_DIR/q.txt
printf '# names the test server knows\na.test A\nx.wild.test A\n\nnx.test A\n' >"$q"
out=$LAB_DIR/out.json
for mode in udp tcp; do
	: >"$LAB_DIR/dns-5300.events"
	flag=()
	[ "$mode" = tcp ] && flag=(--tcp)
	bx "$BENCH" dns --server 127.0.0.1:5300 --queries "$q" --duration 1 \
		--in-flight 10 "${flag[@]}" --json >"$out" || lab_fail "$mode run exited $?"
	for k in queries_per_second latency_ms.p50 latency_ms.p999 latency_ms.max \
		errors.timeout rcodes.NOERROR rcodes.NXDOMAIN queries_completed; do
		jq -e ".$k | numbers" "$out" >/dev/null || lab_fail "$mode: no number at .$k"
	done
	n=$(j "$out" .queries_completed)
	check "n > 50" "$mode: only $n answers"
	check "$(j "$out" .queries_sent) == n" "$mode: sent $(j "$out" .queries_sent), answered $n"
	check "$(j "$out" '[.errors[]] | add') == 0" "$mode errors: $(jq -c .errors "$out")"
	expect_events dns 5300 '^q ' "$n"
	ok=$(j "$out" .rcodes.NOERROR)
	nx=$(j "$out" .rcodes.NXDOMAIN)
	check "ok + nx == n" "$mode: rcodes $(jq -c .rcodes "$out") do not add up to $n"
	check "ok - 2 * nx <= 2 && 2 * nx - ok <= 2" "$mode: NOERROR $ok vs NXDOMAIN $nx"
	check "$(events dns 5300 '^q nx.test$') == nx" "$mode: server answered $(events dns 5300 '^q nx.test$') nx.test, bench saw $nx NXDOMAIN"
done
echo "1 passed"
