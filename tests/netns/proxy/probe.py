#!/usr/bin/env python3
"""Connection-level probes of the proxy (HOST PORT first):

probe.py HOST PORT hold N EXTRA FLAG: opens N idle connections; prints
  "closed K" once EXTRA of them were closed by the server (or after 10 s),
  waits 0.5 s more for any further close and prints "open M"; then sends a
  request on each connection still open and prints "answered A"; holds
  them until the file FLAG exists, closes them and prints "released".
probe.py HOST PORT idle: one request on a keep-alive connection, then
  waits for the server to close it; prints "closed after S" (seconds).
probe.py HOST PORT upstream SECONDS: on one client connection, GET
  a.test/u1 and /u2 (X-Conn: the upstream connection's port), then GET
  b.test/k every 0.5 s for SECONDS (keeping the client connection busy),
  then GET a.test/u3; prints "u1=P u2=P u3=P".
"""
import select
import socket
import sys
import time

host, port, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]


def request(s, hostname, path):
    """Sends a GET and reads the response; returns (status, headers)."""
    s.sendall(f"GET {path} HTTP/1.1\r\nHost: {hostname}\r\n\r\n".encode())
    buf = b""
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536)
        if not d:
            raise EOFError("closed before the response head")
        buf += d
    head, body = buf.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    hdrs = {}
    for line in lines[1:]:
        k, v = line.split(":", 1)
        hdrs[k.strip().lower()] = v.strip()
    left = int(hdrs.get("content-length", "0")) - len(body)
    while left > 0:
        d = s.recv(left)
        if not d:
            raise EOFError("closed in the body")
        left -= len(d)
    return int(lines[0].split()[1]), hdrs


def closed_now(s):
    """Whether the server has closed s (EOF or reset), without waiting."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(1, socket.MSG_PEEK) == b""
    except OSError:
        return True


def hold(n, extra, flag):
    socks = [socket.create_connection((host, port), timeout=5)
             for _ in range(n)]
    end = time.time() + 10
    while time.time() < end:
        if sum(closed_now(s) for s in socks) >= extra:
            break
        time.sleep(0.05)
    print(f"closed {sum(closed_now(s) for s in socks)}", flush=True)
    time.sleep(0.5)
    live = [s for s in socks if not closed_now(s)]
    print(f"open {len(live)}", flush=True)
    answered = 0
    for s in live:
        try:
            answered += request(s, "a.test", "/held")[0] == 200
        except (OSError, EOFError):
            pass
    print(f"answered {answered}", flush=True)
    end = time.time() + 60
    while time.time() < end:
        try:
            open(flag).close()
            break
        except OSError:
            time.sleep(0.05)
    for s in socks:
        s.close()
    print("released", flush=True)


def idle():
    s = socket.create_connection((host, port), timeout=60)
    status, _ = request(s, "a.test", "/idle")
    assert status == 200, status
    t0 = time.time()
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    print(f"closed after {time.time() - t0:.2f}", flush=True)


def upstream(secs):
    s = socket.create_connection((host, port), timeout=30)
    conns = []
    for path in ("/u1", "/u2"):
        conns.append(request(s, "a.test", path)[1]["x-conn"])
    end = time.time() + secs
    while time.time() < end:
        request(s, "b.test", "/k")
        time.sleep(0.5)
    conns.append(request(s, "a.test", "/u3")[1]["x-conn"])
    print("u1=%s u2=%s u3=%s" % tuple(conns), flush=True)


if mode == "hold":
    hold(int(sys.argv[4]), int(sys.argv[5]), sys.argv[6])
elif mode == "idle":
    idle()
elif mode == "upstream":
    upstream(float(sys.argv[4]))
