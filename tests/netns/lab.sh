# The test lab: the seed's topology in network namespaces this run creates
# and always removes. Source it from a test script:
#
#   . "$(dirname "$0")/../lab.sh"     (or lab.sh beside the test)
#   lab_init                          # root check, unique names, cleanup trap
#   lab_seed                          # switch + node1 .10, node2 .11, node3 .12, client .50
#   lab_host backend1 10.244.1.5/24   # another host on the switch
#   lab_exec client curl ...          # run in a host's namespace
#   lab_hearthd node1 conf.yaml       # start hearthd there; PID in LAB_PID[node1]
#
# Names are "<LAB_ID>-<host>" with LAB_ID unique per run, so two runs never
# collide. Each host has one interface "eth0" on the switch's bridge "br0";
# veth pairs are created directly inside the namespaces, so nothing is ever
# added to, or changed in, the root namespace. Only processes started here
# are stopped, by PID. A test exits 77 to be reported as skipped.
# Background starts call `ip netns exec` directly (never the lab_exec
# function), so $! is the PID of the program itself, not of a subshell.

set -u
HEARTH_BIN=${HEARTH_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/dev/bin}
HEARTH_SOURCE_DIR=${HEARTH_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
declare -A LAB_PID=()
LAB_HOSTS=()
LAB_PIDS=()
LAB_ID=
LAB_DIR=
LAB_FAILED=0

lab_log() { printf '[lab %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

# Fails the test with a message (after cleanup, via the EXIT trap).
lab_fail() {
	lab_log "FAIL: $*"
	LAB_FAILED=1
	exit 1
}

lab_skip() {
	lab_log "SKIP: $*"
	exit 77
}

lab_require() {
	for t in "$@"; do
		command -v "$t" >/dev/null 2>&1 || lab_skip "needs $t"
	done
}

lab_init() {
	[ "$(id -u)" -eq 0 ] || lab_skip "needs root for network namespaces"
	lab_require ip
	LAB_ID="h$(printf '%04x%02x' $((RANDOM)) $(($$ % 256)))"
	LAB_DIR=$(mktemp -d "/tmp/hearth-lab.$LAB_ID.XXXXXX")
	trap lab_cleanup EXIT
	trap 'exit 130' INT TERM
}

lab_ns() { printf '%s-%s' "$LAB_ID" "$1"; }

lab_exec() {
	local h=$1
	shift
	ip netns exec "$(lab_ns "$h")" "$@"
}

lab_switch() {
	ip netns add "$(lab_ns sw)"
	LAB_HOSTS+=(sw)
	lab_exec sw ip link set lo up
	lab_exec sw ip link add br0 type bridge
	lab_exec sw ip link set br0 type bridge forward_delay 0 stp_state 0
	lab_exec sw ip link set br0 up
}

# lab_host NAME ADDR/PREFIX [MAC]: a namespace with eth0 on the switch.
lab_host() {
	local h=$1 addr=$2 mac=${3:-}
	local ns
	ns=$(lab_ns "$h")
	local port="p${#LAB_HOSTS[@]}"
	ip netns add "$ns"
	LAB_HOSTS+=("$h")
	ip -n "$ns" link set lo up
	ip -n "$ns" link add eth0 type veth peer name "$port" netns "$(lab_ns sw)"
	[ -n "$mac" ] && ip -n "$ns" link set eth0 address "$mac"
	ip -n "$ns" addr add "$addr" dev eth0
	ip -n "$ns" link set eth0 up
	ip -n "$(lab_ns sw)" link set "$port" master br0
	ip -n "$(lab_ns sw)" link set "$port" up
}

# lab_seed: the seed's segment 192.168.122.0/24 with three nodes and a
# client; backends reached through on-link routes to 10.244.0.0/16.
lab_seed() {
	lab_switch
	lab_host node1 192.168.122.10/24 02:00:00:00:00:10
	lab_host node2 192.168.122.11/24 02:00:00:00:00:11
	lab_host node3 192.168.122.12/24 02:00:00:00:00:12
	lab_host client 192.168.122.50/24 02:00:00:00:00:50
}

# lab_backend NAME ADDR: a backend host at ADDR/16 in 10.244.0.0/16, with
# on-link routes both ways so the nodes reach it over the switch.
lab_backend() {
	local h=$1 addr=$2
	lab_host "$h" "$addr/16"
	lab_exec "$h" ip route add 192.168.122.0/24 dev eth0
	for n in node1 node2 node3; do
		if [ -e "/run/netns/$(lab_ns "$n")" ]; then
			lab_exec "$n" ip route replace 10.244.0.0/16 dev eth0
		fi
	done
}

# lab_hearthd HOST CONFIG [ARGS...]: starts hearthd in HOST's namespace;
# its output goes to $LAB_DIR/HOST.log. Sets LAB_PID[HOST].
lab_hearthd() {
	local h=$1 conf=$2
	shift 2
	ip netns exec "$(lab_ns "$h")" "$HEARTH_BIN/hearthd" -c "$conf" \
	    --foreground --log-level debug "$@" >>"$LAB_DIR/$h.log" 2>&1 &
	LAB_PID[$h]=$!
	LAB_PIDS+=($!)
}

# lab_start HOST LOGNAME CMD...: starts any program in HOST's namespace,
# prints its PID. Use as: pid=$(lab_start ...)
lab_start() {
	local h=$1 name=$2
	shift 2
	ip netns exec "$(lab_ns "$h")" "$@" >>"$LAB_DIR/$name.log" 2>&1 &
	local pid=$!
	LAB_PIDS+=($pid)
	echo "$pid"
}

# lab_bg HOST LOGNAME CMD...: the same without a subshell, so the caller's
# LAB_PIDS records the PID; the PID is in LAB_LAST_PID.
lab_bg() {
	local h=$1 name=$2
	shift 2
	ip netns exec "$(lab_ns "$h")" "$@" >>"$LAB_DIR/$name.log" 2>&1 &
	LAB_LAST_PID=$!
	LAB_PIDS+=($LAB_LAST_PID)
}

# lab_wait SECONDS CMD...: retries CMD every 50 ms until it succeeds.
lab_wait() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while ! "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# lab_wait_log HOST PATTERN [SECONDS]: waits for PATTERN in HOST's log.
lab_wait_log() {
	lab_wait "${3:-10}" grep -qE "$2" "$LAB_DIR/$1.log"
}

# lab_stop PID [SIGNAL]: signals a process this run started and waits.
# lab_threads_dropped PID USER: every thread of PID runs as USER (real,
# effective, saved, fs) with no capability beyond CAP_NET_BIND_SERVICE,
# CAP_NET_ADMIN and CAP_NET_RAW (0x3400) in its permitted, effective and
# bounding sets, and with no_new_privs; prints how many threads it checked.
lab_threads_dropped() {
	local pid=$1 uid st tid v f n=0
	uid=$(id -u "$2") || lab_fail "no user $2"
	for st in /proc/"$pid"/task/*/status; do
		n=$((n + 1))
		tid=$(awk '/^Pid:/ {print $2}' "$st")
		awk -v u="$uid" '/^Uid:/ {exit !($2 == u && $3 == u && $4 == u && $5 == u)}' "$st" ||
			lab_fail "thread $tid of $pid does not run as $2: $(grep '^Uid:' "$st")"
		for f in CapPrm CapEff CapBnd; do
			v=$(awk -v f="$f:" '$1 == f {print $2}' "$st")
			[ $((16#$v & ~0x3400)) -eq 0 ] || lab_fail "thread $tid of $pid has $f $v"
		done
		grep -q '^NoNewPrivs:.*1' "$st" || lab_fail "thread $tid of $pid lacks no_new_privs"
	done
	echo "$n"
}

lab_stop() {
	local pid=$1 sig=${2:-TERM}
	kill -"$sig" "$pid" 2>/dev/null || return 0
	local i
	for i in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	wait "$pid" 2>/dev/null
}

lab_cleanup() {
	local rc=$?
	local pid
	for pid in "${LAB_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in "${LAB_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] && [ -n "$LAB_DIR" ]; then
		for f in "$LAB_DIR"/*.log; do
			[ -f "$f" ] || continue
			echo "---- $(basename "$f") (last 40 lines)" >&2
			tail -n 40 "$f" >&2
		done
	fi
	local h
	for h in "${LAB_HOSTS[@]}"; do
		ip netns del "$(lab_ns "$h")" 2>/dev/null
	done
	[ -n "$LAB_DIR" ] && rm -rf "$LAB_DIR"
	exit "$rc"
}
