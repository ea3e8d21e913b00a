#!/usr/bin/env bash
# Hostile clients: request-smuggling attempts get 400 and a close and are
# never forwarded; a 200 kB header gets 431; max_body_bytes gives 413;
# 300 slowloris connections are cut at header_timeout_ms while normal
# requests keep being answered (max_connections: test_conn_limits.sh);
# out of file descriptors, accepting pauses (no busy loop) and resumes.
. "$(dirname "$0")/common.sh"
px_setup 1
px_backend 1 8080
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
  limits: {header_timeout_ms: 3000, max_body_bytes: 1000000, max_connections: 400}
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
EOC
px_start "$LAB_DIR/conf.yaml"

# raw REQUEST: the proxy's answer to the raw bytes (CRLFs written out).
raw() {
	printf "$1" | lab_exec client python3 "$PX_DIR/raw.py" $NODE 80
}
first_line() {
	raw "$1" | head -n1 | tr -d '\r'
}
P='POST /smuggled HTTP/1.1\r\nHost: a.test\r\n'
G='GET /innocent HTTP/1.1\r\nHost: a.test\r\n\r\n'
px_expect "CL + TE" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n$G")"
px_expect "TE + CL" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}Transfer-Encoding: chunked\r\nContent-Length: 40\r\n\r\n0\r\n\r\n$G")"
px_expect "duplicate CL" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}Content-Length: 0\r\nContent-Length: 44\r\n\r\n$G")"
px_expect "invalid CL" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}Content-Length: +4\r\n\r\nabcd")"
px_expect "obfuscated TE" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n")"
px_expect "obs-fold" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}X-A: 1\r\n Transfer-Encoding: chunked\r\n\r\n")"
px_expect "bare LF" "HTTP/1.1 400 Bad Request" \
    "$(first_line "GET /smuggled HTTP/1.1\nHost: a.test\n\n")"
px_expect "bare CR" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}X-A: 1\r2\r\n\r\n")"
px_expect "NUL in a value" "HTTP/1.1 400 Bad Request" \
    "$(first_line "${P}X-A: 1\\0002\r\n\r\n")"
# A bad chunk size after the head was forwarded: the proxy stops there,
# answers 400 and closes; the request smuggled behind it never goes out.
out=$(raw "${P}Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n-3\r\n\r\n$G")
grep -q '^HTTP/1.1 400' <<<"$out" || lab_fail "bad chunk size: $out"
PX_PASSED=$((PX_PASSED + 1))
out=$(raw "${P}Transfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n$G")
grep -q '^HTTP/1.1 400' <<<"$out" || lab_fail "0x chunk size: $out"
PX_PASSED=$((PX_PASSED + 1))
sleep 0.3
if grep -q ' /innocent' "$LAB_DIR/be1.log"; then
	lab_fail "a smuggled request reached the backend"
fi
n=$(grep -c 'POST /smuggled' "$LAB_DIR/be1.log")
[ "$n" -le 2 ] || lab_fail "$n refused heads were forwarded"
PX_PASSED=$((PX_PASSED + 1))

{ printf 'X-Big: '; head -c 200000 /dev/zero | tr '\0' a; echo; } >"$LAB_DIR/bighdr"
px_expect "200 kB header" 431 "$(px_code -H @"$LAB_DIR/bighdr" http://a.test/)"
head -c 2000000 /dev/zero >"$LAB_DIR/2m"
px_expect "body over max_body_bytes" 413 \
    "$(px_code --data-binary @"$LAB_DIR/2m" http://a.test/sha)"
px_expect "chunked body over max_body_bytes" 413 \
    "$(px_code -H 'Transfer-Encoding: chunked' --data-binary @"$LAB_DIR/2m" http://a.test/sha)"

# 300 slowloris connections; normal requests still answered meanwhile.
lab_bg client slow python3 -u "$PX_DIR/slowloris.py" $NODE 80 300 8
slow=$LAB_LAST_PID
lab_wait 10 grep -q "opened 300" "$LAB_DIR/slow.log" || lab_fail "slowloris did not open 300"
for i in 1 2 3 4 5; do
	px_expect "answered during slowloris ($i)" "be1 /ok$i" "$(px_curl http://a.test/ok$i)"
done
wait "$slow"
px_expect "slowloris connections cut by header_timeout_ms" "closed 300" \
    "$(grep closed "$LAB_DIR/slow.log")"
px_expect "answered after slowloris" "be1 /after" "$(px_curl http://a.test/after)"

# Out of descriptors (the soft limit lowered to 10 above those in use):
# 40 connections wait in the backlog; accept fails with EMFILE and
# pauses 100 ms each time (one debug line a pause, a handful in 2 s; a
# busy loop would log thousands), then serves again once they are gone.
pid=${LAB_PID[node1]}
soft=$(prlimit --pid "$pid" --nofile --noheadings --output SOFT)
prlimit --pid "$pid" --nofile=$(($(ls "/proc/$pid/fd" | wc -l) + 10)): ||
    lab_fail "prlimit"
before=$(grep -c 'proxy: accept: Too many open files' "$LAB_DIR/node1.log")
lab_bg client hold python3 -c '
import socket, sys, time
s = [socket.create_connection((sys.argv[1], 80), timeout=5) for _ in range(40)]
print("opened", flush=True)
time.sleep(2)' $NODE
lab_wait 10 grep -q opened "$LAB_DIR/hold.log" || lab_fail "could not open 40 connections"
wait "$LAB_LAST_PID"
n=$(($(grep -c 'proxy: accept: Too many open files' "$LAB_DIR/node1.log") - before))
[ "$n" -ge 1 ] && [ "$n" -lt 200 ] ||
    lab_fail "EMFILE logged $n times while 40 connections waited 2 s"
PX_PASSED=$((PX_PASSED + 1))
px_expect "answered once descriptors are free" "be1 /fds" "$(px_curl http://a.test/fds)"
prlimit --pid "$pid" --nofile="$soft":
px_done
