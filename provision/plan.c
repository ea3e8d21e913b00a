/*
 * The plan: what exists (libvirt objects and state-dir files, as
 * prov_observed) compared with the settings, giving the ordered steps
 * `up` runs and `plan` prints. Pure: the same observations always give
 * the same steps, and objects that already match give none.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "provision.h"

static __attribute__((format(printf, 4, 5))) int
add(struct prov_plan *p, enum prov_step_kind kind, int node, const char *fmt,
    ...)
{
	struct prov_step *v = realloc(p->v, (p->n + 1) * sizeof(*v));
	va_list ap;
	int r;

	if (v == NULL)
		return -ENOMEM;
	p->v = v;
	va_start(ap, fmt);
	r = vasprintf(&v[p->n].text, fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	v[p->n].kind = kind;
	v[p->n].node = node;
	p->n++;
	return 0;
}

static __attribute__((format(printf, 2, 3))) int
warn(struct prov_plan *p, const char *fmt, ...)
{
	char **v = realloc(p->warnings, (p->n_warnings + 1) * sizeof(*v));
	va_list ap;
	int r;

	if (v == NULL)
		return -ENOMEM;
	p->warnings = v;
	va_start(ap, fmt);
	r = vasprintf(&v[p->n_warnings], fmt, ap);
	va_end(ap);
	if (r < 0)
		return -ENOMEM;
	p->n_warnings++;
	return 0;
}

void
prov_plan_clear(struct prov_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i].text);
	free(p->v);
	for (size_t i = 0; i < p->n_warnings; i++)
		free(p->warnings[i]);
	free(p->warnings);
	memset(p, 0, sizeof(*p));
}

bool
prov_net_base_match(const struct prov_settings *s,
    const struct prov_net_facts *f)
{
	return strcmp(f->forward, "open") == 0 &&
	    strcmp(f->bridge, s->bridge) == 0 &&
	    f->addr.s_addr == s->net_addr.s_addr &&
	    f->prefix == s->net_prefix &&
	    f->dhcp_first.s_addr == s->dhcp_first.s_addr &&
	    f->dhcp_last.s_addr == s->dhcp_last.s_addr;
}

static const struct prov_dhcp_host *
host_by_mac(const struct prov_net_facts *f, const char *mac)
{
	for (size_t i = 0; i < f->n_hosts; i++)
		if (strcmp(f->hosts[i].mac, mac) == 0)
			return &f->hosts[i];
	return NULL;
}

bool
prov_net_hosts_match(const struct prov_settings *s,
    const struct prov_net_facts *f)
{
	for (size_t i = 0; i < s->n_nodes; i++) {
		char mac[PROV_MAC_STRLEN];
		const struct prov_dhcp_host *h;

		prov_node_mac(&s->nodes[i], mac);
		h = host_by_mac(f, mac);
		if (h == NULL || h->addr.s_addr != s->nodes[i].addr.s_addr ||
		    strcmp(h->name, s->nodes[i].name) != 0)
			return false;
	}
	return true;
}

static int
plan_network(const struct prov_settings *s, const struct prov_observed *o,
    struct prov_plan *p)
{
	const struct prov_net_facts *f = &o->net;
	char a[INET_ADDRSTRLEN];

	if (!o->net_exists)
		return add(p, PROV_STEP_NET_DEFINE, -1,
		    "define network %s: "
		    "forward open, bridge %s %s/%u, %zu DHCP hosts; start it",
		    s->net_name, s->bridge, prov_ip(s->net_addr, a),
		    s->net_prefix, s->n_nodes);
	if (!prov_net_base_match(s, f)) {
		char diff[512], fa[INET_ADDRSTRLEN], fb[INET_ADDRSTRLEN];
		size_t off = 0;

		diff[0] = '\0';
		if (strcmp(f->forward, "open") != 0)
			off += (size_t)snprintf(diff + off, sizeof(diff) - off,
			    "forward %s -> open, ",
			    f->forward[0] ? f->forward : "none");
		if (strcmp(f->bridge, s->bridge) != 0 && off < sizeof(diff))
			off += (size_t)snprintf(diff + off, sizeof(diff) - off,
			    "bridge %s -> %s, ", f->bridge, s->bridge);
		if ((f->addr.s_addr != s->net_addr.s_addr ||
		        f->prefix != s->net_prefix) &&
		    off < sizeof(diff))
			off += (size_t)snprintf(diff + off, sizeof(diff) - off,
			    "address %s/%u -> %s/%u, ", prov_ip(f->addr, fa),
			    f->prefix, prov_ip(s->net_addr, a), s->net_prefix);
		if ((f->dhcp_first.s_addr != s->dhcp_first.s_addr ||
		        f->dhcp_last.s_addr != s->dhcp_last.s_addr) &&
		    off < sizeof(diff))
			snprintf(diff + off, sizeof(diff) - off,
			    "DHCP range -> %s-%s, ", prov_ip(s->dhcp_first, fa),
			    prov_ip(s->dhcp_last, fb));
		return add(p, PROV_STEP_NET_ADOPT, -1,
		    "adopt network %s: %s"
		    "%zu DHCP hosts; restart it (%s)",
		    s->net_name, diff, s->n_nodes,
		    o->net_adopted ? "original already in network.orig.xml" :
		                     "original kept in network.orig.xml");
	}
	if (!prov_net_hosts_match(s, f)) {
		int r = add(p, PROV_STEP_NET_HOSTS, -1,
		    "update network %s: DHCP host entries for %zu nodes (%s)",
		    s->net_name, s->n_nodes,
		    o->net_adopted ? "original already in network.orig.xml" :
		                     "original kept in network.orig.xml");

		if (r != 0 || o->net_active)
			return r;
	}
	if (!o->net_active)
		return add(p, PROV_STEP_NET_START, -1, "start network %s",
		    s->net_name);
	return 0;
}

static int
plan_volume(const struct prov_settings *s, const struct prov_observed *o, int i,
    struct prov_plan *p)
{
	const struct prov_node *n = &s->nodes[i];
	const struct prov_obs_node *on = &o->nodes[i];
	unsigned long long want = (unsigned long long)n->disk_gib << 30;

	if (!on->vol_exists)
		return add(p, PROV_STEP_VOL_CREATE, i,
		    "create volume %s/%s.qcow2: "
		    "%u GiB backed by %s",
		    s->pool, n->name, n->disk_gib, s->image_base);
	if (on->vol.capacity < want)
		return add(p, PROV_STEP_VOL_RESIZE, i,
		    "resize volume %s/%s.qcow2: "
		    "%llu -> %u GiB",
		    s->pool, n->name, on->vol.capacity >> 30, n->disk_gib);
	if (on->vol.capacity > want)
		return warn(p,
		    "volume %s/%s.qcow2 is %llu GiB, more than disk_gib "
		    "%u: volumes are never shrunk",
		    s->pool, n->name, on->vol.capacity >> 30, n->disk_gib);
	if (on->vol.backing[0] && strcmp(on->vol.backing, s->image_base) != 0)
		return warn(p,
		    "volume %s/%s.qcow2 is backed by %s, not %s: "
		    "remove it (down) to rebuild",
		    s->pool, n->name, on->vol.backing, s->image_base);
	return 0;
}

/* The differences of a domain's facts from what s wants, as text (malloc'd). */
static char *
dom_diff(const struct prov_settings *s, const struct prov_observed *o, int i)
{
	const struct prov_node *n = &s->nodes[i];
	const struct prov_obs_node *on = &o->nodes[i];
	const struct prov_dom_facts *f = &on->dom_facts;
	char mac[PROV_MAC_STRLEN], *buf = NULL, *seed = NULL, *disk = NULL;
	const char *sep = "";
	size_t len;
	FILE *m = open_memstream(&buf, &len);

	if (m == NULL)
		return NULL;
	prov_node_mac(n, mac);
	if (asprintf(&seed, "%s/%s/seed.iso", o->state_dir, n->name) < 0)
		seed = NULL;
	if (on->vol_exists)
		disk = strdup(on->vol.path);
	else if (asprintf(&disk, "%s/%s.qcow2", o->pool_path, n->name) < 0)
		disk = NULL;
	if (seed == NULL || disk == NULL) {
		fclose(m);
		free(buf);
		buf = NULL;
		goto out;
	}
	if (f->vcpus != n->vcpus) {
		fprintf(m, "%svcpus %u -> %u", sep, f->vcpus, n->vcpus);
		sep = ", ";
	}
	if (f->memory_kib != (unsigned long long)n->memory_mib * 1024) {
		fprintf(m, "%smemory %llu -> %u MiB", sep, f->memory_kib / 1024,
		    n->memory_mib);
		sep = ", ";
	}
	if (strcmp(f->mac, mac) != 0) {
		fprintf(m, "%sMAC %s -> %s", sep, f->mac[0] ? f->mac : "none",
		    mac);
		sep = ", ";
	}
	if (strcmp(f->network, s->net_name) != 0) {
		fprintf(m, "%snetwork %s -> %s", sep,
		    f->network[0] ? f->network : "none", s->net_name);
		sep = ", ";
	}
	if (strcmp(f->disk, disk) != 0) {
		fprintf(m, "%sdisk %s -> %s", sep,
		    f->disk[0] ? f->disk : "none", disk);
		sep = ", ";
	}
	if (strcmp(f->cdrom, seed) != 0)
		fprintf(m, "%sseed %s -> %s", sep,
		    f->cdrom[0] ? f->cdrom : "none", seed);
	if (fclose(m) != 0) {
		free(buf);
		buf = NULL;
	}
out:
	free(seed);
	free(disk);
	return buf;
}

