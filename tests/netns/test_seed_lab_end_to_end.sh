#!/usr/bin/env bash
# The seed's lab end to end, as `make demo` shows it and a user checks it:
# three nodes run the bundled examples/hearth.yaml; one node answers ARP
# for the gateway VIP; inside clients resolve harbor.qroksera.com to the
# VIP and outside ones get the forwarders' public answer; HTTP and HTTPS
# (the example's *.qroksera.com certificate, checked against it) reach
# harbor through the VIP and hearth's proxy; argocd's TLS is passed
# through (the client sees argocd's own certificate); the database VIP
# spreads connections over both backends; and after kill -9 of the VIP's
# owner another node answers and HTTPS works again.
. "$(dirname "$0")/lab.sh"
. "$(dirname "$0")/seedlab.sh"
lab_init
lab_require arping dig curl openssl python3 dnsmasq
python3 -c 'import yaml' 2>/dev/null || lab_skip "no python3-yaml"
[ -x "$HEARTH_BIN/hearthd" ] || lab_skip "no hearthd in $HEARTH_BIN"
seedlab_up || lab_fail "the lab did not come up"
VIP=192.168.122.100
CA=$HEARTH_SOURCE_DIR/examples/tls/qroksera.crt
passed=0
ok() { passed=$((passed + 1)); echo "ok: $*"; }

read -r owner mac < <(seedlab_owner $VIP)
[ "$owner" != none ] && [ "$owner" != unknown ] || lab_fail "nobody answers ARP for $VIP ($owner)"
ok "$VIP answered by $owner ($mac)"

got=$(lab_exec client dig +short +time=2 @192.168.122.10 harbor.qroksera.com)
[ "$got" = $VIP ] || lab_fail "inside: harbor.qroksera.com is '$got'"
got=$(lab_exec outside dig +short +time=2 @192.168.122.10 harbor.qroksera.com)
[ "$got" = 203.0.113.10 ] || lab_fail "outside: harbor.qroksera.com is '$got'"
ok "split horizon: inside $VIP, outside 203.0.113.10"

curl_vip() {
	lab_exec client curl -sS --max-time 5 --cacert "$CA" \
	    --resolve harbor.qroksera.com:80:$VIP --resolve harbor.qroksera.com:443:$VIP "$@"
}
got=$(curl_vip http://harbor.qroksera.com/)
[ "$got" = "hello from harbor (10.96.12.34)" ] || lab_fail "HTTP through the VIP: '$got'"
got=$(curl_vip https://harbor.qroksera.com/)
[ "$got" = "hello from harbor (10.96.12.34)" ] || lab_fail "HTTPS through the VIP (verified): '$got'"
ok "HTTP and HTTPS (certificate verified) through $VIP reach harbor"

subj=$(lab_exec client openssl s_client -connect $VIP:443 -servername argocd.qroksera.com </dev/null 2>/dev/null |
	sed -n 's/^subject=//p' | head -1)
[[ $subj == *argocd.qroksera.com* ]] || lab_fail "passthrough: the client saw '$subj'"
ok "argocd passthrough: the client sees '$subj'"

declare -A seen=()
for i in $(seq 1 12); do
	a=$(lab_exec client python3 -c '
import socket; print(socket.create_connection(("192.168.122.101", 5432), 2).recv(100).decode().split()[0])') ||
		lab_fail "harbor-db connection $i failed"
	seen[$a]=1
done
[ -n "${seen[db1]:-}" ] && [ -n "${seen[db2]:-}" ] || lab_fail "harbor-db: only ${!seen[*]} answered 12 connections"
ok "harbor-db VIP spreads connections over db1 and db2"

victim=
for i in 1 2 3; do [ "${SEED_NAMES[i-1]}" = "$owner" ] && victim=$i; done
[ -n "$victim" ] || lab_fail "owner $owner is not a node"
kill -9 "${LAB_PID[node$victim]}"
t0=$(date +%s)
now=$owner
while [ "$now" = "$owner" ] || [ "$now" = none ]; do
	[ $(($(date +%s) - t0)) -lt 15 ] || lab_fail "$VIP not taken over within 15 s of kill -9 $owner"
	read -r now nmac < <(seedlab_owner $VIP)
done
lab_exec client ip neigh flush dev eth0
got=$(curl_vip https://harbor.qroksera.com/)
[ "$got" = "hello from harbor (10.96.12.34)" ] || lab_fail "HTTPS after the failover: '$got'"
ok "kill -9 $owner: $VIP moved to $now, HTTPS through it works"
echo "$passed passed, 0 failed"
