#!/usr/bin/env python3
"""A test backend for the proxy's integration tests.

backend.py NAME PORT [--tls CERT KEY]: HTTP/1.1 with keep-alive.
  GET  /...          -> 200 "NAME <path>" with X-Backend, X-Conn (client
                        port, to see upstream reuse) and X-Seen-* echoes of
                        the forwarding headers
  POST/PUT /sha      -> 200 "<sha256> <length>" of the body (Content-Length
                        or chunked, read as it streams)
  GET  /slow?s=N     -> sleeps N seconds, then answers
  GET  /chunked?n=N  -> a chunked response of N chunks "chunk-i\\n"
  GET  /late?n=N&ms=M -> the head (Content-Length N) at once, N bytes "z"
                        M milliseconds later
  GET  /ws           -> WebSocket handshake, then echoes frames
  GET  /healthz      -> the health status (200 until set), "NAME health"
  GET  /_health?set=N -> sets the status /healthz answers with (0: it
                        never answers)
Every request line is printed to stdout (the test's log) with its Host,
flushed; so is the end of each connection ("NAME closed conn=PORT").
"""
import base64
import hashlib
import http.server
import socketserver
import ssl
import sys
import time
import urllib.parse

NAME = sys.argv[1]
PORT = int(sys.argv[2])
HEALTH = [200]


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def note(self):
        print(f"{NAME} {self.command} {self.path} conn={self.client_address[1]}"
              f" host={self.headers.get('Host', '')}", flush=True)

    def finish(self):
        super().finish()
        print(f"{NAME} closed conn={self.client_address[1]}", flush=True)

    def send(self, code, body, extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Backend", NAME)
        self.send_header("X-Conn", str(self.client_address[1]))
        for k in ("X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host",
                  "Forwarded", "Host", "Connection", "X-Hop", "X-Before",
                  "X-After"):
            v = self.headers.get_all(k)
            if v:
                self.send_header("X-Seen-" + k, " | ".join(v))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def read_body(self):
        h = hashlib.sha256()
        n = 0
        te = self.headers.get("Transfer-Encoding", "")
        if "chunked" in te.lower():
            while True:
                line = self.rfile.readline()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                left = size
                while left:
                    d = self.rfile.read(min(left, 65536))
                    h.update(d)
                    n += len(d)
                    left -= len(d)
                self.rfile.readline()
        else:
            left = int(self.headers.get("Content-Length", "0"))
            while left:
                d = self.rfile.read(min(left, 65536))
                if not d:
                    break
                h.update(d)
                n += len(d)
                left -= len(d)
        return h.hexdigest(), n

    def do_POST(self):
        self.note()
        digest, n = self.read_body()
        self.send(200, f"{digest} {n}\n")

    do_PUT = do_POST

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        self.note()
        u = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path == "/slow":
            time.sleep(float(q.get("s", ["1"])[0]))
            return self.send(200, "slow\n")
        if u.path == "/late":
            n = int(q.get("n", ["10"])[0])
            self.send_response(200)
            self.send_header("Content-Length", str(n))
            self.end_headers()
            time.sleep(int(q.get("ms", ["300"])[0]) / 1000)
            self.wfile.write(b"z" * n)
            return
        if u.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for i in range(int(q.get("n", ["3"])[0])):
                d = f"chunk-{i}\n".encode()
                self.wfile.write(b"%x\r\n%s\r\n" % (len(d), d))
            self.wfile.write(b"0\r\n\r\n")
            return
        if u.path == "/ws":
            return self.websocket()
        if u.path == "/healthz":
            if HEALTH[0] == 0:
                time.sleep(30)
                return None
            return self.send(HEALTH[0], f"{NAME} health\n")
        if u.path == "/_health":
            HEALTH[0] = int(q.get("set", ["200"])[0])
            return self.send(200, f"{NAME} health {HEALTH[0]}\n")
        if u.path == "/hops":
            # Hop-by-hop fields between end-to-end ones, in the response.
            return self.send(200, f"{NAME} hops\n", (
                ("X-Resp-Before", "b  1"), ("Keep-Alive", "timeout=5"),
                ("Connection", "X-Resp-Hop"), ("X-Resp-Hop", "secret"),
                ("X-Resp-After", "a\t2")))
        self.send(200, f"{NAME} {self.path}\n")

    def websocket(self):
        key = self.headers.get("Sec-WebSocket-Key", "")
        acc = base64.b64encode(hashlib.sha1(
            (key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest())
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept", acc.decode())
        self.end_headers()
        self.wfile.flush()
        while True:
            hdr = self.rfile.read(2)
            if len(hdr) < 2:
                return
            op, ln = hdr[0] & 0x0F, hdr[1] & 0x7F
            if ln == 126:
                ln = int.from_bytes(self.rfile.read(2), "big")
            elif ln == 127:
                ln = int.from_bytes(self.rfile.read(8), "big")
            mask = self.rfile.read(4) if hdr[1] & 0x80 else b"\0\0\0\0"
            data = bytes(b ^ mask[i % 4] for i, b in enumerate(self.rfile.read(ln)))
            if op == 8:
                self.wfile.write(b"\x88\x00")
                return
            out = bytes([0x80 | op])
            out += bytes([len(data)]) if len(data) < 126 else \
                b"\x7e" + len(data).to_bytes(2, "big")
            self.wfile.write(out + data)
            self.wfile.flush()


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 512


srv = Server(("0.0.0.0", PORT), Handler)
if len(sys.argv) > 3 and sys.argv[3] == "--tls":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
print(f"{NAME} listening on {PORT}", flush=True)
srv.serve_forever()
