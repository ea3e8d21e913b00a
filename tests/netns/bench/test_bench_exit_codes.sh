#!/usr/bin/env bash
# Bad usage exits 2 with one line; an unreachable target exits 1 with one
# clear line and no hang: refused (HTTP and DNS), and silently dropped
# (a veth link in the test's namespace whose far end never answers).
. "$(dirname "$0")/common.sh"
bench_init
bx ip link add v0 type veth peer name v1
bx ip addr add 10.9.9.1/24 dev v0
bx ip link set v0 up
bx ip link set v1 up
printf 'a.test A\n' >"$LAB_DIR/q.txt"

# expect CODE PATTERN CMD...: CMD exits CODE with one stderr line matching.
expect() {
	local code=$1 pat=$2 rc=0
	shift 2
	timeout 10 ip netns exec "$(lab_ns b)" "$@" >/dev/null 2>"$LAB_DIR/err" || rc=$?
	[ "$rc" -eq "$code" ] || lab_fail "'$*' exited $rc, want $code: $(cat "$LAB_DIR/err")"
	[ "$(wc -l <"$LAB_DIR/err")" -eq 1 ] || lab_fail "'$*' wrote: $(cat "$LAB_DIR/err")"
	grep -qE "$pat" "$LAB_DIR/err" || lab_fail "'$*' said '$(cat "$LAB_DIR/err")', want /$pat/"
}

expect 2 'missing command' "$BENCH"
expect 2 "unknown command 'bogus'" "$BENCH" bogus
expect 2 'url is required' "$BENCH" http
expect 2 'http:// or https://' "$BENCH" http --url ftp://a/
expect 2 'unknown option' "$BENCH" http --url http://a/ --frobnicate
expect 2 'not a duration' "$BENCH" http --url http://a/ --duration soon
expect 2 'server is required' "$BENCH" dns --queries "$LAB_DIR/q.txt"
expect 2 'cannot open' "$BENCH" dns --server 127.0.0.1 --queries /nonexistent
printf 'a.test A\nno-type-here\n' >"$LAB_DIR/bad.txt"
expect 2 'bad.txt:2:' "$BENCH" dns --server 127.0.0.1 --queries "$LAB_DIR/bad.txt"

expect 1 'cannot connect to 127.0.0.1:9: Connection refused' \
	"$BENCH" http --url http://127.0.0.1:9/ -d 5
start=$(date +%s)
expect 1 'cannot connect to 10.9.9.9:80: Connection timed out' \
	"$BENCH" http --url http://10.9.9.9/ -d 30 --timeout 500ms
expect 1 'no answers from 127.0.0.1:9: Connection refused' \
	"$BENCH" dns --server 127.0.0.1:9 --queries "$LAB_DIR/q.txt" -d 5
expect 1 'no answers from 10.9.9.9:53: all queries timed out' \
	"$BENCH" dns --server 10.9.9.9 --queries "$LAB_DIR/q.txt" -d 30 --timeout 500ms
expect 1 'no answers from 10.9.9.9:53' \
	"$BENCH" dns --server 10.9.9.9 --queries "$LAB_DIR/q.txt" -d 30 --timeout 500ms --tcp
elapsed=$(($(date +%s) - start))
check "elapsed < 10" "unreachable targets took ${elapsed}s with --duration 30"
echo "1 passed"
