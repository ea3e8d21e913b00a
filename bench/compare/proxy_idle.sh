#!/usr/bin/env bash
# proxy_idle: the proxy's memory with many idle client connections, hearth
# vs nginx, one worker each on core 0: N plain HTTP connections (10 of
# them after one request), then N TLS connections after a full handshake
# (ECDSA P-256), held open while the server's resident memory
# (/proc/PID/status VmRSS) is read, with the number of connections the
# server then holds (ss). The issue's goal: under 64 MiB at 10 000 idle
# connections.
#
#   bench/compare/proxy_idle.sh [--connections N]   (default 10000 here)
CMP_TOOLS="python3"
CMP_TOOL_DEFAULT=python3
. "$(dirname "$0")/lib.sh"
have_conn=0
for a in "$@"; do [ "$a" = --connections ] && have_conn=1; done
[ $have_conn = 1 ] || set -- "$@" --connections 10000
cmp_init proxy_idle "$@"
cmp_install
W=$CMP_WORK
N=$CMP_CONNECTIONS
ulimit -n $((N * 2 + 1024)) 2>/dev/null || cmp_log "warning: cannot raise the open-file limit"

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=bench.test -addext subjectAltName=DNS:bench.test \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null || cmp_die "openssl req failed"
mkdir -p "$W/www" "$W/tmp"
echo ok >"$W/www/index.html"
temps="client_body_temp_path $W/tmp; proxy_temp_path $W/tmp; fastcgi_temp_path $W/tmp;
	uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;"
cat >"$W/backend.conf" <<EOF
worker_processes 1; daemon off; master_process off; pid $W/backend.pid;
error_log $W/backend.err warn; events { worker_connections 1024; }
http { access_log off; $temps server { listen 127.0.0.1:8080; root $W/www; } }
EOF
cat >"$W/nginx.conf" <<EOF
worker_processes 1; daemon off; master_process off; pid $W/nginx.pid;
error_log $W/nginx.err warn; worker_rlimit_nofile $((N * 2 + 1024));
events { worker_connections $((N + 1024)); }
http { access_log off; $temps
	upstream backend { server 127.0.0.1:8080; keepalive 64; }
	server { listen 127.0.0.1:8000; listen 127.0.0.1:8443 ssl;
		ssl_certificate $W/cert.pem; ssl_certificate_key $W/key.pem;
		ssl_protocols TLSv1.2 TLSv1.3;
		location / { proxy_pass http://backend; proxy_http_version 1.1;
			proxy_set_header Connection ""; } } }
EOF
cat >"$W/hearth.yaml" <<EOF
node: {name: bench}
proxy:
  http_port: 8000
  https_port: 8443
  certificates: [{cert: $W/cert.pem, key: $W/key.pem}]
  # nginx's client_header_timeout is 60 s: the same wait for a first
  # request (hearth's default, 10 s, closes the first TLS connections
  # before the client has opened the last ones)
  limits: {max_connections: $((N + 1024)), header_timeout_ms: 60000}
  routes:
    - hostnames: [bench.test, "127.0.0.1"]
      rules:
        - backends: [{address: 127.0.0.1:8080}]
EOF
# The client: N connections (TLS with a third argument), one request on
# 10 of them, "open" once all are up, then holds them until stdin closes.
cat >"$W/idle.py" <<'EOF'
import socket, ssl, sys
n, port, tls = int(sys.argv[1]), int(sys.argv[2]), len(sys.argv) > 3
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
socks = []
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    socks.append(ctx.wrap_socket(s, server_hostname="bench.test") if tls else s)
for s in socks[:10]:
    s.sendall(b"GET / HTTP/1.1\r\nHost: bench.test\r\n\r\n")
    s.recv(65536)
print("open", len(socks), flush=True)
sys.stdin.read()
EOF

rss_mib() { awk '/^VmRSS:/ { printf "%.0f\n", $2 / 1024 }' "/proc/$1/status"; }

# idle PID PORT [tls]: holds N idle connections to PORT, prints the RSS.
idle() {
	local pid=$1 port=$2 fifo=$W/hold out=$W/idle.out cpid rss=
	rm -f "$fifo" && mkfifo "$fifo"
	cmp_run 1 python3 "$W/idle.py" "$N" "$port" ${3:+tls} <"$fifo" >"$out" 2>&1 &
	cpid=$!
	exec 3>"$fifo"
	cmp_wait 300 grep -q '^open' "$out" && rss=$(rss_mib "$pid")
	[ -n "$rss" ] || cmp_log "client on port $port failed: $(tail -1 "$out")"
	HELD=$(ip netns exec "$CMP_NS" ss -Htn state established "( sport = :$port )" | wc -l)
	[ "$HELD" -eq "$N" ] || cmp_log "warning: $HELD of $N connections open on port $port at the reading"
	exec 3>&-
	wait "$cpid" 2>/dev/null
	echo "$HELD $rss"
}

declare -A RSS=()
cmp_start backend 1 nginx -c "$W/backend.conf"
cmp_wait_tcp 8080
for server in hearth nginx; do
	if [ $server = hearth ]; then
		[ -x "$HEARTH_BIN/hearthd" ] || { cmp_log "no hearthd"; continue; }
		cmp_start hearth 0 "$HEARTH_BIN/hearthd" -c "$W/hearth.yaml" --foreground
	else
		cmp_start nginx 0 nginx -c "$W/nginx.conf"
	fi
	cmp_wait_tcp 8000
	cmp_wait_tcp 8443
	RSS[$server|start]=$(rss_mib "$CMP_LAST_PID")
	read -r "RSS[$server|plain_held]" "RSS[$server|plain]" <<<"$(idle "$CMP_LAST_PID" 8000)"
	read -r "RSS[$server|tls_held]" "RSS[$server|tls]" <<<"$(idle "$CMP_LAST_PID" 8443 tls)"
	cmp_log "$server: RSS ${RSS[$server|start]} MiB at start, ${RSS[$server|plain]:-?} MiB with $N idle plain connections, ${RSS[$server|tls]:-?} MiB with $N idle TLS connections"
	cmp_stop "$CMP_LAST_PID"
done

cmp_header
cmp_row "RSS MiB at start, lower is better" "${RSS[hearth|start]:-}" nginx "${RSS[nginx|start]:-}"
cmp_row "RSS MiB, $N idle plain, lower is better" "${RSS[hearth|plain]:-}" nginx "${RSS[nginx|plain]:-}"
cmp_row "RSS MiB, $N idle TLS, lower is better" "${RSS[hearth|tls]:-}" nginx "${RSS[nginx|tls]:-}"
cmp_row "plain connections open at the reading" "${RSS[hearth|plain_held]:-}" nginx "${RSS[nginx|plain_held]:-}"
cmp_row "TLS connections open at the reading" "${RSS[hearth|tls_held]:-}" nginx "${RSS[nginx|tls_held]:-}"
cmp_table
