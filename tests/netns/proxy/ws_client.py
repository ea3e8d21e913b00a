#!/usr/bin/env python3
"""ws_client.py HOST PORT HOSTHEADER [N] [PAUSE_FILE]: opens a WebSocket
through the proxy, sends N text messages and checks each echo. With
PAUSE_FILE, waits after the first echo until that file exists (so a test
can reload the proxy mid-session). Prints "ok N" on success, exits 1."""
import base64
import os
import socket
import sys
import time

host, port, hh = sys.argv[1], int(sys.argv[2]), sys.argv[3]
n = int(sys.argv[4]) if len(sys.argv) > 4 else 3
pause = sys.argv[5] if len(sys.argv) > 5 else None
s = socket.create_connection((host, port), timeout=10)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall((f"GET /ws HTTP/1.1\r\nHost: {hh}\r\nUpgrade: websocket\r\n"
           f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n").encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096)
    if not d:
        sys.exit("closed during handshake")
    buf += d
head, buf = buf.split(b"\r\n\r\n", 1)
if not head.startswith(b"HTTP/1.1 101"):
    sys.exit("no 101: " + head.decode(errors="replace"))


def recv_exact(k):
    global buf
    while len(buf) < k:
        d = s.recv(65536)
        if not d:
            sys.exit("closed")
        buf += d
    out, buf = buf[:k], buf[k:]
    return out


for i in range(n):
    msg = f"hello {i} " * (i * 10 + 1)
    data = msg.encode()
    mask = os.urandom(4)
    frame = bytes([0x81])
    frame += bytes([0x80 | len(data)]) if len(data) < 126 else \
        bytes([0x80 | 126]) + len(data).to_bytes(2, "big")
    frame += mask + bytes(b ^ mask[j % 4] for j, b in enumerate(data))
    s.sendall(frame)
    h = recv_exact(2)
    ln = h[1] & 0x7F
    if ln == 126:
        ln = int.from_bytes(recv_exact(2), "big")
    got = recv_exact(ln)
    if got != data:
        sys.exit(f"echo {i} differs")
    if i == 0 and pause:
        deadline = time.time() + 30
        while not os.path.exists(pause) and time.time() < deadline:
            time.sleep(0.05)
print(f"ok {n}")
