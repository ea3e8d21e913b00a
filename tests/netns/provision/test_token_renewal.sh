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

prov_api_standin
HEARTH_PROVISION_API_ADDR=$API_ADDR \
	prov --connect "test://$PROV_DIR/host.xml" up --no-wait
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
