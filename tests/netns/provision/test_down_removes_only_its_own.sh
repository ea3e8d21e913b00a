#!/usr/bin/env bash
# down removes what up made and nothing else: on a host holding up's
# objects plus others (the test driver's own domain "test", pool
# "default-pool", a network "lab2", a domain named like a node but with
# another UUID), down --yes leaves the others, restores the adopted
# network from network.orig.xml and empties the state dir; without --yes
# and no terminal it refuses and removes nothing.
. "$(dirname "$0")/common.sh"
prov_init

prov --connect test:///default up
prov_expect_rc 0
cat >"$PROV_DIR/others.xml" <<'XML'
<domain type='test'><name>test</name><memory>8388608</memory><vcpu>2</vcpu>
  <os><type>hvm</type></os></domain>
<network><name>lab2</name><bridge name='virbr9'/>
  <ip address='192.168.99.1' netmask='255.255.255.0'/></network>
<pool type='dir'><name>default-pool</name><target><path>/default-pool</path></target>
  <volume><name>keep.img</name><capacity>1048576</capacity></volume></pool>
XML
prov_state_xml "$PROV_DIR/host.xml" --extra "$PROV_DIR/others.xml" \
	--domain-uuid k8s-worker2 11111111-2222-3333-4444-555555555555

prov --connect "test://$PROV_DIR/host.xml" down
prov_expect_rc 2
grep -q 'refusing.*--yes' "$PROV_DIR/err" || prov_fail "no refusal: $(cat "$PROV_DIR/err")"
[ -e "$STATE/k8s-worker1/domain.xml" ] || prov_fail "refused down removed state"

# Asked on a terminal: "n" keeps everything, exit 1.
if command -v script >/dev/null; then
	RC=0
	printf 'n\n' | script -qec "'$PROV' -c '$PROV_DIR/settings.yaml' --state-dir '$STATE' \
		--connect 'test://$PROV_DIR/host.xml' down" /dev/null >"$PROV_DIR/out" 2>&1 || RC=$?
	prov_expect_rc 1
	grep -q 'Remove the VMs.*\[y/N\]' "$PROV_DIR/out" || prov_fail "no question: $(cat "$PROV_DIR/out")"
	grep -q 'not confirmed; nothing removed' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
	[ -e "$STATE/k8s-worker1/domain.xml" ] || prov_fail "declined down removed state"
fi

prov --connect "test://$PROV_DIR/host.xml" down --yes --dump "$PROV_DIR/after"
prov_expect_rc 0
d=$PROV_DIR/after
for f in domain-k8s-control-plane domain-k8s-worker1 pool-default \
	volume-k8s-control-plane.qcow2 volume-k8s-worker1.qcow2 volume-k8s-worker2.qcow2; do
	[ ! -e "$d/$f.xml" ] || prov_fail "$f still there"
done
for f in domain-test network-lab2 pool-default-pool volume-keep.img domain-k8s-worker2; do
	[ -e "$d/$f.xml" ] || prov_fail "$f removed"
done
grep -q '^domain k8s-worker2: left alone (UUID 11111111-2222-3333-4444-555555555555' "$PROV_DIR/out" ||
	prov_fail "worker2 with a foreign UUID: $(cat "$PROV_DIR/out")"
[ "$(xp "$d/network-default.xml" forward mode)" = nat ] || prov_fail "network not restored"
[ -z "$(xp "$d/network-default.xml" .//host mac)" ] || prov_fail "DHCP hosts left"
[ -n "$(xp "$d/network-default.xml" @connections)$(xp "$d/network-default.xml" uuid)" ] || true
grep -q '^network default: restored from network.orig.xml$' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
[ ! -e "$STATE" ] || prov_fail "state dir left: $(find "$STATE")"

# A network up defined itself (none existed) is removed by down.
rm -rf "$STATE"
cat >"$PROV_DIR/bare.xml" <<'XML'
<node><domain type='test'><name>test</name><memory>8388608</memory><vcpu>2</vcpu>
  <os><type>hvm</type></os></domain></node>
XML
prov --connect "test://$PROV_DIR/bare.xml" up
prov_expect_rc 0
grep -q '^\[2/13\] define network default: forward open' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
[ -e "$STATE/network.xml" ] && [ ! -e "$STATE/network.orig.xml" ] || prov_fail "network files"
prov_state_xml "$PROV_DIR/host2.xml" --extra <(echo "<domain type='test'><name>test</name><memory>8388608</memory><vcpu>2</vcpu><os><type>hvm</type></os></domain>")
prov --connect "test://$PROV_DIR/host2.xml" down --yes --dump "$PROV_DIR/after2"
prov_expect_rc 0
[ ! -e "$PROV_DIR/after2/network-default.xml" ] || prov_fail "defined network not removed"
[ -e "$PROV_DIR/after2/domain-test.xml" ] || prov_fail "foreign domain removed"
prov_log "PASS"
