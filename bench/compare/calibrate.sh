#!/usr/bin/env bash
# calibrate: hearth-bench against the reference load generators on the same
# targets, to show it is not the bottleneck (issue #3: at least 0.8x of
# wrk's requests/s and dnsperf's queries/s). Targets: nginx serving a
# static 64 B (and 1 MiB) file over http and https, dnsmasq and Unbound
# answering local records; each alone on core 0, the load generator on
# core 1. Each pair is measured in alternation for --rounds rounds and the
# median of each side is compared: ratio = hearth-bench / reference.
#
#   bench/compare/calibrate.sh [--duration S] [--connections N] [--rounds R] [--long]
CMP_TOOLS="wrk+dnsperf"
CMP_TOOL_DEFAULT=wrk+dnsperf
ROUNDS=3
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--rounds) ROUNDS=${2:?--rounds needs a value}; CMP_EXTRA_ARGV="--rounds $ROUNDS"; shift ;;
	*) args+=("$1") ;;
	esac
	shift
done
[[ $ROUNDS =~ ^[1-9][0-9]*$ ]] || { echo "calibrate.sh: --rounds must be a number" >&2; exit 2; }
. "$(dirname "$0")/lib.sh"
cmp_init calibrate "${args[@]}"
cmp_install
W=$CMP_WORK
HB=$HEARTH_BIN/hearth-bench
C=$CMP_CONNECTIONS
D=$CMP_DURATION

