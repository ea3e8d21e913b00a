#!/usr/bin/env bash
# Operations (as run_as: nobody, with worker threads): SIGHUP applies
# changed records without a restart, worker threads hold no capabilities, a reload
# that cannot be applied (a listen address this host lacks) leaves the
# old configuration answering; IPv6 clients and listeners pick their view
# by source address; the rate limit drops or truncates (TC=1, slip)
# answers to an outsider past its budget, while recursion clients are
# never limited.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
id nobody >/dev/null 2>&1 || lab_skip "no user nobody"
dns_lab
lab_exec node1 ip addr add fd00::10/64 dev eth0 nodad
lab_exec client ip addr add fd00::50/64 dev eth0 nodad
lab_exec outsider ip addr add fd00::200/64 dev eth0 nodad

conf=$LAB_DIR/hearth.yaml
chmod 755 "$LAB_DIR"	# nobody re-reads the file on SIGHUP
write_conf() {
	cat >"$conf" <<YAML
node: {name: node1, run_as: nobody}
metrics: {listen: 127.0.0.1:9477}
dns:
  listen: [192.168.122.10:53, '[fd00::10]:53', $3]
  recursion_clients: [192.168.122.0/25, 'fd00::/121']
  rate_limit: {responses_per_second: 5, slip: 2}
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25, 'fd00::/121']
          records: ["harbor A $1"]
        - name: external
          clients: [0.0.0.0/0, '::/0']
          records: ["harbor A $2"]
YAML
}
write_conf 192.168.122.100 203.0.113.10 192.168.122.10:5353
HEARTH_DNS_WORKERS=2 start_hearth "$conf"
q6() { lab_exec "$1" dig @fd00::10 +time=2 +tries=1 +short harbor.qroksera.com A; }

# IPv6: the view follows the source address.
[ "$(q6 client)" = 192.168.122.100 ] || lab_fail "IPv6 inside client got '$(q6 client)'"
[ "$(q6 outsider)" = 203.0.113.10 ] || lab_fail "IPv6 outsider got '$(q6 outsider)'"

# SIGHUP with new records: applied in place.
pid=${LAB_PID[node1]}
write_conf 192.168.122.111 203.0.113.11 192.168.122.10:5353
kill -HUP "$pid"
lab_wait 5 bash -c "[ \"\$(ip netns exec $(lab_ns client) dig @192.168.122.10 +short harbor.qroksera.com)\" = 192.168.122.111 ]" ||
	lab_fail "reload did not change the internal answer"
[ "$(dns_answer outsider harbor.qroksera.com A)" = 203.0.113.11 ] || lab_fail "reload did not change the external answer"
# After the reload (new worker threads, started as nobody) only the main
# thread holds capabilities: CAP_NET_BIND_SERVICE for the next reload's
# sockets, with the daemon's two others.
for t in /proc/"$pid"/task/*; do
	tid=${t##*/}
	cap=$(awk '/^CapEff/ {print $2}' "$t/status")
	uid=$(awk '/^Uid/ {print $2}' "$t/status")
	[ "$uid" = "$(id -u nobody)" ] || lab_fail "thread $tid runs as uid $uid"
	[ "$tid" = "$pid" ] || [ "$cap" = 0000000000000000 ] ||
		lab_fail "thread $tid holds capabilities $cap"
done

# A reload the module cannot apply (an address node1 does not have) is
# refused and the running configuration keeps answering.
write_conf 192.168.122.122 203.0.113.12 192.0.2.99:53
kill -HUP "$pid"
lab_wait_log node1 "reload refused; the running configuration" 5 || lab_fail "the failed reload was not logged"
kill -0 "$pid" || lab_fail "hearthd died on a failed reload"
[ "$(dns_answer client harbor.qroksera.com A)" = 192.168.122.111 ] ||
	lab_fail "the old configuration stopped answering after a failed reload"

# Rate limit: 40 queries at once from the outsider, 5/s allowed: the rest
# are dropped or, every 2nd, answered empty with TC=1.
dns_burst outsider $(for i in $(seq 1 40); do echo harbor.qroksera.com; done) >"$LAB_DIR/rl.out" || lab_fail "rate-limit probe failed"
read -r full tc <"$LAB_DIR/rl.out"
[ "$full" -ge 4 ] && [ "$full" -le 7 ] || lab_fail "outsider got $full full answers (budget 5)"
[ "$tc" -ge 15 ] && [ "$tc" -le 19 ] || lab_fail "outsider got $tc truncated answers (slip 2 of ~35)"
m=$(lab_exec node1 curl -fsS --max-time 2 http://127.0.0.1:9477/metrics)
grep -qE '^hearth_dns_rate_limited_total\{action="drop"\} [1-9]' <<<"$m" || lab_fail "no drops in metrics"
# A recursion client is never limited.
n=0
for i in $(seq 1 12); do
	[ "$(dns_answer client harbor.qroksera.com A)" = 192.168.122.111 ] && n=$((n + 1))
done
[ "$n" -eq 12 ] || lab_fail "recursion client limited: $n of 12 answered"
dns_done
echo "reload, rate limit, IPv6: all passed"
