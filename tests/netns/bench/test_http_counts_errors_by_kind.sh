#!/usr/bin/env bash
# Errors are counted by kind: 500 answers as status errors (and 5xx),
# a reply that is not HTTP as parse errors, and connections refused
# after the server goes away as connect errors.
. "$(dirname "$0")/common.sh"
bench_init
bench_server http 8080
out=$LAB_DIR/out.json

bx "$BENCH" http --url http://127.0.0.1:8080/500 -c 2 -t 1 -d 0.5 --json >"$out" ||
	lab_fail "500 run exited $?"
n=$(j "$out" .requests)
check "n > 0" "no requests"
check "$(j "$out" .errors.status) == n" "status errors $(j "$out" .errors.status) of $n"
check "$(j "$out" '.status."5xx"') == n" "5xx $(j "$out" '.status."5xx"') of $n"
check "$(j "$out" .errors.parse) == 0" "parse errors on valid 500s"

bx "$BENCH" http --url http://127.0.0.1:8080/garbage -c 1 -t 1 -d 0.5 --json >"$out"
check "$(j "$out" .errors.parse) > 0" "garbage replies were not parse errors: $(jq -c .errors "$out")"
check "$(j "$out" .requests) == 0" "garbage replies counted as answers"

bx "$BENCH" http --url http://127.0.0.1:8080/ok -c 2 -t 1 -d 4 --json >"$out" &
bench_pid=$!
lab_wait 3 events_over http 8080 '^req /ok$' 20 || lab_fail "load did not start"
lab_stop "$SERVER_PID" KILL
wait "$bench_pid" || lab_fail "run with some answers exited $?"
check "$(j "$out" .errors.connect) > 0" "refused connections not counted: $(jq -c .errors "$out")"
check "$(j "$out" .requests) > 20" "answers before the server went away not counted"
echo "1 passed"
