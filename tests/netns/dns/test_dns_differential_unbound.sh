#!/usr/bin/env bash
# Differential test: the same zone served by hearth and by Unbound's
# auth-zone, a few hundred queries (owners, names below them, wildcards,
# empty non-terminals, CNAMEs, the apex; ten types each) compared on
# rcode, flags, answer and authority sections. ANY is left out on purpose
# (hearth answers it minimally, RFC 8482; Unbound lists every RRset).
. "$(dirname "$0")/../lab.sh"
. "$(dirname "$0")/dnslab.sh"
lab_init
lab_require unbound dig python3
lab_switch
lab_host node1 192.168.122.10/24

records=(
	'@ 300 IN SOA ns.qroksera.com. hostmaster.qroksera.com. 1 3600 600 86400 60'
	'@ 300 IN NS ns'
	'@ 300 IN MX 10 mail'
	'@ 300 IN TXT "v=spf1 -all"'
	'ns 300 IN A 192.168.122.1'
	'mail 300 IN A 192.168.122.2'
	'mail 300 IN AAAA fd00::2'
	'* 300 IN A 192.168.122.100'
	'* 300 IN TXT "wild"'
	'harbor 300 IN A 192.168.122.100'
	'harbor 300 IN AAAA fd00::100'
	'harbor.internal 120 IN A 192.168.122.101'
	'a.b.c.deep 300 IN A 10.0.0.1'
	'www 60 IN CNAME web'
	'web 60 IN CNAME harbor'
	'ext 300 IN CNAME www.example.org.'
	'*.apps 300 IN A 192.168.122.110'
	'*.cn 300 IN CNAME harbor'
	'_http._tcp 300 IN SRV 0 5 80 harbor'
	'caa 300 IN CAA 0 issue "letsencrypt.org"'
	'ptr 300 IN PTR harbor'
	'multi 300 IN A 10.0.0.1'
	'multi 300 IN A 10.0.0.2'
	'multi 300 IN A 10.0.0.3'
	'dangling 300 IN CNAME nothere.internal'
)

conf=$LAB_DIR/hearth.yaml
{
	printf 'node: {name: node1}\ndns:\n  listen: [127.0.0.1:53]\n'
	printf '  recursion_clients: [192.0.2.1/32]\n  zones:\n'
	printf '    - origin: qroksera.com\n      views:\n        - name: all\n'
	printf '          clients: [0.0.0.0/0]\n          records:\n'
	for r in "${records[@]}"; do
		printf "            - '%s'\n" "$r"
	done
} >"$conf"
{
	printf '$ORIGIN qroksera.com.\n$TTL 300\n'
	printf '%s\n' "${records[@]}"
} >"$LAB_DIR/qroksera.zone"
cat >"$LAB_DIR/unbound.conf" <<EOF2
server:
  interface: 127.0.0.2
  port: 53
  do-daemonize: no
  username: ""
  chroot: ""
  directory: "$LAB_DIR"
  pidfile: ""
  use-syslog: no
  logfile: ""
  verbosity: 1
  access-control: 127.0.0.0/8 allow
  module-config: "iterator"
  do-ip6: no
  minimal-responses: yes
auth-zone:
  name: "qroksera.com"
  zonefile: "$LAB_DIR/qroksera.zone"
  for-downstream: yes
  for-upstream: no
  fallback-enabled: no
remote-control:
  control-enable: no
EOF2
lab_hearthd node1 "$conf"
lab_bg node1 unbound unbound -d -c "$LAB_DIR/unbound.conf"
for s in 127.0.0.1 127.0.0.2; do
	lab_wait 10 lab_exec node1 dig @$s +time=1 +tries=1 qroksera.com SOA +short ||
		lab_fail "$s does not answer"
done

names=(qroksera.com '*.qroksera.com')
for r in "${records[@]}"; do
	o=${r%% *}
	[ "$o" = @ ] && continue
	names+=("$o.qroksera.com" "x.$o.qroksera.com" "x.y.$o.qroksera.com")
done
names+=(internal.qroksera.com x.internal.qroksera.com deep.qroksera.com
	c.deep.qroksera.com b.c.deep.qroksera.com z.a.b.c.deep.qroksera.com
	apps.qroksera.com foo.apps.qroksera.com a.b.apps.qroksera.com
	cn.qroksera.com x.cn.qroksera.com y.x.cn.qroksera.com
	nothing.qroksera.com _tcp.qroksera.com x._tcp.qroksera.com
	HaRbOr.QrOkSeRa.CoM)
