#!/usr/bin/env bash
# Bad input: each a one-line error naming the cause and exit 1 (bad
# settings, a missing base image, an unreachable libvirt), or exit 2 for
# bad usage; nothing is made in the state dir.
. "$(dirname "$0")/common.sh"
prov_init

one_line() {
	[ "$(wc -l <"$PROV_DIR/err")" -eq 1 ] || prov_fail "stderr is not one line: $(cat "$PROV_DIR/err")"
	grep -q -- "$1" "$PROV_DIR/err" || prov_fail "stderr lacks '$1': $(cat "$PROV_DIR/err")"
	[ ! -e "$STATE" ] || prov_fail "state dir made: $(find "$STATE")"
}

# A missing base image, given in the settings: its line and column.
printf 'cluster: {name: lab}\nimage: {base: /nonexistent/noble.img}\n' >"$PROV_DIR/settings.yaml"
for cmd in plan up; do
	prov --connect test:///default $cmd
	prov_expect_rc 1
	one_line "settings.yaml:2:15: image.base: base image /nonexistent/noble.img: No such file or directory"
done
# ... and by default (no settings file): named, with the key to set.
RC=0
"$PROV" --state-dir "$STATE" --connect test:///default plan >"$PROV_DIR/out" 2>"$PROV_DIR/err" || RC=$?
prov_expect_rc 1
one_line "base image /var/lib/libvirt/images/noble-server-cloudimg-amd64.img: No such file or directory (set image.base"

# Settings errors: every one, FILE:LINE:COL.
cat >"$PROV_DIR/settings.yaml" <<YAML
image: {base: $PROV_DIR/base.img}
nodes:
  - {name: cp, role: control-plane, address: 192.168.122.10}
  - {name: w1, address: 192.168.123.11}
  - {name: w1, address: 192.168.122.10}
cluster: {pod_subnet: 10.244.0.0/33}
YAML
prov --connect test:///default up
prov_expect_rc 1
grep -q "settings.yaml:4:25: nodes.address: 192.168.123.11 (node w1) is outside the network 192.168.122.0/24" "$PROV_DIR/err" ||
	prov_fail "$(cat "$PROV_DIR/err")"
grep -q "settings.yaml:5:12: nodes.name: \"w1\" is used by two nodes" "$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"
grep -q "settings.yaml:5:25: nodes.address: 192.168.122.10 is used by both cp and w1" "$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"
grep -q "settings.yaml:6:23: cluster.pod_subnet: \"10.244.0.0/33\" is not an IPv4 CIDR" "$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"
[ ! -e "$STATE" ] || prov_fail "state dir made"

# A libvirt connection failure.
printf 'image: {base: %s}\n' "$PROV_DIR/base.img" >"$PROV_DIR/settings.yaml"
prov --connect "test://$PROV_DIR/no-such-host.xml" up
prov_expect_rc 1
one_line "cannot connect to libvirt at test://$PROV_DIR/no-such-host.xml"
# A base image larger than a node's disk.
truncate -s 40G "$PROV_DIR/base.img"
prov --connect test:///default plan
prov_expect_rc 1
one_line "is larger than node k8s-worker1's disk_gib 30"
truncate -s 2G "$PROV_DIR/base.img"

# Bad usage: exit 2.
for args in "" "fly" "plan up" "up --yes" "plan --no-wait" "--timeout x up" "--bogus plan"; do
	prov --connect test:///default $args
	prov_expect_rc 2
	grep -q 'hearth-provision' "$PROV_DIR/err" || prov_fail "usage error for '$args' says nothing"
done
# kubeconfig before up: a failure naming the missing file.
prov kubeconfig
prov_expect_rc 1
one_line "no admin.kubeconfig in $STATE: run up first"
prov_log "PASS"