static int
plan_domain(const struct prov_settings *s, const struct prov_observed *o, int i,
    struct prov_plan *p)
{
	const struct prov_node *n = &s->nodes[i];
	enum prov_dom_state st = o->nodes[i].dom;
	char mac[PROV_MAC_STRLEN], a[INET_ADDRSTRLEN], *diff;
	int r = 0;

	if (st == PROV_DOM_ABSENT) {
		prov_node_mac(n, mac);
		return add(p, PROV_STEP_DOM_DEFINE, i,
		    "define domain %s: %u vCPU, "
		    "%u MiB, %u GiB disk, %s -> %s; start it",
		    n->name, n->vcpus, n->memory_mib, n->disk_gib, mac,
		    prov_ip(n->addr, a));
	}
	if ((diff = dom_diff(s, o, i)) == NULL)
		return -ENOMEM;
	if (diff[0])
		r = add(p, PROV_STEP_DOM_REDEFINE, i, "change domain %s: %s%s",
		    n->name, diff,
		    st == PROV_DOM_RUNNING ?
		        " (takes effect at its next boot)" :
		        "");
	free(diff);
	if (r != 0)
		return r;
	if (st == PROV_DOM_SHUTOFF)
		return add(p, PROV_STEP_DOM_START, i, "start domain %s",
		    n->name);
	return 0;
}

