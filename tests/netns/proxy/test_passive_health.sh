#!/usr/bin/env bash
# Passive health, "try again later": a backend that refuses connections is
# ejected after 3 failures in a row (its requests fail over to the other
# backend, clients see 200); once it listens again it gets no request
# while ejected, and after the ejection period (10 s) it is used again.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_backend 1 8080
# be2 does not listen yet: its connections are refused.
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}, {address: 10.244.1.2:8080}]
EOC
px_start "$LAB_DIR/conf.yaml"

# Requests until be2 is ejected; every one is answered by be1.
for i in $(seq 1 20); do
	px_expect "answered while be2 refuses ($i)" "be1 /r$i" "$(px_curl http://a.test/r$i)"
	grep -q "backend 10.244.1.2:8080 ejected after 3 failures" "$LAB_DIR/node1.log" && break
done
grep -q "backend 10.244.1.2:8080 ejected after 3 failures" "$LAB_DIR/node1.log" ||
    lab_fail "be2 not ejected after 20 requests"
px_backend 2 8080
# Ejected (10 s from the third failure): be1 answers everything.
for i in 1 2 3 4 5 6; do
	px_expect "be2 ejected: be1 answers ($i)" "be1 /e$i" "$(px_curl http://a.test/e$i)"
done
# After the ejection period be2 gets requests again.
back() { px_curl http://a.test/back | grep -q '^be2 /back$'; }
t0=$(date +%s)
lab_wait 40 back || lab_fail "be2 not used again 40 s after it came back"
echo "be2 used again $(($(date +%s) - t0)) s after the check started"
grep -q "^be2 GET /back " "$LAB_DIR/be2.log" || lab_fail "be2 did not log /back"
PX_PASSED=$((PX_PASSED + 1))
px_done
