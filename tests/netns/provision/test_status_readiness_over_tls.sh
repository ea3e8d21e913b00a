#!/usr/bin/env bash
# The readiness check's client side, for real, on 127.0.0.1: an
# `openssl s_server` stands in for the API server with a certificate from
# the cluster CA up made, and demands a client certificate. status (told
# where to find it by HEARTH_PROVISION_API_ADDR, a test seam: with the test
# driver it otherwise checks nothing) reports /readyz and the Nodes' Ready
# count; a server whose certificate is from another CA is not trusted.
. "$(dirname "$0")/common.sh"
prov_init
command -v openssl >/dev/null || prov_skip "needs openssl"

prov --connect test:///default up
prov_expect_rc 0
pki=$STATE/pki
w=$PROV_DIR/www
mkdir -p "$w/api/v1"
printf 'ok' >"$w/readyz"
node() { printf '{"metadata":{"name":"%s"},"status":{"conditions":[{"type":"Ready","status":"%s"}]}}' "$1" "$2"; }
printf '{"kind":"NodeList","items":[%s,%s,%s]}' "$(node k8s-control-plane True)" \
	"$(node k8s-worker1 True)" "$(node k8s-worker2 True)" >"$w/api/v1/nodes"

# server certificate: signed by CA (a file pair), naming 127.0.0.1
server_cert() {
	openssl req -new -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
		-keyout "$PROV_DIR/srv.key" -out "$PROV_DIR/srv.csr" 2>/dev/null
	openssl x509 -req -in "$PROV_DIR/srv.csr" -CA "$1" -CAkey "$2" -CAcreateserial \
		-days 1 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
		-out "$PROV_DIR/srv.crt" 2>/dev/null
}

SPID=
stop_server() { [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null; SPID=; }
trap 'stop_server; prov_cleanup' EXIT
start_server() {
	PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
	(cd "$w" && exec openssl s_server -quiet -accept "127.0.0.1:$PORT" -WWW \
		-cert "$PROV_DIR/srv.crt" -key "$PROV_DIR/srv.key" \
		-Verify 1 -CAfile "$pki/ca.crt" >/dev/null 2>&1) &
	SPID=$!
	for _ in $(seq 1 100); do
		(exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && return 0
		sleep 0.05
	done
	prov_fail "s_server did not listen"
}
status() {
	HEARTH_PROVISION_API_ADDR=127.0.0.1:$PORT prov --connect test:///default status
	prov_expect_rc 0
	grep '^cluster:' "$PROV_DIR/out"
}

server_cert "$pki/ca.crt" "$pki/ca.key"
start_server
line=$(status)
[ "$line" = "cluster: ready (API server ready, nodes Ready 3/3)" ] || prov_fail "$line"

printf '{"kind":"NodeList","items":[%s,%s]}' "$(node k8s-control-plane True)" \
	"$(node k8s-worker1 False)" >"$w/api/v1/nodes"
line=$(status)
[ "$line" = "cluster: not ready (API server ready, nodes Ready 1/3)" ] || prov_fail "$line"
stop_server

# A server certificate from another CA: not the cluster, not trusted.
openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=other -days 1 \
	-keyout "$PROV_DIR/other.key" -out "$PROV_DIR/other.crt" 2>/dev/null
server_cert "$PROV_DIR/other.crt" "$PROV_DIR/other.key"
start_server
line=$(status)
case $line in
"cluster: not ready (API server not ready, nodes Ready 0/3; TLS with 127.0.0.1:$PORT: "*) ;;
*) prov_fail "$line" ;;
esac
stop_server

# Nobody listening: connection refused, named.
line=$(status)
case $line in
*"127.0.0.1:$PORT: Connection refused)") ;;
*) prov_fail "$line" ;;
esac
prov_log "PASS"
