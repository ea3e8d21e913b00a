#!/usr/bin/env python3
"""A stand-in for the Kubernetes API server on 127.0.0.1 for
hearth-provision's readiness and token tests: TLS with DIR/srv.crt and
DIR/srv.key, a client certificate from CA required. GET serves files under
DIR/www (/readyz, /api/v1/nodes); POST records the request in
DIR/posted.json and answers 201. Writes its port to DIR/port.

usage: api_standin.py DIR CA
"""
import http.server
import json
import os
import ssl
import sys

d, ca = sys.argv[1], sys.argv[2]


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def client(self):
        subject = self.connection.getpeercert()["subject"]
        return dict(x[0] for x in subject)["commonName"]

    def do_GET(self):
        path = os.path.join(d, "www", self.path.lstrip("/"))
        if not os.path.isfile(path):
            self.send_response(404)
            self.end_headers()
            return
        body = open(path, "rb").read()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with open(os.path.join(d, "posted.json"), "w") as f:
            json.dump({"path": self.path, "client": self.client(),
                       "body": json.loads(body)}, f)
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body)


srv = http.server.HTTPServer(("127.0.0.1", 0), Handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(os.path.join(d, "srv.crt"), os.path.join(d, "srv.key"))
ctx.verify_mode = ssl.CERT_REQUIRED
ctx.load_verify_locations(ca)
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(os.path.join(d, "port.tmp"), "w") as f:
    f.write(str(srv.server_address[1]))
os.rename(os.path.join(d, "port.tmp"), os.path.join(d, "port"))
srv.serve_forever()
