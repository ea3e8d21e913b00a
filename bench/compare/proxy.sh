#!/usr/bin/env bash
# proxy: hearth's reverse proxy vs nginx (proxy_pass with upstream
# keepalive) vs HAProxy, in front of the same backend (an nginx serving
# static 64 B and 1 MiB files), under the same closed-loop load: plain
# HTTP keep-alive, TLS keep-alive, and TLS with a new connection (a full
# handshake, RSA 2048 and ECDSA P-256 certificates) per request. The proxy
# under test runs alone on core 0 with one worker; the backend and the load
# generator share core 1. Per row: requests/s, requests per second of the
# proxy's CPU time (user + system, all threads, from /proc), and p99
# latency; ratio = hearth / anchor (for p99, lower is better).
#
#   bench/compare/proxy.sh [--duration S] [--connections N] [--tool wrk|hearth-bench] [--long]
#                          [--repeat N]
#
# --repeat N measures every row N times, in N whole passes over the three
# proxies (so that a noisy minute hits all of them alike), and reports
# each row's median (requests/s, per CPU-second and p99 separately).
#
# Keep-alive rows use --tool (default wrk); the new-connection row always
# uses hearth-bench --new-connection, which never resumes a TLS session
# (wrk reuses sessions on reconnect, so it cannot force full handshakes).
#
# For profiling, the environment narrows and instruments a run:
#   PROXY_SERVERS="hearth nginx"  only these proxies (default all three)
#   PROXY_ROWS=REGEX              only rows whose name matches (grep -E)
#   PROXY_PROFILE=perf|stat|strace|counts, PROXY_PROFILE_DIR=DIR: during
#     each measurement, `perf record -g`, `perf stat` or `strace -c -f` the
#     proxy; output in DIR/SERVER-ROW.{data,txt}. counts: system calls by
#     name (perf stat of the syscall tracepoints, little overhead) in
#     DIR/SERVER-ROW.txt and the namespace's TCP counters (nstat) in
#     DIR/SERVER-ROW.nstat; divide by the requests (the row's requests/s
#     times the duration, both logged) for per-request figures
CMP_TOOLS="wrk hearth-bench"
CMP_TOOL_DEFAULT=wrk
. "$(dirname "$0")/lib.sh"
CMP_REPEATABLE=1
cmp_init proxy "$@"
cmp_install
W=$CMP_WORK
BACKEND_PORT=8080 # the backend nginx (static files)
PLAIN_PORT=8000   # the proxy under test, http
TLS_PORT=8443     # the proxy under test, https

# ---------------------------------------------------------------------------
# hearth: THE PROXY MODULE'S HELPER COMPLETES THIS FUNCTION.
# Start hearthd as the reverse proxy under test, pinned like the anchors:
#   - listen http on 127.0.0.1:$PLAIN_PORT and https on 127.0.0.1:$TLS_PORT
#     (certificate $W/cert.pem, key $W/key.pem, for "bench.test"),
#   - route every request to the backend 127.0.0.1:$BACKEND_PORT with
#     upstream keep-alive, one worker,
#   - start it with: cmp_start hearth 0 "$HEARTH_BIN/hearthd" -c "$W/hearth.yaml" --foreground
#     then: cmp_wait_tcp $PLAIN_PORT; cmp_wait_tcp $TLS_PORT
# Return 0 when it serves, 1 while hearth has no proxy (hearth's column then
# shows n/a). The caller stops it with cmp_stop "$CMP_LAST_PID".
hearth_proxy_start() {
	[ -x "$HEARTH_BIN/hearthd" ] || return 1
	cat >"$W/hearth.yaml" <<EOF
node: {name: bench}
proxy:
  http_port: $PLAIN_PORT
  https_port: $TLS_PORT
  certificates:
    - {cert: $W/cert.pem, key: $W/key.pem}
  routes:
    - hostnames: [bench.test, "127.0.0.1"]
      rules:
        - backends: [{address: 127.0.0.1:$BACKEND_PORT}]
EOF
	# hearthd listens on every address; the namespace has only loopback.
	cmp_start hearth 0 "$HEARTH_BIN/hearthd" -c "$W/hearth.yaml" --foreground
	cmp_wait_tcp $PLAIN_PORT
	cmp_wait_tcp $TLS_PORT
}
# ---------------------------------------------------------------------------

