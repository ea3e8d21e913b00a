#!/usr/bin/env bash
# hearth-provision's libvirt side, timed against libvirt's test driver (in
# memory, no guests): up from nothing (PKI with two RSA-2048 keys, network
# adoption, pool, 3 volumes, 3 seed ISOs, 3 domains), up with nothing to
# do, plan, and down. The anchor a user has today (bash + Terraform's
# libvirt provider + SSH with fixed sleeps) is not in Debian 12, so this
# prints hearth's numbers only: median of N runs, milliseconds.
#   bench/compare/provision.sh [-n RUNS]
set -euo pipefail
runs=9
[ "${1:-}" = -n ] && runs=$2
bin=${HEARTH_BIN:-$(cd "$(dirname "$0")/../.." && pwd)/build/dev/bin}/hearth-provision
here=$(cd "$(dirname "$0")/../../tests/netns/provision" && pwd)
dir=$(mktemp -d /tmp/hearth-provision-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
truncate -s 2G "$dir/base.img"
printf 'image: {base: %s}\n' "$dir/base.img" >"$dir/s.yaml"

ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1 </dev/null; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
median() { sort -n | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }

declare -A res
for i in $(seq 1 "$runs"); do
	rm -rf "$dir/st"
	p=("$bin" -c "$dir/s.yaml" --state-dir "$dir/st")
	res[up]+="$(ms "${p[@]}" --connect test:///default up) "
	python3 "$here/state_xml.py" "$dir/st" "$dir/host.xml"
	res[up_noop]+="$(ms "${p[@]}" --connect "test://$dir/host.xml" up) "
	res[plan]+="$(ms "${p[@]}" --connect "test://$dir/host.xml" plan) "
	res[down]+="$(ms "${p[@]}" --connect "test://$dir/host.xml" down --yes) "
done
printf '%-28s %8s\n' "hearth-provision (ms)" "median"
for k in up up_noop plan down; do
	printf '%-28s %8s\n' "$k" "$(tr ' ' '\n' <<<"${res[$k]}" | grep . | median)"
done
