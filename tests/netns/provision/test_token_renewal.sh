#!/usr/bin/env bash
# A worker re-made after the bootstrap token's 24 h: up first creates a new
# bootstrap-token Secret through the API server (over TLS with the admin
# certificate; here a Python stand-in on 127.0.0.1 that demands a client
# certificate from the cluster CA, reached through the
# HEARTH_PROVISION_API_ADDR test seam), keeps it in pki/token, and writes
# the seeds with it. With libvirt's test driver alone it names why it
# cannot, and changes nothing.
. "$(dirname "$0")/common.sh"
prov_init
command -v openssl >/dev/null || prov_skip "needs openssl"

prov --connect test:///default up
prov_expect_rc 0
old=$(cat "$STATE/pki/token")
prov_state_xml "$PROV_DIR/host.xml" --drop-domain k8s-worker2
touch -d '2 days ago' "$STATE/pki/token"

prov --connect "test://$PROV_DIR/host.xml" plan
prov_expect_rc 0
grep -q '^+ renew the bootstrap token (pki/token is older than 23 h and a worker must join)' \
	"$PROV_DIR/out" || prov_fail "plan: $(cat "$PROV_DIR/out")"
[ "$(grep -c '^+ write k8s-.*/: user-data' "$PROV_DIR/out")" -eq 3 ] || prov_fail "seeds: $(cat "$PROV_DIR/out")"
grep -q '^+ define domain k8s-worker2' "$PROV_DIR/out" || prov_fail "plan: $(cat "$PROV_DIR/out")"

prov --connect "test://$PROV_DIR/host.xml" up
prov_expect_rc 1
grep -q 'renew the bootstrap token.*failed: libvirt.s test driver has no cluster to ask' "$PROV_DIR/err" ||
	prov_fail "$(cat "$PROV_DIR/err")"
[ "$(cat "$STATE/pki/token")" = "$old" ] || prov_fail "token changed without a cluster"

# The API server stand-in.
openssl req -new -newkey rsa:2048 -nodes -subj /CN=kube-apiserver \
	-keyout "$PROV_DIR/srv.key" -out "$PROV_DIR/srv.csr" 2>/dev/null
openssl x509 -req -in "$PROV_DIR/srv.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" \
	-CAcreateserial -days 1 -extfile <(printf 'subjectAltName=IP:127.0.0.1\n') \
	-out "$PROV_DIR/srv.crt" 2>/dev/null
cat >"$PROV_DIR/api.py" <<'PY'
import http.server, json, ssl, sys
d, ca = sys.argv[1], sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        cn = dict(x[0] for x in self.connection.getpeercert()["subject"])["commonName"]
        with open(d + "/posted.json", "w") as f:
            json.dump({"path": self.path, "client": cn, "body": json.loads(body)}, f)
        self.send_response(201); self.send_header("Content-Type", "application/json")
        self.end_headers(); self.wfile.write(body)
srv = http.server.HTTPServer(("127.0.0.1", 0), H)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/srv.crt", d + "/srv.key")
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(ca)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
open(d + "/port", "w").write(str(srv.server_address[1]))
srv.serve_forever()
PY
python3 "$PROV_DIR/api.py" "$PROV_DIR" "$STATE/pki/ca.crt" &
SPID=$!
trap 'kill $SPID 2>/dev/null; wait $SPID 2>/dev/null; prov_cleanup' EXIT
for _ in $(seq 1 100); do [ -s "$PROV_DIR/port" ] && break; sleep 0.05; done
[ -s "$PROV_DIR/port" ] || prov_fail "API stand-in did not start"

HEARTH_PROVISION_API_ADDR=127.0.0.1:$(cat "$PROV_DIR/port") \
	prov --connect "test://$PROV_DIR/host.xml" up
prov_expect_rc 0
new=$(cat "$STATE/pki/token")
[ "$new" != "$old" ] || prov_fail "token not renewed"
python3 - "$PROV_DIR/posted.json" "$new" <<'PY' || prov_fail "posted secret: $(cat "$PROV_DIR/posted.json")"
import json, sys, datetime
p, token = json.load(open(sys.argv[1])), sys.argv[2]
assert p["path"] == "/api/v1/namespaces/kube-system/secrets"
assert p["client"] == "kubernetes-admin"
b = p["body"]
assert b["type"] == "bootstrap.kubernetes.io/token"
assert b["metadata"] == {"name": "bootstrap-token-" + token[:6], "namespace": "kube-system"}
sd = b["stringData"]
assert sd["token-id"] == token[:6] and sd["token-secret"] == token[7:]
assert sd["usage-bootstrap-authentication"] == "true" and sd["usage-bootstrap-signing"] == "true"
assert sd["auth-extra-groups"] == "system:bootstrappers:kubeadm:default-node-token"
exp = datetime.datetime.strptime(sd["expiration"], "%Y-%m-%dT%H:%M:%SZ")
left = exp - datetime.datetime.utcnow()
assert datetime.timedelta(hours=23) < left <= datetime.timedelta(hours=24), left
PY
grep -q "token: \"$new\"" "$STATE/k8s-worker2/kubeadm.yaml" || prov_fail "worker2 joins with the old token"
grep -q '^\[.*\] define domain k8s-worker2' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
prov_log "PASS"
