#!/usr/bin/env bash
# DNSSEC through the forwarder: the client's DO bit reaches the upstream
# (and its absence too), the upstream's RRSIG comes back unchanged in the
# answer with AD as the upstream set it, from the cache as well, and a
# client that did not ask for DNSSEC gets no RRSIG.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
dns_lab
up=$LAB_DIR/upstream-queries.log
: >"$up"
lab_bg upstream pyupstream python3 "$(dirname "$0")/dnssec_upstream.py" 192.168.122.53 53 "$up"
lab_wait 5 lab_exec upstream python3 -c '
import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(1)
s.sendto(bytes.fromhex("0001010000010000000000000570726f6265076578616d706c65036e65740000010001"), ("192.168.122.53", 53)); s.recv(512)' ||
	lab_fail "the upstream did not start"
conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<YAML
node: {name: node1}
dns:
  listen: [192.168.122.10:53]
  forwarders: [192.168.122.53]
  recursion_clients: [192.168.122.0/25]
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25]
          records: ["harbor A 192.168.122.100"]
YAML
start_hearth "$conf"

sig=$(python3 -c 'import base64; print(base64.b64encode(bytes(range(64))).decode())')
for pass in forwarded cached; do
	out=$(dnsq client sec.example.net A +dnssec +multiline +noall +answer +comments)
	grep -qE '^sec\.example\.net\.\s+[0-9]+\s+IN\s+A\s+192\.0\.2\.77' <<<"$out" || lab_fail "$pass: no A: $out"
	grep -qE '^sec\.example\.net\.\s+[0-9]+\s+IN\s+RRSIG\s+A 13 3 300 \(' <<<"$out" || lab_fail "$pass: no RRSIG: $out"
	tr -d ' \t\n' <<<"$out" | grep -qF "4242example.net.$sig)" || lab_fail "$pass: RRSIG changed: $out"
	flags=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out")
	[[ " $flags " == *" ad "* ]] || lab_fail "$pass: AD lost: '$flags'"
	grep -qE '^; EDNS: version: 0, flags: do;' <<<"$out" || lab_fail "$pass: DO not echoed: $out"
done
[ "$(grep -c '^sec.example.net do=1$' "$up")" -eq 1 ] || lab_fail "upstream saw: $(cat "$up")"
# Without DO: the upstream is asked without it, and no RRSIG comes back.
out=$(dnsq client plain.example.net A +noall +answer)
grep -q '192\.0\.2\.77' <<<"$out" || lab_fail "plain: no answer: $out"
! grep -q RRSIG <<<"$out" || lab_fail "plain: RRSIG without DO: $out"
grep -q '^plain.example.net do=0$' "$up" || lab_fail "DO set upstream for a client without it: $(cat "$up")"
# The DO query for the same name is its own cache entry, asked with DO.
out=$(dnsq client plain.example.net A +dnssec +noall +answer)
grep -q RRSIG <<<"$out" || lab_fail "plain with DO: no RRSIG: $out"
grep -q '^plain.example.net do=1$' "$up" || lab_fail "DO query answered from the no-DO entry: $(cat "$up")"
# cache_entries: 0 turns the cache off: every query asks the upstream.
sed -i 's/^  recursion_clients:/  cache_entries: 0\n  recursion_clients:/' "$conf"
grep -q 'cache_entries: 0' "$conf" || lab_fail "config not changed"
kill -HUP "${LAB_PID[node1]}"
lab_wait_log node1 "configuration reloaded" 5 || lab_fail "no reload"
before=$(grep -c '^nocache.example.net' "$up")
for i in 1 2 3; do
	[ "$(dns_answer client nocache.example.net A)" = 192.0.2.77 ] || lab_fail "nocache: no answer"
done
[ $(($(grep -c '^nocache.example.net' "$up") - before)) -eq 3 ] || lab_fail "cache_entries 0 still caches: $(grep nocache "$up")"
dns_done
echo "DNSSEC pass-through: all passed"
