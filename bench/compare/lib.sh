# Shared by the side-by-side comparison scripts (proxy.sh, dns.sh, ...).
# Source it, then:
#
#   cmp_init proxy "$@"              # options, root check, namespace, cleanup
#   cmp_install                      # anchors from Debian (scripts/install-deps --bench)
#   cmp_start NAME CORE CMD...       # a server pinned to CORE in the namespace
#   cmp_stop "$CMP_LAST_PID"         # stops one process this script started
#   cmp_run CORE CMD...              # a load generator, pinned, in the namespace
#   cmp_row NAME HEARTH ANCHOR_NAME ANCHOR   # one table row (empty HEARTH = n/a)
#   cmp_table                        # prints "name  hearth  anchor  ratio"
#
# Everything runs inside one network namespace this script creates (only
# its loopback is up), so ports never collide with anything else on the
# machine and no traffic leaves it. Pinning follows SPEC 6: the server
# under test on core 0 (one worker), the load generator and the backend on
# core 1. Only processes this script started are stopped, by PID, and the
# namespace and work directory are removed on exit.

set -u
CMP_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
if [ -z "${HEARTH_BIN:-}" ]; then
	HEARTH_BIN=$CMP_SRC/build/release/bin
	[ -x "$HEARTH_BIN/hearth-bench" ] || HEARTH_BIN=$CMP_SRC/build/dev/bin
fi
CMP_DURATION=3
CMP_CONNECTIONS=32
CMP_TOOL=
CMP_PIDS=()
CMP_ROWS=()
CMP_NS=
CMP_WORK=
CMP_LAST_PID=

cmp_log() { printf '[%s %s] %s\n' "$CMP_NAME" "$(date +%T)" "$*" >&2; }
cmp_die() {
	cmp_log "error: $*"
	exit 1
}

cmp_usage() {
	cat <<EOF
usage: bench/compare/$CMP_NAME.sh [--duration S] [--connections N] [--tool T] [--long]
  --duration S     seconds per measurement (default 3)
  --connections N  concurrent connections / in-flight queries (default 32)
  --tool T         load generator: $CMP_TOOLS (default $CMP_TOOL_DEFAULT)
  --long           30 s per measurement
Runs hearth and the anchors side by side on this machine and prints
"name  hearth  anchor  ratio" (ratio = hearth / anchor; higher is better).
hearth's column is n/a until its module lands. Binaries: \$HEARTH_BIN
(default build/release/bin, else build/dev/bin).
EOF
}

# cmp_init NAME ARGS...: parses the common options and sets up.
cmp_init() {
	CMP_NAME=$1
	shift
	CMP_ARGV="$* ${CMP_EXTRA_ARGV:-}"
	REPEAT=1 # --repeat N, where the script sets CMP_REPEATABLE=1: whole passes
	CMP_TOOL=$CMP_TOOL_DEFAULT
	while [ $# -gt 0 ]; do
		case $1 in
		--duration) CMP_DURATION=${2:?--duration needs a value}; shift ;;
		--connections) CMP_CONNECTIONS=${2:?--connections needs a value}; shift ;;
		--tool) CMP_TOOL=${2:?--tool needs a value}; shift ;;
		--long) CMP_DURATION=30 ;;
		--repeat)
			[ "${CMP_REPEATABLE:-0}" = 1 ] || { echo "$CMP_NAME.sh: unknown option '$1'" >&2; exit 2; }
			REPEAT=${2:?--repeat needs a value}
			shift
			;;
		-h | --help) cmp_usage; exit 0 ;;
		*) echo "$CMP_NAME.sh: unknown option '$1'" >&2; exit 2 ;;
		esac
		shift
	done
	[[ $CMP_DURATION =~ ^[0-9]+$ && $CMP_DURATION -gt 0 ]] ||
		{ echo "$CMP_NAME.sh: --duration must be whole seconds" >&2; exit 2; }
	[[ $CMP_CONNECTIONS =~ ^[0-9]+$ && $CMP_CONNECTIONS -gt 0 ]] ||
		{ echo "$CMP_NAME.sh: --connections must be a number" >&2; exit 2; }
	[[ $REPEAT =~ ^[0-9]+$ && $REPEAT -gt 0 ]] ||
		{ echo "$CMP_NAME.sh: --repeat must be a number" >&2; exit 2; }
	[[ " $CMP_TOOLS " == *" $CMP_TOOL "* ]] ||
		{ echo "$CMP_NAME.sh: --tool must be one of: $CMP_TOOLS" >&2; exit 2; }
	[ "$(id -u)" -eq 0 ] || cmp_die "needs root (a network namespace of its own)"
	[ "$(nproc)" -ge 2 ] || cmp_log "warning: fewer than 2 cores; pinning shares core 0"
	CMP_WORK=$(mktemp -d "/tmp/hearth-cmp-$CMP_NAME.XXXXXX")
	CMP_NS="hearth-cmp-$CMP_NAME-$$"
	trap cmp_cleanup EXIT
	trap 'exit 130' INT TERM
	ip netns add "$CMP_NS" || cmp_die "cannot create namespace $CMP_NS"
	ip -n "$CMP_NS" link set lo up
	[ -x "$HEARTH_BIN/hearth-bench" ] ||
		cmp_die "no hearth-bench in $HEARTH_BIN (build it, or set HEARTH_BIN)"
	cmp_log "hearth binaries from $HEARTH_BIN"
}

