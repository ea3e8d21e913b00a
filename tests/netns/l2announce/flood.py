#!/usr/bin/env python3
"""Floods ARP requests for IP from a fixed sender on IFACE for SECONDS as
fast as one core can send: flood.py IFACE IP SECONDS. Prints the count."""
import socket
import struct
import sys
import time

iface, ip, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
mac = s.getsockname()[4]
f = (b'\xff' * 6 + mac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) +
     mac + socket.inet_aton('192.168.122.50') + b'\0' * 6 + socket.inet_aton(ip)).ljust(60, b'\0')
n, end, send = 0, time.monotonic() + seconds, s.send
while time.monotonic() < end:
    for _ in range(1000):
        try:
            send(f)
        except OSError:  # the device queue is full: go on
            pass
    n += 1000
print(n)
