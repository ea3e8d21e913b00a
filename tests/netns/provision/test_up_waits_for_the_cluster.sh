#!/usr/bin/env bash
# up's wait, end to end on its client side: the domains' lifecycle state,
# then /readyz and the Nodes' Ready condition asked of an API server with
# the admin certificate, a progress line per change, and the overall
# timeout naming what was missing. The test driver has no cluster, so the
# HEARTH_PROVISION_API_ADDR seam points the wait at a stand-in on 127.0.0.1
# (without it, up on the test driver never waits: see the other tests).
. "$(dirname "$0")/common.sh"
prov_init
command -v openssl >/dev/null || prov_skip "needs openssl"

prov --connect test:///default up --no-wait
prov_expect_rc 0
grep -q '^not waiting for the cluster (--no-wait)' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
prov_state_xml "$PROV_DIR/host.xml"
prov_api_standin

# Not ready in time: exit 1, one line naming what was missing.
printf 'ok' >"$PROV_DIR/www/readyz"
prov_api_nodes k8s-control-plane=True k8s-worker1=False
HEARTH_PROVISION_API_ADDR=$API_ADDR prov --connect "test://$PROV_DIR/host.xml" --timeout 3 up
prov_expect_rc 1
grep -q '^nothing to do' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
grep -q '^  domains running: 3/3$' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
grep -Eq '^  \[[0-9]+s\] API server ready, nodes Ready 1/3$' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
[ "$(wc -l <"$PROV_DIR/err")" -eq 1 ] || prov_fail "$(cat "$PROV_DIR/err")"
grep -q 'up: step "wait for the cluster" failed: not ready after 3s: API server ready (nodes Ready 1/3)' \
	"$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"

# /readyz not ready: said so.
rm "$PROV_DIR/www/readyz"
HEARTH_PROVISION_API_ADDR=$API_ADDR prov --connect "test://$PROV_DIR/host.xml" --timeout 2 up
prov_expect_rc 1
grep -q 'API server not ready (nodes Ready 0/3): /readyz answered 404' "$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"

# All Ready: done.
printf 'ok' >"$PROV_DIR/www/readyz"
prov_api_nodes k8s-control-plane=True k8s-worker1=True k8s-worker2=True
HEARTH_PROVISION_API_ADDR=$API_ADDR prov --connect "test://$PROV_DIR/host.xml" --timeout 30 up
prov_expect_rc 0
grep -Eq '^cluster ready after [0-9]+s$' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
grep -Eq '^  \[[0-9]+s\] API server ready, nodes Ready 3/3$' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
prov_log "PASS"
