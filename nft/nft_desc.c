/*
 * Model -> description of the table `inet hearth`: the fixed sets, the
 * chains with their rules, the allow_in ranges and one entry per service
 * port. Pure: no I/O, no libnftnl; nft_diff.c compares two descriptions
 * and nft_build.c turns the result into netlink messages.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "nft_logic.h"

/* nft's datatype ids (src/datatype.h), concatenated 6 bits each. */
enum {
	DT_VERDICT = 1,
	DT_IPADDR = 7,
	DT_IP6ADDR = 8,
	DT_INET_PROTO = 12,
	DT_INET_SERVICE = 13,
	DT_MARK = 19,
};
#define DT2(a, b)       (((a) << 6) | (b))
#define DT3(a, b, c)    (((a) << 12) | ((b) << 6) | (c))
#define DT4(a, b, c, d) (((a) << 18) | ((b) << 12) | ((c) << 6) | (d))

const struct nft_set_def nft_sets[NFT_SET_COUNT] = {
    [NFT_SET_SVC4] = {"svc4", NFT_SET_MAP,
        DT3(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE), 12, NFT_DATA_VERDICT, 0,
        {0}},
    [NFT_SET_SVC6] = {"svc6", NFT_SET_MAP,
        DT3(DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE), 24, NFT_DATA_VERDICT,
        0, {0}},
    [NFT_SET_EP4] = {"ep4", NFT_SET_MAP,
        DT4(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE, DT_MARK), 16,
        DT2(DT_IPADDR, DT_INET_SERVICE), 8, {0}},
    [NFT_SET_EP6] = {"ep6", NFT_SET_MAP,
        DT4(DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE, DT_MARK), 28,
        DT2(DT_IP6ADDR, DT_INET_SERVICE), 20, {0}},
    [NFT_SET_MASQ4] = {"masq4", 0,
        DT3(DT_IPADDR, DT_INET_PROTO, DT_INET_SERVICE), 12, 0, 0, {0}},
    [NFT_SET_MASQ6] = {"masq6", 0,
        DT3(DT_IP6ADDR, DT_INET_PROTO, DT_INET_SERVICE), 24, 0, 0, {0}},
    [NFT_SET_ALLOW] = {"allow_in", NFT_SET_INTERVAL | NFT_SET_CONCAT,
        DT2(DT_INET_PROTO, DT_INET_SERVICE), 8, 0, 0, {1, 2}},
};

/* A growable array of chains being built. */
struct chains {
	struct nft_chain_def *v;
	size_t n, cap;
	int err;
};

static struct nft_chain_def *
chain_add(struct chains *c, const char *name, uint8_t hook, bool nat,
    int32_t prio, bool drop)
{
	if (c->err)
		return NULL;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct nft_chain_def *v = realloc(c->v, cap * sizeof(*v));
		if (v == NULL) {
			c->err = -ENOMEM;
			return NULL;
		}
		c->v = v;
		c->cap = cap;
	}
	struct nft_chain_def *d = &c->v[c->n++];
	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->hook = hook;
	d->nat = nat;
	d->prio = prio;
	d->policy_drop = drop;
	return d;
}

/* Appends a zeroed rule of kind k to chain d; NULL on failure. */
static struct nft_rule_spec *
rule_add(struct chains *c, struct nft_chain_def *d, uint8_t kind)
{
	if (d == NULL || c->err)
		return NULL;
	struct nft_rule_spec *v =
	    realloc(d->rules, (d->n_rules + 1) * sizeof(*v));
	if (v == NULL) {
		c->err = -ENOMEM;
		return NULL;
	}
	d->rules = v;
	struct nft_rule_spec *r = &v[d->n_rules++];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	return r;
}

static void
addr_bytes(const struct hearth_addr *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (a->family == AF_INET)
		memcpy(out, &a->v4, 4);
	else
		memcpy(out, &a->v6, 16);
}

/* The proxy port a `target: proxy` service port is redirected to. */
static uint16_t
proxy_port_for(const struct hearth_model *m, uint16_t port)
{
	if (port == m->proxy.https_port || port == 443 || port == 8443)
		return m->proxy.https_port;
	return m->proxy.http_port;
}

/* A total order on backends (any fixed order will do: it only has to
 * give the same slots for the same backends every time). */
static int
backend_cmp(const struct nft_backend *a, const struct nft_backend *b)
{
	uint64_t x[2], y[2];
	memcpy(x, a->addr, sizeof(x));
	memcpy(y, b->addr, sizeof(y));
	if (x[0] != y[0])
		return x[0] < y[0] ? -1 : 1;
	if (x[1] != y[1])
		return x[1] < y[1] ? -1 : 1;
	return (a->port > b->port) - (a->port < b->port);
}

