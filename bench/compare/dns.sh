#!/usr/bin/env bash
# dns: hearth's DNS vs dnsmasq vs Unbound (local-data), under the same
# load: authoritative answers for local names, wildcard answers,
# NXDOMAIN inside the local zone, and cache hits for names forwarded to an
# upstream (a dnsmasq on core 1 that answers fwd.test with TTL 300). The
# server under test runs alone on core 0 with one thread; the upstream and
# the load generator share core 1. Per row: queries/s, queries per
# second of the server's CPU time (user + system, from /proc), and with
# hearth-bench the p99 latency; ratio = hearth / anchor. Then the
# server's CPU at a fixed load: authoritative queries paced at $DNS_RATE
# per second (dnsperf -Q, hearth-bench --rate), in percent of a core.
#
#   bench/compare/dns.sh [--duration S] [--connections N] [--tool dnsperf|hearth-bench|both] [--long]
#                        [--repeat N]
#
# --connections is the number of queries in flight (dnsperf -q). With
# --tool both (the default) every row is measured with dnsperf and with
# hearth-bench. --repeat N measures every row N times, in N whole passes
# over the three servers (so a disturbance of the machine hits one pass,
# not one server), and prints each row's median. hearth-bench rows also
# give the median latency (p50) beside p99.
CMP_TOOLS="dnsperf hearth-bench both"
CMP_TOOL_DEFAULT=both
. "$(dirname "$0")/lib.sh"
CMP_REPEATABLE=1
cmp_init dns "$@"
cmp_install
W=$CMP_WORK
UPSTREAM_PORT=5300 # the upstream for the cache rows (dnsmasq, core 1)
PORT=5353          # the server under test
DNS_RATE=${DNS_RATE:-20000} # the fixed load of the "% of a core" rows

# The local data every server under test serves, as a user would write it:
#   a.lab.test .. h.lab.test   A 10.0.0.1 .. 10.0.0.8   (authoritative)
#   *.wild.lab.test            A 10.0.1.1               (wildcard)
#   any other name in lab.test NXDOMAIN
#   *.fwd.test                 forwarded to 127.0.0.1:$UPSTREAM_PORT (cached)
LOCAL_NAMES=(a b c d e f g h)
CACHE_NAMES=(c1 c2 c3 c4 c5 c6 c7 c8)

# hearth: the local data above as a zone with one view for everyone;
# fwd.test is outside the zone, so it is forwarded (127.0.0.0/8 are
# recursion clients) and cached.
hearth_dns_start() {
	[ -x "$HEARTH_BIN/hearthd" ] || return 1
	local n i=1
	{
		cat <<EOF
node: {name: bench}
dns:
  listen: [127.0.0.1:$PORT]
  forwarders: [127.0.0.1:$UPSTREAM_PORT]
  recursion_clients: [127.0.0.0/8]
  cache_entries: 10000
  zones:
    - origin: lab.test
      views:
        - name: all
          clients: [0.0.0.0/0, '::/0']
          records:
            - "*.wild 300 IN A 10.0.1.1"
EOF
		for n in "${LOCAL_NAMES[@]}"; do
			echo "            - \"$n 300 IN A 10.0.0.$i\""
			i=$((i + 1))
		done
	} >"$W/hearth.yaml"
	cmp_start hearth 0 "$HEARTH_BIN/hearthd" -c "$W/hearth.yaml" --foreground \
		--log-level warn
	dns_wait
}

# dns_wait [PORT]: waits until the server answers a.lab.test.
dns_wait() {
	cmp_wait 10 ip netns exec "$CMP_NS" dig +time=1 +tries=1 +short -p "${1:-$PORT}" \
		@127.0.0.1 "${2:-a.lab.test}" A ||
		cmp_die "no DNS answers on 127.0.0.1:${1:-$PORT} (see $CMP_WORK/*.log)"
}

upstream_start() {
	local args=() n i=1
	for n in "${CACHE_NAMES[@]}"; do
		args+=("--host-record=$n.fwd.test,10.1.0.$i")
		i=$((i + 1))
	done
	cmp_start upstream 1 dnsmasq -k -C /dev/null --port=$UPSTREAM_PORT \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
		--local=/fwd.test/ --local-ttl=300 --pid-file="$W/upstream.pid" "${args[@]}"
	dns_wait $UPSTREAM_PORT c1.fwd.test
}

dnsmasq_start() {
	local args=() n i=1
	for n in "${LOCAL_NAMES[@]}"; do
		args+=("--host-record=$n.lab.test,10.0.0.$i")
		i=$((i + 1))
	done
	cmp_start dnsmasq 0 dnsmasq -k -C /dev/null --port=$PORT \
		--listen-address=127.0.0.1 --bind-interfaces --no-resolv --no-hosts \
		--local=/lab.test/ --address=/wild.lab.test/10.0.1.1 \
		--server=/fwd.test/127.0.0.1#$UPSTREAM_PORT --cache-size=10000 \
		--dns-forward-max=1000 --pid-file="$W/dnsmasq.pid" "${args[@]}"
	dns_wait
}

