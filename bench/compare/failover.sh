#!/usr/bin/env bash
# failover: hearth vs keepalived (VRRP), measured the same way by
# `hearth-bench failover`: the same lab (three nodes, a client) in
# namespaces it builds and removes, the same N VIPs, the same kill -9 and
# SIGTERM of the node owning the most VIPs, and per VIP the time until the
# client sees a new owner (GARP or ARP reply). keepalived runs with
# advert_int 0.1 s (VRRPv3) and its default 1 s; hearth with its defaults
# (interval_ms 100, dead_after_ms 400). Prints "name  hearth  anchor
# speedup" rows in milliseconds (speedup = anchor / hearth; higher is
# better for hearth). Each daemon's kill -9 and SIGTERM series is a run of
# its own; with --lock FILE each run holds `flock FILE` (a machine-wide
# benchmark lock), so no run holds it for more than a few minutes.
set -u
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HEARTH_BIN=${HEARTH_BIN:-$SRC/build/release/bin}
[ -x "$HEARTH_BIN/hearth-bench" ] || HEARTH_BIN=$SRC/build/dev/bin
VIPS=51
REPS=20
LOCK=
while [ $# -gt 0 ]; do
	case $1 in
	--vips) VIPS=${2:?}; shift ;;
	--repetitions) REPS=${2:?}; shift ;;
	--lock) LOCK=${2:?}; shift ;;
	-h | --help)
		echo "usage: bench/compare/failover.sh [--vips N] [--repetitions R] [--lock FILE]"
		exit 0 ;;
	*) echo "failover.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" -eq 0 ] || { echo "failover.sh: needs root" >&2; exit 1; }
command -v keepalived >/dev/null || "$SRC/scripts/install-deps" --bench >&2 ||
	{ echo "failover.sh: keepalived missing" >&2; exit 1; }
command -v jq >/dev/null || { echo "failover.sh: needs jq" >&2; exit 1; }
B="$HEARTH_BIN/hearth-bench failover --vips $VIPS --repetitions $REPS --json"
log() { printf '[failover %s] %s\n' "$(date +%T)" "$*" >&2; }
# One daemon, both kinds of stop, as two runs; prints their JSON merged.
measure() {
	local kill term
	log "$* kill -9 (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	kill=$(${LOCK:+flock "$LOCK"} $B --mode kill "$@") || return 1
	log "$* SIGTERM (load average $(cut -d' ' -f1-3 /proc/loadavg))"
	term=$(${LOCK:+flock "$LOCK"} $B --mode term "$@") || return 1
	jq -s '.[0] + {term: .[1].term}' <<<"$kill$term"
}

hearth=$(measure) || { echo "failover.sh: hearth's run failed" >&2; exit 1; }
declare -A anchor=()
for adv in 0.1 1; do
	anchor[$adv]=$(measure --keepalived --advert-int "$adv") || anchor[$adv]=
done
row() {	# name jq-path anchor-json
	local h a
	h=$(jq -r "$2" <<<"$hearth")
	a=$( [ -n "$3" ] && jq -r "$2" <<<"$3" || echo n/a)
	if [ "$a" = n/a ] || [ "$a" = null ]; then
		printf '%-40s %10.1f %10s %8s\n' "$1" "$h" n/a n/a
	else
		printf '%-40s %10.1f %10.1f %8.1f\n' "$1" "$h" "$a" "$(jq -n "$a / ($h + 0.001)")"
	fi
}
printf '%-40s %10s %10s %8s\n' "name ($VIPS VIPs, $REPS reps, ms)" hearth anchor speedup
for adv in 0.1 1; do
	for stop in kill term; do
		for p in p50 p99 max; do
			row "$stop $p vs keepalived advert_int ${adv}s" ".$stop.$p" "${anchor[$adv]}"
		done
	done
done
for adv in 0.1 1; do
	[ -n "${anchor[$adv]}" ] || log "keepalived advert_int $adv: no result (its VIPs never settled on one master)"
done
printf '%-40s %10s %10s\n' "missed VIPs (kill, term)" \
	"$(jq -r '"\(.kill.missed),\(.term.missed)"' <<<"$hearth")" \
	"$(for adv in 0.1 1; do [ -n "${anchor[$adv]}" ] && jq -r '"\(.kill.missed),\(.term.missed)"' <<<"${anchor[$adv]}" || echo n/a; done | paste -sd/)"
