#!/usr/bin/env bash
# Bodies and tunnels through the proxy: a 20 MB chunked upload arrives
# with the same sha256, Content-Length uploads with Expect: 100-continue,
# chunked responses streamed (and de-chunked for HTTP/1.0 clients),
# pipelined requests answered in order, HEAD, WebSocket echo; a small
# response's head waits for its body (one write), a large one's does not.
. "$(dirname "$0")/common.sh"
px_setup 1
px_backend 1 8080
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
EOC
px_start "$LAB_DIR/conf.yaml"

head -c $((20 * 1024 * 1024)) /dev/urandom >"$LAB_DIR/up20"
want=$(sha256sum <"$LAB_DIR/up20" | cut -d' ' -f1)
got=$(px_curl -H 'Transfer-Encoding: chunked' --data-binary @"$LAB_DIR/up20" \
    http://a.test/sha)
px_expect "20 MB chunked upload sha256" "$want $((20 * 1024 * 1024))" "$got"
got=$(px_curl -H 'Expect: 100-continue' -T "$LAB_DIR/up20" http://a.test/sha)
px_expect "Content-Length upload with 100-continue" "$want $((20 * 1024 * 1024))" "$got"
v=$(px_curl -v -H 'Expect: 100-continue' -T "$LAB_DIR/up20" http://a.test/sha 2>&1 |
    grep -c '< HTTP/1.1 100 Continue')
px_expect "100 Continue relayed" 1 "$v"

got=$(px_curl 'http://a.test/chunked?n=500' | sha256sum | cut -d' ' -f1)
want=$(for i in $(seq 0 499); do echo "chunk-$i"; done | sha256sum | cut -d' ' -f1)
px_expect "chunked response" "$want" "$got"
got=$(px_curl --http1.0 'http://a.test/chunked?n=50' | sha256sum | cut -d' ' -f1)
want=$(for i in $(seq 0 49); do echo "chunk-$i"; done | sha256sum | cut -d' ' -f1)
px_expect "chunked response de-chunked for HTTP/1.0" "$want" "$got"
px_expect "HEAD has no body" "" "$(px_curl -I -s http://a.test/x | tr -d '\r' | sed -n '/^$/,$p' | tr -d '\n')"

# first_read PATH: what the client's first read of the response holds
# (the head alone, or head and body), however the backend paces them.
first_read() {
	lab_exec client python3 -c '
import socket, sys
s = socket.create_connection((sys.argv[1], 80))
s.sendall(b"GET " + sys.argv[2].encode() + b" HTTP/1.1\r\nHost: a.test\r\n\r\n")
d = s.recv(1 << 20)
head, _, body = d.partition(b"\r\n\r\n")
print(head.split(b"\r\n")[0].decode(), len(body))' $NODE "$1"
}
px_expect "small body 300 ms behind its head: one write" "HTTP/1.1 200 OK 64" \
    "$(first_read '/late?n=64&ms=300')"
px_expect "64 KiB body 300 ms behind its head: the head at once" "HTTP/1.1 200 OK 0" \
    "$(first_read '/late?n=65536&ms=300')"
got=$(px_curl 'http://a.test/late?n=16384&ms=100' | wc -c)
px_expect "16 KiB late body whole" 16384 "$got"

# Three pipelined requests in one write, answered in order.
out=$(printf 'GET /p1 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /p2 HTTP/1.1\r\nHost: a.test\r\n\r\nGET /p3 HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
    lab_exec client python3 "$PX_DIR/raw.py" $NODE 80 | grep -a '^be1' | tr '\n' ' ')
px_expect "pipelined requests" "be1 /p1 be1 /p2 be1 /p3 " "$out"

px_expect "WebSocket echo" "ok 5" \
    "$(lab_exec client python3 "$PX_DIR/ws_client.py" $NODE 80 a.test 5)"
px_done
