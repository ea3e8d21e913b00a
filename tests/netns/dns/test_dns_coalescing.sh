#!/usr/bin/env bash
# Identical cache misses in flight at once share one upstream query: with
# a slow upstream (it answers after 300 ms), 30 clients asking the same
# name at once make it see one query, and all 30 get the answer; 10
# different names make 10 upstream queries.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
dns_lab
cat >"$LAB_DIR/slow.py" <<'PY'
import select, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("192.168.122.53", 5300))
print("ready", flush=True)
due = []
while True:
    wait = max(0, due[0][0] - time.time()) if due else None
    if select.select([s], [], [], wait)[0]:
        q, addr = s.recvfrom(512)
        end = 12
        while q[end]:
            end += 1 + q[end]
        name = q[12:end + 1]
        print("query", name, flush=True)
        a = q[:2] + b"\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00" + q[12:end + 5]
        a += b"\xc0\x0c\x00\x01\x00\x01" + struct.pack("!IH", 60, 4) + bytes([192, 0, 2, 5])
        due.append((time.time() + 0.3, a, addr))
    while due and due[0][0] <= time.time():
        s.sendto(due[0][1], due[0][2])
        due.pop(0)
PY
lab_bg upstream slow python3 -u "$LAB_DIR/slow.py"
lab_wait_log slow "^ready" 5 || lab_fail "the slow upstream did not start"
conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<'YAML'
node: {name: node1}
dns:
  listen: [192.168.122.10:53]
  forwarders: ['192.168.122.53:5300']
  recursion_clients: [192.168.122.0/25]
  zones:
    - origin: qroksera.com
      views:
        - name: internal
          clients: [192.168.122.0/25]
          records: ["harbor A 192.168.122.100"]
YAML
HEARTH_DNS_WORKERS=2 start_hearth "$conf"

# burst NAME-PATTERN COUNT: COUNT queries at once (from as many sockets),
# prints how many were answered with 192.0.2.5.
burst() {
	lab_exec client python3 - "$1" "$2" <<'PY'
import select, socket, struct, sys
pattern, count = sys.argv[1], int(sys.argv[2])
socks = []
for i in range(count):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    n = pattern % i if "%" in pattern else pattern
    name = b"".join(bytes([len(l)]) + l for l in n.encode().split(b"."))
    s.sendto(struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0\0\1\0\1",
             ("192.168.122.10", 53))
    socks.append(s)
ok = 0
pending = set(socks)
while pending:
    ready = select.select(list(pending), [], [], 3)[0]
    if not ready:
        break
    for s in ready:
        if s.recv(512).endswith(bytes([192, 0, 2, 5])):
            ok += 1
        pending.discard(s)
print(ok)
PY
}
upstream_count() { grep -c "^query" "$LAB_DIR/slow.log"; }

got=$(burst same.example.org 30)
[ "$got" -eq 30 ] || lab_fail "$got of 30 identical queries answered"
[ "$(upstream_count)" -eq 1 ] || lab_fail "30 identical queries made $(upstream_count) upstream queries"
got=$(burst "n%d.example.org" 10)
[ "$got" -eq 10 ] || lab_fail "$got of 10 different queries answered"
[ "$(upstream_count)" -eq 11 ] || lab_fail "10 different names made $(($(upstream_count) - 1)) upstream queries"
dns_done
echo "coalescing: all passed"
