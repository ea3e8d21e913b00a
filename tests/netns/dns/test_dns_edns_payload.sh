#!/usr/bin/env bash
# EDNS0 payload sizes over UDP (RFC 6891): an answer is sent whole when it
# fits the client's advertised size, and truncated (TC=1, no records) when
# it does not; the size is capped at max_udp_payload_bytes (1232 by
# default, here raised to 4096 by a reload), which the OPT of the answer
# states; without EDNS the limit is 512. Metrics count the truncations and
# the queries by view, type and rcode.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
dns_lab
conf=$LAB_DIR/hearth.yaml
write_conf() {
	local t60 i
	t60=$(printf 'x%.0s' $(seq 1 58))
	{
		printf 'node: {name: node1}\nmetrics: {listen: 127.0.0.1:9477}\n'
		printf 'dns:\n  listen: [192.168.122.10:53]\n  recursion_clients: [192.168.122.0/25]\n'
		[ -n "$1" ] && printf '  max_udp_payload_bytes: %s\n' "$1"
		printf '  zones:\n    - origin: qroksera.com\n      views:\n'
		printf '        - name: internal\n          clients: [192.168.122.0/25]\n          records:\n'
		# 15 TXT records of 61 bytes at mid (about 1140 bytes in all),
		# 40 at big (about 2970 bytes).
		for i in $(seq 10 24); do printf '            - "mid TXT %s%s"\n' "$i" "$t60"; done
		for i in $(seq 10 49); do printf '            - "big TXT %s%s"\n' "$i" "$t60"; done
	} >"$conf"
}
write_conf ""
start_hearth "$conf"

# n_tc HOST NAME ARGS...: "ANSWERCOUNT tc|-" for a TXT query (+ignore: no
# retry over TCP), and the udp size of the answer's OPT.
n_tc() {
	local h=$1 n=$2 out flags an udp
	shift 2
	out=$(dnsq "$h" "$n" TXT +ignore "$@")
	flags=$(sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p' <<<"$out")
	an=$(sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p' <<<"$out")
	udp=$(sed -n 's/.*udp: \([0-9]*\)$/\1/p' <<<"$out")
	[[ " $flags " == *" tc "* ]] && echo "$an tc ${udp:--}" || echo "$an - ${udp:--}"
}
check() {
	local want=$1 got
	shift
	got=$(n_tc client "$@")
	[ "$got" = "$want" ] || lab_fail "$* -> '$got', want '$want'"
	echo "$*: $got"
}
check "15 - 1232" mid.qroksera.com +bufsize=1232
check "0 tc 1232" mid.qroksera.com +bufsize=600
check "15 - 1232" mid.qroksera.com +bufsize=4096
check "0 tc -" mid.qroksera.com +noedns
check "0 tc 1232" big.qroksera.com +bufsize=4096
# Over TCP the whole answer comes.
[ "$(dnsq client big.qroksera.com TXT +tcp +short | wc -l)" -eq 40 ] || lab_fail "TCP answer not whole"

# max_udp_payload_bytes: 4096 by a reload.
write_conf 4096
kill -HUP "${LAB_PID[node1]}"
lab_wait 5 bash -c "ip netns exec $(lab_ns client) dig @192.168.122.10 +ignore +bufsize=4096 big.qroksera.com TXT | grep -q 'ANSWER: 40,'" ||
	lab_fail "reload to max_udp_payload_bytes 4096 not applied"
check "40 - 4096" big.qroksera.com +bufsize=4096
check "0 tc 4096" big.qroksera.com +bufsize=1232
check "15 - 4096" mid.qroksera.com +bufsize=1232

m=$(lab_exec node1 curl -fsS --max-time 2 http://127.0.0.1:9477/metrics)
grep -qE '^hearth_dns_truncated_total [1-9]' <<<"$m" || lab_fail "no truncations in metrics"
grep -qE '^hearth_dns_queries_total\{view="internal",type="TXT",rcode="NOERROR"\} [1-9]' <<<"$m" ||
	lab_fail "no internal TXT NOERROR in metrics: $(grep queries_total <<<"$m")"
dns_done
echo "EDNS payload sizes: all passed"
