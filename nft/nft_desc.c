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
#include <sys/types.h>

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

/* Counts (sign 1) or uncounts (-1) a use of proxy chain `port`. */
static int
count_proxy(struct nft_desc *d, uint16_t port, int sign)
{
	size_t i;
	for (i = 0; i < d->n_proxy_ports && d->proxy_ports[i] != port; i++)
		;
	if (i == d->n_proxy_ports) {
		if (sign < 0)
			return 0;
		if (i == sizeof(d->proxy_ports) / sizeof(d->proxy_ports[0]))
			return -ENOSPC;
		d->proxy_ports[d->n_proxy_ports++] = port;
		d->proxy_refs[i] = 0;
	}
	d->proxy_refs[i] += (uint32_t)sign;
	return 0;
}

/* Counts (sign 1) or uncounts (-1) a use of pick chain idx. */
static int
count_pick(struct nft_desc *d, size_t idx, int sign)
{
	if (idx >= d->pick_cap) {
		if (sign < 0)
			return 0;
		size_t cap = d->pick_cap ? d->pick_cap : 16;
		while (cap <= idx)
			cap *= 2;
		uint32_t *v = realloc(d->pick_refs, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		memset(v + d->pick_cap, 0, (cap - d->pick_cap) * sizeof(*v));
		d->pick_refs = v;
		d->pick_cap = cap;
	}
	d->pick_refs[idx] += (uint32_t)sign;
	return 0;
}

/* Adds (sign 1) or removes (-1) s's elements and chain uses from the
 * counts; 0 or -ENOMEM (only when adding). */
static int
count_elems(struct nft_desc *d, const struct nft_svc *s, int sign)
{
	bool v4 = s->key.family == AF_INET;
	d->n_elems[v4 ? NFT_SET_SVC4 : NFT_SET_SVC6] += (size_t)sign;
	d->n_elems[v4 ? NFT_SET_EP4 : NFT_SET_EP6] +=
	    (size_t)sign * s->n_backends;
	if (s->masq)
		d->n_elems[v4 ? NFT_SET_MASQ4 : NFT_SET_MASQ6] += (size_t)sign;
	if (s->kind == NFT_SVC_DNAT)
		return count_pick(d, 2 * (size_t)s->n_backends + !v4, sign);
	if (s->kind == NFT_SVC_PROXY)
		return count_proxy(d, s->proxy_port, sign);
	return 0;
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
			if (count_elems(d, s, 1) < 0)
				return -ENOMEM;
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
	for (size_t i = 2; i < d->pick_cap; i++) {
		if (d->pick_refs[i] == 0)
			continue;
		int f = (int)(i & 1);
		char name[NFT_CHAIN_NAMELEN];
		snprintf(name, sizeof(name), "pick%d_%u", f ? 6 : 4,
		    (unsigned)(i / 2));
		ch = chain_add(c, name, NFT_HOOK_NONE, false, 0, false);
		struct nft_rule_spec *r = rule_add(c, ch, NFT_R_PICK);
		if (r) {
			r->family = f ? AF_INET6 : AF_INET;
			r->n = (uint32_t)(i / 2);
		}
	}
	for (size_t k = 0; k < d->n_proxy_ports; k++) {
		if (d->proxy_refs[k] == 0)
			continue;
		char name[NFT_CHAIN_NAMELEN];
		uint16_t port = d->proxy_ports[k];
		snprintf(name, sizeof(name), "proxy_%u", port);
		ch = chain_add(c, name, NFT_HOOK_NONE, false, 0, false);
		struct nft_rule_spec *r = rule_add(c, ch, NFT_R_REDIRECT);
		if (r) {
			r->proto = IPPROTO_TCP;
			r->port = port;
		}
		r = rule_add(c, ch, NFT_R_REDIRECT);
		if (r) {
			r->proto = IPPROTO_UDP;
			r->port = port;
		}
	}
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

/* Frees d's chains. */
static void
chains_free(struct nft_chain_def *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i].rules);
	free(v);
}

