#!/usr/bin/env python3
"""Writes the seed corpora: heartbeats (signed with the fuzz target's key or
left for it to sign) and ARP/NDP frames like those on a lab segment."""
import hashlib, hmac, ipaddress, os, socket, struct

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = b'fuzzing-key-0123456789abcdef'


def hb(kind, flags, name, inc, seq, vips):
    body = b'HRTB' + bytes([1, kind, flags, len(name)]) + struct.pack('!QQHH', inc, seq, len(vips), 0) + name
    for v in vips:
        a = ipaddress.ip_address(v)
        body += bytes([a.version]) + a.packed
    return body


def write(d, name, data):
    with open(os.path.join(HERE, d, name), 'wb') as f:
        f.write(data)


vips4 = ['192.168.122.%d' % i for i in range(100, 151)]
alive = hb(1, 1, b'k8s-worker1', 1763900000000000000, 7, vips4[:17])
write('corpus-heartbeat', 'signed-alive', b'\0' + alive + hmac.new(KEY, alive, hashlib.sha256).digest())
write('corpus-heartbeat', 'body-alive-51', b'\1' + hb(1, 1, b'node2', 5, 1, vips4))
write('corpus-heartbeat', 'body-leaving', b'\2' + hb(2, 0, b'node3', 9, 99, []))
write('corpus-heartbeat', 'body-joining-v6', b'\3' + hb(1, 2, b'n', 1, 2, ['fd00::100', '192.168.122.100']))
write('corpus-heartbeat', 'body-truncated', b'\1' + hb(1, 1, b'node2', 5, 1, vips4[:3])[:-2])


def mac(s):
    return bytes(int(x, 16) for x in s.split(':'))


def arp(op, sha, spa, tha, tpa, dst):
    return (mac(dst) + mac(sha) + b'\x08\x06' + struct.pack('!HHBBH', 1, 0x0800, 6, 4, op) + mac(sha) +
            socket.inet_aton(spa) + mac(tha) + socket.inet_aton(tpa)).ljust(60, b'\0')


def csum(src, dst, icmp):
    d = ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed + struct.pack('!IxxxB', len(icmp), 58) + icmp
    s = sum(struct.unpack('!%dH' % (len(d) // 2), d))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def ns(src, dst, target, slla, smac, dmac):
    icmp = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + ipaddress.IPv6Address(target).packed
    if slla:
        icmp += bytes([1, 1]) + mac(slla)
    icmp = icmp[:2] + struct.pack('!H', csum(src, dst, icmp)) + icmp[4:]
    ip = struct.pack('!IHBB', 0x60000000, len(icmp), 58, 255) + ipaddress.IPv6Address(src).packed + ipaddress.IPv6Address(dst).packed
    return mac(dmac) + mac(smac) + b'\x86\xdd' + ip + icmp


c, n = '02:00:00:00:00:50', '02:00:00:00:00:10'
write('corpus-frame', 'arp-request', arp(1, c, '192.168.122.50', '00:00:00:00:00:00', '192.168.122.100', 'ff:ff:ff:ff:ff:ff'))
write('corpus-frame', 'arp-probe', arp(1, c, '0.0.0.0', '00:00:00:00:00:00', '192.168.122.100', 'ff:ff:ff:ff:ff:ff'))
write('corpus-frame', 'garp-reply', arp(2, n, '192.168.122.100', n, '192.168.122.100', 'ff:ff:ff:ff:ff:ff'))
write('corpus-frame', 'ns-multicast', ns('fd00::50', 'ff02::1:ff00:100', 'fd00::100', c, c, '33:33:ff:00:01:00'))
write('corpus-frame', 'ns-unicast', ns('fd00::50', 'fd00::100', 'fd00::100', None, c, n))
write('corpus-frame', 'ns-dad', ns('::', 'ff02::1:ff00:100', 'fd00::100', None, c, '33:33:ff:00:01:00'))
