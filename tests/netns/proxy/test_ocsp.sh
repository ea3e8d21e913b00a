#!/usr/bin/env bash
# OCSP stapling from a certificate's `ocsp` file: with a real response
# from `openssl ocsp` (index.txt responder, run once), a client asking
# for the status (s_client -status, TLS 1.3 and 1.2) gets it stapled and
# good; a certificate without the key staples nothing; SIGHUP reloads
# the file (a revoked response is then what is stapled); a file that is
# not an OCSP response refuses the reload (the old one stays stapled); a
# response for another certificate, out of date, or signed by someone
# other than the issuer is logged and not stapled. The chain sent is the
# certificate file's as given: leaf and issuer from a.chain, the leaf
# alone from a leaf-only file.
. "$(dirname "$0")/common.sh"
px_setup 1
px_backend 1 8080
px_cert b b.test

# A CA, two certificates it signs (a.test with its chain, c.test), and
# OCSP responses for them from an index.txt responder run once.
ec=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
(
	cd "$LAB_DIR" || exit 1
	openssl req -x509 "${ec[@]}" -days 2 -subj "/CN=Lab CA" \
	    -addext "basicConstraints=critical,CA:true" \
	    -addext "keyUsage=critical,keyCertSign,cRLSign" \
	    -keyout ca.key -out ca.crt
	for n in a c; do
		openssl req -new "${ec[@]}" -subj "/CN=$n" \
		    -addext "subjectAltName=DNS:$n.test" -keyout $n.key -out $n.csr
		openssl x509 -req -in $n.csr -CA ca.crt -CAkey ca.key \
		    -CAcreateserial -days 2 -copy_extensions copy -out $n.crt
	done
	cat a.crt ca.crt >a.chain
) >"$LAB_DIR/pki.log" 2>&1 || lab_fail "making the PKI: $(cat "$LAB_DIR/pki.log")"

# respond CERT STATE OUT: an OCSP response for CERT (V good, R revoked).
respond() {
	local crt="$LAB_DIR/$1.crt" serial end rev=""
	serial=$(openssl x509 -in "$crt" -noout -serial | cut -d= -f2)
	end=$(date -u -d "$(openssl x509 -in "$crt" -noout -enddate | cut -d= -f2)" +%y%m%d%H%M%SZ)
	[ "$2" = R ] && rev=$(date -u +%y%m%d%H%M%SZ)
	printf '%s\t%s\t%s\t%s\tunknown\t/CN=%s\n' "$2" "$end" "$rev" "$serial" "$1" \
	    >"$LAB_DIR/index.txt"
	openssl ocsp -issuer "$LAB_DIR/ca.crt" -cert "$crt" -no_nonce \
	    -reqout "$LAB_DIR/req.der" >/dev/null 2>&1 &&
	    openssl ocsp -index "$LAB_DIR/index.txt" -rsigner "$LAB_DIR/ca.crt" \
	        -rkey "$LAB_DIR/ca.key" -CA "$LAB_DIR/ca.crt" \
	        -reqin "$LAB_DIR/req.der" -respout "$3.new" -ndays 1 >/dev/null 2>&1 ||
	    lab_fail "openssl ocsp for $1"
	mv "$3.new" "$3"
}
respond a V "$LAB_DIR/a.ocsp"
respond c V "$LAB_DIR/c.ocsp"

conf() {
	cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
  certificates:
    - {cert: $LAB_DIR/a.chain, key: $LAB_DIR/a.key, ocsp: $1}
    - {cert: $LAB_DIR/b.crt, key: $LAB_DIR/b.key}
  routes:
    - hostnames: [a.test, b.test]
      rules: [{backends: [{address: 10.244.1.1:8080}]}]
EOC
}
conf "$LAB_DIR/a.ocsp"
px_start "$LAB_DIR/conf.yaml"
pid=${LAB_PID[node1]}

# chain SNI [ARGS...]: the subjects of the certificates the client is sent.
chain() {
	local sni=$1
	shift
	lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
	    -servername "$sni" -showcerts "$@" </dev/null 2>/dev/null |
	    sed -n 's/^ *[0-9] s:\(.*\)/\1/p' | tr -d ' ' | paste -sd, -
}
px_expect "leaf + issuer file: both sent, TLS 1.3" "CN=a,CN=LabCA" "$(chain a.test)"
px_expect "leaf + issuer file: both sent, TLS 1.2" "CN=a,CN=LabCA" "$(chain a.test -tls1_2)"
px_expect "leaf-only file: the leaf alone" "CN=b" "$(chain b.test)"

