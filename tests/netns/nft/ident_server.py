#!/usr/bin/env python3
"""A TCP server (IPv4 and IPv6) for the nft tests: to every connection on each PORT it
writes "NAME PEER-ADDRESS\n" and closes, so the client learns which
backend answered and the backend's view of the source address."""
import selectors
import socket
import sys


def main():
    name, ports = sys.argv[1], [int(p) for p in sys.argv[2:]]
    sel = selectors.DefaultSelector()
    for port in ports:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
        s.listen(64)
        sel.register(s, selectors.EVENT_READ)
    print("listening", flush=True)
    while True:
        for key, _ in sel.select():
            conn, peer = key.fileobj.accept()
            try:
                addr = peer[0].removeprefix("::ffff:")
                conn.sendall(f"{name} {addr}\n".encode())
            finally:
                conn.close()


if __name__ == "__main__":
    main()