nginx_common() {
	cat <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $W/nginx-$1.pid;
error_log $W/nginx-$1.err warn;
events { worker_connections 16384; }
http {
	access_log off;
	keepalive_requests 1000000;
	client_body_temp_path $W/tmp-$1; proxy_temp_path $W/tmp-$1;
	fastcgi_temp_path $W/tmp-$1; uwsgi_temp_path $W/tmp-$1; scgi_temp_path $W/tmp-$1;
EOF
}

backend_start() {
	mkdir -p "$W/www"
	head -c 63 /dev/zero | tr '\0' x >"$W/www/64"
	echo >>"$W/www/64"
	head -c 1048576 /dev/zero | tr '\0' y >"$W/www/1m"
	{
		nginx_common backend
		cat <<EOF
	sendfile on;
	server { listen 127.0.0.1:$BACKEND_PORT; root $W/www; }
}
EOF
	} >"$W/backend.conf"
	cmp_start backend 1 nginx -c "$W/backend.conf"
	cmp_wait_tcp $BACKEND_PORT
}

nginx_proxy_start() {
	{
		nginx_common proxy
		cat <<EOF
	upstream backend { server 127.0.0.1:$BACKEND_PORT; keepalive 64; keepalive_requests 1000000; }
	server {
		listen 127.0.0.1:$PLAIN_PORT;
		listen 127.0.0.1:$TLS_PORT ssl;
		ssl_certificate $W/cert.pem;
		# nginx 1.22 (Debian 12) leaves TLS 1.3 off by default; hearth and
		# HAProxy negotiate it, so the rows compare like with like.
		ssl_protocols TLSv1.2 TLSv1.3;
		ssl_certificate_key $W/key.pem;
		location / {
			proxy_pass http://backend;
			proxy_http_version 1.1;
			proxy_set_header Connection "";
			proxy_max_temp_file_size 0;
		}
	}
}
EOF
	} >"$W/nginx-proxy.conf"
	cmp_start nginx 0 nginx -c "$W/nginx-proxy.conf"
	cmp_wait_tcp $PLAIN_PORT
	cmp_wait_tcp $TLS_PORT
}

haproxy_start() {
	cat "$W/cert.pem" "$W/key.pem" >"$W/combined.pem"
	cat >"$W/haproxy.cfg" <<EOF
global
	nbthread 1
	maxconn 4096
defaults
	mode http
	timeout connect 5s
	timeout client 30s
	timeout server 30s
	option http-keep-alive
	http-reuse always
frontend fe
	bind 127.0.0.1:$PLAIN_PORT
	bind 127.0.0.1:$TLS_PORT ssl crt $W/combined.pem
	default_backend be
backend be
	server s1 127.0.0.1:$BACKEND_PORT maxconn 4096
EOF
	cmp_start haproxy 0 haproxy -db -f "$W/haproxy.cfg"
	cmp_wait_tcp $PLAIN_PORT
	cmp_wait_tcp $TLS_PORT
}

# server_cpu: the proxy's user+system CPU time (all threads), clock ticks.
server_cpu() {
	awk '{ print $14 + $15 }' "/proc/$CMP_LAST_PID/stat" 2>/dev/null || echo 0
}

