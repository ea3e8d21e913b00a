#!/usr/bin/env bash
# A step that fails mid-way: up names the step and why, exits 1, and what
# it made before is recorded in the state dir, so the next up (against a
# host still holding those objects) continues with the remaining steps
# only.
. "$(dirname "$0")/common.sh"
prov_init

# A file where k8s-worker1's state directory must go: its seed cannot be
# written (even as root).
mkdir -p "$STATE"
echo "in the way" >"$STATE/k8s-worker1"
prov --connect test:///default up --dump "$PROV_DIR/d1"
prov_expect_rc 1
[ "$(wc -l <"$PROV_DIR/err")" -eq 1 ] || prov_fail "not one line: $(cat "$PROV_DIR/err")"
grep -q '^hearth-provision: up: step 5/13 (create volume default/k8s-worker1.qcow2: 30 GiB backed by .*) failed: cannot write .*k8s-worker1/k8s-worker1.qcow2.vol.xml: Not a directory (so it was removed again' \
	"$PROV_DIR/err" || prov_fail "$(cat "$PROV_DIR/err")"
grep -q 'run up again to continue, or down to remove it' "$PROV_DIR/err" || prov_fail "no advice"
# Made and recorded before the failure: PKI, network, pool, the first volume.
for f in pki/ca.crt network.orig.xml network.xml pool.xml \
	k8s-control-plane/k8s-control-plane.qcow2.vol.xml; do
	[ -e "$STATE/$f" ] || prov_fail "$f not recorded"
done
grep -q 'so it was removed again: nothing is left unrecorded' "$PROV_DIR/err" || prov_fail "not undone"
[ ! -e "$PROV_DIR/d1/volume-k8s-worker1.qcow2.xml" ] || prov_fail "the failed step's volume is left"
[ ! -e "$PROV_DIR/d1/domain-k8s-control-plane.xml" ] || prov_fail "went on after the failure"

# Out of the way: the next up against the host as it was left continues.
rm "$STATE/k8s-worker1"
python3 - "$STATE" "$PROV_DIR/host.xml" "$PROV_DIR/d1" <<'PY'
import glob, os, re, sys
state, out, dump = sys.argv[1:]
read = lambda p: re.sub(r"^<\?xml[^>]*>\s*", "", open(p).read())
vols = "".join(read(p) for p in sorted(glob.glob(dump + "/volume-*.xml")))
pool = read(dump + "/pool-default.xml").replace("</pool>", vols + "</pool>")
open(out, "w").write("<node>" + read(dump + "/network-default.xml") + pool + "</node>")
PY
prov --connect "test://$PROV_DIR/host.xml" up
prov_expect_rc 0
grep -q 'create PKI\|adopt network\|define pool' "$PROV_DIR/out" && prov_fail "redid early steps: $(cat "$PROV_DIR/out")"
grep -q '^\[1/9\] create volume default/k8s-worker1.qcow2' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
grep -q '^\[2/9\] create volume default/k8s-worker2.qcow2' "$PROV_DIR/out" || prov_fail "$(cat "$PROV_DIR/out")"
[ -e "$STATE/k8s-worker1/k8s-worker1.qcow2.vol.xml" ] || prov_fail "worker1's volume not recorded"
prov_log "PASS"
