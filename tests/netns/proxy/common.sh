# Shared set-up for the proxy's integration tests (sourced, not a test):
# the seed's segment with hearthd on node1 (192.168.122.10), a client at
# .50, and backends be1/be2/be3 at 10.244.1.1-3 running backend.py.
. "$(dirname "${BASH_SOURCE[0]}")/../lab.sh"
PX_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
NODE=192.168.122.10

px_setup() {
	lab_init
	lab_require curl openssl python3
	lab_switch
	lab_host node1 $NODE/24
	lab_host client 192.168.122.50/24
	local i
	for i in "$@"; do
		lab_backend "be$i" "10.244.1.$i"
	done
}

# px_backend N [PORT] [ARGS...]: backend.py as "be<N>" on 10.244.1.N.
px_backend() {
	local n=$1 port=${2:-8080} log="$LAB_DIR/be$1.log" seen=0
	shift 2 || shift
	# The log is appended to: a restarted backend must log anew.
	[ -f "$log" ] && seen=$(grep -c "listening on $port" "$log" || true)
	lab_bg "be$n" "be$n" python3 -u "$PX_DIR/backend.py" "be$n" "$port" "$@"
	lab_wait 10 bash -c "[ \$(grep -c 'listening on $port' '$log') -gt $seen ]" ||
		lab_fail "backend be$n did not start"
}

# px_cert NAME SAN... : a self-signed ECDSA P-256 (or RSA with PX_RSA=1)
# certificate $LAB_DIR/NAME.crt and key $LAB_DIR/NAME.key.
px_cert() {
	local name=$1 san="" h
	shift
	for h in "$@"; do san="${san:+$san,}DNS:$h"; done
	local key=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
	[ "${PX_RSA:-0}" = 1 ] && key=(-newkey rsa:2048)
	openssl req -x509 "${key[@]}" -nodes -days 2 -subj "/CN=$name" \
	    -addext "subjectAltName=$san" -keyout "$LAB_DIR/$name.key" \
	    -out "$LAB_DIR/$name.crt" 2>/dev/null || lab_fail "openssl req"
}

# px_start CONFIG: hearthd on node1; waits until the proxy listens.
px_start() {
	lab_hearthd node1 "$1"
	lab_wait_log node1 "proxy: listening" 10 || lab_fail "proxy did not start"
}

# px_curl ARGS...: curl from the client, names resolving to node1.
px_curl() {
	lab_exec client curl -sS --max-time 20 \
	    --resolve "a.test:80:$NODE" --resolve "b.test:80:$NODE" \
	    --resolve "x.wild.test:80:$NODE" --resolve "a.test:443:$NODE" \
	    --resolve "b.test:443:$NODE" --resolve "pass.test:443:$NODE" \
	    --resolve "new.test:80:$NODE" "$@"
}

# px_code URL [ARGS...]: prints the status code only.
px_code() {
	px_curl -o /dev/null -w '%{http_code}' "$@"
}

px_expect() {
	local what=$1 want=$2 got=$3
	[ "$got" = "$want" ] || lab_fail "$what: got '$got', want '$want'"
	PX_PASSED=$((${PX_PASSED:-0} + 1))
}

# px_done: stops hearthd (SIGTERM), checks it exited cleanly with no
# sanitizer report, and prints the tally.
px_done() {
	local pid=${LAB_PID[node1]:-}
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		lab_wait 15 bash -c "! kill -0 $pid 2>/dev/null" ||
			lab_fail "hearthd did not stop on SIGTERM"
	fi
	if grep -qE "Sanitizer|runtime error" "$LAB_DIR/node1.log"; then
		lab_fail "sanitizer report in hearthd's log"
	fi
	echo "${PX_PASSED:-0} passed, 0 failed"
}