/*
 * Whether a worker will join an existing cluster with an expired token:
 * the control plane's domain exists and some worker's must be made.
 */
static bool
token_renewal(const struct prov_settings *s, const struct prov_observed *o)
{
	bool cp_exists = false, joiner = false;

	if (!o->pki_exists || !o->token_expired)
		return false;
	for (size_t i = 0; i < s->n_nodes; i++) {
		if (s->nodes[i].role == PROV_ROLE_CONTROL_PLANE)
			cp_exists = o->nodes[i].dom != PROV_DOM_ABSENT;
		else
			joiner |= o->nodes[i].dom == PROV_DOM_ABSENT;
	}
	return cp_exists && joiner;
}

int
prov_plan_compute(const struct prov_settings *s, const struct prov_observed *o,
    struct prov_plan *p)
{
	bool renew = false;
	int r = 0;

	memset(p, 0, sizeof(*p));
	for (size_t i = 0; r == 0 && i < o->n_stale; i++)
		r = warn(p,
		    "node %s was made by an earlier up and is not in the "
		    "settings: up leaves it alone, down removes it",
		    o->stale[i]);
	if (r == 0 && !o->pki_exists)
		r = add(p, PROV_STEP_PKI, -1,
		    "create PKI in pki/: cluster CA, "
		    "admin certificate, bootstrap token");
	if (r == 0)
		r = plan_network(s, o, p);
	if (r == 0 && !o->pool_exists)
		r = add(p, PROV_STEP_POOL_DEFINE, -1,
		    "define pool %s: dir %s; "
		    "start it",
		    s->pool, o->pool_path);
	else if (r == 0 && !o->pool_active)
		r = add(p, PROV_STEP_POOL_START, -1, "start pool %s", s->pool);
	for (size_t i = 0; r == 0 && i < s->n_nodes; i++)
		r = plan_volume(s, o, (int)i, p);
	if (r == 0 && (renew = token_renewal(s, o)))
		r = add(p, PROV_STEP_TOKEN, -1,
		    "renew the bootstrap token (pki/token is older than 23 h "
		    "and "
		    "a worker must join): create a new one in the cluster");
	for (size_t i = 0; r == 0 && i < s->n_nodes; i++)
		if (!o->nodes[i].seed_current || renew)
			r = add(p, PROV_STEP_SEED, (int)i,
			    "write %s/: user-data, "
			    "meta-data, network-config, kubeadm.yaml, seed.iso "
			    "(label cidata)",
			    s->nodes[i].name);
	for (size_t i = 0; r == 0 && i < s->n_nodes; i++)
		r = plan_domain(s, o, (int)i, p);
	if (r == 0 && !o->kubeconfig_current) {
		char a[INET_ADDRSTRLEN];

		r = add(p, PROV_STEP_KUBECONFIG, -1,
		    "write admin.kubeconfig "
		    "(server https://%s:6443)",
		    prov_ip(prov_control_plane(s)->addr, a));
	}
	if (r != 0)
		prov_plan_clear(p);
	return r;
}
