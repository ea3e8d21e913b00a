#!/usr/bin/env bash
# `up` against libvirt's stock test host (an active "default" network with
# NAT on virbr0 192.168.122.1/24): the network is adopted (original kept,
# forward mode open, one DHCP host per node), the pool, the volumes (sizes,
# backing file) and the domains (vCPUs, memory, MAC, disk, seed ISO) are
# made, and the state dir holds exactly SPEC's layout. What libvirt holds
# is read through the hidden --dump (the live XML, same connection).
. "$(dirname "$0")/common.sh"
prov_init

prov --connect test:///default up --dump "$PROV_DIR/dump"
prov_expect_rc 0
grep -q '^\[1/13\] create PKI' "$PROV_DIR/out" || prov_fail "no PKI step"
grep -q '^\[2/13\] adopt network default: forward nat -> open' "$PROV_DIR/out" ||
	prov_fail "network not adopted: $(cat "$PROV_DIR/out")"
grep -q 'not waiting for the cluster' "$PROV_DIR/out" || prov_fail "waited on the test driver"

# The state dir's layout, exactly.
want="admin.kubeconfig
k8s-control-plane/domain.xml
k8s-control-plane/k8s-control-plane.qcow2.vol.xml
k8s-control-plane/kubeadm.yaml
k8s-control-plane/meta-data
k8s-control-plane/network-config
k8s-control-plane/seed.iso
k8s-control-plane/user-data
k8s-worker1/domain.xml
k8s-worker1/k8s-worker1.qcow2.vol.xml
k8s-worker1/kubeadm.yaml
k8s-worker1/meta-data
k8s-worker1/network-config
k8s-worker1/seed.iso
k8s-worker1/user-data
k8s-worker2/domain.xml
k8s-worker2/k8s-worker2.qcow2.vol.xml
k8s-worker2/kubeadm.yaml
k8s-worker2/meta-data
k8s-worker2/network-config
k8s-worker2/seed.iso
k8s-worker2/user-data
network.orig.xml
network.xml
pki/admin.crt
pki/admin.key
pki/ca.crt
pki/ca.key
pki/token
pool.xml"
have=$(cd "$STATE" && find . -type f | sed 's|^\./||' | sort)
[ "$have" = "$want" ] || prov_fail "state dir: $(diff <(echo "$want") <(echo "$have"))"
[ "$(stat -c %a "$STATE/pki")" = 700 ] || prov_fail "pki/ not 0700"
for f in pki/ca.key pki/admin.key pki/token admin.kubeconfig k8s-control-plane/user-data; do
	[ "$(stat -c %a "$STATE/$f")" = 600 ] || prov_fail "$f not 0600"
done

# The adopted network: the original kept as it was, the live one changed.
d=$PROV_DIR/dump
[ "$(xp "$STATE/network.orig.xml" forward mode)" = nat ] || prov_fail "orig not NAT"
[ "$(xp "$d/network-default.xml" forward mode)" = open ] || prov_fail "live not open"
[ "$(xp "$d/network-default.xml" ip address)" = 192.168.122.1 ] || prov_fail "bridge address"
[ "$(xp "$d/network-default.xml" bridge name)" = virbr0 ] || prov_fail "bridge"
[ "$(xp "$d/network-default.xml" uuid)" = "$(xp "$STATE/network.orig.xml" uuid)" ] ||
	prov_fail "the adopted network's UUID changed"
hosts=$(python3 -c '
import sys, xml.etree.ElementTree as ET
for h in ET.parse(sys.argv[1]).getroot().iter("host"):
    print(h.get("mac"), h.get("ip"), h.get("name"))' "$d/network-default.xml")
[ "$hosts" = "52:54:00:a8:7a:0a 192.168.122.10 k8s-control-plane
52:54:00:a8:7a:0b 192.168.122.11 k8s-worker1
52:54:00:a8:7a:0c 192.168.122.12 k8s-worker2" ] || prov_fail "DHCP hosts: $hosts"

# Pool and volumes: sizes and backing file.
[ "$(xp "$d/pool-default.xml" @type)" = dir ] || prov_fail "pool type"
for n in k8s-control-plane:50 k8s-worker1:30 k8s-worker2:30; do
	name=${n%:*} gib=${n#*:}
	v=$d/volume-$name.qcow2.xml
	[ "$(xp "$v" capacity)" = $((gib << 30)) ] || prov_fail "$name capacity $(xp "$v" capacity)"
	[ "$(xp "$v" backingStore/path)" = "$PROV_DIR/base.img" ] || prov_fail "$name backing"
	[ "$(xp "$v" backingStore/format type)" = raw ] || prov_fail "$name backing format"
	[ "$(xp "$v" target/format type)" = qcow2 ] || prov_fail "$name format"
done

# Domains: running, sized, with their MAC, disk and seed.
for n in k8s-control-plane:4:8388608:0a k8s-worker1:2:4194304:0b k8s-worker2:2:4194304:0c; do
	IFS=: read -r name cpus kib mac <<<"$n"
	x=$d/domain-$name.xml
	[ -n "$(xp "$x" @id)" ] || prov_fail "$name not running"
	[ "$(xp "$x" vcpu)" = "$cpus" ] || prov_fail "$name vcpus"
	[ "$(xp "$x" memory)" = "$kib" ] || prov_fail "$name memory $(xp "$x" memory)"
	[ "$(xp "$x" devices/interface/mac address)" = "52:54:00:a8:7a:$mac" ] || prov_fail "$name MAC"
	[ "$(xp "$x" devices/interface/source network)" = default ] || prov_fail "$name network"
	[ "$(xp "$x" "devices/disk[@device='disk']/source" file)" = "$(xp "$d/volume-$name.qcow2.xml" target/path)" ] ||
		prov_fail "$name disk"
	[ "$(xp "$x" "devices/disk[@device='cdrom']/source" file)" = "$STATE/$name/seed.iso" ] ||
		prov_fail "$name seed"
	[ "$(xp "$x" "devices/disk[@device='cdrom']" type)" = file ] || prov_fail "$name seed not a file disk"
done

# The domain XML kept is what libvirt holds (same UUID).
[ "$(xp "$STATE/k8s-worker1/domain.xml" uuid)" = "$(xp "$d/domain-k8s-worker1.xml" uuid)" ] ||
	prov_fail "kept domain.xml is not libvirt's"

# status: one line per VM with state and address.
prov --connect test:///default status
prov_expect_rc 0
grep -Eq '^k8s-worker1 +[a-z ]+ +192\.168\.122\.11 ' "$PROV_DIR/out" || prov_fail "status: $(cat "$PROV_DIR/out")"
grep -q '^cluster: not checked' "$PROV_DIR/out" || prov_fail "status cluster line"

# kubeconfig prints the kept one; its admin cert verifies against the CA.
prov kubeconfig
prov_expect_rc 0
cmp -s "$PROV_DIR/out" "$STATE/admin.kubeconfig" || prov_fail "kubeconfig differs"
grep -q 'server: https://192.168.122.10:6443' "$PROV_DIR/out" || prov_fail "server"
openssl verify -CAfile "$STATE/pki/ca.crt" "$STATE/pki/admin.crt" >/dev/null ||
	prov_fail "admin.crt does not verify against ca.crt"
prov_log "PASS"
