#!/usr/bin/env bash
# A node whose heartbeats are blocked (nftables in its own namespace)
# loses quorum and stops answering; the two others take its VIPs; at no
# moment does the client see two owners. Unblocked, it takes nothing back.
. "$(dirname "$0")/l2lab.sh"
lab_require nft
l2_lab
l2_up_all
victim=node3
mapfile -t moved < <(l2_vips_of "$victim")
[ ${#moved[@]} -gt 0 ] || lab_fail "node3 owns nothing to begin with"
l2_watch_start 30
L2_T0=$(date +%s.%N)
lab_exec "$victim" nft -f - <<'NFT'
table inet l2test {
	chain in { type filter hook input priority -10; udp dport 7946 drop; }
	chain out { type filter hook output priority -10; udp dport 7946 drop; }
}
NFT
l2_wait_moved "$victim" "${moved[@]}"
lab_wait 5 bash -c "[ \"\$(ip netns exec $(lab_ns "$victim") curl -fsS http://127.0.0.1:9477/metrics | awk '\$1 == \"hearth_l2announce_vips_owned\" {print \$2}')\" = 0 ]" ||
	lab_fail "$victim still announces"
[ "$(l2_metric "$victim" hearth_l2announce_quorum)" = 0 ] || lab_fail "$victim claims quorum alone"
sleep 0.3
l2_owners
for v in "${moved[@]}"; do [ "${L2_OWNER[$v]}" != "$victim" ] || lab_fail "$v still on $victim"; done
declare -A before=()
for v in "${L2_VIPS[@]}"; do before[$v]=${L2_OWNER[$v]}; done
lab_exec "$victim" nft delete table inet l2test
lab_wait 5 l2_ready "$victim" || lab_fail "$victim did not regain quorum"
sleep $(awk -v d=$L2_DEAD_MS 'BEGIN { print 2 * d / 1000 }')
l2_watch_stop
l2_never_two_owners || lab_fail "two owners seen"
l2_owners
for v in "${L2_VIPS[@]}"; do
	[ "${L2_OWNER[$v]}" = "${before[$v]}" ] || lab_fail "$v moved from ${before[$v]} to ${L2_OWNER[$v]} after the heal"
done
echo "1 passed, 0 failed"
