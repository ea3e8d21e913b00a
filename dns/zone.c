/*
 * The zone database and the authoritative lookup. Each view is a hash
 * table of owner names (wire form, lower case); every name between a
 * record's owner and the origin exists as a node, empty when it owns
 * nothing (an empty non-terminal), so "does this name exist" is one hash
 * lookup and the RFC 4592 closest encloser is found by stripping labels.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "zone.h"

static uint32_t
bucket_of(const struct dns_view *v, const uint8_t *name, int len)
{
	return dns_name_hash(name, (size_t)len) & v->mask;
}

const struct dns_node *
dns_view_node(const struct dns_view *v, const uint8_t *name, int name_len)
{
	if (v->buckets == NULL)
		return NULL;
	const struct dns_node *n = v->buckets[bucket_of(v, name, name_len)];
	for (; n != NULL; n = n->next)
		if (n->name_len == name_len &&
		    memcmp(n->name, name, (size_t)name_len) == 0)
			return n;
	return NULL;
}

const struct dns_rrset *
dns_node_rrset(const struct dns_node *n, uint16_t type)
{
	for (uint16_t i = 0; i < n->nsets; i++)
		if (n->sets[i].type == type)
			return &n->sets[i];
	return NULL;
}

static void
node_free(struct dns_node *n)
{
	for (uint16_t i = 0; i < n->nsets; i++) {
		for (uint16_t j = 0; j < n->sets[i].n; j++)
			free(n->sets[i].rd[j].data);
		free(n->sets[i].rd);
	}
	free(n->sets);
	free(n->name);
	free(n);
}

static void
view_clear(struct dns_view *v)
{
	if (v->buckets != NULL)
		for (uint32_t i = 0; i <= v->mask; i++)
			while (v->buckets[i] != NULL) {
				struct dns_node *n = v->buckets[i];
				v->buckets[i] = n->next;
				node_free(n);
			}
	free(v->buckets);
	free(v->clients);
	free(v->name);
}

void
dns_db_free(struct dns_db *db)
{
	if (db == NULL)
		return;
	for (size_t i = 0; i < db->n_zones; i++) {
		struct dns_zone *z = &db->zones[i];
		for (size_t j = 0; j < z->n_views; j++)
			view_clear(&z->views[j]);
		free(z->views);
		free(z->origin_str);
	}
	free(db->zones);
	free(db);
}

/* Finds or adds the node named name. */
static struct dns_node *
node_get(struct dns_view *v, const uint8_t *name, int len)
{
	struct dns_node *n = (struct dns_node *)dns_view_node(v, name, len);
	if (n != NULL)
		return n;
	n = calloc(1, sizeof(*n));
	if (n == NULL || (n->name = malloc((size_t)len)) == NULL) {
		free(n);
		return NULL;
	}
	memcpy(n->name, name, (size_t)len);
	n->name_len = (uint8_t)len;
	uint32_t b = bucket_of(v, name, len);
	n->next = v->buckets[b];
	v->buckets[b] = n;
	v->n_nodes++;
	return n;
}

static int
node_add_rr(struct dns_node *n, const struct hearth_rr *rr)
{
	struct dns_rrset *s = NULL;
	for (uint16_t i = 0; i < n->nsets; i++)
		if (n->sets[i].type == rr->type)
			s = &n->sets[i];
	if (s == NULL) {
		struct dns_rrset *ns =
		    realloc(n->sets, (n->nsets + 1) * sizeof(*ns));
		if (ns == NULL)
			return -ENOMEM;
		n->sets = ns;
		s = &ns[n->nsets++];
		memset(s, 0, sizeof(*s));
		s->type = rr->type;
		s->rclass = rr->rclass;
		s->ttl = rr->ttl;
	}
	for (uint16_t j = 0; j < s->n; j++)
		if (s->rd[j].len == rr->rdlen &&
		    memcmp(s->rd[j].data, rr->rdata, rr->rdlen) == 0)
			return 0; /* a duplicate record */
	struct dns_rdata *rd = realloc(s->rd, (s->n + 1) * sizeof(*rd));
	if (rd == NULL)
		return -ENOMEM;
	s->rd = rd;
	rd[s->n].data = malloc(rr->rdlen ? rr->rdlen : 1);
	if (rd[s->n].data == NULL)
		return -ENOMEM;
	memcpy(rd[s->n].data, rr->rdata, rr->rdlen);
	rd[s->n].len = rr->rdlen;
	s->n++;
	if (rr->ttl < s->ttl)
		s->ttl = rr->ttl; /* RFC 2181 5.2: one TTL per RRset */
	return 0;
}

