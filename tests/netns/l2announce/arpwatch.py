#!/usr/bin/env python3
"""ARP prober and watcher for l2announce's integration tests.

Run inside the client's namespace. Every round it broadcasts one ARP
request per VIP and collects the replies until the next round; it also
records every gratuitous ARP it hears. Times are kernel receive
timestamps (CLOCK_REALTIME, SO_TIMESTAMPNS), so they compare with
`date +%s.%N` taken when the test kills a node.

  arpwatch.py probe IFACE ROUNDS INTERVAL_MS VIP...
      prints one line per VIP: "VIP MAC[,MAC...]" (every MAC that answered)
  arpwatch.py watch IFACE SECONDS INTERVAL_MS VIP...
      prints "reply T ROUND VIP MAC" and "garp T VIP MAC" lines until
      SECONDS pass or SIGTERM/SIGINT (then it flushes and exits 0)
"""
import fcntl
import select
import signal
import socket
import struct
import sys
import time

SO_TIMESTAMPNS = 35
ETH_P_ARP = 0x0806


def if_mac_ip(sock, ifname):
    raw = fcntl.ioctl(sock.fileno(), 0x8927, struct.pack('256s', ifname.encode()))
    mac = raw[18:24]
    s4 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    raw = fcntl.ioctl(s4.fileno(), 0x8915, struct.pack('256s', ifname.encode()))
    s4.close()
    return mac, raw[20:24]


def request(mac, ip, vip):
    eth = b'\xff' * 6 + mac + struct.pack('!H', ETH_P_ARP)
    arp = struct.pack('!HHBBH', 1, 0x0800, 6, 4, 1) + mac + ip + b'\0' * 6 + socket.inet_aton(vip)
    return (eth + arp).ljust(60, b'\0')


def macstr(b):
    return ':'.join('%02x' % x for x in b)


def parse(frame):
    """(op, sha, spa, tpa) of an Ethernet ARP frame, or None."""
    if len(frame) < 42 or frame[12:14] != b'\x08\x06':
        return None
    op = struct.unpack('!H', frame[20:22])[0]
    return op, frame[22:28], socket.inet_ntoa(frame[28:32]), socket.inet_ntoa(frame[38:42])


def recv(sock):
    data, anc, _, _ = sock.recvmsg(2048, 64)
    t = time.time()
    for level, kind, val in anc:
        if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
            sec, nsec = struct.unpack('qq', val[:16])
            t = sec + nsec / 1e9
    return data, t


def main():
    mode, ifname, amount, interval = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) / 1000.0
    vips = sys.argv[5:]
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ARP))
    sock.bind((ifname, 0))
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    mac, ip = if_mac_ip(sock, ifname)
    frames = [request(mac, ip, v) for v in vips]
    wanted = set(vips)
    seen = {v: [] for v in vips}
    stop = [False]
    signal.signal(signal.SIGTERM, lambda *a: stop.__setitem__(0, True))
    signal.signal(signal.SIGINT, lambda *a: stop.__setitem__(0, True))
    end = time.monotonic() + (float(amount) if mode == 'watch' else 1e9)
    rounds = int(amount) if mode == 'probe' else 1 << 62
    rnd = 0
    out = sys.stdout
    if mode == 'watch':
        out.write('ready\n')
        out.flush()
    while rnd < rounds and not stop[0] and time.monotonic() < end:
        rnd += 1
        for f in frames:
            sock.send(f)
        deadline = time.monotonic() + interval
        while not stop[0]:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                r, _, _ = select.select([sock], [], [], left)
            except InterruptedError:
                continue
            if not r:
                continue
            data, t = recv(sock)
            p = parse(data)
            if p is None or p[1] == mac:
                continue
            op, sha, spa, tpa = p
            if spa == tpa and spa in wanted:
                if mode == 'watch':
                    out.write('garp %.6f %s %s\n' % (t, spa, macstr(sha)))
            elif op == 2 and spa in wanted and data[0:6] == mac:
                if mode == 'watch':
                    out.write('reply %.6f %d %s %s\n' % (t, rnd, spa, macstr(sha)))
                elif macstr(sha) not in seen[spa]:
                    seen[spa].append(macstr(sha))
    if mode == 'probe':
        for v in vips:
            out.write('%s %s\n' % (v, ','.join(seen[v]) or '-'))
    out.flush()


if __name__ == '__main__':
    main()