unbound_start() {
	local n i=1
	{
		cat <<EOF
server:
	interface: 127.0.0.1
	port: $PORT
	num-threads: 1
	so-reuseport: no
	username: ""
	chroot: ""
	directory: "$W"
	pidfile: "$W/unbound.pid"
	use-syslog: no
	logfile: ""
	verbosity: 0
	do-ip6: no
	access-control: 127.0.0.0/8 allow
	module-config: "iterator"
	do-not-query-localhost: no
	msg-cache-size: 16m
	rrset-cache-size: 32m
	local-zone: "lab.test." static
	local-zone: "wild.lab.test." redirect
	local-data: "wild.lab.test. 300 IN A 10.0.1.1"
	domain-insecure: "fwd.test."
EOF
		for n in "${LOCAL_NAMES[@]}"; do
			echo "	local-data: \"$n.lab.test. 300 IN A 10.0.0.$i\""
			i=$((i + 1))
		done
		cat <<EOF
forward-zone:
	name: "fwd.test."
	forward-addr: 127.0.0.1@$UPSTREAM_PORT
EOF
	} >"$W/unbound.conf"
	cmp_start unbound 0 unbound -d -c "$W/unbound.conf"
	dns_wait
}

write_query_files() {
	local n i
	for n in "${LOCAL_NAMES[@]}"; do echo "$n.lab.test A"; done >"$W/auth.txt"
	for i in $(seq 1 64); do echo "host$i.wild.lab.test A"; done >"$W/wild.txt"
	for i in $(seq 1 64); do echo "missing$i.lab.test A"; done >"$W/nxdomain.txt"
	for n in "${CACHE_NAMES[@]}"; do echo "$n.fwd.test A"; done >"$W/cache.txt"
}

# warm_cache: asks each forwarded name once so the rows measure hits.
warm_cache() {
	local n
	for n in "${CACHE_NAMES[@]}"; do
		ip netns exec "$CMP_NS" dig +short -p $PORT @127.0.0.1 "$n.fwd.test" A >/dev/null
	done
}

# server_cpu: the server's user+system CPU time in clock ticks.
server_cpu() {
	awk '{ print $14 + $15 }' "/proc/$CMP_LAST_PID/stat" 2>/dev/null || echo 0
}

# measure TOOL FILE [RATE]: prints "queries/s queries-per-server-CPU-second
# p99-ms percent-of-a-core p50-ms" ("-" on failure; latencies only from
# hearth-bench). With RATE the queries are paced at RATE per second.
measure() {
	local tool=$1 file=$2 rate=${3:-} out=$W/measure.out c0 c1 qps run p99= p50=
	local pace=()
	c0=$(server_cpu)
	if [ "$tool" = dnsperf ]; then
		[ -n "$rate" ] && pace=(-Q "$rate")
		cmp_run 1 dnsperf -s 127.0.0.1 -p $PORT -d "$file" -l "$CMP_DURATION" -c 8 \
			-q "$CMP_CONNECTIONS" "${pace[@]}" >"$out" 2>&1 ||
			{ cmp_log "dnsperf failed: $(tail -1 "$out")"; return 0; }
		awk '/Queries lost:/ && $3 > 0 { print "lost " $3 > "/dev/stderr" }' "$out"
		qps=$(awk '/Queries per second:/ { printf "%.0f\n", $4 }' "$out")
		run=$(awk '/Run time \(s\):/ { print $4 }' "$out")
	else
		[ -n "$rate" ] && pace=(--rate "$rate")
		cmp_run 1 "$HEARTH_BIN/hearth-bench" dns --server 127.0.0.1:$PORT \
			--queries "$file" -d "$CMP_DURATION" --in-flight "$CMP_CONNECTIONS" \
			"${pace[@]}" --json >"$out" 2>"$W/measure.err" ||
			{ cmp_log "hearth-bench failed: $(cat "$W/measure.err")"; return 0; }
		[ "$(jq '.errors.timeout' "$out")" -eq 0 ] ||
			cmp_log "hearth-bench: $(jq -c .errors "$out")"
		qps=$(jq '.queries_per_second | floor' "$out")
		p99=$(jq '.latency_ms.p99' "$out")
		p50=$(jq '.latency_ms.p50' "$out")
		run=$CMP_DURATION
	fi
	c1=$(server_cpu)
	# queries answered / server CPU seconds (clock ticks are 1/100 s);
	# CPU seconds per second of the run, in percent
	awk -v q="$qps" -v r="$run" -v c=$((c1 - c0)) -v p="$p99" -v m="$p50" \
		'BEGIN { printf "%s %s %s %.1f %s\n", (q == "" ? "-" : q), (c > 0 ? int(q * r / (c / 100)) : "-"),
			(p == "" ? "-" : p), (r > 0 ? c / r : 0), (m == "" ? "-" : m) }'
}

