#!/usr/bin/env bash
# Forwarding through dnsmasq: only recursion clients may use it (others
# get REFUSED outside the zones), the first forwarder failing moves on to
# the next, answers are cached (served with decremented TTLs, and still
# served when the upstream stops), expired answers are served stale when
# no forwarder answers; with worker threads answering beside the main
# loop. (DNSSEC and the DO bit: test_dns_dnssec_passthrough.)
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
lab_require dnsmasq
dns_lab
start_upstream dnsmasq1 --address=/example.org/192.0.2.1 \
    --host-record=cached.example.net,192.0.2.7 --local-ttl=300 \
    --log-queries=extra

conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<YAML
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
dns:
  listen: [192.168.122.10:53]
  # The first forwarder's port is closed: every query fails over.
  forwarders: [192.168.122.53:5353, 192.168.122.53]
  recursion_clients: [192.168.122.0/25]
  query_log: $LAB_DIR/queries.jsonl
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25]
          records: ["harbor A 192.168.122.100"]
YAML
# Two UDP worker threads besides the main loop: queries spread over three
# SO_REUSEPORT sockets, and workers hand cache misses to the main loop.
HEARTH_DNS_WORKERS=2 start_hearth "$conf"

# Recursion for the inside client, REFUSED (no RA) for the outsider.
got=$(dns_answer client www.example.org A)
[ "$got" = 192.0.2.1 ] || lab_fail "forwarded answer '$got'"
flags=$(dns_flags client www.example.org A)
[[ " $flags " == *" ra "* ]] || lab_fail "no RA for a recursion client: $flags"
[[ " $flags " != *" aa "* ]] || lab_fail "forwarded answer has AA"
[ "$(dns_status outsider www.example.org A)" = REFUSED ] || lab_fail "outsider not REFUSED"
flags=$(dns_flags outsider www.example.org A)
[[ " $flags " != *" ra "* ]] || lab_fail "RA for an outsider: $flags"
# The zone still answers the outsider? It matches no view: REFUSED too.
[ "$(dns_status outsider harbor.qroksera.com A)" = REFUSED ] || lab_fail "outsider got a view"

# 0x20 survives forwarding, and over TCP too.
out=$(dnsq client CaChEd.ExAmPlE.nEt A +noall +question +answer)
grep -q "^;CaChEd.ExAmPlE.nEt.\s*IN\s*A" <<<"$out" || lab_fail "question case lost: $out"
grep -qE "^CaChEd.ExAmPlE.nEt.\s+[0-9]+\s+IN\s+A\s+192.0.2.7" <<<"$out" || lab_fail "answer: $out"
got=$(dns_answer client tcp.example.org A +tcp)
[ "$got" = 192.0.2.1 ] || lab_fail "forwarded TCP answer '$got'"

# Cached: a second query does not reach dnsmasq and has a lower or equal TTL.
before=$(grep -c "query\[A\] cached.example.net" "$LAB_DIR/dnsmasq1.log")
ttl=$(dnsq client cached.example.net A +noall +answer | awk '{print $2}')
after=$(grep -c "query\[A\] cached.example.net" "$LAB_DIR/dnsmasq1.log")
[ "$before" -eq "$after" ] || lab_fail "cache miss: dnsmasq asked again ($before -> $after)"
[ "$ttl" -le 300 ] && [ "$ttl" -ge 290 ] || lab_fail "cached TTL $ttl"

# Under sustained load the upstream source port still changes: c-ares 1.18
# keeps one socket per channel while queries are in flight, and hearth
# moves new queries to a fresh channel every 200, so a spoofer has to
# guess the port as well as the id. 250 queries in flight at once:
lab_exec client python3 - <<'PY' || lab_fail "250 queries in flight not all answered"
import socket, struct
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
for i in range(250):
    name = b"".join(bytes([len(l)]) + l for l in (b"r%d" % i, b"example", b"org"))
    s.sendto(struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0\0\1\0\1",
             ("192.168.122.10", 53))
got = set()
while len(got) < 250:
    got.add(struct.unpack("!H", s.recv(512)[:2])[0])
PY
nports=$(grep -E 'query\[A\] r[0-9]+\.example\.org' "$LAB_DIR/dnsmasq1.log" |
	awk '{print $6}' | sort -u | wc -l)
[ "$nports" -ge 2 ] || lab_fail "250 queries in flight used $nports upstream source port(s)"

# A reload that changes only the zone keeps the cache (checked below, once
# the upstream is gone).
sed -i 's/records: \["harbor A 192.168.122.100"\]/records: ["harbor A 192.168.122.100", "new A 192.168.122.101"]/' "$conf"
kill -HUP "${LAB_PID[node1]}"
lab_wait 5 bash -c "[ -n \"\$(ip netns exec $(lab_ns client) dig @192.168.122.10 +short new.qroksera.com)\" ]" ||
	lab_fail "reload with a new record not applied"

# Upstream stopped: the cached answer is still served.
lab_stop "$UPSTREAM_PID"
got=$(dns_answer client cached.example.net A)
[ "$got" = 192.0.2.7 ] || lab_fail "cached answer not served with upstream down: '$got'"
# Nothing cached and nobody upstream: SERVFAIL.
[ "$(dnsq client +tries=1 +time=8 never.example.org A | sed -n 's/.*status: \([A-Z]*\),.*/\1/p')" = SERVFAIL ] ||
	lab_fail "no SERVFAIL with every forwarder down"

# Serve-stale: a 1-second TTL answer expires, the upstream stops, the
# stale answer is served with TTL 30 (RFC 8767).
start_upstream dnsmasq2 --host-record=stale.example.net,192.0.2.9 --local-ttl=1
got=$(dns_answer client stale.example.net A)
[ "$got" = 192.0.2.9 ] || lab_fail "stale.example.net first answer '$got'"
lab_stop "$UPSTREAM_PID"
sleep 1.5   # let the 1-second TTL run out
out=$(dnsq client +time=8 stale.example.net A +noall +answer)
grep -qE "^stale.example.net.\s+30\s+IN\s+A\s+192.0.2.9" <<<"$out" || lab_fail "no stale answer: '$out'"

# Metrics and the query log saw it all.
m=$(lab_exec node1 curl -fsS --max-time 2 http://127.0.0.1:9477/metrics)
grep -qE '^hearth_dns_worker_threads 2$' <<<"$m" || lab_fail "worker threads not running"
grep -qE '^hearth_dns_cache_hits_total [1-9]' <<<"$m" || lab_fail "no cache hits in metrics"
grep -qE '^hearth_dns_stale_answers_total [1-9]' <<<"$m" || lab_fail "no stale answers in metrics"
grep -qE '^hearth_dns_queries_total\{view="",type="A",rcode="REFUSED"\} [1-9]' <<<"$m" ||
	lab_fail "no REFUSED in metrics"
grep -qE '^hearth_dns_forwarder_latency_seconds_count [1-9]' <<<"$m" || lab_fail "no latency histogram"
lab_wait 3 grep -q '"qname":"cached.example.net","qtype":1,"rcode":0' "$LAB_DIR/queries.jsonl" ||
	lab_fail "query log lacks the cached query"
python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$LAB_DIR/queries.jsonl" ||
	lab_fail "query log is not JSON lines"
dns_done
echo "forwarding and cache: all passed"
