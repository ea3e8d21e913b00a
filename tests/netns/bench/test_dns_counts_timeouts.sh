#!/usr/bin/env bash
# Queries the server never answers are counted as timeouts, one for one,
# while the others keep flowing.
. "$(dirname "$0")/common.sh"
bench_init
bench_server dns 5300
q=$LAB_DIR/q.txt
printf 'a.test A\nb.test A\na.test A\ndrop.test A\n' >"$q"
out=$LAB_DIR/out.json
bx "$BENCH" dns --server 127.0.0.1:5300 --queries "$q" --duration 1 \
	--in-flight 8 --timeout 200ms --json >"$out" || lab_fail "run exited $?"
n=$(j "$out" .queries_completed)
t=$(j "$out" .errors.timeout)
check "n > 20" "only $n answers"
check "t > 0" "no timeouts counted"
lab_wait 5 events_are dns 5300 '^drop ' "$t" ||
	lab_fail "server dropped $(events dns 5300 '^drop ') queries, bench counted $t timeouts"
expect_events dns 5300 '^q ' "$n"
check "$(j "$out" .queries_sent) == n + t" "sent $(j "$out" .queries_sent) != $n answered + $t timeouts"
echo "1 passed"
