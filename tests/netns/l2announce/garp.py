#!/usr/bin/env python3
"""Sends one gratuitous ARP reply claiming IP for MAC on IFACE:
garp.py IFACE IP MAC (run in a test namespace)."""
import socket
import struct
import sys

iface, ip, mac = sys.argv[1], sys.argv[2], bytes(int(x, 16) for x in sys.argv[3].split(':'))
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
s.bind((iface, 0))
a = socket.inet_aton(ip)
f = b'\xff' * 6 + mac + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, 2) + mac + a + mac + a
s.send(f.ljust(60, b'\0'))
