#!/usr/bin/env bash
# Connection limits and timeouts: the connections past max_connections
# are closed at once while the others are served, and once they are gone
# a normal request is answered; idle_timeout_seconds closes an idle
# keep-alive client connection and retires an idle pooled upstream
# connection (the backend sees it closed; the next request opens a new
# one); connect_timeout_ms gives 502 for a backend whose SYNs are
# dropped, long before the 3 s default. Bounds are generous: no timing
# is asserted tighter than 2x.
. "$(dirname "$0")/common.sh"
px_setup 1 2 3
lab_require nft
px_backend 1 8080
px_backend 2 8080
# be3 drops every SYN to its port (in its own namespace): connects hang.
lab_exec be3 nft -f - <<'EON' || lab_fail "nft in be3"
table inet t {
	chain in {
		type filter hook input priority 0;
		tcp dport 8080 drop
	}
}
EON
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
proxy:
  limits: {max_connections: 20, header_timeout_ms: 60000,
           idle_timeout_seconds: 2, connect_timeout_ms: 500}
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
    - hostnames: [b.test]
      rules:
        - backends: [{address: 10.244.1.2:8080}]
    - hostnames: [new.test]
      rules:
        - backends: [{address: 10.244.1.3:8080}]
EOC
px_start "$LAB_DIR/conf.yaml"
probe() { lab_exec client python3 -u "$PX_DIR/probe.py" $NODE 80 "$@"; }

# max_connections 20: of 30 idle connections, 10 are closed at once; the
# 20 others are answered when they send a request.
lab_bg client hold python3 -u "$PX_DIR/probe.py" $NODE 80 hold 30 10 "$LAB_DIR/release"
lab_wait 20 grep -q "^answered" "$LAB_DIR/hold.log" || lab_fail "hold: $(cat "$LAB_DIR/hold.log")"
px_expect "connections past max_connections closed" "closed 10" "$(grep '^closed' "$LAB_DIR/hold.log")"
px_expect "connections within max_connections open" "open 20" "$(grep '^open' "$LAB_DIR/hold.log")"
px_expect "and answered" "answered 20" "$(grep '^answered' "$LAB_DIR/hold.log")"
px_expect "a 21st connection is closed" 000 "$(px_code http://a.test/full 2>/dev/null || true)"
touch "$LAB_DIR/release"
lab_wait 10 grep -q released "$LAB_DIR/hold.log" || lab_fail "hold did not end"
ok() { [ "$(px_code http://a.test/after)" = 200 ]; }
lab_wait 10 ok || lab_fail "no 200 after the held connections closed"
PX_PASSED=$((PX_PASSED + 1))

# idle_timeout_seconds 2, client side: an idle keep-alive connection is
# closed after about 2 s (not before 1.5, well before 8).
out=$(probe idle)
s=$(sed -n 's/^closed after //p' <<<"$out")
[ -n "$s" ] || lab_fail "idle probe: $out"
python3 -c "import sys; sys.exit(not 1.5 <= float('$s') <= 8)" ||
    lab_fail "idle client connection closed after $s s, want about 2"
echo "idle client connection closed after $s s"
PX_PASSED=$((PX_PASSED + 1))

# Upstream side: /u1 and /u2 share an upstream connection; after 4 s
# (the client connection kept busy with b.test) the pooled one has been
# closed by the proxy and /u3 comes on a new one.
out=$(probe upstream 4)
read -r u1 u2 u3 <<<"$(sed -n 's/^u1=\([0-9]*\) u2=\([0-9]*\) u3=\([0-9]*\)$/\1 \2 \3/p' <<<"$out")"
[ -n "${u3:-}" ] || lab_fail "upstream probe: $out"
px_expect "upstream connection reused while fresh" "$u1" "$u2"
[ "$u3" != "$u1" ] || lab_fail "the idle upstream connection $u1 was used after 4 s"
PX_PASSED=$((PX_PASSED + 1))
closed=$(grep -n "^be1 closed conn=$u1\$" "$LAB_DIR/be1.log" | cut -d: -f1)
u3at=$(grep -n "^be1 GET /u3 conn=$u3 " "$LAB_DIR/be1.log" | cut -d: -f1)
[ -n "$closed" ] && [ -n "$u3at" ] && [ "$closed" -lt "$u3at" ] ||
    lab_fail "be1 did not see conn $u1 closed before /u3: $(cat "$LAB_DIR/be1.log")"
PX_PASSED=$((PX_PASSED + 1))

# connect_timeout_ms 500: 502 after about 0.5 s (at least 0.4 s, so the
# connect did hang; under 2.5 s, so not the 3 s default).
out=$(px_curl -o /dev/null -w '%{http_code} %{time_total}' http://new.test/syn)
px_expect "SYNs dropped: 502" 502 "${out% *}"
python3 -c "import sys; sys.exit(not 0.4 <= float('${out#* }') < 2.5)" ||
    lab_fail "502 after ${out#* } s, want about 0.5"
echo "connect timeout: 502 after ${out#* } s"
PX_PASSED=$((PX_PASSED + 1))
px_done
