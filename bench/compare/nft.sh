#!/usr/bin/env bash
# nft: hearth's nft module vs `nft -f` of the equivalent ruleset. For N =
# 100, 1,000 and 10,000 services x 2 endpoints:
#   - full load: hearth-bench nft (the module's engine in a namespace of
#     its own) vs `nft -f` of a file holding the same table (same named
#     maps, chains and elements) into an empty namespace;
#   - one change: one endpoint of one service replaced; hearth gets a new
#     model derived from the previous one with a change hint naming the
#     service (as the Kubernetes watcher makes it), and -- the reload
#     row -- the same without a hint (as on SIGHUP: whole models
#     compared); `nft -f` loads a two-line file (delete element, add
#     element);
#   - anonymous sets in the table: hearth's must stay 0 whatever N.
# Times are wall clock and CPU (user + system of the process; the kernel's
# work on a batch runs in the sender's context, so it is included); full
# loads are the best and the median of $LOADS runs on each side, so that
# other load on the machine shows less. The header counts the sockets
# listening to nftables notifications in any namespace: while there is
# one, the kernel builds a notification per element for every batch
# (hearth pauses its own watch during large batches; it cannot pause
# anyone else's). Both run pinned to core 0. Lower is better; ratio = anchor / hearth (how many
# times faster hearth is).
#
#   bench/compare/nft.sh [--changes C] [--sizes "100 1000 10000"]
CMP_TOOLS="nft"
CMP_TOOL_DEFAULT=nft
CHANGES=1000
ANCHOR_CHANGES=50
LOADS=5
SIZES="100 1000 10000"
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--changes) CHANGES=${2:?--changes needs a value}; shift ;;
	--sizes) SIZES=${2:?--sizes needs a value}; shift ;;
	*) args+=("$1") ;;
	esac
	shift
done
CMP_EXTRA_ARGV="--sizes '$SIZES' --changes $CHANGES"
. "$(dirname "$0")/lib.sh"
cmp_init nft "${args[@]}"
command -v nft >/dev/null || cmp_die "needs the nft CLI (Debian package nftables)"
command -v python3 >/dev/null || cmp_die "needs python3"
[ -x "$HEARTH_BIN/hearth-bench" ] || cmp_die "no $HEARTH_BIN/hearth-bench (build first)"
W=$CMP_WORK
ROWS=()

# gen_ruleset N M: the table hearth builds for N services x M endpoints,
# in nft syntax (typeof for the endpoint map, whose slot is numgen's).
gen_ruleset() {
	python3 - "$1" "$2" <<'PY'
import sys
n, m = int(sys.argv[1]), int(sys.argv[2])
def ip(x):
    return "%d.%d.%d.%d" % (x >> 24 & 255, x >> 16 & 255, x >> 8 & 255, x & 255)
print("""table inet hearth {
  map svc4 { type ipv4_addr . inet_proto . inet_service : verdict; }
  map svc6 { type ipv6_addr . inet_proto . inet_service : verdict; }
  map ep4 { typeof ip daddr . meta l4proto . th dport . numgen random mod %(m)d : ip daddr . th dport; }
  map ep6 { typeof ip6 daddr . meta l4proto . th dport . numgen random mod %(m)d : ip6 daddr . th dport; }
  set masq4 { type ipv4_addr . inet_proto . inet_service; }
  set masq6 { type ipv6_addr . inet_proto . inet_service; }
  set allow_in { type inet_proto . inet_service; flags interval; }
  chain refuse { meta l4proto tcp reject with tcp reset; reject; }
  chain pick4_%(m)d { dnat ip to ip daddr . meta l4proto . th dport . numgen random mod %(m)d map @ep4; }
  chain host_fwd { }
  chain host_masq { }
  chain prerouting { type nat hook prerouting priority -110; jump host_fwd;
    ip daddr . meta l4proto . th dport vmap @svc4; ip6 daddr . meta l4proto . th dport vmap @svc6; }
  chain output { type nat hook output priority -110;
    ip daddr . meta l4proto . th dport vmap @svc4; ip6 daddr . meta l4proto . th dport vmap @svc6; }
  chain postrouting { type nat hook postrouting priority 100;
    ct status dnat meta l4proto tcp ct original ip daddr . meta l4proto . ct original proto-dst @masq4 masquerade
    ct status dnat meta l4proto udp ct original ip daddr . meta l4proto . ct original proto-dst @masq4 masquerade
    ct status dnat meta l4proto tcp ct original ip6 daddr . meta l4proto . ct original proto-dst @masq6 masquerade
    ct status dnat meta l4proto udp ct original ip6 daddr . meta l4proto . ct original proto-dst @masq6 masquerade
    jump host_masq; }
}""" % {"m": m})
svc, ep, mq = [], [], []
for i in range(n):
    v = ip(0x0a000001 + i)
    svc.append("%s . tcp . 80 : goto pick4_%d" % (v, m))
    mq.append("%s . tcp . 80" % v)
    for j in range(m):
        ep.append("%s . tcp . 80 . %d : %s . 8080" % (v, j, ip(0x0a800000 + i * m + j)))
for name, elems in (("svc4", svc), ("ep4", ep), ("masq4", mq)):
    for k in range(0, len(elems), 2000):
        print("add element inet hearth %s { %s }" % (name, ", ".join(elems[k:k + 2000])))
PY
}

