#!/usr/bin/env bash
# Host and path routing through the proxy: exact host over wildcard,
# path_exact over prefixes, header rules, 3:1 weights, 404, 502 after
# trying the next backend once, 503 once every backend is ejected, 504
# on a slow backend, forwarding headers, keep-alive reuse on both sides.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_backend 1 8080
px_backend 2 8080
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
  access_log: $LAB_DIR/access.log
  limits: {backend_timeout_seconds: 1, connect_timeout_ms: 500}
  routes:
    - hostnames: [a.test]
      rules:
        - path_prefix: /
          backends: [{address: 10.244.1.1:8080}]
        - path_prefix: /api
          backends: [{address: 10.244.1.2:8080}]
        - path_exact: /api/exact
          backends: [{address: 10.244.1.1:8080}]
        - path_prefix: /api
          headers: {x-debug: "1"}
          backends: [{address: 10.244.1.1:8080}]
        - path_prefix: /weighted
          backends: [{address: 10.244.1.1:8080, weight: 3}, {address: 10.244.1.2:8080, weight: 1}]
        - path_prefix: /failover
          backends: [{address: 10.244.1.3:8080}, {address: 10.244.1.2:8080}]
        - path_prefix: /dead
          backends: [{address: 10.244.1.2:9}]
    - hostnames: ["*.wild.test"]
      rules:
        - backends: [{address: 10.244.1.2:8080}]
EOC
px_start "$LAB_DIR/conf.yaml"

px_expect "host+prefix /" "be1 /x" "$(px_curl http://a.test/x)"
px_expect "longest prefix" "be2 /api/v1" "$(px_curl http://a.test/api/v1)"
px_expect "prefix by segment" "be1 /apix" "$(px_curl http://a.test/apix)"
px_expect "path_exact" "be1 /api/exact" "$(px_curl http://a.test/api/exact)"
px_expect "header rule" "be1 /api/h" "$(px_curl -H 'X-Debug: 1' http://a.test/api/h)"
px_expect "wildcard host" "be2 /w" "$(px_curl http://x.wild.test/w)"
px_expect "unknown host" 404 "$(px_code http://b.test/)"

# 3:1 weights: exactly 6 of 8 requests on be1, in one keep-alive session.
urls=()
for i in 1 2 3 4 5 6 7 8; do urls+=("http://a.test/weighted/$i"); done
got=$(px_curl "${urls[@]}" | grep -c '^be1 ')
px_expect "weights 3:1 over 8 requests" 6 "$got"

# Forwarding headers, and hop-by-hop fields removed.
h=$(px_curl -D - -o /dev/null -H 'X-Forwarded-For: 1.2.3.4' \
    -H 'Connection: X-Hop' -H 'X-Hop: secret' http://a.test/h | tr -d '\r')
px_expect "X-Forwarded-For" "1.2.3.4, 192.168.122.50" \
    "$(sed -n 's/^X-Seen-X-Forwarded-For: //p' <<<"$h")"
px_expect "X-Forwarded-Proto" "http" "$(sed -n 's/^X-Seen-X-Forwarded-Proto: //p' <<<"$h")"
px_expect "X-Forwarded-Host" "a.test" "$(sed -n 's/^X-Seen-X-Forwarded-Host: //p' <<<"$h")"
px_expect "Forwarded" 'for=192.168.122.50;host="a.test";proto=http' \
    "$(sed -n 's/^X-Seen-Forwarded: //p' <<<"$h")"
px_expect "hop-by-hop X-Hop removed" "" "$(sed -n 's/^X-Seen-X-Hop: //p' <<<"$h")"
# Fields around dropped ones arrive whole (they are copied in runs of
# lines), both ways; hop-by-hop fields of the response are dropped too.
h=$(px_curl -D - -o /dev/null -H 'X-Before: one  two' -H 'Connection: X-Hop' \
    -H 'X-Hop: secret' -H 'X-After: three' http://a.test/hops | tr -d '\r')
px_expect "field before a dropped one" "one  two" "$(sed -n 's/^X-Seen-X-Before: //p' <<<"$h")"
px_expect "field after a dropped one" "three" "$(sed -n 's/^X-Seen-X-After: //p' <<<"$h")"
px_expect "dropped field" "" "$(sed -n 's/^X-Seen-X-Hop: //p' <<<"$h")"
px_expect "response field before dropped ones" "b  1" "$(sed -n 's/^X-Resp-Before: //p' <<<"$h")"
px_expect "response field after dropped ones" "$(printf 'a\t2')" \
    "$(sed -n 's/^X-Resp-After: //p' <<<"$h")"
px_expect "response hop-by-hop fields dropped" "0" \
    "$(grep -c -i '^X-Resp-Hop:\|^Keep-Alive:\|^Connection:' <<<"$h")"
px_expect "response head ends after the last field" "X-Resp-After" \
    "$(grep -v '^$' <<<"$h" | tail -1 | cut -d: -f1)"

# Keep-alive: one client connection, and the upstream connection reused.
out=$(px_curl -v http://a.test/k1 http://a.test/k2 2>&1)
grep -q "Re-using existing connection" <<<"$out" || lab_fail "client keep-alive not kept"
conns=$(grep -i '^< X-Conn' <<<"$out" | sort -u | wc -l)
px_expect "upstream connection reused" 1 "$conns"

# 502 after trying the next backend once: be3 does not exist, be2 answers.
px_expect "failover to the next backend" "be2 /failover" "$(px_curl http://a.test/failover)"
# A rule whose only backend refuses: 502, then ejected: 503.
px_expect "connect refused" 502 "$(px_code http://a.test/dead)"
px_code http://a.test/dead >/dev/null
px_code http://a.test/dead >/dev/null
px_expect "no live backend" 503 "$(px_code http://a.test/dead)"
lab_wait_log node1 "backend 10.244.1.2:9 ejected" 2 || lab_fail "no ejection logged"
# Backend slower than backend_timeout_seconds: 504.
px_expect "backend timeout" 504 "$(px_code 'http://a.test/slow?s=3')"
# Metrics carry the requests by route and status (access log too).
lab_wait 5 grep -q '"client":"192.168.122.50","tls":false,"method":"GET","host":"a.test","path":"/x","status":200,.*"route":"a.test","backend":"10.244.1.1:8080"' \
    "$LAB_DIR/access.log" || lab_fail "no access log line"
px_done
