#!/usr/bin/env python3
"""Writes the seed corpora of the dns fuzz targets (run from this directory)."""
import os
import struct


def name(n):
    out = b""
    for label in n.split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def query(n, qtype, edns=None, flags=0x0100, qid=0x1234, extra=b""):
    ar = 1 if edns is not None else 0
    msg = struct.pack("!HHHHHH", qid, flags, 1, 0, 0, ar)
    msg += name(n) + struct.pack("!HH", qtype, 1)
    if edns is not None:
        udp, version, do = edns
        msg += b"\0" + struct.pack("!HHBBHH", 41, udp, 0, version,
                                   0x8000 if do else 0, len(extra)) + extra
    return msg


def write(d, items):
    os.makedirs(d, exist_ok=True)
    for i, data in enumerate(items):
        with open(os.path.join(d, "seed-%03d" % i), "wb") as f:
            f.write(data)


queries = [
    query("www.example.com", 1), query("WwW.ExAmPlE.cOm", 1, (4096, 0, True)),
    query("x.y.z.example.com", 1, (1232, 0, False)),
    query("example.com", 255), query("example.com", 6), query("example.com", 2),
    query("many.example.com", 16), query("many.example.com", 16, (512, 0, False)),
    query("a.b.example.com", 1), query("host.sub.example.com", 1),
    query("loop.example.com", 1), query("q.w.example.com", 16),
    query("_s._tcp.example.com", 33), query("c.example.com", 257),
    query("p.example.com", 12), query("example.org", 1),
    query("example.com", 1, (1232, 1, False)), query("example.com", 252),
    query("example.com", 1, flags=0x2800), query("example.com", 41),
    query("example.com", 1, (1232, 0, False), extra=b"\x00\x0a\x00\x08" + b"\x01" * 8),
    b"\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",
    b"\x00" * 12, b"\xff" * 40,
]
write("corpus-query", queries)


def response(n, qtype, rcode=0, answers=(), authority=(), opt=True):
    msg = struct.pack("!HHHHHH", 0, 0x8180 | rcode, 1, len(answers),
                      len(authority), 1 if opt else 0)
    msg += name(n) + struct.pack("!HH", qtype, 1)
    for rtype, ttl, rdata in list(answers) + list(authority):
        msg += b"\xc0\x0c" + struct.pack("!HHIH", rtype, 1, ttl, len(rdata)) + rdata
    if opt:
        msg += b"\0" + struct.pack("!HHBBHH", 41, 1232, 0, 0, 0, 0)
    return msg


soa = name("ns.example.org") + name("h.example.org") + struct.pack("!IIIII", 1, 2, 3, 4, 60)
upstream = [
    response("www.example.org", 1, answers=[(1, 300, b"\xc0\x00\x02\x01")]),
    response("www.example.org", 1, answers=[(5, 60, b"\x03web\xc0\x10"), (1, 30, b"\x01\x02\x03\x04")]),
    response("www.example.org", 1, rcode=3, authority=[(6, 3600, soa)]),
    response("www.example.org", 1, authority=[(6, 300, soa)], opt=False),
    response("www.example.org", 1, rcode=2),
    response("www.example.org", 28, answers=[(28, 10, b"\x20\x01" + b"\0" * 14)]),
    response("www.example.org", 1, answers=[(1, 300, b"\xc0\x00\x02")]),
    b"\x00\x00\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00\xc0\x0c\x00\x01\x00\x01",
]
write("corpus-upstream", upstream)


def rec(owner, rtype, ttl, rdata):
    """A made-up record for fuzz_zone: owner and type indexes, TTL, rdata."""
    return bytes([owner, rtype, ttl, len(rdata)]) + rdata


zsoa = name("ns.example.com") + name("h.example.com") + struct.pack("!IIIII", 1, 2, 3, 4, 5)
zone = [
    bytes([100]) + rec(0, 3, 60, zsoa) + rec(0, 1, 60, name("ns.example.com")) +
    rec(1, 0, 60, b"\x0a\0\0\1") + rec(2, 0, 60, b"\x0a\0\0\2"),
    bytes([10]) + rec(0, 3, 60, zsoa) + rec(5, 2, 60, name("a.example.com")) +
    rec(2, 0, 60, b"\x0a\0\0\2") + rec(4, 5, 60, b"\x05hello"),
    bytes([255]) + rec(0, 3, 60, zsoa) + rec(0, 4, 60, b"\0\x0a" + name("mail.example.com")) +
    rec(9, 6, 60, b"\x20\x01" + b"\0" * 14) + rec(7, 7, 60, b"\0\1\0\2\0\x50" + name("a.example.com")),
    bytes([3]) + rec(0, 3, 60, zsoa) + rec(0, 1, 60, name("ns.example.com")) +
    rec(3, 1, 60, name("ns.b.a.example.com")),
    bytes([50]) + rec(0, 3, 60, b"\x05bad") + rec(5, 2, 60, b"\xc0\x0c") + rec(2, 4, 60, b"\0"),
]
os.makedirs("corpus-zone", exist_ok=True)
for i, data in enumerate(zone):
    with open(os.path.join("corpus-zone", "seed-%02d" % i), "wb") as f:
        f.write(data)