# timed FILE: "wall_ms cpu_ms" of `nft -f FILE` in the namespace, core 0.
timed() {
	cmp_run 0 bash -c 'TIMEFORMAT="%R %U %S"; { time nft -f "$1" >/dev/null; } 2>&1' _ "$1" |
		awk '{ printf "%.3f %.3f\n", $1 * 1000, ($2 + $3) * 1000 }'
}

row() { ROWS+=("$1|$2|$3"); }
# listeners: NETLINK_NETFILTER sockets with multicast groups, all namespaces.
listeners() {
	local p n c=0
	declare -A seen
	for p in /proc/[0-9]*; do
		n=$(readlink "$p/ns/net" 2>/dev/null) || continue
		[ -n "${seen[$n]:-}" ] && continue
		seen[$n]=1
		c=$((c + $(nsenter --net="$p/ns/net" awk '$2 == 12 && $4 != "00000000"' /proc/net/netlink 2>/dev/null | wc -l)))
	done
	echo "$c"
}
# median: the median of the numbers on stdin.
median() { sort -n | awk '{ v[NR] = $1 } END { printf "%.3f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
LISTENERS_START=$(listeners)
# min A B: the smaller number (A may be empty).
min() { awk -v a="$1" -v b="$2" 'BEGIN { print (a == "" || b + 0 < a + 0) ? b : a }'; }
# json_get JSON KEY.PATH: one value of hearth-bench's JSON.
json_get() {
	python3 -c 'import json,sys; v=json.loads(sys.argv[1])
for k in sys.argv[2].split("."): v=v[k]
print("%.3f" % v if isinstance(v, float) else v)' "$1" "$2"
}

for n in $SIZES; do
	cmp_log "N=$n: hearth"
	json=$(taskset -c "$(cmp_core 0)" "$HEARTH_BIN/hearth-bench" nft --services "$n" \
		--endpoints 2 --changes "$CHANGES" --json) || cmp_die "hearth-bench nft failed"
	get() { json_get "$json" "$1"; }
	[ "$(get hinted)" = "$CHANGES" ] || cmp_die "not every change went through the change hint"
	reload=$(taskset -c "$(cmp_core 0)" "$HEARTH_BIN/hearth-bench" nft --services "$n" \
		--endpoints 2 --changes "$CHANGES" --no-hint --json) || cmp_die "hearth-bench nft --no-hint failed"

	cmp_log "N=$n: full loads, nft -f and hearth"
	gen_ruleset "$n" 2 >"$W/rules.nft"
	a_wall= a_cpu= h_wall= h_cpu=
	a_walls=() a_cpus=() h_walls=() h_cpus=()
	for r in $(seq 1 "$LOADS"); do
		cmp_run 0 nft flush ruleset
		read -r w c < <(timed "$W/rules.nft")
		[ -n "$w" ] || cmp_die "nft -f failed"
		a_wall=$(min "$a_wall" "$w")
		a_cpu=$(min "$a_cpu" "$c")
		a_walls+=("$w")
		a_cpus+=("$c")
		j=$(taskset -c "$(cmp_core 0)" "$HEARTH_BIN/hearth-bench" nft --services "$n" \
			--endpoints 2 --changes 1 --json) || cmp_die "hearth-bench nft failed"
		h_wall=$(min "$h_wall" "$(json_get "$j" load_ms)")
		h_cpu=$(min "$h_cpu" "$(json_get "$j" load_cpu_ms)")
		h_walls+=("$(json_get "$j" load_ms)")
		h_cpus+=("$(json_get "$j" load_cpu_ms)")
	done
	cmp_run 0 nft list table inet hearth >/dev/null || cmp_die "nft -f did not load the table"
	walls=()
	cpus=()
	# Change i replaces slot 0 of service (i * 7919) % N (no service twice).
	python3 - "$n" "$ANCHOR_CHANGES" "$W" <<'PY'
import sys
n, c, w = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
def ip(x):
    return "%d.%d.%d.%d" % (x >> 24 & 255, x >> 16 & 255, x >> 8 & 255, x & 255)
for i in range(1, c + 1):
    k = (i * 7919) % n
    vip, old, new = ip(0x0a000001 + k), ip(0x0a800000 + k * 2), ip(0x0b000000 + i)
    with open("%s/change%d.nft" % (w, i), "w") as f:
        f.write("delete element inet hearth ep4 { %s . tcp . 80 . 0 : %s . 8080 }\n" % (vip, old))
        f.write("add element inet hearth ep4 { %s . tcp . 80 . 0 : %s . 8080 }\n" % (vip, new))
PY
	for i in $(seq 1 "$ANCHOR_CHANGES"); do
		read -r w c < <(timed "$W/change$i.nft")
		[ -n "$w" ] || cmp_die "nft -f of a change failed"
		walls+=("$w")
		cpus+=("$c")
	done
	stats=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "%.3f %.3f", v[int((NR - 1) * 0.5 + 1.5)], v[int((NR - 1) * 0.99 + 1.5)] }')
	read -r c_p50 c_p99 <<<"$stats"
	c_cpu=$(printf '%s\n' "${cpus[@]}" | awk '{ s += $1 } END { printf "%.3f", s / NR }')

	row "full load N=$n x2, wall ms (best of $LOADS)" "$h_wall" "$a_wall"
	row "full load N=$n x2, wall ms (median of $LOADS)" \
		"$(printf '%s\n' "${h_walls[@]}" | median)" "$(printf '%s\n' "${a_walls[@]}" | median)"
	row "full load N=$n x2, CPU ms (best of $LOADS)" "$h_cpu" "$a_cpu"
	row "full load N=$n x2, CPU ms (median of $LOADS)" \
		"$(printf '%s\n' "${h_cpus[@]}" | median)" "$(printf '%s\n' "${a_cpus[@]}" | median)"
	row "one change among N=$n, p50 wall ms" "$(get change_ms.p50)" "$c_p50"
	row "one change among N=$n, p99 wall ms" "$(get change_ms.p99)" "$c_p99"
	row "one change among N=$n, mean CPU ms" "$(get change_ms.cpu_mean)" "$c_cpu"
	row "one change among N=$n, p99 CPU ms" "$(get change_ms.cpu_p99)" ""
	row "reload (no hint) among N=$n, p50 wall ms" "$(json_get "$reload" change_ms.p50)" "$c_p50"
	row "reload (no hint) among N=$n, p99 wall ms" "$(json_get "$reload" change_ms.p99)" "$c_p99"
	row "reload (no hint) among N=$n, mean CPU ms" "$(json_get "$reload" change_ms.cpu_mean)" "$c_cpu"
	cmp_run 0 nft flush ruleset
	row "anonymous sets in the table, N=$n" "$(get anonymous_sets)" ""
done

cmp_header
echo "# hearth: hearth-bench nft, $CHANGES changes; anchor: nft -f, $ANCHOR_CHANGES changes (process start included); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# nftables notification listeners on the machine (any namespace): $LISTENERS_START at the start, $(listeners) at the end"
printf '%s\n' "${ROWS[@]}" | awk -F'|' '
BEGIN { printf "%-52s %10s %10s %-8s %7s\n", "name", "hearth", "anchor", "", "ratio" }
{
	r = ($2 != "" && $3 != "" && $2 > 0) ? sprintf("%.1f", $3 / $2) : "n/a"
	printf "%-52s %10s %10s %-8s %7s\n", $1, $2, ($3 == "" ? "n/a" : $3), ($3 == "" ? "" : "nft -f"), r
}'