PROFILE_PID=
PROFILE_NAME=
profile_start() {
	[ -n "${PROXY_PROFILE:-}" ] || return 0
	local d=${PROXY_PROFILE_DIR:?PROXY_PROFILE_DIR is needed with PROXY_PROFILE}
	mkdir -p "$d"
	case $PROXY_PROFILE in
	perf) perf record -q -g -p "$CMP_LAST_PID" -o "$d/$PROFILE_NAME.data" 2>/dev/null & ;;
	stat) perf stat -p "$CMP_LAST_PID" -o "$d/$PROFILE_NAME.txt" & ;;
	strace) strace -c -f -p "$CMP_LAST_PID" -o "$d/$PROFILE_NAME.txt" & ;;
	counts)
		local ev=raw_syscalls:sys_enter s
		for s in epoll_wait epoll_ctl recvfrom sendto read write readv writev \
			accept4 close shutdown setsockopt getsockopt; do
			ev=$ev,syscalls:sys_enter_$s
		done
		ip netns exec "$CMP_NS" nstat -n
		perf stat -x, -e "$ev" -p "$CMP_LAST_PID" -o "$d/$PROFILE_NAME.txt" &
		;;
	*) cmp_die "PROXY_PROFILE must be perf, stat, strace or counts" ;;
	esac
	PROFILE_PID=$!
	sleep 0.3
}
profile_stop() {
	[ -n "$PROFILE_PID" ] || return 0
	kill -INT "$PROFILE_PID" 2>/dev/null
	wait "$PROFILE_PID" 2>/dev/null
	[ "$PROXY_PROFILE" = counts ] &&
		ip netns exec "$CMP_NS" nstat >"$PROXY_PROFILE_DIR/$PROFILE_NAME.nstat"
	PROFILE_PID=
}

# tls_params: what the proxy now running negotiates with OpenSSL's client
# defaults (protocol, cipher, key exchange group, session tickets sent),
# so that the rows compare like with like.
tls_params() {
	local out
	out=$(printf 'GET /64 HTTP/1.1\r\nHost: bench.test\r\nConnection: close\r\n\r\n' |
		ip netns exec "$CMP_NS" timeout 5 openssl s_client -connect 127.0.0.1:$TLS_PORT \
			-servername bench.test -msg -ign_eof 2>/dev/null)
	printf '%s, %s, group %s, %s session tickets\n' \
		"$(awk '/^New, / { print $2; exit }' <<<"$out" | tr -d ,)" \
		"$(awk '/^New, / { print $5; exit }' <<<"$out")" \
		"$(awk -F': ' '/^(Server|Peer) Temp Key/ { print $2; exit }' <<<"$out")" \
		"$(grep -c 'NewSessionTicket' <<<"$out")"
}

# measure TOOL URL [--new-connection]: prints "requests/s
# requests-per-proxy-CPU-second p99-ms" (fields empty on failure).
measure() {
	local tool=$1 url=$2 new=${3:-} out=$W/measure.out rps p99 c0 c1
	profile_start
	c0=$(server_cpu)
	if [ "$tool" = wrk ]; then
		cmp_run 1 wrk -t1 -c"$CMP_CONNECTIONS" -d"${CMP_DURATION}s" --latency "$url" >"$out" 2>&1 ||
			{ cmp_log "wrk failed: $(tail -1 "$out")"; return 0; }
		grep -q 'Non-2xx\|Socket errors' "$out" && cmp_log "wrk $url: $(grep 'Non-2xx\|Socket errors' "$out")"
		rps=$(awk '/^Requests\/sec:/ { printf "%.0f\n", $2 }' "$out")
		p99=$(awk '$1 == "99%" { v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
			f = (u == "us") ? 0.001 : (u == "s") ? 1000 : 1; printf "%.3f\n", v * f }' "$out")
	else
		cmp_run 1 "$HEARTH_BIN/hearth-bench" http --url "$url" --insecure -t 1 \
			-c "$CMP_CONNECTIONS" -d "$CMP_DURATION" $new --json >"$out" 2>"$W/measure.err" ||
			{ cmp_log "hearth-bench failed: $(cat "$W/measure.err")"; return 0; }
		local errs
		errs=$(jq '[.errors[]] | add' "$out")
		[ "$errs" -eq 0 ] || cmp_log "hearth-bench $url: errors $(jq -c .errors "$out")"
		rps=$(jq '.requests_per_second | floor' "$out")
		p99=$(jq '.latency_ms.p99' "$out")
	fi
	c1=$(server_cpu)
	profile_stop
	awk -v q="$rps" -v r="$CMP_DURATION" -v c=$((c1 - c0)) -v p="$p99" \
		'BEGIN { printf "%s %s %s\n", q, (c > 0 ? int(q * r / (c / 100)) : ""), p }'
}