: >"$LAB_DIR/queries"
for n in $(printf '%s\n' "${names[@]}" | sort -u); do
	for t in A AAAA TXT MX NS SOA CNAME SRV CAA PTR; do
		echo "$n $t" >>"$LAB_DIR/queries"
	done
done
nq=$(wc -l <"$LAB_DIR/queries")
[ "$nq" -ge 300 ] || lab_fail "only $nq queries"
for s in 127.0.0.1 127.0.0.2; do
	lab_exec node1 dig @$s +norec +time=2 +tries=2 +nocookie +noedns \
	    -f "$LAB_DIR/queries" >"$LAB_DIR/out.$s" || lab_fail "dig -f failed against $s"
done

owners=$(for r in "${records[@]}"; do o=${r%% *}; [ "$o" = @ ] && echo qroksera.com || echo "$o.qroksera.com"; done | sort -u | tr "\n" " ")
python3 - "$LAB_DIR/out.127.0.0.1" "$LAB_DIR/out.127.0.0.2" "$owners" <<'PY' || lab_fail "hearth and Unbound differ"
import re, sys

def parse(path):
    out, cur, sec = [], None, None
    for line in open(path):
        line = line.rstrip("\n")
        m = re.search(r"status: (\w+), id", line)
        if m:
            cur = {"rcode": m.group(1), "answer": [], "authority": []}
            out.append(cur)
            continue
        m = re.match(r";; flags: ([a-z ]*);", line)
        if m and cur is not None:
            cur["flags"] = " ".join(sorted(m.group(1).split()))
            continue
        m = re.match(r";; (\w+) SECTION:", line)
        if m:
            sec = m.group(1).lower()
            continue
        m = re.match(r";(\S+)\s+IN\s+(\S+)$", line)
        if m and sec == "question":
            cur["q"] = (m.group(1) + " " + m.group(2)).lower()
            continue
        if not line or line.startswith(";"):
            if not line:
                sec = None
            continue
        if sec in ("answer", "authority"):
            cur[sec].append(" ".join(line.lower().split()))
    for r in out:
        r["answer"].sort()
        r["authority"].sort()
    return out

h, u = parse(sys.argv[1]), parse(sys.argv[2])
owners = [o for o in sys.argv[3].split()]
exists = set()
for o in owners:
    labels = o.split(".")
    for i in range(len(labels) - 1):     # the owner and its ancestors to the apex
        exists.add(".".join(labels[i:]))

def below_bare_ent(q):
    """RFC 4592 2.2.2: the closest encloser is an empty non-terminal
    without a wildcard child, so the answer is NXDOMAIN. Unbound 1.17
    synthesises from a wildcard higher up instead."""
    name = q.split()[0].rstrip(".")
    if name in exists:
        return False
    labels = name.split(".")
    for i in range(1, len(labels)):
        ce = ".".join(labels[i:])
        if ce in exists:
            return ce not in owners and ("*." + ce) not in owners
    return False

def soa_only(r):
    return len(r["authority"]) == 1 and " soa " in r["authority"][0]

if len(h) != len(u):
    sys.exit("answer counts differ: hearth %d, unbound %d" % (len(h), len(u)))
bad = ent = chain = 0
for a, b in zip(h, u):
    if below_bare_ent(a["q"]):
        # hearth must answer NXDOMAIN with the SOA; Unbound is not compared.
        if a["rcode"] != "NXDOMAIN" or a["answer"] or not soa_only(a):
            bad += 1
            print("%s: not NXDOMAIN below an empty non-terminal: %s" % (a["q"], a))
        ent += 1
        continue
    if (a["answer"] == b["answer"] and a["answer"] and
            all(" cname " in x for x in a["answer"]) and soa_only(a) and
            not b["authority"] and a["flags"] == b["flags"]):
        # A CNAME chain ending in NODATA/NXDOMAIN inside the zone: hearth
        # follows it (RFC 1034 4.3.2, RFC 6604 rcode, RFC 2308 SOA); Unbound
        # stops at the last CNAME without the SOA.
        chain += 1
        continue
    for k in ("q", "rcode", "flags", "answer", "authority"):
        if a.get(k) != b.get(k):
            bad += 1
            print("%s: %s differs\n  hearth:  %s\n  unbound: %s" % (a.get("q"), k, a.get(k), b.get(k)))
            break
print("%d queries compared: %d identical, %d below bare ENTs (Unbound "
      "deviates from RFC 4592), %d CNAME chains ending negative, %d differ"
      % (len(h), len(h) - ent - chain - bad, ent, chain, bad))
sys.exit(1 if bad else 0)
PY
dns_done
echo "differential: all passed"