# status SNI [ARGS...]: what s_client -status reports about OCSP.
status() {
	local sni=$1
	shift
	lab_exec client timeout 5 openssl s_client -connect $NODE:443 \
	    -servername "$sni" -status -CAfile "$LAB_DIR/ca.crt" "$@" \
	    </dev/null 2>/dev/null |
	    sed -n 's/^ *\(OCSP Response Status: [a-z]*\).*/\1/p;
	            s/^ *\(Cert Status: [a-z]*\).*/\1/p;
	            s/^\(OCSP response: no response sent\)/\1/p' | paste -sd, -
}
good="OCSP Response Status: successful,Cert Status: good"
px_expect "stapled, TLS 1.3" "$good" "$(status a.test)"
px_expect "stapled, TLS 1.2" "$good" "$(status a.test -tls1_2)"
px_expect "no ocsp key: nothing stapled" "OCSP response: no response sent" \
    "$(status b.test)"
px_expect "requests still served" "be1 /x" \
    "$(px_curl --cacert "$LAB_DIR/ca.crt" https://a.test/x)"

# reload: SIGHUP and wait for the verdict (applied or refused).
reload() {
	local n
	n=$(grep -cE "configuration applied|refused the new configuration" "$LAB_DIR/node1.log")
	kill -HUP "$pid"
	lab_wait 10 bash -c "[ \$(grep -cE 'configuration applied|refused the new configuration' \
	    '$LAB_DIR/node1.log') -gt $n ]" || lab_fail "no reload verdict"
}

# Not an OCSP response (a DER certificate): the reload is refused.
openssl x509 -in "$LAB_DIR/c.crt" -outform DER -out "$LAB_DIR/cert.der"
conf "$LAB_DIR/cert.der"
reload
grep -q "cannot read $LAB_DIR/cert.der as a DER OCSP response" "$LAB_DIR/node1.log" ||
    lab_fail "no error for the bad file"
grep -q "proxy: refused the new configuration" "$LAB_DIR/node1.log" ||
    lab_fail "reload with a bad OCSP file not refused"
px_expect "refused reload: old response still stapled" "$good" "$(status a.test)"

# A new response under the same name is read on SIGHUP.
respond a R "$LAB_DIR/a.ocsp"
conf "$LAB_DIR/a.ocsp"
reload
px_expect "reloaded: the revoked response is stapled" \
    "OCSP Response Status: successful,Cert Status: revoked" "$(status a.test)"

# A response for another certificate: logged, not stapled, still serving.
conf "$LAB_DIR/c.ocsp"
reload
grep -q "c.ocsp answers for another certificate; not stapled" "$LAB_DIR/node1.log" ||
    lab_fail "mismatch not logged"
px_expect "mismatched response not stapled" "OCSP response: no response sent" \
    "$(status a.test)"
px_expect "still serving" "be1 /y" \
    "$(px_curl --cacert "$LAB_DIR/ca.crt" https://a.test/y)"

# Responses openssl's responder will not make (python3-cryptography):
# one like the first (stapled), one out of date, one signed by a.
made() {
	python3 "$PX_DIR/ocsp_resp.py" "$LAB_DIR/a.crt" "$LAB_DIR/ca.crt" \
	    "$LAB_DIR/$1.crt" "$LAB_DIR/$1.key" "$LAB_DIR/$2" "${@:3}" ||
	    lab_fail "ocsp_resp.py $2"
	conf "$LAB_DIR/$2"
	reload
}
made ca made.ocsp
px_expect "made response stapled" "$good" "$(status a.test)"
made ca old.ocsp --expired
grep -q "old.ocsp is out of date; not stapled" "$LAB_DIR/node1.log" ||
    lab_fail "out-of-date response not logged"
px_expect "out-of-date response not stapled" "OCSP response: no response sent" \
    "$(status a.test)"
made a self.ocsp
grep -q "self.ocsp is not signed by the certificate's issuer" "$LAB_DIR/node1.log" ||
    lab_fail "wrong signer not logged"
px_expect "response signed by another not stapled" \
    "OCSP response: no response sent" "$(status a.test)"
px_done
