"""A forwarder for the DNSSEC pass-through test: answers every A query
with 192.0.2.77 and, when the query's OPT has the DO bit, an RRSIG over
it (a fixed 64-byte signature) with AD set; logs "NAME do=0|1" per query.
Usage: dnssec_upstream.py ADDR PORT LOGFILE"""
import socket
import struct
import sys

SIG = bytes(range(64))


def name_end(p, o):
    while p[o]:
        o += 1 + p[o]
    return o + 1


def wire(name):
    return b"".join(bytes([len(l)]) + l for l in name.rstrip(".").encode().split(b".")) + b"\0"


def main():
    addr, port, logf = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, port))
    log = open(logf, "a", buffering=1)
    while True:
        p, peer = s.recvfrom(4096)
        qid, flags, qd, an, ns, ar = struct.unpack("!6H", p[:12])
        qend = name_end(p, 12)
        labels, o = [], 12
        while p[o]:
            labels.append(p[o + 1:o + 1 + p[o]].decode())
            o += 1 + p[o]
        qname = ".".join(labels)
        qtype = struct.unpack("!H", p[qend:qend + 2])[0]
        o = qend + 4
        do = 0
        for _ in range(ar):
            e = name_end(p, o)
            t, _c, ttl, rdl = struct.unpack("!HHIH", p[e:e + 10])
            if t == 41:
                do = 1 if ttl & 0x8000 else 0
            o = e + 10 + rdl
        log.write("%s do=%d\n" % (qname.lower(), do))
        rr = []
        if qtype == 1:
            rr.append(struct.pack("!HHHIH", 0xC00C, 1, 1, 300, 4) + bytes([192, 0, 2, 77]))
            if do:
                signer = wire("example.net")
                rd = struct.pack("!HBBIIIH", 1, 13, len(labels), 300, 2000000000, 1700000000, 4242) + signer + SIG
                rr.append(struct.pack("!HHHIH", 0xC00C, 46, 1, 300, len(rd)) + rd)
        hflags = 0x8180 | (0x0020 if do else 0)  # QR RD RA, AD when signed
        opt = b"\0" + struct.pack("!HHIH", 41, 1232, 0x8000 if do else 0, 0)
        out = struct.pack("!6H", qid, hflags, 1, len(rr), 0, 1) + p[12:qend + 4] + b"".join(rr) + opt
        s.sendto(out, peer)


main()