# median VALUES...: the median of whole numbers (median_f: of decimals).
median() {
	printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : int((v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
median_f() {
	printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# timed CMD...: runs CMD and writes its children's CPU seconds to $W/cpu.
timed() {
	local TIMEFORMAT='%U %S' rc=0
	{ time "$@" 2>&3; } 3>&2 2>"$W/cpu.raw" || rc=$?
	awk 'NF == 2 && $1 ~ /^[0-9.]+$/ { s += $1 + $2 } END { print s + 0 }' "$W/cpu.raw" >"$W/cpu"
	return $rc
}

# Each measurement prints "RATE CPU_SECONDS" (nothing on failure).
wrk_rps() {
	timed cmp_run 1 wrk -t1 -c"$C" -d"${D}s" "$@" >"$W/wrk.out" 2>&1 || return 0
	grep -q 'Non-2xx\|Socket errors' "$W/wrk.out" && cmp_log "wrk: $(grep 'Non-2xx\|Socket errors' "$W/wrk.out")"
	awk -v cpu="$(cat "$W/cpu")" '/^Requests\/sec:/ { printf "%.0f %s\n", $2, cpu }' "$W/wrk.out"
}

hb_http_rps() {
	timed cmp_run 1 "$HB" http -t 1 -c "$C" -d "$D" --insecure --json "$@" >"$W/hb.out" 2>"$W/hb.err" ||
		{ cmp_log "hearth-bench: $(cat "$W/hb.err")"; return 0; }
	[ "$(jq '[.errors[]] | add' "$W/hb.out")" -eq 0 ] || cmp_log "hearth-bench: $(jq -c .errors "$W/hb.out")"
	echo "$(jq '.requests_per_second | floor' "$W/hb.out") $(cat "$W/cpu")"
}

dnsperf_qps() {
	timed cmp_run 1 dnsperf -s 127.0.0.1 -l "$D" -q 100 "$@" >"$W/dnsperf.out" 2>&1 || return 0
	awk -v cpu="$(cat "$W/cpu")" '/Queries per second:/ { printf "%.0f %s\n", $4, cpu }' "$W/dnsperf.out"
}

hb_dns_qps() {
	timed cmp_run 1 "$HB" dns -d "$D" --in-flight 100 --json "$@" >"$W/hb.out" 2>"$W/hb.err" ||
		{ cmp_log "hearth-bench: $(cat "$W/hb.err")"; return 0; }
	echo "$(jq '.queries_per_second | floor' "$W/hb.out") $(cat "$W/cpu")"
}

# cpu_per_k RATE CPU: the generator's CPU milliseconds per 1000 requests.
cpu_per_k() {
	awk -v r="$1" -v c="$2" -v d="$D" 'BEGIN { printf "%.1f\n", (r > 0 ? c * 1e6 / (r * d) : 0) }'
}

# pair NAME REF_NAME "REF CMD" "HB CMD": alternates both, adds a row for
# the rates and one for the generators' CPU cost.
CPU_ROWS=()
pair() {
	local name=$1 ref=$2 refcmd=$3 hbcmd=$4 a=() b=() ca=() cb=() i x
	for i in $(seq 1 "$ROUNDS"); do
		x=$(eval "$refcmd")
		if [ -n "$x" ]; then
			a+=("${x% *}")
			ca+=("$(cpu_per_k $x)")
		fi
		x=$(eval "$hbcmd")
		if [ -n "$x" ]; then
			b+=("${x% *}")
			cb+=("$(cpu_per_k $x)")
		fi
	done
	local ma="" mb="" mca="" mcb=""
	[ ${#a[@]} -gt 0 ] && ma=$(median "${a[@]}") && mca=$(median_f "${ca[@]}")
	[ ${#b[@]} -gt 0 ] && mb=$(median "${b[@]}") && mcb=$(median_f "${cb[@]}")
	cmp_log "$name: $ref ${a[*]:-failed} | hearth-bench ${b[*]:-failed}"
	cmp_row "$name" "$mb" "$ref" "$ma"
	CPU_ROWS+=("$name|$mcb|$mca")
}

# nginx: static files over http and https, one worker on core 0.
mkdir -p "$W/www" "$W/tmp"
head -c 63 /dev/zero | tr '\0' x >"$W/www/64"
echo >>"$W/www/64"
head -c 1048576 /dev/zero | tr '\0' y >"$W/www/1m"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=bench.test \
	-keyout "$W/key.pem" -out "$W/cert.pem" 2>/dev/null || cmp_die "openssl req failed"
cat >"$W/nginx.conf" <<EOF
worker_processes 1;
daemon off;
master_process off;
pid $W/nginx.pid;
error_log $W/nginx.err warn;
events { worker_connections 16384; }
http {
	access_log off;
	keepalive_requests 1000000;
	sendfile on;
	client_body_temp_path $W/tmp; proxy_temp_path $W/tmp;
	fastcgi_temp_path $W/tmp; uwsgi_temp_path $W/tmp; scgi_temp_path $W/tmp;
	server {
		listen 127.0.0.1:8080;
		listen 127.0.0.1:8443 ssl;
		ssl_certificate $W/cert.pem;
		ssl_certificate_key $W/key.pem;
		root $W/www;
	}
}
EOF
cmp_start nginx 0 nginx -c "$W/nginx.conf"
cmp_wait_tcp 8080
U=http://127.0.0.1:8080
S=https://127.0.0.1:8443
pair "http keep-alive 64 B, req/s" wrk "wrk_rps $U/64" "hb_http_rps --url $U/64"
pair "http keep-alive 1 MiB, req/s" wrk "wrk_rps $U/1m" "hb_http_rps --url $U/1m"
pair "https keep-alive 64 B, req/s" wrk "wrk_rps $S/64" "hb_http_rps --url $S/64"
pair "http new connection 64 B, req/s" wrk "wrk_rps -H 'Connection: close' $U/64" \
	"hb_http_rps --new-connection --url $U/64"
cmp_stop "$CMP_LAST_PID"

# DNS: local records; dnsmasq and Unbound alone on core 0.
printf 'a.lab.test A\nb.lab.test A\nx.wild.lab.test A\nmissing.lab.test A\n' >"$W/q.txt"
cmp_start dnsmasq 0 dnsmasq -k -C /dev/null --port=5353 --listen-address=127.0.0.1 \
	--bind-interfaces --no-resolv --no-hosts --local=/lab.test/ \
	--host-record=a.lab.test,10.0.0.1 --host-record=b.lab.test,10.0.0.2 \
	--address=/wild.lab.test/10.0.1.1 --pid-file="$W/dnsmasq.pid"
cmp_wait 10 ip netns exec "$CMP_NS" dig +time=1 +short -p 5353 @127.0.0.1 a.lab.test ||
	cmp_die "dnsmasq does not answer"
pair "dnsmasq udp, q/s" dnsperf "dnsperf_qps -p 5353 -d $W/q.txt" \
	"hb_dns_qps --server 127.0.0.1:5353 --queries $W/q.txt"
cmp_stop "$CMP_LAST_PID"

cat >"$W/unbound.conf" <<EOF
server:
	interface: 127.0.0.1
	port: 5353
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	directory: "$W"
	pidfile: "$W/unbound.pid"
	use-syslog: no
	logfile: ""
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	incoming-num-tcp: 100
	local-zone: "lab.test." static
	local-zone: "wild.lab.test." redirect
	local-data: "wild.lab.test. 300 IN A 10.0.1.1"
	local-data: "a.lab.test. 300 IN A 10.0.0.1"
	local-data: "b.lab.test. 300 IN A 10.0.0.2"
EOF
cmp_start unbound 0 unbound -d -c "$W/unbound.conf"
cmp_wait 10 ip netns exec "$CMP_NS" dig +time=1 +short -p 5353 @127.0.0.1 a.lab.test ||
	cmp_die "unbound does not answer"
pair "unbound udp, q/s" dnsperf "dnsperf_qps -p 5353 -d $W/q.txt" \
	"hb_dns_qps --server 127.0.0.1:5353 --queries $W/q.txt"
pair "unbound tcp, q/s" dnsperf "dnsperf_qps -m tcp -p 5353 -d $W/q.txt" \
	"hb_dns_qps --tcp --server 127.0.0.1:5353 --queries $W/q.txt"
cmp_stop "$CMP_LAST_PID"

cmp_header
echo "# columns: hearth = hearth-bench, anchor = the reference generator; median of $ROUNDS alternated rounds"
cmp_table
echo
echo "# load generator CPU (user+sys) in ms per 1000 requests or queries; lower leaves more headroom"
printf '%s\n' "${CPU_ROWS[@]}" | awk -F'|' '
	BEGIN { printf "%-50s %12s %12s\n", "name", "hearth-bench", "reference" }
	{ printf "%-50s %12s %12s\n", $1, $2, $3 }'
