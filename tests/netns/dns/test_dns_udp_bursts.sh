#!/usr/bin/env bash
# Bursts of UDP queries from one socket are answered exactly as the same
# queries asked one at a time: byte for byte (ID, 0x20 case, EDNS echo,
# truncation), from the address each was sent to on a wildcard listener
# (two addresses on the server), with the view of each client. Answers of
# a burst leave in batches, grouped per client for UDP segmentation, so
# this checks the grouped path end to end over real interfaces. Then the
# same under sustained load (above 10k queries/s), where the sockets are
# read on a timer instead of per datagram: every paced query is answered,
# the bursts still byte for byte, and once the load stops a lone query
# is answered again.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_require jq curl
lab_init
dns_lab
lab_exec node1 ip addr add 192.168.122.11/24 dev eth0 ||
	lab_fail "cannot add a second address to node1"

conf=$LAB_DIR/hearth.yaml
{
	cat <<'YAML'
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
dns:
  listen: [0.0.0.0:53]
  recursion_clients: [192.168.122.0/25]
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25]
          records:
            - "*       300 IN A 192.168.122.100"
            - "harbor  300 IN A 192.168.122.101"
            - "www 60 CNAME harbor"
YAML
	for i in $(seq -w 1 40); do
		echo "            - \"big TXT \\\"record $i padding padding padding padding\\\"\""
	done
	cat <<'YAML'
        - name: external
          clients: [0.0.0.0/0]
          records: ["harbor 300 IN A 203.0.113.10"]
YAML
} >"$conf"
start_hearth "$conf"
# Queries read on the polling timer so far.
polled() {
	lab_exec node1 curl -fsS --max-time 2 http://127.0.0.1:9477/metrics |
		sed -n 's/^hearth_dns_udp_polled_total \([0-9]*\)$/\1/p'
}
[ "$(polled)" = 0 ] || lab_fail "sockets polled before any load"

burst() {
	lab_exec "$1" python3 - "$2" <<'PY'
import random, socket, struct, sys, time
want_harbor = sys.argv[1]
random.seed(11)
def query(qid, name, qtype=1, edns=None):
    m = struct.pack("!HHHHHH", qid, 0x0100, 1, 0, 0, 1 if edns else 0)
    for l in name.split("."):
        m += bytes([len(l)]) + l.encode()
    m += b"\0" + struct.pack("!HH", qtype, 1)
    if edns:
        m += b"\0" + struct.pack("!HHIH", 41, edns, 0, 0)
    return m
names = ["harbor.qroksera.com", "HaRbOr.QrOkSeRa.CoM", "www.qroksera.com",
         "x.qroksera.com", "a.b.c.qroksera.com", "big.qroksera.com",
         "missing.nowhere.test"]
servers = ["192.168.122.10", "192.168.122.11"]
qs = {}
for qid in range(1, 401):
    name = names[qid % len(names)]
    if qid % 3 == 0:
        name = "".join(c.upper() if random.random() < 0.5 else c for c in name)
    edns = [None, 1232, 4096, 512][qid % 4]
    qtype = 16 if name.lower().startswith("big") else 1
    qs[qid] = (query(qid, name, qtype, edns), servers[qid % 2])
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
s.settimeout(3)
single = {}
for qid, (q, srv) in qs.items():
    s.sendto(q, (srv, 53))
    while True:
        r, src = s.recvfrom(65535)
        if struct.unpack("!H", r[:2])[0] == qid:
            break
    single[qid] = (r, src[0])
for rnd in range(3):
    got = {}
    for qid, (q, srv) in qs.items():
        s.sendto(q, (srv, 53))
    deadline = time.time() + 5
    while len(got) < len(qs) and time.time() < deadline:
        try:
            r, src = s.recvfrom(65535)
        except socket.timeout:
            break
        qid = struct.unpack("!H", r[:2])[0]
        if qid in got:
            sys.exit(f"answer {qid} twice")
        got[qid] = (r, src[0])
    if len(got) != len(qs):
        sys.exit(f"round {rnd}: {len(qs) - len(got)} of {len(qs)} unanswered")
    for qid in qs:
        if got[qid] != single[qid]:
            sys.exit(f"round {rnd}: answer {qid} differs: {got[qid]} vs {single[qid]}")
        if got[qid][1] != qs[qid][1]:
            sys.exit(f"answer {qid} came from {got[qid][1]}, not {qs[qid][1]}")
# The view: harbor's address is in the answer the client got.
r = single[1][0]
if socket.inet_aton(want_harbor) not in r:
    sys.exit(f"harbor is not {want_harbor} for this client")
tc = [q for q in qs if single[q][0][2] & 0x02]
if want_harbor.startswith("192.") and not tc:
    sys.exit("no truncated answer among the bursts (big TXT without EDNS)")
print(f"{len(qs)} queries x 3 bursts answered as one at a time")
PY
}

burst client 192.168.122.101 || lab_fail "inside client: bursts answered differently"
burst outsider 203.0.113.10 || lab_fail "outside client: bursts answered differently"
# Both at once, several sockets each.
pids=()
for h in client outsider client outsider; do
	want=192.168.122.101
	[ "$h" = outsider ] && want=203.0.113.10
	burst "$h" "$want" >/dev/null &
	pids+=($!)
done
for p in "${pids[@]}"; do
	wait "$p" || lab_fail "concurrent bursts answered differently"
done

# Sustained load from the outsider: the sockets are polled.
p0=$(polled)
printf 'harbor.qroksera.com A\nHARBOR.qroksera.com A\n' >"$LAB_DIR/load.txt"
lab_exec outsider "$HEARTH_BIN/hearth-bench" dns --server 192.168.122.10:53 \
	--queries "$LAB_DIR/load.txt" --rate 15000 -d 3 --timeout 5 --json \
	>"$LAB_DIR/load.json" 2>"$LAB_DIR/load.err" &
load=$!
polling() { [ "$(polled)" -gt "$p0" ]; }
lab_wait 3 polling ||
	lab_fail "15k queries/s did not switch a socket to polling"
burst client 192.168.122.101 ||
	lab_fail "bursts under sustained load answered differently"
wait "$load" || lab_fail "hearth-bench failed: $(cat "$LAB_DIR/load.err")"
sent=$(jq '.queries_sent' "$LAB_DIR/load.json")
[ "$(jq '.errors.timeout' "$LAB_DIR/load.json")" = 0 ] && [ "$sent" -gt 10000 ] &&
	[ "$(jq '.rcodes.NOERROR' "$LAB_DIR/load.json")" = "$sent" ] ||
	lab_fail "paced queries not all answered NOERROR: $(cat "$LAB_DIR/load.json")"
# The load is over: a lone query wakes the server again.
[ "$(dns_answer client harbor.qroksera.com)" = 192.168.122.101 ] ||
	lab_fail "no answer to a lone query after the load"
dns_done
