#!/usr/bin/env bash
# plan/up against a host that already holds what up made (a test:///FILE
# built from the XML kept in the state dir): nothing to do, and up says
# so; with one domain missing, exactly that domain is planned and re-made;
# a domain whose memory drifted is changed; plan changes nothing.
. "$(dirname "$0")/common.sh"
prov_init

prov --connect test:///default up
prov_expect_rc 0

prov_state_xml "$PROV_DIR/host.xml"
prov --connect "test://$PROV_DIR/host.xml" plan
prov_expect_rc 0
[ "$(cat "$PROV_DIR/out")" = "nothing to do" ] || prov_fail "plan: $(cat "$PROV_DIR/out")"
prov --connect "test://$PROV_DIR/host.xml" up
prov_expect_rc 0
grep -q '^nothing to do' "$PROV_DIR/out" || prov_fail "second up: $(cat "$PROV_DIR/out")"

# A deleted domain: plan names it alone, up re-makes it and only it.
prov_state_xml "$PROV_DIR/missing.xml" --drop-domain k8s-worker2
prov --connect "test://$PROV_DIR/missing.xml" plan --dump "$PROV_DIR/before"
prov_expect_rc 0
[ "$(wc -l <"$PROV_DIR/out")" -eq 1 ] || prov_fail "plan: $(cat "$PROV_DIR/out")"
grep -q '^+ define domain k8s-worker2: 2 vCPU, 4096 MiB, 30 GiB disk, 52:54:00:a8:7a:0c -> 192.168.122.12; start it$' \
	"$PROV_DIR/out" || prov_fail "plan: $(cat "$PROV_DIR/out")"
[ ! -e "$PROV_DIR/before/domain-k8s-worker2.xml" ] || prov_fail "plan made the domain"
old_uuid=$(xp "$STATE/k8s-worker1/domain.xml" uuid)
prov --connect "test://$PROV_DIR/missing.xml" up --dump "$PROV_DIR/after"
prov_expect_rc 0
grep -q '^\[1/1\] define domain k8s-worker2' "$PROV_DIR/out" || prov_fail "up: $(cat "$PROV_DIR/out")"
[ -n "$(xp "$PROV_DIR/after/domain-k8s-worker2.xml" @id)" ] || prov_fail "worker2 not running"
[ "$(xp "$PROV_DIR/after/domain-k8s-worker1.xml" uuid)" = "$old_uuid" ] || prov_fail "worker1 touched"
[ "$(xp "$STATE/k8s-worker2/domain.xml" uuid)" = "$(xp "$PROV_DIR/after/domain-k8s-worker2.xml" uuid)" ] ||
	prov_fail "new domain.xml not kept"

# Drift: worker1 with 2 GiB instead of 4 is redefined in place.
prov_state_xml "$PROV_DIR/drift.xml" --domain-memory k8s-worker1 2048
prov --connect "test://$PROV_DIR/drift.xml" plan
prov_expect_rc 0
grep -q '^+ change domain k8s-worker1: memory 2048 -> 4096 MiB' "$PROV_DIR/out" ||
	prov_fail "plan: $(cat "$PROV_DIR/out")"
prov --connect "test://$PROV_DIR/drift.xml" up --dump "$PROV_DIR/drift"
prov_expect_rc 0
# Running: the new definition takes effect at its next boot.
[ "$(xp "$PROV_DIR/drift/inactive-domain-k8s-worker1.xml" memory)" = 4194304 ] ||
	prov_fail "memory not fixed"
grep -q '(takes effect at its next boot)' "$PROV_DIR/out" || prov_fail "no next-boot note"
[ "$(xp "$PROV_DIR/drift/domain-k8s-worker1.xml" uuid)" = "$old_uuid" ] || prov_fail "uuid changed"

# A host where the network is still libvirt's NAT one: adoption planned,
# the original (already kept) not overwritten.
prov_state_xml "$PROV_DIR/nat.xml" --network-orig
cp "$STATE/network.orig.xml" "$PROV_DIR/orig.before"
prov --connect "test://$PROV_DIR/nat.xml" plan
grep -q '^+ adopt network default: forward nat -> open, 3 DHCP hosts; restart it (original already in network.orig.xml)$' \
	"$PROV_DIR/out" || prov_fail "plan: $(cat "$PROV_DIR/out")"
prov --connect "test://$PROV_DIR/nat.xml" up
prov_expect_rc 0
cmp -s "$STATE/network.orig.xml" "$PROV_DIR/orig.before" || prov_fail "network.orig.xml overwritten"
# A node dropped from the settings: up leaves its VM, says so; down (which
# goes by the state dir) still removes it.
prov_state_xml "$PROV_DIR/host.xml"
cat >>"$PROV_DIR/settings.yaml" <<'YAML'
nodes:
  - {name: k8s-control-plane, role: control-plane, address: 192.168.122.10}
  - {name: k8s-worker1, address: 192.168.122.11}
YAML
prov --connect "test://$PROV_DIR/host.xml" plan
prov_expect_rc 0
grep -q '^! node k8s-worker2 was made by an earlier up and is not in the settings' "$PROV_DIR/out" ||
	prov_fail "no warning: $(cat "$PROV_DIR/out")"
prov --connect "test://$PROV_DIR/host.xml" down --yes --dump "$PROV_DIR/down"
prov_expect_rc 0
[ ! -e "$PROV_DIR/down/domain-k8s-worker2.xml" ] || prov_fail "worker2 not removed by down"
prov_log "PASS"
