#!/usr/bin/env bash
# Without CAP_NET_ADMIN the kernel refuses hearth's batch: hearthd exits 3
# with one line naming nftables, and the namespace's ruleset is untouched.
. "$(dirname "$0")/../lab.sh"
lab_init
. "$(dirname "$0")/common.sh"
lab_require setpriv
lab_switch
lab_host node1 192.168.122.10/24
printf 'node: {name: node1}\nnat:\n  masquerade: [{source: 192.168.122.0/24}]\n' >"$LAB_DIR/n1.yaml"
before=$(nft_ruleset node1)
lab_exec node1 setpriv --inh-caps=-all --bounding-set=-net_admin \
	"$HEARTH_BIN/hearthd" -c "$LAB_DIR/n1.yaml" --foreground >"$LAB_DIR/out.log" 2>&1
rc=$?
[ $rc -eq 3 ] || lab_fail "hearthd without CAP_NET_ADMIN exited $rc, not 3: $(cat "$LAB_DIR/out.log")"
grep -qE "error nft: cannot .*Operation not permitted" "$LAB_DIR/out.log" ||
	lab_fail "no line naming nftables: $(cat "$LAB_DIR/out.log")"
[ "$(nft_ruleset node1)" = "$before" ] || lab_fail "the ruleset changed"
echo "1 passed, 0 failed"
