#!/usr/bin/env python3
"""raw.py HOST PORT: sends stdin's bytes as they are (\\n is NOT turned
into CRLF; write the CRLFs) and prints everything received until the
server closes or 3 s of silence."""
import socket
import sys

s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=3)
s.sendall(sys.stdin.buffer.read())
out = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        out += d
except socket.timeout:
    pass
sys.stdout.buffer.write(out)
