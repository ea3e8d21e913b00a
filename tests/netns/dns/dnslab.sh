# Shared set-up of the dns integration tests (sourced after lab.sh): the
# server node1 at .10, an inside client at .50, an outsider at .200 (the
# internal view and recursion_clients are 192.168.122.0/25), and an
# upstream host at .53 for dnsmasq.

dns_lab() {
	lab_require dig python3
	lab_switch
	lab_host node1 192.168.122.10/24
	lab_host client 192.168.122.50/24
	lab_host outsider 192.168.122.200/24
	lab_host upstream 192.168.122.53/24
}

# dnsq HOST ARGS...: dig at node1 from HOST, short timeouts.
dnsq() {
	local h=$1
	shift
	lab_exec "$h" dig @192.168.122.10 +time=2 +tries=1 "$@"
}

# dns_answer HOST NAME [TYPE] [ARGS...]: the answer section, +short.
dns_answer() {
	local h=$1 n=$2 t=${3:-A}
	shift 3 2>/dev/null || shift $#
	dnsq "$h" "$n" "$t" +short "$@"
}

# dns_status HOST ARGS...: the rcode dig reports.
dns_status() {
	dnsq "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'
}

# dns_flags HOST ARGS...: the header flags ("qr aa rd ra").
dns_flags() {
	dnsq "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p'
}

# start_upstream NAME ARGS...: dnsmasq on .53 with extra arguments; its
# PID in UPSTREAM_PID.
start_upstream() {
	local name=$1
	shift
	lab_bg upstream "$name" dnsmasq --no-daemon --no-resolv --no-hosts \
	    --no-poll --bind-interfaces --listen-address=192.168.122.53 \
	    --port=53 --user=root --group=root --pid-file= --log-facility=- "$@"
	UPSTREAM_PID=$LAB_LAST_PID
	lab_wait 5 lab_exec upstream dig @192.168.122.53 +time=1 +tries=1 \
	    version.bind CH TXT || lab_fail "dnsmasq did not start"
}

# start_hearth CONFIG: hearthd on node1, waiting until it answers.
start_hearth() {
	lab_hearthd node1 "$1"
	lab_wait 10 dnsq client qroksera.com SOA +short ||
		lab_fail "hearthd does not answer"
}

# dns_done: stops hearthd (SIGTERM), checks that it exited with 0 and left
# no sanitizer report (leaks show at exit in the ASan build).
dns_done() {
	local pid=${LAB_PID[node1]:-} rc
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill -TERM "$pid"
		wait "$pid"
		rc=$?
		[ "$rc" -eq 0 ] || lab_fail "hearthd exited with $rc on SIGTERM"
	fi
	! grep -qE "Sanitizer|runtime error" "$LAB_DIR/node1.log" ||
		lab_fail "sanitizer report in hearthd's log"
}

# dns_burst HOST NAMES...: sends one A query for each NAME at once from
# HOST to node1 (UDP), then prints "FULL TC": how many answers came with
# one record and how many truncated (TC=1), until 1 s of silence.
dns_burst() {
	local h=$1
	shift
	lab_exec "$h" python3 - "$@" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(1.0)
for i, n in enumerate(sys.argv[1:]):
    name = b"".join(bytes([len(l)]) + l for l in n.encode().split(b".")) + b"\0"
    s.sendto(struct.pack("!HHHHHH", i, 0x0100, 1, 0, 0, 0) + name + b"\0\x01\0\x01", ("192.168.122.10", 53))
full = tc = 0
try:
    while True:
        r = s.recv(512)
        if r[2] & 0x02:
            tc += 1
        elif struct.unpack("!H", r[6:8])[0] == 1:
            full += 1
except socket.timeout:
    pass
print(full, tc)
PY
}
