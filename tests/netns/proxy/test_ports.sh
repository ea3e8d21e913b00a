#!/usr/bin/env bash
# Listening ports: http_port other than 80 serves (and 80 is not listened
# on); without a certificate or a passthrough route the HTTPS port is not
# listened on; a reload adding a passthrough route opens it, one moving
# the ports opens the new ones and closes the old, and one removing every
# TLS route closes the HTTPS port again.
. "$(dirname "$0")/common.sh"
px_setup 1 2
px_cert backend pass.test
px_cert def a.test
px_backend 1 8080
px_backend 2 8443 --tls "$LAB_DIR/backend.crt" "$LAB_DIR/backend.key"
conf() {
	cat >"$LAB_DIR/conf.yaml" <<EOC
node: {name: node1}
proxy:
$1
  routes:
    - hostnames: [a.test]
      rules:
        - backends: [{address: 10.244.1.1:8080}]
$2
EOC
}
PASS="    - hostnames: [pass.test]
      tls: passthrough
      backends: [{address: 10.244.1.2:8443}]"
reload() {
	local n
	n=$(grep -cE "configuration applied|refused the new configuration" "$LAB_DIR/node1.log")
	kill -HUP "${LAB_PID[node1]}"
	lab_wait 10 bash -c "[ \$(grep -cE 'configuration applied|refused the new configuration' \
	    '$LAB_DIR/node1.log') -gt $n ]" || lab_fail "no reload verdict"
	grep -q "refused the new configuration" "$LAB_DIR/node1.log" && lab_fail "reload refused"
	return 0
}
# ports: the TCP ports listened on in node1's namespace, sorted.
ports() {
	lab_exec node1 ss -Htln | awk '{n = split($4, a, ":"); print a[n]}' |
	    grep -vx 9477 | sort -nu | tr '\n' ' ' | sed 's/ $//'
}
ports_are() { [ "$(ports)" = "$1" ]; }
# get PORT: what a.test/p answers on PORT ("000": nothing).
get() {
	px_curl -o /dev/null -w '%{http_code}' -H 'Host: a.test' \
	    "http://$NODE:$1/p" 2>/dev/null || true
}

conf "  http_port: 8081" ""
px_start "$LAB_DIR/conf.yaml"
px_expect "http_port 8081 serves" 200 "$(get 8081)"
px_expect "port 80 not listened on" 000 "$(get 80)"
px_expect "only 8081 listened on (no certificate, no passthrough)" 8081 "$(ports)"

# A passthrough route: the HTTPS port opens.
conf "  http_port: 8081" "$PASS"
reload
lab_wait 5 ports_are "443 8081" ||
    lab_fail "443 not listened on after adding a passthrough route: $(ports)"
px_expect "443 opened for passthrough" "443 8081" "$(ports)"
px_expect "passthrough served" "be2 /p" \
    "$(lab_exec client curl -sS --max-time 20 -k --resolve pass.test:443:$NODE https://pass.test/p)"

# Both ports moved, a certificate instead of the passthrough route.
conf "  http_port: 8082
  https_port: 8444
  certificates: [{cert: $LAB_DIR/def.crt, key: $LAB_DIR/def.key}]" ""
reload
lab_wait 5 ports_are "8082 8444" || lab_fail "after moving the ports: $(ports)"
px_expect "moved ports listened on" "8082 8444" "$(ports)"
px_expect "new http_port serves" 200 "$(get 8082)"
px_expect "old http_port closed" 000 "$(get 8081)"
px_expect "new https_port serves" "be1 /s" \
    "$(lab_exec client curl -sS --max-time 20 --cacert "$LAB_DIR/def.crt" \
        --resolve a.test:8444:$NODE https://a.test:8444/s)"

# No certificate and no passthrough route any more: HTTPS closed.
conf "  http_port: 8082" ""
reload
lab_wait 5 ports_are 8082 || lab_fail "HTTPS still listened on: $(ports)"
px_expect "HTTPS closed without TLS routes" 8082 "$(ports)"
px_expect "still serving" 200 "$(get 8082)"
px_done
