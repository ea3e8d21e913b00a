#!/usr/bin/env python3
"""Forged and replayed peer heartbeats for l2announce's integration tests.

  forge.py make NAME TYPE KEY VIP... >FILE   a heartbeat (TYPE alive|leaving)
                                            signed with KEY (any string)
  forge.py capture FILE                     in a node's namespace: saves the
                                            payload of one heartbeat it sends
  forge.py send SRC DST FILE                sends FILE's bytes as UDP 7946 ->
                                            DST:7946 with source address SRC
                                            (raw socket: the source is spoofed)
"""
import hashlib
import hmac
import socket
import struct
import sys
import time


def make(name, kind, key, vips):
    body = b'HRTB' + bytes([1, 1 if kind == 'alive' else 2, 1, len(name)])
    body += struct.pack('!QQHH', time.time_ns(), 1, len(vips), 0) + name.encode()
    for v in vips:
        body += bytes([4]) + socket.inet_aton(v)
    return body + hmac.new(key.encode(), body, hashlib.sha256).digest()


def capture(path):
    # Outgoing frames reach only ETH_P_ALL taps.
    s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        s.settimeout(max(0.01, deadline - time.monotonic()))
        data, addr = s.recvfrom(65535)
        if addr[2] != socket.PACKET_OUTGOING or data[12:14] != b'\x08\x00' or data[23] != 17:
            continue
        ihl = (data[14] & 0xf) * 4
        udp = data[14 + ihl:]
        if struct.unpack('!H', udp[2:4])[0] == 7946:
            open(path, 'wb').write(udp[8:])
            return
    sys.exit('no heartbeat seen')


def send(src, dst, payload):
    udp = struct.pack('!HHHH', 7946, 7946, 8 + len(payload), 0) + payload
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(udp), 0x1234, 0, 64, 17, 0,
                     socket.inet_aton(src), socket.inet_aton(dst))
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    s.sendto(ip + udp, (dst, 0))


if __name__ == '__main__':
    if sys.argv[1] == 'make':
        sys.stdout.buffer.write(make(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5:]))
    elif sys.argv[1] == 'capture':
        capture(sys.argv[2])
    else:
        send(sys.argv[2], sys.argv[3], open(sys.argv[4], 'rb').read())