/* Inserts x into the sorted be[0..n) unless present; returns the new n. */
static size_t
backend_insert(struct nft_backend *be, size_t n, const struct nft_backend *x)
{
	size_t j = n;
	int c = 1;
	while (j > 0 && (c = backend_cmp(&be[j - 1], x)) > 0)
		j--;
	if (j > 0 && c == 0)
		return n;
	memmove(&be[j + 1], &be[j], (n - j) * sizeof(*be));
	be[j] = *x;
	return n + 1;
}

/* Fills s from p; copies p's usable backends to d->backends. */
static void
svc_fill(struct nft_desc *d, const struct hearth_model *m,
    const struct hearth_service *svc, const struct hearth_service_port *p,
    struct nft_svc *s)
{
	memset(s, 0, sizeof(*s));
	addr_bytes(&svc->address, s->key.addr);
	s->key.port = p->port;
	s->key.proto = (uint8_t)p->proto;
	s->key.family = (uint8_t)svc->address.family;
	s->first_backend = (uint32_t)d->n_backends;
	if (p->to_proxy) {
		s->kind = NFT_SVC_PROXY;
		s->proxy_port = proxy_port_for(m, p->port);
		return;
	}
	struct nft_backend *be = &d->backends[d->n_backends];
	size_t n = 0;
	for (size_t i = 0; i < p->n_backends; i++) {
		if (p->backends[i].addr.family != svc->address.family) {
			d->n_skipped++;
			continue;
		}
		struct nft_backend x;
		addr_bytes(&p->backends[i].addr, x.addr);
		x.port = p->backends[i].port;
		n = backend_insert(be, n, &x);
	}
	size_t u = n;
	d->n_backends += u;
	s->n_backends = (uint32_t)u;
	s->kind = u > 0 ? NFT_SVC_DNAT : NFT_SVC_REFUSE;
	s->masq = u > 0 && !svc->local_traffic;
}

/* Adds (sign 1) or removes (-1) s's elements from the counts. */
static void
count_elems(struct nft_desc *d, const struct nft_svc *s, int sign)
{
	bool v4 = s->key.family == AF_INET;
	d->n_elems[v4 ? NFT_SET_SVC4 : NFT_SET_SVC6] += (size_t)sign;
	d->n_elems[v4 ? NFT_SET_EP4 : NFT_SET_EP6] +=
	    (size_t)sign * s->n_backends;
	if (s->masq)
		d->n_elems[v4 ? NFT_SET_MASQ4 : NFT_SET_MASQ6] += (size_t)sign;
}

