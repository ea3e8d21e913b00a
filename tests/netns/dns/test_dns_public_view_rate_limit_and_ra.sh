#!/usr/bin/env bash
# The public view (forward: true) answers outsiders with the forwarders'
# records, but as an authoritative server would: no RA for a client
# outside recursion_clients (on the forwarded answer and on the cached
# one), and the response rate limit charges forwarded answers too, so the
# public view cannot be used for amplification. Inside clients keep RA.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
lab_require dnsmasq
dns_lab
start_upstream upstream --address=/qroksera.com/203.0.113.10 --address=/example.test/198.51.100.7
conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<YAML
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
dns:
  listen: [192.168.122.10:53]
  forwarders: [192.168.122.53]
  recursion_clients: [192.168.122.0/25]
  rate_limit: {responses_per_second: 5, slip: 2}
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25]
          records: ["harbor A 192.168.122.100"]
        - name: external
          clients: [0.0.0.0/0, '::/0']
          forward: true
YAML
start_hearth "$conf"

# RA: the outsider's forwarded answer, then the same from the cache.
for pass in forwarded cached; do
	out=$(dnsq outsider harbor.qroksera.com A)
	grep -q '203\.0\.113\.10' <<<"$out" || lab_fail "outsider ($pass) did not get the public answer: $out"
	flags=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out")
	[[ " $flags " != *" ra "* ]] || lab_fail "outsider's $pass answer has RA: '$flags'"
done
# An inside client gets RA, on its own view and on a forwarded name.
[[ " $(dns_flags client harbor.qroksera.com A) " == *" ra "* ]] || lab_fail "inside answer without RA"
[ "$(dns_answer client www.example.test A)" = 198.51.100.7 ] || lab_fail "inside client not forwarded"
[[ " $(dns_flags client www.example.test A) " == *" ra "* ]] || lab_fail "inside forwarded answer without RA"
# The outsider may not recurse at all.
[ "$(dns_status outsider www.example.test A)" = REFUSED ] || lab_fail "outsider may recurse"

# Rate limit on forwarded answers: 40 different names (40 cache misses)
# at once, 5/s allowed: the rest dropped or, every 2nd, TC=1.
sleep 2 # the outsider's budget refills
dns_burst outsider $(for i in $(seq 0 39); do echo "r$i.qroksera.com"; done) >"$LAB_DIR/rl.out" || lab_fail "rate-limit probe failed"
read -r full tc <"$LAB_DIR/rl.out"
echo "40 forwarded queries from the outsider: $full full answers, $tc truncated"
[ "$full" -ge 4 ] && [ "$full" -le 7 ] || lab_fail "outsider got $full full forwarded answers (budget 5)"
[ "$tc" -ge 15 ] && [ "$tc" -le 19 ] || lab_fail "outsider got $tc truncated answers (slip 2 of ~35)"
m=$(lab_exec node1 curl -fsS --max-time 2 http://127.0.0.1:9477/metrics)
grep -qE '^hearth_dns_rate_limited_total\{action="slip"\} [1-9]' <<<"$m" || lab_fail "no slips in metrics"
grep -qE '^hearth_dns_rate_limited_total\{action="drop"\} [1-9]' <<<"$m" || lab_fail "no drops in metrics"
grep -qE '^hearth_dns_cache_misses_total [1-9]' <<<"$m" || lab_fail "no cache misses in metrics"
dns_done
echo "public view: no RA for outsiders, forwarded answers rate limited: passed"