CASES=("authoritative|auth" "wildcard|wild" "NXDOMAIN|nxdomain" "cache hits|cache")
TOOLS=("$CMP_TOOL")
[ "$CMP_TOOL" = both ] && TOOLS=(dnsperf hearth-bench)
declare -A RESULT=()

# Each RESULT cell collects one value per pass (space-separated).
run_cases() {
	local server=$1 c name file tool q p pct m
	warm_cache
	for c in "${CASES[@]}"; do
		IFS='|' read -r name file <<<"$c"
		for tool in "${TOOLS[@]}"; do
			read -r q c p _ m <<<"$(measure "$tool" "$W/$file.txt")"
			[ "$q" = - ] && q=
			[ "$c" = - ] && c=
			[ "$p" = - ] && p=
			[ "$m" = - ] && m=
			RESULT[$server|$name|$tool]+="${q:-} "
			RESULT[$server|$name|$tool|cpu]+="${c:-} "
			RESULT[$server|$name|$tool|p99]+="${p:-} "
			RESULT[$server|$name|$tool|p50]+="${m:-} "
			cmp_log "$server: $name ($tool): ${q:-failed} queries/s, ${c:-?} per server CPU-second, p50 ${m:-?} ms, p99 ${p:-?} ms"
		done
	done
	for tool in "${TOOLS[@]}"; do
		read -r q c p pct m <<<"$(measure "$tool" "$W/auth.txt" "$DNS_RATE")"
		[ "$q" = - ] && q= && pct=
		[ "$p" = - ] && p=
		[ "$m" = - ] && m=
		RESULT[$server|rate|$tool]+="${pct:-} "
		RESULT[$server|rate|$tool|p99]+="${p:-} "
		RESULT[$server|rate|$tool|p50]+="${m:-} "
		cmp_log "$server: $DNS_RATE queries/s paced ($tool): ${q:-failed} answered/s, ${pct:-?}% of a core, p50 ${m:-?} ms, p99 ${p:-?} ms"
	done
}

# median VALUES...: the median of the non-empty values (empty if none).
median() {
	printf '%s\n' "$@" | awk 'NF' | sort -g | awk '{ v[NR] = $1 }
		END { if (NR) print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

write_query_files
upstream_start
for pass in $(seq 1 "$REPEAT"); do
	[ "$REPEAT" -gt 1 ] && cmp_log "pass $pass of $REPEAT"
	for server in hearth dnsmasq unbound; do
		case $server in
		hearth)
			if ! hearth_dns_start; then
				cmp_log "hearth: DNS not available yet; its column is n/a"
				continue
			fi
			;;
		dnsmasq) dnsmasq_start ;;
		unbound) unbound_start ;;
		esac
		run_cases "$server"
		cmp_stop "$CMP_LAST_PID"
	done
done
for k in "${!RESULT[@]}"; do
	# shellcheck disable=SC2086 # the values are space-separated numbers
	RESULT[$k]=$(median ${RESULT[$k]})
done

cmp_header
for c in "${CASES[@]}"; do
	name=${c%%|*}
	for tool in "${TOOLS[@]}"; do
		for anchor in dnsmasq unbound; do
			cmp_row "$name, q/s ($tool)" "${RESULT[hearth|$name|$tool]:-}" \
				"$anchor" "${RESULT[$anchor|$name|$tool]:-}"
			cmp_row "$name, q/s per server CPU-s ($tool)" \
				"${RESULT[hearth|$name|$tool|cpu]:-}" \
				"$anchor" "${RESULT[$anchor|$name|$tool|cpu]:-}"
			[ "$tool" = hearth-bench ] || continue
			cmp_row "$name, p50 ms, lower is better ($tool)" \
				"${RESULT[hearth|$name|$tool|p50]:-}" \
				"$anchor" "${RESULT[$anchor|$name|$tool|p50]:-}"
			cmp_row "$name, p99 ms, lower is better ($tool)" \
				"${RESULT[hearth|$name|$tool|p99]:-}" \
				"$anchor" "${RESULT[$anchor|$name|$tool|p99]:-}"
		done
	done
done
for tool in "${TOOLS[@]}"; do
	for anchor in dnsmasq unbound; do
		cmp_row "$((DNS_RATE / 1000))k q/s paced, % of a core, lower is better ($tool)" \
			"${RESULT[hearth|rate|$tool]:-}" "$anchor" "${RESULT[$anchor|rate|$tool]:-}"
		[ "$tool" = hearth-bench ] || continue
		cmp_row "$((DNS_RATE / 1000))k q/s paced, p50 ms, lower is better ($tool)" \
			"${RESULT[hearth|rate|$tool|p50]:-}" "$anchor" "${RESULT[$anchor|rate|$tool|p50]:-}"
		cmp_row "$((DNS_RATE / 1000))k q/s paced, p99 ms, lower is better ($tool)" \
			"${RESULT[hearth|rate|$tool|p99]:-}" "$anchor" "${RESULT[$anchor|rate|$tool|p99]:-}"
	done
done
cmp_table
