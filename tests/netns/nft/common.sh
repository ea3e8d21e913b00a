# Helpers shared by the nft module's integration tests (sourced after
# lab.sh): identity servers on backends, one TCP exchange from a host,
# and the ruleset as the nft CLI prints it (inspection only; hearthd
# itself never runs nft).
NFT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
lab_require python3 nft

# nft_ident HOST NAME PORT...: an identity server (see ident_server.py).
nft_ident() {
	local h=$1 name=$2
	shift 2
	lab_bg "$h" "ident-$name" python3 -u "$NFT_DIR/ident_server.py" "$name" "$@"
	lab_wait 5 grep -q listening "$LAB_DIR/ident-$name.log" || lab_fail "identity server $name did not start"
}

# nft_ask HOST ADDR PORT: one TCP connection; prints the server's line.
nft_ask() {
	lab_exec "$1" timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" && read -r line <&3 && echo "$line"' "$2" "$3" 2>&1
}

# nft_ruleset HOST: the whole ruleset of HOST's namespace.
nft_ruleset() { lab_exec "$1" nft list ruleset; }

# nft_has_table HOST: does table inet hearth exist there?
nft_has_table() { lab_exec "$1" nft list table inet hearth >/dev/null 2>&1; }

# nft_count_log HOST PATTERN: lines of HOST's log matching PATTERN.
nft_count_log() { grep -cE "$2" "$LAB_DIR/$1.log"; }

# nft_metric HOST NAME: a metric's value from hearthd's /metrics (127.0.0.1:9477).
nft_metric() {
	lab_exec "$1" curl -fsS --max-time 2 http://127.0.0.1:9477/metrics |
		awk -v n="$2" '$1 == n {print $2}'
}

# nft_wait_serving HOST: waits until hearthd there logged "serving" (its
# signal handlers are in place) once for every table it built at start.
nft_wait_serving() {
	local want
	want=$(grep -c 'nft: table inet hearth built' "$LAB_DIR/$1.log")
	_nft_serving() { [ "$(grep -cE ' serving$' "$LAB_DIR/$1.log")" -ge "$2" ]; }
	lab_wait 10 _nft_serving "$1" "$want" || lab_fail "hearthd on $1 never served"
}