/* Makes room for n services and nb backends (one walk of the model). */
static int
grow(struct nft_desc *d, size_t n, size_t nb)
{
	if (n > d->cap_svcs) {
		size_t cap = d->cap_svcs ? d->cap_svcs * 2 : 64;
		struct nft_svc *v = realloc(d->svcs, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		d->svcs = v;
		d->cap_svcs = cap;
	}
	if (nb > d->cap_backends) {
		size_t cap = d->cap_backends ? d->cap_backends * 2 : 128;
		while (cap < nb)
			cap *= 2;
		struct nft_backend *v = realloc(d->backends, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		d->backends = v;
		d->cap_backends = cap;
	}
	return 0;
}

static int
build_svcs(struct nft_desc *d, const struct hearth_model *m)
{
	for (size_t i = 0; i < m->n_services; i++) {
		const struct hearth_service *svc = &m->services[i];
		/* The model is scattered in small allocations: fetch ahead. */
		if (i + 8 < m->n_services)
			__builtin_prefetch(m->services[i + 8].ports);
		if (i + 4 < m->n_services && m->services[i + 4].n_ports > 0)
			__builtin_prefetch(
			    m->services[i + 4].ports[0].backends);
		if (svc->address.family != AF_INET &&
		    svc->address.family != AF_INET6)
			continue;
		for (size_t j = 0; j < svc->n_ports; j++) {
			const struct hearth_service_port *p = &svc->ports[j];
			if (grow(d, d->n_svcs + 1,
			        d->n_backends + p->n_backends) < 0)
				return -ENOMEM;
			struct nft_svc *s = &d->svcs[d->n_svcs++];
			svc_fill(d, m, svc, p, s);
			count_elems(d, s, 1);
		}
	}
	return 0;
}

/* Shared chains the services use: refuse, pickF_K and proxy_P. */
static void
build_svc_chains(struct chains *c, const struct nft_desc *d)
{
	struct nft_chain_def *ch =
	    chain_add(c, "refuse", NFT_HOOK_NONE, false, 0, false);
	rule_add(c, ch, NFT_R_REFUSE_TCP);
	rule_add(c, ch, NFT_R_REFUSE_ANY);

	size_t maxk = 0;
	for (size_t i = 0; i < d->n_svcs; i++)
		if (d->svcs[i].n_backends > maxk)
			maxk = d->svcs[i].n_backends;
	uint8_t *seen = calloc(maxk + 1, 1);
	uint16_t ports[64]; /* distinct proxy ports: http and https */
	size_t n_ports = 0;
	if (seen == NULL) {
		c->err = -ENOMEM;
		return;
	}
	for (size_t i = 0; i < d->n_svcs; i++) {
		const struct nft_svc *s = &d->svcs[i];
		if (s->kind == NFT_SVC_DNAT)
			seen[s->n_backends] |= s->key.family == AF_INET ? 1 : 2;
		if (s->kind != NFT_SVC_PROXY)
			continue;
		size_t k;
		for (k = 0; k < n_ports && ports[k] != s->proxy_port; k++)
			;
		if (k == n_ports && n_ports < sizeof(ports) / sizeof(ports[0]))
			ports[n_ports++] = s->proxy_port;
	}
	for (size_t k = 1; k <= maxk; k++) {
		for (int f = 0; f < 2; f++) {
			if (!(seen[k] & (1 << f)))
				continue;
			char name[NFT_CHAIN_NAMELEN];
			snprintf(name, sizeof(name), "pick%d_%zu", f ? 6 : 4,
			    k);
			ch = chain_add(c, name, NFT_HOOK_NONE, false, 0, false);
			struct nft_rule_spec *r = rule_add(c, ch, NFT_R_PICK);
			if (r) {
				r->family = f ? AF_INET6 : AF_INET;
				r->n = (uint32_t)k;
			}
		}
	}
	for (size_t k = 0; k < n_ports; k++) {
		char name[NFT_CHAIN_NAMELEN];
		snprintf(name, sizeof(name), "proxy_%u", ports[k]);
		ch = chain_add(c, name, NFT_HOOK_NONE, false, 0, false);
		struct nft_rule_spec *r = rule_add(c, ch, NFT_R_REDIRECT);
		if (r) {
			r->proto = IPPROTO_TCP;
			r->port = ports[k];
		}
		r = rule_add(c, ch, NFT_R_REDIRECT);
		if (r) {
			r->proto = IPPROTO_UDP;
			r->port = ports[k];
		}
	}
	free(seen);
}

static void
rule_jump(struct chains *c, struct nft_chain_def *ch, const char *target)
{
	struct nft_rule_spec *r = rule_add(c, ch, NFT_R_JUMP);
	if (r)
		snprintf(r->target, sizeof(r->target), "%s", target);
}

/* The hooked chains and the host role's chains. */
static void
build_base_chains(struct chains *c, const struct hearth_model *m)
{
	struct nft_chain_def *ch;
	struct nft_rule_spec *r;

	ch = chain_add(c, "prerouting", NFT_HOOK_PREROUTING, true, -110, false);
	rule_jump(c, ch, "host_fwd");
	for (int f = 0; f < 2; f++)
		if ((r = rule_add(c, ch, NFT_R_DISPATCH)))
			r->family = f ? AF_INET6 : AF_INET;
	ch = chain_add(c, "output", NFT_HOOK_OUTPUT, true, -110, false);
	for (int f = 0; f < 2; f++)
		if ((r = rule_add(c, ch, NFT_R_DISPATCH)))
			r->family = f ? AF_INET6 : AF_INET;
	ch =
	    chain_add(c, "postrouting", NFT_HOOK_POSTROUTING, true, 100, false);
	for (int f = 0; f < 2; f++) {
		for (int p = 0; p < 2; p++) {
			if ((r = rule_add(c, ch, NFT_R_MASQ_SVC))) {
				r->family = f ? AF_INET6 : AF_INET;
				r->proto = p ? IPPROTO_UDP : IPPROTO_TCP;
			}
		}
	}
	rule_jump(c, ch, "host_masq");

	const struct hearth_nat *nat = &m->nat;
	ch = chain_add(c, "host_fwd", NFT_HOOK_NONE, false, 0, false);
	for (size_t i = 0; m->has_nat && i < nat->n_port_forwards; i++) {
		const struct hearth_port_forward *pf = &nat->port_forwards[i];
		if (!(r = rule_add(c, ch, NFT_R_PORT_FWD)))
			break;
		r->family = (uint8_t)pf->to.addr.family;
		r->proto = (uint8_t)pf->proto;
		r->port = pf->port;
		addr_bytes(&pf->to.addr, r->addr);
		r->port2 = pf->to.port;
		if (pf->in_interface)
			snprintf(r->ifname, sizeof(r->ifname), "%s",
			    pf->in_interface);
	}
	ch = chain_add(c, "host_masq", NFT_HOOK_NONE, false, 0, false);
	for (size_t i = 0; m->has_nat && i < nat->n_masquerade; i++) {
		const struct hearth_masquerade *mq = &nat->masquerade[i];
		if (!(r = rule_add(c, ch, NFT_R_HOST_MASQ)))
			break;
		r->family = (uint8_t)mq->source.addr.family;
		addr_bytes(&mq->source.addr, r->addr);
		r->prefix = mq->source.prefix;
		if (mq->out_interface)
			snprintf(r->ifname, sizeof(r->ifname), "%s",
			    mq->out_interface);
	}
	if (m->has_nat && (nat->n_masquerade || nat->n_port_forwards)) {
		ch = chain_add(c, "forward", NFT_HOOK_FORWARD, false, 0, false);
		rule_add(c, ch, NFT_R_CT_ACCEPT);
		rule_add(c, ch, NFT_R_DNAT_ACCEPT);
		for (size_t i = 0; i < nat->n_masquerade; i++) {
			const struct hearth_masquerade *mq =
			    &nat->masquerade[i];
			if (!(r = rule_add(c, ch, NFT_R_SADDR_ACCEPT)))
				break;
			r->family = (uint8_t)mq->source.addr.family;
			addr_bytes(&mq->source.addr, r->addr);
			r->prefix = mq->source.prefix;
		}
	}
	if (m->has_nat && nat->allow_input_set) {
		ch = chain_add(c, "input", NFT_HOOK_INPUT, false, 0, true);
		rule_add(c, ch, NFT_R_LO_ACCEPT);
		rule_add(c, ch, NFT_R_CT_ACCEPT);
		rule_add(c, ch, NFT_R_CT_INVALID_DROP);
		if ((r = rule_add(c, ch, NFT_R_PROTO_ACCEPT)))
			r->proto = IPPROTO_ICMP;
		if ((r = rule_add(c, ch, NFT_R_PROTO_ACCEPT)))
			r->proto = IPPROTO_ICMPV6;
		rule_add(c, ch, NFT_R_ALLOW_SET);
	}
}

static int
allow_cmp(const void *a, const void *b)
{
	const struct nft_allow *x = a, *y = b;
	if (x->proto != y->proto)
		return x->proto < y->proto ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return (x->last > y->last) - (x->last < y->last);
}

static void
allow_push(struct nft_allow *v, size_t *n, uint8_t proto, uint16_t first,
    uint16_t last)
{
	v[*n] =
	    (struct nft_allow){.proto = proto, .first = first, .last = last};
	(*n)++;
}

/* allow_input plus hearth's own ports, merged into disjoint ranges. */
static int
build_allow(struct nft_desc *d, const struct hearth_model *m)
{
	if (!m->has_nat || !m->nat.allow_input_set)
		return 0;
	size_t cap = m->nat.n_allow_input + 2 * m->dns.n_listen + 8;
	struct nft_allow *v = calloc(cap, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	size_t n = 0;
	for (size_t i = 0; i < m->nat.n_allow_input; i++) {
		const struct hearth_port_range *r = &m->nat.allow_input[i];
		allow_push(v, &n, (uint8_t)r->proto, r->first, r->last);
	}
	if (m->n_pools || m->n_services || m->kubernetes.enabled)
		allow_push(v, &n, IPPROTO_UDP, m->peers.port, m->peers.port);
	for (size_t i = 0; m->has_dns && i < m->dns.n_listen; i++) {
		uint16_t p = m->dns.listen[i].port;
		allow_push(v, &n, IPPROTO_UDP, p, p);
		allow_push(v, &n, IPPROTO_TCP, p, p);
	}
	if (m->has_proxy) {
		allow_push(v, &n, IPPROTO_TCP, m->proxy.http_port,
		    m->proxy.http_port);
		allow_push(v, &n, IPPROTO_TCP, m->proxy.https_port,
		    m->proxy.https_port);
	}
	if (m->metrics.enabled)
		allow_push(v, &n, IPPROTO_TCP, m->metrics.listen.port,
		    m->metrics.listen.port);
	qsort(v, n, sizeof(*v), allow_cmp);
	size_t u = 0;
	for (size_t i = 0; i < n; i++) {
		struct nft_allow *last = u ? &v[u - 1] : NULL;
		if (last && last->proto == v[i].proto &&
		    (uint32_t)v[i].first <= (uint32_t)last->last + 1) {
			if (v[i].last > last->last)
				last->last = v[i].last;
			continue;
		}
		v[u++] = v[i];
	}
	d->allow = v;
	d->n_allow = u;
	d->n_elems[NFT_SET_ALLOW] = u;
	return 0;
}

/* Empties d but keeps its service and backend arrays for reuse. */
static void
desc_reset(struct nft_desc *d)
{
	for (size_t i = 0; i < d->n_chains; i++)
		free(d->chains[i].rules);
	free(d->chains);
	free(d->allow);
	free(d->index);
	struct nft_svc *svcs = d->svcs;
	struct nft_backend *backends = d->backends;
	size_t cap_svcs = d->cap_svcs, cap_backends = d->cap_backends;
	memset(d, 0, sizeof(*d));
	d->svcs = svcs;
	d->backends = backends;
	d->cap_svcs = cap_svcs;
	d->cap_backends = cap_backends;
}

struct nft_desc *
nft_desc_build(const struct hearth_model *m)
{
	return nft_desc_rebuild(NULL, m);
}

struct nft_desc *
nft_desc_rebuild(struct nft_desc *d, const struct hearth_model *m)
{
	if (d != NULL)
		desc_reset(d);
	else if ((d = calloc(1, sizeof(*d))) == NULL)
		return NULL;
	if (build_svcs(d, m) < 0 || build_allow(d, m) < 0)
		goto fail;
	struct chains c = {0};
	build_base_chains(&c, m);
	build_svc_chains(&c, d);
	d->chains = c.v;
	d->n_chains = c.n;
	if (c.err)
		goto fail;
	return d;
fail:
	nft_desc_free(d);
	return NULL;
}

void
nft_desc_free(struct nft_desc *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_chains; i++)
		free(d->chains[i].rules);
	free(d->chains);
	free(d->allow);
	free(d->svcs);
	free(d->backends);
	free(d->index);
	free(d);
}

static uint64_t
key_hash(const struct nft_key *k)
{
	uint64_t w[3];
	memcpy(w, k, sizeof(*k) - 4);
	uint64_t h = w[0] * 0x9e3779b97f4a7c15ULL;
	h ^= (w[1] + (h >> 29)) * 0xbf58476d1ce4e5b9ULL;
	uint32_t t;
	memcpy(&t, (const uint8_t *)k + 16, 4);
	h ^= (t + (h >> 31)) * 0x94d049bb133111ebULL;
	return h ^ (h >> 32);
}

int
nft_desc_index(struct nft_desc *d)
{
	if (d->index != NULL)
		return 0;
	size_t cap = 16;
	while (cap < d->n_svcs * 2)
		cap <<= 1;
	d->index = malloc(cap * sizeof(*d->index));
	if (d->index == NULL)
		return -ENOMEM;
	memset(d->index, 0xff, cap * sizeof(*d->index));
	d->index_cap = cap;
	for (size_t i = 0; i < d->n_svcs; i++) {
		struct nft_svc *s = &d->svcs[i];
		size_t h = key_hash(&s->key) & (cap - 1);
		for (;;) {
			int32_t j = d->index[h];
			if (j < 0) {
				d->index[h] = (int32_t)i;
				break;
			}
			if (memcmp(&d->svcs[j].key, &s->key, sizeof(s->key)) ==
			    0) {
				if (!s->dup) {
					s->dup = true;
					count_elems(d, s, -1);
					d->n_dups++;
				}
				break;
			}
			h = (h + 1) & (cap - 1);
		}
	}
	return 0;
}

const struct nft_svc *
nft_desc_lookup(const struct nft_desc *d, const struct nft_key *k)
{
	if (d->index == NULL)
		return NULL;
	size_t h = key_hash(k) & (d->index_cap - 1);
	for (;;) {
		int32_t j = d->index[h];
		if (j < 0)
			return NULL;
		if (memcmp(&d->svcs[j].key, k, sizeof(*k)) == 0)
			return &d->svcs[j];
		h = (h + 1) & (d->index_cap - 1);
	}
}

const struct nft_chain_def *
nft_desc_chain(const struct nft_desc *d, const char *name)
{
	for (size_t i = 0; i < d->n_chains; i++)
		if (strcmp(d->chains[i].name, name) == 0)
			return &d->chains[i];
	return NULL;
}

void
nft_desc_mark_dup(struct nft_desc *d, struct nft_svc *s)
{
	if (s->dup)
		return;
	s->dup = true;
	count_elems(d, s, -1);
	d->n_dups++;
}
