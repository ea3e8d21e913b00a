# Shared by the hearth-bench integration tests: a namespace "b" of this
# run with only loopback (so fixed ports never collide with anything
# else on the machine), the test servers of servers.py started in it, and
# small helpers to read hearth-bench's JSON and the servers' event logs.
. "$(dirname "${BASH_SOURCE[0]}")/../lab.sh"
BENCH="$HEARTH_BIN/hearth-bench"
SERVERS="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/servers.py"

bench_init() {
	lab_init
	lab_require python3 jq
	[ -x "$BENCH" ] || lab_skip "hearth-bench is not built ($BENCH)"
	ip netns add "$(lab_ns b)"
	LAB_HOSTS+=(b)
	lab_exec b ip link set lo up
}

# bx CMD...: runs CMD in the test's namespace.
bx() { lab_exec b "$@"; }

# bench_server KIND PORT [CERT KEY]: starts a test server; its events go
# to $LAB_DIR/KIND-PORT.events, its PID to SERVER_PID.
bench_server() {
	local kind=$1 port=$2
	shift 2
	local ev="$LAB_DIR/$kind-$port.events"
	: >"$ev"
	lab_bg b "$kind-$port" python3 "$SERVERS" "$kind" "$port" "$ev" "$@"
	SERVER_PID=$LAB_LAST_PID
	lab_wait_log "$kind-$port" '^ready' 10 || lab_fail "$kind server on $port did not start"
}

# events KIND PORT REGEX: how many event lines of that server match.
events() {
	grep -cE "$3" "$LAB_DIR/$1-$2.events" || true
}

# events_over KIND PORT REGEX N: true when more than N events match.
events_over() {
	[ "$(events "$1" "$2" "$3")" -gt "$4" ]
}

# expect_events KIND PORT REGEX N: waits (up to 5 s) until exactly N.
events_are() {
	[ "$(events "$1" "$2" "$3")" -eq "$4" ]
}
expect_events() {
	lab_wait 5 events_are "$@" ||
		lab_fail "server $1:$2 saw $(events "$1" "$2" "$3") events '$3', want $4"
}

# j FILE FILTER: one value from a JSON file.
j() { jq -r "$2" "$1"; }

# check EXPR MESSAGE: fails the test unless EXPR (an arithmetic) holds.
check() {
	(($1)) || lab_fail "$2"
}
