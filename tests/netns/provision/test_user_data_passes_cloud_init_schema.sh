#!/usr/bin/env bash
# Every node's user-data that `up` writes passes cloud-init's own schema
# check (`cloud-init schema --config-file`), run from the package that
# scripts/install-deps unpacks; a broken document fails the same check.
. "$(dirname "$0")/common.sh"
prov_init
ci=/var/cache/hearth/cloud-init/usr/lib/python3/dist-packages
[ -d "$ci/cloudinit" ] || prov_skip "cloud-init's validator is not unpacked (scripts/install-deps)"
[ -x /usr/bin/python3 ] || prov_skip "needs Debian's python3"
schema() { PYTHONPATH=$ci /usr/bin/python3 -m cloudinit.cmd.main schema --config-file "$1"; }

printf '#cloud-config\nruncmd: 5\n' >"$PROV_DIR/broken.yaml"
schema "$PROV_DIR/broken.yaml" >/dev/null 2>&1 && prov_fail "the validator accepts a broken document"

prov --connect test:///default up
prov_expect_rc 0
for n in k8s-control-plane k8s-worker1 k8s-worker2; do
	out=$(schema "$STATE/$n/user-data" 2>&1) || prov_fail "$n: user-data fails cloud-init schema: $out"
	grep -q "^Valid cloud-config" <<<"$out" || prov_fail "$n: unexpected validator output: $out"
	grep -qi "deprecat" <<<"$out" && prov_fail "$n: user-data uses deprecated keys: $out"
done
echo "1 passed, 0 failed"
