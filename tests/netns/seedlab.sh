# The seed's whole lab with hearthd on its three nodes running the bundled
# examples/hearth.yaml (sourced after lab.sh and lab_init; used by
# scripts/demo and by test_seed_lab_end_to_end.sh):
#   nodes .10 .11 .12 (k8s-control-plane, k8s-worker1, k8s-worker2), a
#   client .50, an outside client 198.51.100.7, the forwarders' stand-in
#   (dnsmasq at .53: harbor.qroksera.com is 203.0.113.10 outside), harbor
#   (HTTP on 10.96.12.34:80), argocd (TLS on 10.96.0.50:443, its own
#   certificate), and the two harbor-db backends 10.244.1.5 and 10.244.2.7.
# seedlab_up builds it and waits until the three nodes are serving;
# seedlab_owner VIP prints "NODE MAC" of the node answering ARP for VIP
# (from the client), or "none".
SEED_NAMES=(k8s-control-plane k8s-worker1 k8s-worker2)
declare -A SEED_NODE_OF_MAC=()

seedlab_up() {
	local top=${HEARTH_SOURCE_DIR:?} i n db
	lab_seed
	lab_host outside 198.51.100.7/24 02:00:00:00:00:77
	lab_exec outside ip route add 192.168.122.0/24 dev eth0
	lab_host upstream 192.168.122.53/24 02:00:00:00:00:53
	lab_host harbor 10.96.12.34/12
	lab_exec harbor ip route add 192.168.122.0/24 dev eth0
	lab_host argocd 10.96.0.50/12
	lab_exec argocd ip route add 192.168.122.0/24 dev eth0
	lab_backend db1 10.244.1.5
	lab_backend db2 10.244.2.7
	for n in node1 node2 node3; do
		lab_exec $n sysctl -qw net.ipv4.ip_forward=1
		lab_exec $n ip route replace 10.96.0.0/12 dev eth0
		lab_exec $n ip route replace 198.51.100.0/24 dev eth0
	done

	mkdir -p "$LAB_DIR/www"
	echo "hello from harbor (10.96.12.34)" >"$LAB_DIR/www/index.html"
	lab_bg harbor harbor python3 -m http.server 80 --bind 10.96.12.34 --directory "$LAB_DIR/www"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
	    -subj /CN=argocd.qroksera.com -keyout "$LAB_DIR/argo.key" -out "$LAB_DIR/argo.crt" 2>/dev/null
	lab_bg argocd argocd openssl s_server -quiet -www -accept 443 -cert "$LAB_DIR/argo.crt" -key "$LAB_DIR/argo.key"
	for db in db1 db2; do
		lab_bg $db $db python3 -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 5432)); s.listen()
while True:
    c, a = s.accept(); c.sendall(("%s answers, you are %s\n" % (sys.argv[1], a[0])).encode()); c.close()
' "$db"
	done
	if command -v dnsmasq >/dev/null; then
		lab_bg upstream upstream dnsmasq -k -p 53 --no-resolv --no-hosts -i eth0 \
		    --address=/harbor.qroksera.com/203.0.113.10 --address=/example.org/93.184.216.34 \
		    --pid-file=
	fi

	for i in 1 2 3; do
		python3 - "$top/examples/hearth.yaml" "$LAB_DIR/node$i.yaml" "${SEED_NAMES[i-1]}" <<'PY'
import os, sys, yaml
src, dst, name = sys.argv[1:]
c = yaml.safe_load(open(src))
base = os.path.dirname(os.path.abspath(src))
c["node"] = {"name": name, "interface": "eth0"}
c["peers"]["key_file"] = os.path.join(base, c["peers"]["key_file"])
for cert in c.get("proxy", {}).get("certificates", []):
    cert["cert"] = os.path.join(base, cert["cert"])
    cert["key"] = os.path.join(base, cert["key"])
c["dns"]["forwarders"] = ["192.168.122.53"]
yaml.safe_dump(c, open(dst, "w"), sort_keys=False)
PY
		SEED_NODE_OF_MAC["02:00:00:00:00:1$((i - 1))"]=${SEED_NAMES[i-1]}
	done
	for i in 1 2 3; do
		"$HEARTH_BIN/hearthd" --check-config -c "$LAB_DIR/node$i.yaml" || return 1
		lab_hearthd node$i "$LAB_DIR/node$i.yaml"
	done
	for i in 1 2 3; do
		lab_wait 10 lab_exec node$i curl -fsS http://127.0.0.1:9477/healthz >/dev/null || {
			echo "node$i did not become ready:"
			tail -20 "$LAB_DIR/node$i.log"
			return 1
		}
	done
}

seedlab_owner() {
	local mac
	mac=$(lab_exec client arping -c1 -w1 -I eth0 "$1" 2>/dev/null |
	    sed -n 's/.*\[\(..:..:..:..:..:..\)\].*/\1/p' | head -1 | tr A-Z a-z)
	if [ -n "$mac" ]; then
		echo "${SEED_NODE_OF_MAC[$mac]:-unknown} $mac"
	else
		echo "none"
	fi
}
