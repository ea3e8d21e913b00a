#!/usr/bin/env bash
# TLS through the proxy: termination with the certificate chosen by SNI
# (ECDSA and RSA, exact SAN over wildcard, the first by default), TLS 1.2
# and 1.3 only, ALPN http/1.1; passthrough by SNI where the client sees
# the backend's own certificate; HTTP -> HTTPS 308 redirect; uploads
# over TLS arrive whole.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_cert def a.test '*.wild.test'
PX_RSA=1 px_cert rsab b.test
px_cert backend pass.test
px_backend 1 8080
px_backend 2 8443 --tls "$LAB_DIR/backend.crt" "$LAB_DIR/backend.key"
cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
metrics: {listen: 127.0.0.1:9477}
proxy:
  redirect_http_to_https: true
  certificates:
    - {cert: $LAB_DIR/def.crt, key: $LAB_DIR/def.key}
    - {cert: $LAB_DIR/rsab.crt, key: $LAB_DIR/rsab.key}
  routes:
    - hostnames: [a.test, b.test, "*.wild.test"]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
    - hostnames: [pass.test]
      tls: passthrough
      backends: [{address: 10.244.1.2:8443}]
EOC
px_start "$LAB_DIR/conf.yaml"

# subject SNI [ARGS...]: the certificate subject the client is shown.
subject() {
	local sni=$1
	shift
	lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
	    -servername "$sni" "$@" </dev/null 2>/dev/null |
	    openssl x509 -noout -subject 2>/dev/null | sed 's/^subject=//; s/ //g'
}
px_expect "SNI a.test: ECDSA default cert" "CN=def" "$(subject a.test)"
px_expect "SNI b.test: RSA cert" "CN=rsab" "$(subject b.test)"
px_expect "SNI by wildcard SAN" "CN=def" "$(subject x.wild.test)"
px_expect "unknown SNI: the first cert" "CN=def" "$(subject nobody.test)"
px_expect "passthrough: the backend's cert" "CN=backend" "$(subject pass.test)"
# A client that closes right after the handshake (its FIN read together
# with its last bytes) leaves no connection behind, on either side.
for _ in $(seq 1 20); do subject pass.test >/dev/null; subject a.test >/dev/null; done
active() {
	lab_exec node1 curl -s http://127.0.0.1:9477/metrics |
	    sed -n 's/^hearth_proxy_active_connections //p'
}
none_open() { [ "$(active)" = 0 ]; }
lab_wait 5 none_open ||
    lab_fail "connections left open after 40 closed handshakes: $(active)"

px_expect "HTTPS request with SNI" "be1 /s" \
    "$(px_curl --cacert "$LAB_DIR/def.crt" https://a.test/s)"
head -c $((4 * 1024 * 1024 + 7)) /dev/urandom >"$LAB_DIR/up4"
want="$(sha256sum <"$LAB_DIR/up4" | cut -d' ' -f1) $((4 * 1024 * 1024 + 7))"
px_expect "4 MiB upload over TLS" "$want" \
    "$(px_curl --cacert "$LAB_DIR/def.crt" --data-binary @"$LAB_DIR/up4" https://a.test/sha)"
px_expect "4 MiB chunked upload over TLS" "$want" \
    "$(px_curl --cacert "$LAB_DIR/def.crt" -H 'Transfer-Encoding: chunked' \
        --data-binary @"$LAB_DIR/up4" https://a.test/sha)"
px_expect "HTTPS via RSA cert" "be1 /r" \
    "$(px_curl --cacert "$LAB_DIR/rsab.crt" https://b.test/r)"
h=$(px_curl -D - -o /dev/null --cacert "$LAB_DIR/def.crt" https://a.test/p | tr -d '\r')
px_expect "X-Forwarded-Proto https" https "$(sed -n 's/^X-Seen-X-Forwarded-Proto: //p' <<<"$h")"
px_expect "passthrough request reaches the TLS backend" "be2 /pt" \
    "$(px_curl --cacert "$LAB_DIR/backend.crt" https://pass.test/pt)"

alpn=$(lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -alpn h2,http/1.1 </dev/null 2>/dev/null |
    sed -n 's/^ALPN protocol: //p')
px_expect "ALPN" "http/1.1" "$alpn"
v12=$(lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -tls1_2 </dev/null 2>/dev/null | sed -n 's/^ *Protocol *: //p')
px_expect "TLS 1.2 accepted" "TLSv1.2" "$v12"
if lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0' </dev/null >/dev/null 2>&1; then
	lab_fail "TLS 1.1 handshake succeeded"
fi
PX_PASSED=$((PX_PASSED + 1))

# Session resumption with a ticket.
sess="$LAB_DIR/sess.pem"
# (the TLS 1.3 ticket comes after the handshake: keep stdin open a moment)
sleep 1 | lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -sess_out "$sess" >/dev/null 2>&1
reused=$(lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -sess_in "$sess" </dev/null 2>/dev/null | grep -c '^Reused')
px_expect "session resumed" 1 "$reused"
# A client whose request follows the handshake at once gets the answer
# and a ticket it can resume with (the ticket goes out with the response
# when the request came with the handshake's end).
rm -f "$sess"
out=$(printf 'GET /t HTTP/1.1\r\nHost: a.test\r\nConnection: close\r\n\r\n' |
    lab_exec client timeout 5 openssl s_client -connect $NODE:443 -tls1_3 \
        -servername a.test -ign_eof -sess_out "$sess" 2>/dev/null)
grep -q '^be[12] /t' <<<"$out" || lab_fail "no answer with the ticket: $out"
reused=$(lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
    -servername a.test -sess_in "$sess" </dev/null 2>/dev/null | grep -c '^Reused')
px_expect "session resumed with a ticket sent with a response" 1 "$reused"

# Plain HTTP is redirected with 308 to the same path over HTTPS.
loc=$(px_curl -D - -o /dev/null 'http://a.test/r/x?q=1' | tr -d '\r' |
    sed -n 's/^Location: //p')
px_expect "308 Location" "https://a.test/r/x?q=1" "$loc"
px_expect "308 status" 308 "$(px_code http://a.test/)"
# Not TLS at all on the TLS port: refused without a crash.
out=$(printf 'GET / HTTP/1.1\r\nHost: a.test\r\n\r\n' |
    lab_exec client python3 "$PX_DIR/raw.py" $NODE 443 | head -c 2 | od -An -tx1 | tr -d ' ')
px_expect "plain HTTP on 443 gets a TLS alert" "1503" "$out"
px_expect "still serving" "be1 /after" \
    "$(px_curl --cacert "$LAB_DIR/def.crt" https://a.test/after)"
m=$(lab_exec node1 curl -s http://127.0.0.1:9477/metrics)
grep -q 'hearth_proxy_requests_total{route="pass.test",code="passthrough"' <<<"$m" ||
    lab_fail "no passthrough metric"
grep -q '^hearth_proxy_tls_handshakes_total [1-9]' <<<"$m" || lab_fail "no handshakes counted"
PX_PASSED=$((PX_PASSED + 1))
px_done