/* Empties d but keeps its service, backend and count arrays for reuse. */
static void
desc_reset(struct nft_desc *d)
{
	chains_free(d->chains, d->n_chains);
	free(d->allow);
	free(d->index);
	struct nft_svc *svcs = d->svcs;
	struct nft_backend *backends = d->backends;
	uint32_t *pick_refs = d->pick_refs;
	size_t cap_svcs = d->cap_svcs, cap_backends = d->cap_backends;
	size_t pick_cap = d->pick_cap;
	memset(d, 0, sizeof(*d));
	d->svcs = svcs;
	d->backends = backends;
	d->cap_svcs = cap_svcs;
	d->cap_backends = cap_backends;
	d->pick_refs = pick_refs;
	d->pick_cap = pick_cap;
	if (pick_refs != NULL)
		memset(pick_refs, 0, pick_cap * sizeof(*pick_refs));
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
	chains_free(d->chains, d->n_chains);
	free(d->allow);
	free(d->svcs);
	free(d->backends);
	free(d->index);
	free(d->pick_refs);
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

#define SLOT_EMPTY   (-1)
#define SLOT_DELETED (-2)

/* Puts svcs[i] in the index; marks it a duplicate if its key is there. */
static void
index_insert(struct nft_desc *d, size_t i)
{
	struct nft_svc *s = &d->svcs[i];
	size_t mask = d->index_cap - 1;
	size_t h = key_hash(&s->key) & mask;
	for (;; h = (h + 1) & mask) {
		int32_t j = d->index[h];
		if (j == SLOT_EMPTY) {
			d->index[h] = (int32_t)i;
			d->index_used++;
			return;
		}
		if (j == SLOT_DELETED ||
		    memcmp(&d->svcs[j].key, &s->key, sizeof(s->key)) != 0)
			continue;
		nft_desc_mark_dup(d, s);
		return;
	}
}

/* (Re)builds the index of the live svcs with room for `extra` more. */
static int
index_build(struct nft_desc *d, size_t extra)
{
	size_t cap = 16;
	while (cap < (d->n_svcs - d->n_dead + extra) * 2)
		cap <<= 1;
	if (cap != d->index_cap || d->index == NULL) {
		int32_t *v = malloc(cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		free(d->index);
		d->index = v;
		d->index_cap = cap;
	}
	memset(d->index, 0xff, cap * sizeof(*d->index));
	d->index_used = 0;
	for (size_t i = 0; i < d->n_svcs; i++)
		if (!d->svcs[i].dead)
			index_insert(d, i);
	return 0;
}

int
nft_desc_index(struct nft_desc *d)
{
	return d->index != NULL ? 0 : index_build(d, 0);
}

/* The index slot holding key k, or -1. */
static ssize_t
index_slot(const struct nft_desc *d, const struct nft_key *k)
{
	if (d->index == NULL)
		return -1;
	size_t mask = d->index_cap - 1;
	for (size_t h = key_hash(k) & mask;; h = (h + 1) & mask) {
		int32_t j = d->index[h];
		if (j == SLOT_EMPTY)
			return -1;
		if (j != SLOT_DELETED &&
		    memcmp(&d->svcs[j].key, k, sizeof(*k)) == 0)
			return (ssize_t)h;
	}
}

const struct nft_svc *
nft_desc_lookup(const struct nft_desc *d, const struct nft_key *k)
{
	ssize_t h = index_slot(d, k);
	return h < 0 ? NULL : &d->svcs[d->index[h]];
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
	(void)count_elems(d, s, -1);
	d->n_dups++;
}

/* Room for n more svcs and nb more backends (amortised doubling). */
static int
reserve(struct nft_desc *d, size_t n, size_t nb)
{
	if (d->n_svcs + n > d->cap_svcs) {
		size_t cap = d->cap_svcs ? d->cap_svcs : 64;
		while (cap < d->n_svcs + n)
			cap *= 2;
		struct nft_svc *v = realloc(d->svcs, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		d->svcs = v;
		d->cap_svcs = cap;
	}
	return grow(d, 0, d->n_backends + nb);
}

/* Appends a copy of s (backends from src) to d, without indexing it;
 * room must be reserved. */
static struct nft_svc *
append_svc(struct nft_desc *d, const struct nft_desc *src,
    const struct nft_svc *s)
{
	struct nft_svc *x = &d->svcs[d->n_svcs++];
	*x = *s;
	x->first_backend = (uint32_t)d->n_backends;
	if (s->n_backends > 0)
		memcpy(&d->backends[d->n_backends],
		    &src->backends[s->first_backend],
		    s->n_backends * sizeof(*d->backends));
	d->n_backends += s->n_backends;
	return x;
}

/* Adds the installed entries of base's service i to p->olds and takes
 * them out of p->news's counts. */
static int
patch_old(struct nft_patch *p, const struct nft_desc *in,
    const struct hearth_model *base, size_t i)
{
	const struct hearth_service *svc = &base->services[i];
	if (svc->address.family != AF_INET && svc->address.family != AF_INET6)
		return 0;
	for (size_t j = 0; j < svc->n_ports; j++) {
		struct nft_key k = {0};
		addr_bytes(&svc->address, k.addr);
		k.port = svc->ports[j].port;
		k.proto = (uint8_t)svc->ports[j].proto;
		k.family = (uint8_t)svc->address.family;
		const struct nft_svc *s = nft_desc_lookup(in, &k);
		if (s == NULL)
			return -EAGAIN; /* not what the hint says */
		if (reserve(p->olds, 1, s->n_backends) < 0)
			return -ENOMEM;
		struct nft_svc *x = append_svc(p->olds, in, s);
		if (count_elems(p->olds, x, 1) < 0)
			return -ENOMEM;
		(void)count_elems(p->news, x, -1);
	}
	return 0;
}

/* Starts p->news with installed's counts. */
static int
patch_counts(struct nft_desc *news, const struct nft_desc *in)
{
	memcpy(news->n_elems, in->n_elems, sizeof(news->n_elems));
	if (in->pick_cap > 0 &&
	    count_pick(news, in->pick_cap - 1, 0) < 0) /* makes room */
		return -ENOMEM;
	if (in->pick_cap > 0)
		memcpy(news->pick_refs, in->pick_refs,
		    in->pick_cap * sizeof(*in->pick_refs));
	memcpy(news->proxy_ports, in->proxy_ports, sizeof(in->proxy_ports));
	memcpy(news->proxy_refs, in->proxy_refs, sizeof(in->proxy_refs));
	news->n_proxy_ports = in->n_proxy_ports;
	return 0;
}

/* Can m's hint be applied to installed, the description of base? */
static bool
hint_usable(const struct nft_desc *in, const struct hearth_model *base,
    const struct hearth_model *m)
{
	const struct hearth_model_delta *h = &m->delta;
	if (h->base_generation == 0 || h->base_generation != base->generation ||
	    in->n_dups != 0 || base->proxy.http_port != m->proxy.http_port ||
	    base->proxy.https_port != m->proxy.https_port)
		return false;
	for (size_t i = 0; i < h->n_services; i++) {
		const struct hearth_service_change *c = &h->services[i];
		if ((c->old_index != HEARTH_MODEL_NO_INDEX &&
		        c->old_index >= base->n_services) ||
		    (c->new_index != HEARTH_MODEL_NO_INDEX &&
		        c->new_index >= m->n_services))
			return false;
	}
	return true;
}

/* The hinted services' entries, old and new; counts adjusted. */
static int
patch_svcs(struct nft_patch *p, struct nft_desc *in,
    const struct hearth_model *base, const struct hearth_model *m)
{
	const struct hearth_model_delta *h = &m->delta;
	int err = 0;
	for (size_t i = 0; i < h->n_services && err == 0; i++)
		if (h->services[i].old_index != HEARTH_MODEL_NO_INDEX)
			err = patch_old(p, in, base, h->services[i].old_index);
	if (err < 0)
		return err;
	for (size_t i = 0; i < h->n_services; i++) {
		size_t k = h->services[i].new_index;
		if (k == HEARTH_MODEL_NO_INDEX)
			continue;
		const struct hearth_service *svc = &m->services[k];
		if (svc->address.family != AF_INET &&
		    svc->address.family != AF_INET6)
			continue;
		for (size_t j = 0; j < svc->n_ports; j++) {
			const struct hearth_service_port *pt = &svc->ports[j];
			if (reserve(p->news, 1, pt->n_backends) < 0)
				return -ENOMEM;
			struct nft_svc *s = &p->news->svcs[p->news->n_svcs++];
			svc_fill(p->news, m, svc, pt, s);
			if (count_elems(p->news, s, 1) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

/* No new key may belong to a service the hint does not name. */
static int
patch_check_keys(struct nft_patch *p, const struct nft_desc *in)
{
	if (nft_desc_index(p->olds) < 0 || nft_desc_index(p->news) < 0)
		return -ENOMEM;
	if (p->olds->n_dups != 0 || p->news->n_dups != 0)
		return -EAGAIN;
	for (size_t i = 0; i < p->news->n_svcs; i++) {
		const struct nft_key *k = &p->news->svcs[i].key;
		if (nft_desc_lookup(in, k) != NULL &&
		    nft_desc_lookup(p->olds, k) == NULL)
			return -EAGAIN;
	}
	return 0;
}

/* Room in installed for the new entries, so that applying cannot fail. */
static int
patch_reserve(struct nft_desc *in, const struct nft_desc *news)
{
	if (reserve(in, news->n_svcs, news->n_backends) < 0)
		return -ENOMEM;
	if ((in->index_used + news->n_svcs) * 2 > in->index_cap)
		return index_build(in, news->n_svcs);
	return 0;
}

int
nft_patch_prepare(struct nft_patch *p, struct nft_desc *in,
    const struct hearth_model *base, const struct hearth_model *m)
{
	if (!hint_usable(in, base, m))
		return -EAGAIN;
	if (nft_desc_index(in) < 0)
		return -ENOMEM;
	if (p->olds != NULL)
		desc_reset(p->olds);
	else if ((p->olds = calloc(1, sizeof(*p->olds))) == NULL)
		return -ENOMEM;
	if (p->news != NULL)
		desc_reset(p->news);
	else if ((p->news = calloc(1, sizeof(*p->news))) == NULL)
		return -ENOMEM;
	int err = patch_counts(p->news, in);
	p->news->n_elems[NFT_SET_ALLOW] = 0;
	if (err == 0)
		err = patch_svcs(p, in, base, m);
	if (err == 0)
		err = patch_check_keys(p, in);
	if (err == 0 && build_allow(p->news, m) < 0)
		err = -ENOMEM;
	if (err < 0)
		return err;
	struct chains c = {0};
	build_base_chains(&c, m);
	build_svc_chains(&c, p->news);
	p->news->chains = c.v;
	p->news->n_chains = c.n;
	if (c.err)
		return c.err;
	return patch_reserve(in, p->news);
}

/* Drops the dead entries of d (no allocation). */
static void
compact(struct nft_desc *d)
{
	size_t n = 0, nb = 0;
	for (size_t i = 0; i < d->n_svcs; i++) {
		struct nft_svc s = d->svcs[i];
		if (s.dead)
			continue;
		memmove(&d->backends[nb], &d->backends[s.first_backend],
		    s.n_backends * sizeof(*d->backends));
		s.first_backend = (uint32_t)nb;
		nb += s.n_backends;
		d->svcs[n++] = s;
	}
	d->n_svcs = n;
	d->n_backends = nb;
	d->n_dead = 0;
	memset(d->index, 0xff, d->index_cap * sizeof(*d->index));
	d->index_used = 0;
	for (size_t i = 0; i < n; i++)
		index_insert(d, i);
}

/* Indexes svcs[i], known to be absent, reusing a deleted slot. */
static void
index_put(struct nft_desc *d, size_t i)
{
	size_t mask = d->index_cap - 1;
	size_t h = key_hash(&d->svcs[i].key) & mask;
	while (d->index[h] >= 0)
		h = (h + 1) & mask;
	if (d->index[h] == SLOT_EMPTY)
		d->index_used++;
	d->index[h] = (int32_t)i;
}

void
nft_patch_apply(struct nft_desc *in, struct nft_patch *p)
{
	struct nft_desc *olds = p->olds, *news = p->news;
	for (size_t i = 0; i < olds->n_svcs; i++) {
		ssize_t h = index_slot(in, &olds->svcs[i].key);
		if (h < 0)
			continue;
		in->svcs[in->index[h]].dead = true;
		in->index[h] = SLOT_DELETED;
		in->n_dead++;
	}
	for (size_t i = 0; i < news->n_svcs; i++) {
		append_svc(in, news, &news->svcs[i]);
		index_put(in, in->n_svcs - 1);
	}
	memcpy(in->n_elems, news->n_elems, sizeof(in->n_elems));
	uint32_t *refs = in->pick_refs;
	size_t cap = in->pick_cap;
	in->pick_refs = news->pick_refs;
	in->pick_cap = news->pick_cap;
	news->pick_refs = refs;
	news->pick_cap = cap;
	memcpy(in->proxy_ports, news->proxy_ports, sizeof(in->proxy_ports));
	memcpy(in->proxy_refs, news->proxy_refs, sizeof(in->proxy_refs));
	in->n_proxy_ports = news->n_proxy_ports;
	struct nft_chain_def *chains = in->chains;
	size_t n_chains = in->n_chains;
	in->chains = news->chains;
	in->n_chains = news->n_chains;
	news->chains = chains;
	news->n_chains = n_chains;
	struct nft_allow *allow = in->allow;
	size_t n_allow = in->n_allow;
	in->allow = news->allow;
	in->n_allow = news->n_allow;
	news->allow = allow;
	news->n_allow = n_allow;
	in->scattered = true;
	if (in->n_dead > 64 && in->n_dead * 2 > in->n_svcs)
		compact(in);
}

void
nft_patch_free(struct nft_patch *p)
{
	if (p == NULL)
		return;
	nft_desc_free(p->olds);
	nft_desc_free(p->news);
	p->olds = p->news = NULL;
}