cmp_install() {
	"$CMP_SRC/scripts/install-deps" --bench >&2 || cmp_die "scripts/install-deps --bench failed"
}

# cmp_core N: core N, or core 0 on a one-core machine.
cmp_core() {
	if [ "$(nproc)" -gt "$1" ]; then echo "$1"; else echo 0; fi
}

# cmp_start NAME CORE CMD...: starts CMD pinned to CORE in the namespace;
# output in $CMP_WORK/NAME.log; PID in CMP_LAST_PID.
cmp_start() {
	local name=$1 core
	core=$(cmp_core "$2")
	shift 2
	ip netns exec "$CMP_NS" taskset -c "$core" "$@" >>"$CMP_WORK/$name.log" 2>&1 &
	CMP_LAST_PID=$!
	CMP_PIDS+=("$CMP_LAST_PID")
}

# cmp_stop PID: stops a process this script started (TERM, then KILL).
cmp_stop() {
	local pid=$1 i
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	return 0
}

# cmp_run CORE CMD...: runs CMD pinned to CORE in the namespace.
cmp_run() {
	local core
	core=$(cmp_core "$1")
	shift
	ip netns exec "$CMP_NS" taskset -c "$core" "$@"
}

# cmp_wait SECONDS CMD...: retries CMD every 50 ms until it succeeds.
cmp_wait() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s%N)" -lt "$deadline" ] || return 1
		sleep 0.05
	done
}

# cmp_wait_tcp PORT: waits until 127.0.0.1:PORT accepts in the namespace.
cmp_wait_tcp() {
	cmp_wait 10 ip netns exec "$CMP_NS" bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" ||
		cmp_die "nothing listens on 127.0.0.1:$1 (see $CMP_WORK/*.log)"
}

# cmp_row NAME HEARTH ANCHOR_NAME ANCHOR: a row; empty values print n/a.
cmp_row() {
	CMP_ROWS+=("$1|$2|$3|$4")
}

# cmp_table: the rows as "name  hearth  anchor  ratio".
cmp_table() {
	printf '%s\n' "${CMP_ROWS[@]}" | awk -F'|' '
	function v(x) { return x == "" ? "n/a" : x }
	BEGIN { printf "%-50s %10s %10s %-8s %6s\n", "name", "hearth", "anchor", "", "ratio" }
	{
		r = ($2 != "" && $4 != "" && $4 > 0) ? sprintf("%.2f", $2 / $4) : "n/a"
		printf "%-50s %10s %10s %-8s %6s\n", $1, v($2), v($4), $3, r
	}'
}

cmp_cleanup() {
	local rc=$? pid
	for pid in "${CMP_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for pid in "${CMP_PIDS[@]}"; do
		wait "$pid" 2>/dev/null
	done
	if [ "$rc" -ne 0 ] && [ -n "$CMP_WORK" ]; then
		for f in "$CMP_WORK"/*.log; do
			[ -s "$f" ] || continue
			echo "---- $(basename "$f") (last 20 lines)" >&2
			tail -n 20 "$f" >&2
		done
	fi
	[ -n "$CMP_NS" ] && ip netns del "$CMP_NS" 2>/dev/null
	[ -n "$CMP_WORK" ] && rm -rf "$CMP_WORK"
	exit "$rc"
}

# cmp_header: the machine and the command, for bench/RESULTS.md.
cmp_header() {
	local model
	model=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	echo "# $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($model), $(uname -r), load average now $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# command: bench/compare/$CMP_NAME.sh ${CMP_ARGV% } (duration $CMP_DURATION s, connections $CMP_CONNECTIONS, tool $CMP_TOOL)"
}
