# Helpers for hearth-provision's integration tests. They run against
# libvirt's test driver (in memory, no guests): test:///default starts
# with an active "default" network on virbr0 192.168.122.1/24 (the adoption
# case), and test:///FILE.xml starts from the objects FILE describes. No
# namespaces and no traffic: the test driver has no guests and
# hearth-provision never connects to a node address with it.

set -u
HEARTH_BIN=${HEARTH_BIN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)/build/dev/bin}
PROV_DIR=
PROV=$HEARTH_BIN/hearth-provision

prov_log() { printf '[provision %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
prov_fail() { prov_log "FAIL: $*"; exit 1; }
prov_skip() { prov_log "SKIP: $*"; exit 77; }

prov_cleanup() {
	[ -n "$PROV_DIR" ] && rm -rf "$PROV_DIR"
}

# A scratch directory, a base image (a sparse raw file) and settings with
# it; the seed topology otherwise.
prov_init() {
	[ -x "$PROV" ] || prov_skip "no $PROV"
	for t in python3 virsh; do
		command -v $t >/dev/null 2>&1 || prov_skip "needs $t"
	done
	virsh -c test:///default net-list >/dev/null 2>&1 ||
		prov_skip "libvirt's test driver is not available"
	PROV_DIR=$(mktemp -d /tmp/hearth-provision-test.XXXXXX)
	trap prov_cleanup EXIT
	truncate -s 2G "$PROV_DIR/base.img"
	printf 'image: {base: %s}\n' "$PROV_DIR/base.img" >"$PROV_DIR/settings.yaml"
	STATE=$PROV_DIR/state
}

# prov ARGS...: hearth-provision with the test settings and state dir;
# stdout in $PROV_DIR/out, stderr in $PROV_DIR/err, exit code in $RC.
prov() {
	RC=0
	"$PROV" -c "$PROV_DIR/settings.yaml" --state-dir "$STATE" "$@" \
		>"$PROV_DIR/out" 2>"$PROV_DIR/err" </dev/null || RC=$?
}

prov_expect_rc() {
	[ "$RC" -eq "$1" ] || {
		cat "$PROV_DIR/out" "$PROV_DIR/err" >&2
		prov_fail "exit code $RC, want $1"
	}
}

# Writes a test-driver host description (test:///FILE) holding the objects
# whose XML up kept in the state dir (options: see state_xml.py).
prov_state_xml() {
	python3 "$(dirname "${BASH_SOURCE[0]}")/state_xml.py" "$STATE" "$@"
}

# The XPath value of a dumped object's XML.
xp() {
	python3 -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
r = root.findall(sys.argv[2]) if not sys.argv[2].startswith("@") else None
if sys.argv[2].startswith("@"):
    print(root.get(sys.argv[2][1:]) or "")
else:
    attr = sys.argv[3] if len(sys.argv) > 3 else None
    for e in r:
        print(e.get(attr) if attr else (e.text or "").strip())
' "$@"
}

# Starts api_standin.py (an API server on 127.0.0.1 with a certificate from
# the cluster CA in $STATE/pki); sets API_PID and API_ADDR.
prov_api_standin() {
	openssl req -new -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
		-keyout "$PROV_DIR/srv.key" -out "$PROV_DIR/srv.csr" 2>/dev/null
	openssl x509 -req -in "$PROV_DIR/srv.csr" -CA "$STATE/pki/ca.crt" \
		-CAkey "$STATE/pki/ca.key" -CAcreateserial -days 1 \
		-extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
		-out "$PROV_DIR/srv.crt" 2>/dev/null
	mkdir -p "$PROV_DIR/www/api/v1"
	python3 "$(dirname "${BASH_SOURCE[0]}")/api_standin.py" "$PROV_DIR" \
		"$STATE/pki/ca.crt" &
	API_PID=$!
	trap 'kill $API_PID 2>/dev/null; wait $API_PID 2>/dev/null; prov_cleanup' EXIT
	for _ in $(seq 1 200); do
		[ -s "$PROV_DIR/port" ] && break
		kill -0 $API_PID 2>/dev/null || prov_fail "API stand-in exited"
		sleep 0.05
	done
	[ -s "$PROV_DIR/port" ] || prov_fail "API stand-in did not start"
	API_ADDR=127.0.0.1:$(cat "$PROV_DIR/port")
}

# Writes the NodeList the stand-in serves: NAME=True|False ...
prov_api_nodes() {
	local items="" sep="" n
	for n in "$@"; do
		items+="$sep{\"metadata\":{\"name\":\"${n%=*}\"},\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"${n#*=}\"}]}}"
		sep=,
	done
	printf '{"kind":"NodeList","items":[%s]}' "$items" >"$PROV_DIR/www/api/v1/nodes"
}
