#!/usr/bin/env python3
"""Small servers the hearth-bench integration tests measure against.

  servers.py http PORT LOG [CERT KEY]   HTTP/1.1 (TLS with CERT KEY)
  servers.py dns PORT LOG               DNS over UDP and TCP

Every event is one line appended to LOG, so a test can count exactly what
the server saw: "conn" per accepted connection, "sni NAME" per TLS
handshake, "req PATH" per request answered; for DNS "q NAME" per query
answered and "drop NAME" per query deliberately left unanswered.

HTTP paths: /ok (64 bytes), /500 (a 500), /chunked (a chunked body),
/close (HTTP/1.0 style body ended by close), /garbage (not HTTP).
DNS names: a.test and b.test answer A 10.0.0.1, *.wild.test answers A
10.0.0.2, drop.test is never answered, anything else is NXDOMAIN.
"""
import http.server
import socket
import socketserver
import ssl
import struct
import sys
import threading

lock = threading.Lock()
log_file = None


def log(line):
    with lock:
        log_file.write(line + "\n")
        log_file.flush()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self):
        if isinstance(self.request, ssl.SSLSocket):
            self.request.do_handshake()
        log("conn")
        super().setup()

    def log_message(self, *args):
        pass

    def send_body(self, code, body):
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path
        log("req " + path)  # before answering: seen by the time it is read
        if path == "/ok":
            self.send_body(200, b"x" * 63 + b"\n")
        elif path == "/500":
            self.send_body(500, b"failed\n")
        elif path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for part in (b"hello ", b"chunked ", b"world\n"):
                self.wfile.write(b"%x\r\n%s\r\n" % (len(part), part))
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/close":
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(b"body ended by close\n")
            self.close_connection = True
        elif path == "/garbage":
            self.wfile.write(b"this is not HTTP\r\n\r\n")
            self.close_connection = True
        else:
            self.send_body(404, b"not found\n")


class HTTPServer(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    request_queue_size = 256


def serve_http(port, cert=None, key=None):
    srv = HTTPServer(("127.0.0.1", port), Handler)
    if cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)

        def on_sni(sock, name, c):
            log("sni %s" % name)

        ctx.sni_callback = on_sni
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
    print("ready", flush=True)
    srv.serve_forever()


def dns_answer(msg):
    """Returns the reply to a query, or None to drop it."""
    qid, flags, qd = struct.unpack("!HHH", msg[:6])
    off, labels = 12, []
    while msg[off]:
        n = msg[off]
        labels.append(msg[off + 1:off + 1 + n].decode("ascii", "replace"))
        off += 1 + n
    qend = off + 5
    name = ".".join(labels).lower()
    qtype = struct.unpack("!H", msg[off + 1:off + 3])[0]
    if name == "drop.test":
        log("drop " + name)
        return None
    addr = None
    if name in ("a.test", "b.test"):
        addr = bytes([10, 0, 0, 1])
    elif name.endswith(".wild.test"):
        addr = bytes([10, 0, 0, 2])
    rflags = 0x8400 | (flags & 0x0100)
    if addr is None:
        rflags |= 3
    an = 1 if addr and qtype == 1 else 0
    out = struct.pack("!HHHHHH", qid, rflags, 1, an, 0, 0) + msg[12:qend]
    if an:
        out += struct.pack("!HHHIH", 0xC00C, 1, 1, 60, 4) + addr
    log("q " + name)
    return out


def serve_dns_tcp(sock):
    def conn(c):
        with c:
            buf = b""
            while True:
                data = c.recv(65536)
                if not data:
                    return
                buf += data
                while len(buf) >= 2:
                    n = struct.unpack("!H", buf[:2])[0]
                    if len(buf) < n + 2:
                        break
                    out = dns_answer(buf[2:n + 2])
                    buf = buf[n + 2:]
                    if out is not None:
                        c.sendall(struct.pack("!H", len(out)) + out)

    while True:
        c, _ = sock.accept()
        threading.Thread(target=conn, args=(c,), daemon=True).start()


def serve_dns(port):
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", port))
    tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    tcp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    tcp.bind(("127.0.0.1", port))
    tcp.listen(64)
    threading.Thread(target=serve_dns_tcp, args=(tcp,), daemon=True).start()
    print("ready", flush=True)
    while True:
        msg, peer = udp.recvfrom(4096)
        out = dns_answer(msg)
        if out is not None:
            udp.sendto(out, peer)


def main():
    global log_file
    kind, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    log_file = open(path, "a")
    if kind == "http":
        serve_http(port, *sys.argv[4:6])
    else:
        serve_dns(port)


if __name__ == "__main__":
    main()