/* Adds a record and the empty non-terminals between it and the origin. */
static int
view_add_rr(struct dns_view *v, const struct dns_zone *z,
    const struct hearth_rr *rr)
{
	uint8_t name[DNS_NAME_MAX];
	int len = dns_name_from_str(rr->owner, name);
	if (len < 0 || !dns_name_is_sub(name, len, z->origin, z->origin_len))
		return 0; /* outside the zone: the loader rejects these */
	struct dns_node *n = node_get(v, name, len);
	if (n == NULL || node_add_rr(n, rr) < 0)
		return -ENOMEM;
	if (rr->type == DNS_T_NS && len != z->origin_len)
		v->has_delegations = true;
	const uint8_t *p = name;
	while (len > z->origin_len) {
		len -= 1 + *p;
		p += 1 + *p;
		if (node_get(v, p, len) == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int
view_build(struct dns_view *v, const struct dns_zone *z,
    const struct hearth_dns_view *mv)
{
	v->forward = mv->forward;
	v->name = strdup(mv->name ? mv->name : "");
	if (v->name == NULL)
		return -ENOMEM;
	if (mv->n_clients > 0) {
		v->clients = calloc(mv->n_clients, sizeof(*v->clients));
		if (v->clients == NULL)
			return -ENOMEM;
		memcpy(v->clients, mv->clients,
		    mv->n_clients * sizeof(*v->clients));
	}
	v->n_clients = mv->n_clients;
	uint32_t nb = 16;
	while (nb < 2 * (mv->n_records + z->origin_labels) && nb < (1u << 24))
		nb <<= 1;
	v->buckets = calloc(nb, sizeof(*v->buckets));
	if (v->buckets == NULL)
		return -ENOMEM;
	v->mask = nb - 1;
	for (size_t i = 0; i < mv->n_records; i++)
		if (view_add_rr(v, z, &mv->records[i]) < 0)
			return -ENOMEM;
	v->apex = dns_view_node(v, z->origin, z->origin_len);
	if (v->apex != NULL)
		v->soa = dns_node_rrset(v->apex, DNS_T_SOA);
	if (v->soa != NULL && v->soa->n > 0 && v->soa->rd[0].len >= 20) {
		const struct dns_rdata *rd = &v->soa->rd[0];
		uint32_t min = dns_get32(rd->data + rd->len - 4);
		v->neg_ttl = min < v->soa->ttl ? min : v->soa->ttl;
	}
	return 0;
}

struct dns_db *
dns_db_new(const struct hearth_dns *cfg)
{
	struct dns_db *db = calloc(1, sizeof(*db));
	if (db == NULL)
		return NULL;
	if (cfg->n_zones > 0) {
		db->zones = calloc(cfg->n_zones, sizeof(*db->zones));
		if (db->zones == NULL)
			goto fail;
	}
	for (size_t i = 0; i < cfg->n_zones; i++) {
		const struct hearth_dns_zone *mz = &cfg->zones[i];
		struct dns_zone *z = &db->zones[db->n_zones];
		z->origin_len = dns_name_from_str(mz->origin, z->origin);
		if (z->origin_len < 0)
			continue;
		db->n_zones++;
		z->origin_labels = dns_name_labels(z->origin);
		z->origin_str = strdup(mz->origin);
		z->views =
		    calloc(mz->n_views ? mz->n_views : 1, sizeof(*z->views));
		if (z->origin_str == NULL || z->views == NULL)
			goto fail;
		for (size_t j = 0; j < mz->n_views; j++) {
			z->n_views++;
			if (view_build(&z->views[j], z, &mz->views[j]) < 0)
				goto fail;
		}
	}
	return db;
fail:
	dns_db_free(db);
	return NULL;
}

const struct dns_zone *
dns_db_zone(const struct dns_db *db, const uint8_t *name, int name_len)
{
	const struct dns_zone *best = NULL;
	for (size_t i = 0; i < db->n_zones; i++) {
		const struct dns_zone *z = &db->zones[i];
		if ((best == NULL || z->origin_len > best->origin_len) &&
		    dns_name_is_sub(name, name_len, z->origin, z->origin_len))
			best = z;
	}
	return best;
}

const struct dns_view *
dns_zone_view(const struct dns_zone *z, const struct hearth_addr *src)
{
	for (size_t i = 0; i < z->n_views; i++) {
		const struct dns_view *v = &z->views[i];
		for (size_t j = 0; j < v->n_clients; j++)
			if (hearth_cidr_contains(&v->clients[j], src))
				return v;
	}
	return NULL;
}

static void
add(struct dns_ans_rr *arr, unsigned *n, const uint8_t *owner,
    const struct dns_rrset *set, uint32_t ttl)
{
	if (*n >= DNS_ANS_MAX || set == NULL)
		return;
	arr[*n].owner = owner;
	arr[*n].set = set;
	arr[*n].ttl = ttl;
	(*n)++;
}

static void
add_soa(const struct dns_view *v, struct dns_answer *a)
{
	if (v->soa != NULL)
		add(a->ns, &a->n_ns, v->apex->name, v->soa, v->neg_ttl);
}

/* Glue: the in-bailiwick addresses of a referral's name servers. */
static void
add_glue(const struct dns_view *v, const struct dns_rrset *ns,
    struct dns_answer *a)
{
	for (uint16_t i = 0; i < ns->n; i++) {
		uint8_t t[DNS_NAME_MAX];
		int tl = dns_name_len(ns->rd[i].data, ns->rd[i].len);
		if (tl < 0)
			continue;
		memcpy(t, ns->rd[i].data, (size_t)tl);
		dns_name_lower(t);
		const struct dns_node *g = dns_view_node(v, t, tl);
		if (g == NULL)
			continue;
		add(a->ar, &a->n_ar, g->name, dns_node_rrset(g, DNS_T_A), 0);
		add(a->ar, &a->n_ar, g->name, dns_node_rrset(g, DNS_T_AAAA), 0);
	}
}

/*
 * A delegation (NS below the apex) at or above name cuts the zone: the
 * topmost one gives a referral. qtype DS at the cut itself is answered
 * from this side.
 */
static const struct dns_node *
find_cut(const struct dns_zone *z, const struct dns_view *v,
    const uint8_t *name, int len, uint16_t qtype)
{
	const uint8_t *sfx[128];
	int sl[128], n = 0;
	const uint8_t *p = name;
	int l = len;
	while (l > z->origin_len && n < 128) {
		sfx[n] = p;
		sl[n++] = l;
		l -= 1 + *p;
		p += 1 + *p;
	}
	for (int i = n - 1; i >= 0; i--) {
		if (i == 0 && qtype == DNS_T_DS)
			break;
		const struct dns_node *c = dns_view_node(v, sfx[i], sl[i]);
		if (c != NULL && dns_node_rrset(c, DNS_T_NS) != NULL)
			return c;
	}
	return NULL;
}

/* The node answering name: exact, else the closest encloser's wildcard. */
static const struct dns_node *
find_node(const struct dns_zone *z, const struct dns_view *v,
    const uint8_t *name, int len)
{
	const struct dns_node *n = dns_view_node(v, name, len);
	if (n != NULL)
		return n;
	const uint8_t *p = name;
	int l = len;
	while (l > z->origin_len) {
		l -= 1 + *p;
		p += 1 + *p;
		if (dns_view_node(v, p, l) == NULL)
			continue;
		uint8_t w[DNS_NAME_MAX];
		w[0] = 1;
		w[1] = '*';
		memcpy(w + 2, p, (size_t)l);
		return dns_view_node(v, w, l + 2);
	}
	return NULL;
}

void
dns_view_lookup(const struct dns_zone *z, const struct dns_view *v,
    const uint8_t *qname, int qname_len, uint16_t qtype, struct dns_answer *a)
{
	memset(a, 0, offsetof(struct dns_answer, an));
	a->n_an = a->n_ns = a->n_ar = 0;
	a->aa = true;
	const uint8_t *owner = qname;
	uint8_t lname[DNS_NAME_MAX];
	memcpy(lname, qname, (size_t)qname_len);
	int len = qname_len;

	for (int chain = 0; chain < 8; chain++) {
		if (v->has_delegations) {
			const struct dns_node *cut =
			    find_cut(z, v, lname, len, qtype);
			if (cut != NULL) {
				if (chain == 0)
					a->aa = false;
				const struct dns_rrset *ns =
				    dns_node_rrset(cut, DNS_T_NS);
				add(a->ns, &a->n_ns, cut->name, ns, 0);
				add_glue(v, ns, a);
				return;
			}
		}
		const struct dns_node *n = find_node(z, v, lname, len);
		if (n == NULL) {
			a->rcode = DNS_R_NXDOMAIN;
			add_soa(v, a);
			return;
		}
		const struct dns_rrset *cname = dns_node_rrset(n, DNS_T_CNAME);
		if (qtype == DNS_T_ANY && n->nsets > 0) {
			/* RFC 8482: one RRset is enough. */
			add(a->an, &a->n_an, owner, cname ? cname : &n->sets[0],
			    0);
			return;
		}
		const struct dns_rrset *set = dns_node_rrset(n, qtype);
		if (set != NULL) {
			add(a->an, &a->n_an, owner, set, 0);
			return;
		}
		if (cname == NULL || cname->n == 0) {
			add_soa(v, a); /* NODATA */
			return;
		}
		add(a->an, &a->n_an, owner, cname, 0);
		const struct dns_rdata *t = &cname->rd[0];
		int tl = dns_name_len(t->data, t->len);
		if (tl < 0)
			return;
		owner = t->data;
		memcpy(lname, t->data, (size_t)tl);
		dns_name_lower(lname);
		len = tl;
		if (!dns_name_is_sub(lname, len, z->origin, z->origin_len))
			return; /* leaves the zone: the client follows it */
	}
}

static int
write_set(struct dns_writer *w, int section, const struct dns_ans_rr *r)
{
	uint32_t ttl = r->ttl ? r->ttl : r->set->ttl;
	for (uint16_t i = 0; i < r->set->n; i++) {
		int e = dns_write_rr(w, section, r->owner, r->set->type,
		    r->set->rclass, ttl, r->set->rd[i].data, r->set->rd[i].len);
		if (e < 0)
			return e;
	}
	return 0;
}

int
dns_answer_write(const struct dns_answer *a, struct dns_writer *w)
{
	dns_writer_set_rcode(w, a->rcode);
	if (a->aa)
		dns_writer_set_flags(w, DNS_F_AA);
	for (unsigned i = 0; i < a->n_an; i++)
		if (write_set(w, 1, &a->an[i]) < 0)
			return -ENOSPC;
	for (unsigned i = 0; i < a->n_ns; i++)
		if (write_set(w, 2, &a->ns[i]) < 0)
			return -ENOSPC;
	for (unsigned i = 0; i < a->n_ar; i++) {
		size_t mark = w->len;
		uint16_t cnt = dns_get16(w->buf + 10);
		if (write_set(w, 3, &a->ar[i]) < 0) {
			/* Additional data is optional: drop what did not fit.
			 */
			dns_writer_rewind(w, mark);
			dns_put16(w->buf + 10, cnt);
			break;
		}
	}
	return 0;
}
