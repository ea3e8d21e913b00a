#!/usr/bin/env bash
# Hostile input: 2,000 garbage UDP packets (random bytes, truncated and
# mutated queries, pointer loops) and malformed TCP frames (zero length,
# short, cut-off, garbage, a slow half-frame) never crash or wedge the
# server: correct answers follow over UDP and TCP, and well-formed but
# unanswerable queries get FORMERR. Idle TCP connections are closed.
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
dns_lab
conf=$LAB_DIR/hearth.yaml
cat >"$conf" <<'YAML'
node: {name: node1}
dns:
  listen: [192.168.122.10:53]
  recursion_clients: [192.168.122.0/25]
  zones:
    - origin: qroksera.com
      views:
        - name: all
          clients: [0.0.0.0/0]
          records: ["harbor A 192.168.122.100", "* A 192.168.122.100"]
YAML
start_hearth "$conf"

lab_exec client python3 - <<'PY' || lab_fail "garbage sender failed"
import os, random, socket, struct
random.seed(7)
def q(name, qtype=1, flags=0x0100):
    msg = struct.pack("!HHHHHH", random.getrandbits(16), flags, 1, 0, 0, 0)
    for l in name.split("."):
        msg += bytes([len(l)]) + l.encode()
    return msg + b"\0" + struct.pack("!HH", qtype, 1)
good = q("harbor.qroksera.com")
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for i in range(2000):
    kind = i % 5
    if kind == 0:
        p = os.urandom(random.randint(0, 600))
    elif kind == 1:
        p = good[:random.randint(0, len(good) - 1)]
    elif kind == 2:
        p = bytearray(good)
        for _ in range(random.randint(1, 6)):
            p[random.randrange(len(p))] = random.getrandbits(8)
        p = bytes(p)
    elif kind == 3:  # a compression loop in the question, counts inflated
        p = struct.pack("!HHHHHH", i, 0x0100, 1, 40, 40, 40) + b"\xc0\x0c" + b"\0\1\0\1"
    else:  # a response, which must be ignored
        p = bytes([good[0], good[1], 0x81, 0x80]) + good[4:]
    s.sendto(p, ("192.168.122.10", 53))
PY

got=$(dns_answer client harbor.qroksera.com A)
[ "$got" = 192.168.122.100 ] || lab_fail "no UDP answer after garbage: '$got'"

lab_exec client python3 - <<'PY' || lab_fail "malformed TCP frames: server misbehaved"
import socket, struct, time
def conn():
    c = socket.create_connection(("192.168.122.10", 53), timeout=3)
    return c
def q(name):
    msg = struct.pack("!HHHHHH", 0x4242, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        msg += bytes([len(l)]) + l.encode()
    return msg + b"\0" + struct.pack("!HH", 1, 1)
frames = [b"\x00\x00", b"\x00\x05hello", b"\x00\x40" + b"\xff" * 64,
          b"\xff\xff" + b"\x00" * 100, b"\x00"]
for f in frames:
    c = conn()
    c.sendall(f)
    c.shutdown(socket.SHUT_WR)
    try:
        c.recv(100)   # closed or nothing; never hangs past the timeout
    except socket.timeout:
        raise SystemExit("server kept a malformed connection open")
    c.close()
# Pipelining: three queries in one write, three answers back.
c = conn()
m = q("harbor.qroksera.com")
c.sendall((struct.pack("!H", len(m)) + m) * 3)
buf = b""
deadline = time.time() + 3
while buf.count(b"\xc0\xa8\x7a\x64") < 3 and time.time() < deadline:
    buf += c.recv(4096)
if buf.count(b"\xc0\xa8\x7a\x64") != 3:
    raise SystemExit("pipelined queries not all answered")
c.close()
# An idle connection is closed by the server (idle timeout, 10 s).
c = conn()
c.settimeout(15)
t0 = time.time()
if c.recv(10) != b"" or not 8 <= time.time() - t0 <= 13:
    raise SystemExit("idle connection not closed after about 10 s")
PY

got=$(dns_answer client harbor.qroksera.com A +tcp)
[ "$got" = 192.168.122.100 ] || lab_fail "no TCP answer after malformed frames: '$got'"
# Readable header, unreadable question: FORMERR.
lab_exec client python3 - <<'PY' || lab_fail "no FORMERR for a query with a bad question"
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.sendto(b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05ab", ("192.168.122.10", 53))
r = s.recv(512)
assert r[:2] == b"\x12\x34" and r[3] & 0xf == 1, r
PY
kill -0 "${LAB_PID[node1]}" || lab_fail "hearthd died"
dns_done
echo "garbage: all passed"
