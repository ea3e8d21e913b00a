#!/usr/bin/env bash
# Split-horizon answers by source address, and the protocol as dig sees
# it: UDP and TCP, EDNS0 echo, truncation and TCP retry, BADVERS, 0x20
# case echo, NXDOMAIN/NODATA with the SOA, wildcards, CNAME chains.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
dns_lab
start_upstream dnsmasq --host-record=harbor.qroksera.com,203.0.113.10 \
    --local-ttl=300

conf=$LAB_DIR/hearth.yaml
{
cat <<'YAML'
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
          records:
            - "*                300 IN A     192.168.122.100"
            - "harbor.internal  300 IN A     192.168.122.101"
            - "www 60 CNAME web"
            - "web 60 CNAME harbor.internal"
            - "txt TXT \"hello\""
YAML
for i in $(seq -w 1 40); do
	echo "            - \"big TXT \\\"record $i padding padding padding padding\\\"\""
done
cat <<'YAML'
        - name: external
          clients: [0.0.0.0/0]
          forward: true
YAML
} >"$conf"
start_hearth "$conf"

# Views: the inside client gets the VIP, the outsider the public answer.
got=$(dns_answer client harbor.qroksera.com A)
[ "$got" = 192.168.122.100 ] || lab_fail "inside client got '$got' for harbor"
got=$(dns_answer outsider harbor.qroksera.com A)
[ "$got" = 203.0.113.10 ] || lab_fail "outsider got '$got' for harbor"
flags=$(dns_flags client harbor.qroksera.com A)
[[ " $flags " == *" aa "* ]] || lab_fail "internal answer lacks AA: $flags"
[[ " $flags " == *" ra "* ]] || lab_fail "recursion client's answer lacks RA: $flags"

# TCP gives the same answer.
got=$(dns_answer client harbor.qroksera.com A +tcp)
[ "$got" = 192.168.122.100 ] || lab_fail "TCP answer '$got'"

# Wildcards, empty non-terminals, CNAME chains.
got=$(dns_answer client a.b.c.qroksera.com A)
[ "$got" = 192.168.122.100 ] || lab_fail "deep wildcard gave '$got'"
[ "$(dns_status client x.internal.qroksera.com A)" = NXDOMAIN ] ||
	lab_fail "x.internal (below an empty non-terminal) is not NXDOMAIN"
out=$(dnsq client internal.qroksera.com A)
grep -q "status: NOERROR" <<<"$out" || lab_fail "empty non-terminal is not NODATA"
grep -qE "^qroksera\.com\.\s+300\s+IN\s+SOA" <<<"$out" || lab_fail "NODATA lacks the SOA: $out"
got=$(dns_answer client www.qroksera.com A | tr '\n' ' ')
[ "$got" = "web.qroksera.com. harbor.internal.qroksera.com. 192.168.122.101 " ] ||
	lab_fail "CNAME chain gave '$got'"

# 0x20: the question and the answer owner keep the client's case.
out=$(dnsq client HaRbOr.QrOkSeRa.CoM A +noall +question +answer)
grep -q "^;HaRbOr.QrOkSeRa.CoM.\s*IN\s*A" <<<"$out" || lab_fail "question case lost: $out"
grep -qE "^HaRbOr.QrOkSeRa.CoM.\s+300\s+IN\s+A\s+192.168.122.100" <<<"$out" ||
	lab_fail "answer owner case lost: $out"

# EDNS0: OPT echoed with our payload size; BADVERS for version 1.
out=$(dnsq client harbor.qroksera.com A +bufsize=4096)
grep -q "EDNS: version: 0, flags:; udp: 1232" <<<"$out" || lab_fail "no OPT echo: $out"
out=$(dnsq client harbor.qroksera.com A +edns=1 +noednsnegotiation)
grep -q "status: BADVERS" <<<"$out" || lab_fail "EDNS version 1 not BADVERS: $out"

# Truncation: 40 TXT records do not fit 512 bytes; dig retries over TCP.
out=$(dnsq client big.qroksera.com TXT +noedns +ignore)
grep -qE "^;; flags:[a-z ]* tc[ ;]" <<<"$out" || lab_fail "no TC over UDP: $out"
n=$(dns_answer client big.qroksera.com TXT +noedns | wc -l)
[ "$n" -eq 40 ] || lab_fail "TCP retry gave $n of 40 records"
n=$(dns_answer client big.qroksera.com TXT +bufsize=4096 +ignore | wc -l)
[ "$n" -eq 0 ] || lab_fail "answer beyond max_udp_payload_bytes not truncated ($n)"

# NOTIMP for other opcodes.
out=$(dnsq client qroksera.com SOA +opcode=status)
grep -q "status: NOTIMP" <<<"$out" || lab_fail "opcode STATUS: $out"
dns_done
echo "views and protocol: all passed"
