#!/usr/bin/env bash
# https: --resolve maps the URL's host to an address while SNI and Host
# still name the host; the certificate is verified unless --insecure (a
# failure exits 1 saying why); --new-connection makes a full handshake
# per request.
. "$(dirname "$0")/common.sh"
bench_init
lab_require openssl
openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=web.test \
	-addext subjectAltName=DNS:web.test -keyout "$LAB_DIR/key.pem" \
	-out "$LAB_DIR/cert.pem" 2>/dev/null || lab_fail "openssl req failed"
bench_server http 8443 "$LAB_DIR/cert.pem" "$LAB_DIR/key.pem"
out=$LAB_DIR/out.json
url=https://web.test:8443/ok
res=(--resolve web.test:8443:127.0.0.1)

if bx "$BENCH" http --url "$url" "${res[@]}" -c 1 -d 0.5 2>"$LAB_DIR/err" >/dev/null; then
	lab_fail "an untrusted certificate was accepted without --insecure"
fi
grep -q "certificate" "$LAB_DIR/err" || lab_fail "no reason given: $(cat "$LAB_DIR/err")"
[ "$(wc -l <"$LAB_DIR/err")" -eq 1 ] || lab_fail "more than one line: $(cat "$LAB_DIR/err")"

# trusted (the system CA file pointed at our certificate): verified and accepted
SSL_CERT_FILE=$LAB_DIR/cert.pem bx "$BENCH" http --url "$url" "${res[@]}" -c 1 -d 0.3 \
	--json >"$out" 2>"$LAB_DIR/err" || lab_fail "a trusted certificate was refused: $(cat "$LAB_DIR/err")"
check "$(j "$out" .requests) > 0" "no answers over verified TLS"
# trusted, but issued for another name: refused
if SSL_CERT_FILE=$LAB_DIR/cert.pem bx "$BENCH" http --url https://other.test:8443/ok \
	--resolve other.test:8443:127.0.0.1 -c 1 -d 0.3 2>"$LAB_DIR/err" >/dev/null; then
	lab_fail "a certificate for web.test was accepted for other.test"
fi
grep -q "hostname mismatch" "$LAB_DIR/err" || lab_fail "no reason given: $(cat "$LAB_DIR/err")"

: >"$LAB_DIR/http-8443.events"
bx "$BENCH" http --url "$url" "${res[@]}" --insecure -c 2 -t 1 -d 1 --json >"$out" ||
	lab_fail "keep-alive https run exited $?"
n=$(j "$out" .requests)
check "n > 10" "only $n https requests"
check "$(j "$out" '[.errors[]] | add') == 0" "errors: $(jq -c .errors "$out")"
expect_events http 8443 '^req /ok$' "$n"
check "$(events http 8443 '^sni web.test$') >= 2" "SNI web.test not sent"
check "$(events http 8443 '^sni web.test$') <= 3" "keep-alive made $(events http 8443 '^sni ') handshakes"

: >"$LAB_DIR/http-8443.events"
bx "$BENCH" http --url "$url" "${res[@]}" --insecure --new-connection -c 2 -t 1 \
	-d 1 --json >"$out" || lab_fail "new-connection https run exited $?"
n=$(j "$out" .requests)
check "n > 3" "only $n https requests with new connections"
expect_events http 8443 '^req /ok$' "$n"
h=$(events http 8443 '^sni web.test$')
check "h >= n + 1 && h <= n + 3" "$h handshakes for $n requests"
echo "1 passed"