# The rows: name|scheme|path|mode; the key type is chosen per pass below.
CASES=(
	"http keep-alive 64 B|http|/64|keep-alive"
	"http keep-alive 1 MiB|http|/1m|keep-alive"
	"https keep-alive 64 B|https|/64|keep-alive"
	"https keep-alive 1 MiB|https|/1m|keep-alive"
	"https new connection 64 B, RSA 2048|https|/64|new"
)
ECDSA_CASES=(
	"https new connection 64 B, ECDSA P-256|https|/64|new"
)
declare -A RESULT=()

# run_cases SERVER CASE...: measures the cases against the proxy now running.
run_cases() {
	local server=$1 c name scheme path mode port q cpu p
	shift
	for c in "$@"; do
		IFS='|' read -r name scheme path mode <<<"$c"
		[[ $name =~ ${PROXY_ROWS:-.} ]] || continue
		PROFILE_NAME=$server-$(tr -c 'a-zA-Z0-9\n' - <<<"$name")
		port=$PLAIN_PORT
		[ "$scheme" = https ] && port=$TLS_PORT
		if [ "$mode" = new ]; then
			read -r q cpu p <<<"$(measure hearth-bench "$scheme://127.0.0.1:$port$path" --new-connection)"
		else
			read -r q cpu p <<<"$(measure "$CMP_TOOL" "$scheme://127.0.0.1:$port$path")"
		fi
		RESULT[$server|$name]+="${q:-} "
		RESULT[$server|$name|cpu]+="${cpu:-} "
		RESULT[$server|$name|p99]+="${p:-} "
		cmp_log "$server: $name: ${q:-failed} requests/s, ${cpu:-?} per proxy CPU-second, p99 ${p:-?} ms"
	done
}

# median VALUES...: the median of the non-empty values (empty if none).
median() {
	printf '%s\n' "$@" | awk 'NF' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

mkdir -p "$W/tmp-proxy" "$W/tmp-backend"
backend_start
for pass in $(seq 1 "$REPEAT"); do
[ "$REPEAT" -gt 1 ] && cmp_log "pass $pass of $REPEAT"
for key in rsa ecdsa; do
	if [ $key = rsa ]; then
		keyopt=(-newkey rsa:2048)
		cases=("${CASES[@]}")
	else
		keyopt=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1)
		cases=("${ECDSA_CASES[@]}")
	fi
	openssl req -x509 "${keyopt[@]}" -nodes -days 2 -subj /CN=bench.test \
		-addext subjectAltName=DNS:bench.test -keyout "$W/key.pem" -out "$W/cert.pem" \
		2>/dev/null || cmp_die "openssl req failed"
	for server in ${PROXY_SERVERS:-hearth nginx haproxy}; do
		case $server in
		hearth)
			if ! hearth_proxy_start; then
				cmp_log "hearth: proxy not available; its column is n/a"
				continue
			fi
			;;
		nginx) nginx_proxy_start ;;
		haproxy) haproxy_start ;;
		esac
		cmp_log "$server ($key key): TLS $(tls_params)"
		run_cases "$server" "${cases[@]}"
		cmp_stop "$CMP_LAST_PID"
	done
done
done
for k in "${!RESULT[@]}"; do
	# shellcheck disable=SC2086 # the values are space-separated numbers
	RESULT[$k]=$(median ${RESULT[$k]})
done

cmp_header
for c in "${CASES[@]}" "${ECDSA_CASES[@]}"; do
	name=${c%%|*}
	tool=$CMP_TOOL
	[[ $c == *"|new" ]] && tool=hearth-bench
	for anchor in nginx haproxy; do
		cmp_row "$name, req/s ($tool)" "${RESULT[hearth|$name]:-}" "$anchor" "${RESULT[$anchor|$name]:-}"
		cmp_row "$name, req/s per proxy CPU-s" "${RESULT[hearth|$name|cpu]:-}" \
			"$anchor" "${RESULT[$anchor|$name|cpu]:-}"
		cmp_row "$name, p99 ms, lower is better" "${RESULT[hearth|$name|p99]:-}" \
			"$anchor" "${RESULT[$anchor|$name|p99]:-}"
	done
done
cmp_table
