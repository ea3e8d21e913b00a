/*
 * The answer cache: a chained hash table of wire messages with an LRU
 * list, under one mutex. TTL arithmetic is done on the stored original
 * TTLs at lookup time (original - elapsed), so entries are never touched
 * in place after they are stored.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "cache.h"

#define MAX_TTLS 256

struct entry {
	TAILQ_ENTRY(entry) lru;
	struct entry *next; /* hash chain */
	uint32_t hash;
	uint8_t flags;
	uint16_t qtype;
	uint16_t qclass;
	uint8_t name_len;
	uint64_t stored;
	uint64_t expires; /* stored + cache TTL */
	uint64_t stale_until;
	uint16_t n_ttl;
	uint16_t len;
	uint16_t *ttl_offs;
	uint8_t *msg; /* the question's name is at 12 */
};

TAILQ_HEAD(entry_list, entry);

struct dns_cache {
	pthread_mutex_t lock;
	struct entry **buckets;
	uint32_t mask;
	uint32_t capacity;
	uint32_t count;
	struct entry_list lru; /* most recent first */
};

struct dns_cache *
dns_cache_new(uint32_t capacity)
{
	struct dns_cache *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	uint32_t nb = 64;
	while (nb < capacity && nb < (1u << 22))
		nb <<= 1;
	c->buckets = calloc(nb, sizeof(*c->buckets));
	if (c->buckets == NULL) {
		free(c);
		return NULL;
	}
	c->mask = nb - 1;
	c->capacity = capacity ? capacity : 1;
	TAILQ_INIT(&c->lru);
	pthread_mutex_init(&c->lock, NULL);
	return c;
}

static void
entry_free(struct entry *e)
{
	free(e->ttl_offs);
	free(e->msg);
	free(e);
}

void
dns_cache_free(struct dns_cache *c)
{
	if (c == NULL)
		return;
	struct entry *e;
	while ((e = TAILQ_FIRST(&c->lru)) != NULL) {
		TAILQ_REMOVE(&c->lru, e, lru);
		entry_free(e);
	}
	pthread_mutex_destroy(&c->lock);
	free(c->buckets);
	free(c);
}

uint32_t
dns_cache_count(struct dns_cache *c)
{
	pthread_mutex_lock(&c->lock);
	uint32_t n = c->count;
	pthread_mutex_unlock(&c->lock);
	return n;
}

uint32_t
dns_cache_capacity(const struct dns_cache *c)
{
	return c->capacity;
}

uint8_t
dns_cache_flags(const struct dns_query *q)
{
	return (uint8_t)((q->edns_do ? DNS_CACHE_DO : 0) |
	    ((q->flags & DNS_F_CD) ? DNS_CACHE_CD : 0));
}

static uint32_t
key_hash(const uint8_t *name, int len, uint16_t qtype, uint16_t qclass,
    uint8_t flags)
{
	return dns_name_hash(name, (size_t)len) ^
	    ((uint32_t)qtype * 2654435761u) ^ ((uint32_t)qclass << 7) ^ flags;
}

/* Unlinks e from its hash chain and the LRU, and frees it. */
static void
entry_remove(struct dns_cache *c, struct entry *e)
{
	struct entry **pp = &c->buckets[e->hash & c->mask];
	while (*pp != e)
		pp = &(*pp)->next;
	*pp = e->next;
	TAILQ_REMOVE(&c->lru, e, lru);
	c->count--;
	entry_free(e);
}

static struct entry *
find(struct dns_cache *c, uint32_t h, const uint8_t *name, int len,
    uint16_t qtype, uint16_t qclass, uint8_t flags)
{
	for (struct entry *e = c->buckets[h & c->mask]; e; e = e->next)
		if (e->hash == h && e->qtype == qtype && e->qclass == qclass &&
		    e->flags == flags && e->name_len == len &&
		    memcmp(e->msg + DNS_HDR_LEN, name, (size_t)len) == 0)
			return e;
	return NULL;
}

/* The negative TTL from the SOA in the authority section, or 0. */
static uint32_t
soa_neg_ttl(const uint8_t *msg, size_t len, size_t off, unsigned an,
    unsigned ns)
{
	for (unsigned i = 0; i < an + ns; i++) {
		if (dns_name_skip(msg, len, &off) < 0 || off + 10 > len)
			return 0;
		uint16_t type = dns_get16(msg + off);
		uint32_t ttl = dns_get32(msg + off + 4);
		uint16_t rdlen = dns_get16(msg + off + 8);
		size_t rd = off + 10;
		off = rd + rdlen;
		if (off > len)
			return 0;
		if (i < an || type != DNS_T_SOA)
			continue;
		size_t p = rd;
		if (dns_name_skip(msg, len, &p) < 0 ||
		    dns_name_skip(msg, len, &p) < 0 || p + 20 != off)
			return 0;
		uint32_t min = dns_get32(msg + p + 16);
		return min < ttl ? min : ttl;
	}
	return 0;
}

int
dns_msg_ttls(const uint8_t *msg, size_t len, uint16_t *offs, int max,
    uint32_t *cache_ttl, size_t *opt_off)
{
	if (len < DNS_HDR_LEN || dns_get16(msg + 4) != 1)
		return -EBADMSG;
	size_t off = DNS_HDR_LEN;
	if (dns_name_skip(msg, len, &off) < 0 || off + 4 > len)
		return -EBADMSG;
	off += 4;
	size_t qend = off;
	unsigned an = dns_get16(msg + 6), ns = dns_get16(msg + 8);
	unsigned total = an + ns + dns_get16(msg + 10);
	uint32_t min = UINT32_MAX;
	int n = 0;
	*opt_off = len;
	for (unsigned i = 0; i < total; i++) {
		size_t start = off;
		if (dns_name_skip(msg, len, &off) < 0 || off + 10 > len)
			return -EBADMSG;
		uint16_t type = dns_get16(msg + off);
		uint32_t ttl = dns_get32(msg + off + 4);
		size_t end = off + 10 + dns_get16(msg + off + 8);
		if (end > len)
			return -EBADMSG;
		if (type == DNS_T_OPT) {
			if (end != len)
				return -EBADMSG; /* OPT not last */
			*opt_off = start;
		} else {
			if (n >= max)
				return -EBADMSG;
			offs[n++] = (uint16_t)(off + 4);
			if (ttl < min)
				min = ttl;
		}
		off = end;
	}
	uint8_t rcode = msg[3] & 0xf;
	if (rcode == DNS_R_SERVFAIL)
		min = DNS_CACHE_SERVFAIL_TTL;
	else if (rcode == DNS_R_NXDOMAIN || (rcode == 0 && an == 0))
		min = soa_neg_ttl(msg, len, qend, an, ns);
	else if (rcode != DNS_R_NOERROR)
		min = 0;
	if (min > DNS_CACHE_MAX_TTL)
		min = DNS_CACHE_MAX_TTL;
	*cache_ttl = min;
	return n;
}

int
dns_cache_store(struct dns_cache *c, const uint8_t *msg, size_t len,
    uint8_t flags, uint64_t now)
{
	uint16_t offs[MAX_TTLS];
	uint32_t ttl;
	size_t opt_off;
	if (len < DNS_HDR_LEN || len > UINT16_MAX || (msg[2] & 0x02))
		return -EINVAL; /* truncated answers are not kept */
	int n = dns_msg_ttls(msg, len, offs, MAX_TTLS, &ttl, &opt_off);
	if (n < 0 || ttl == 0)
		return -EINVAL;
	uint8_t name[DNS_NAME_MAX];
	size_t off = DNS_HDR_LEN;
	int nl = dns_name_read(msg, len, &off, name, true);
	if (nl < 0 || off != DNS_HDR_LEN + (size_t)nl)
		return -EINVAL; /* a compressed question is not ours */
	uint16_t qtype = dns_get16(msg + off),
	         qclass = dns_get16(msg + off + 2);

	struct entry *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return -ENOMEM;
	e->msg = malloc(opt_off);
	e->ttl_offs = malloc(sizeof(uint16_t) * (n ? (size_t)n : 1));
	if (e->msg == NULL || e->ttl_offs == NULL) {
		entry_free(e);
		return -ENOMEM;
	}
	memcpy(e->msg, msg, opt_off);
	memcpy(e->msg + DNS_HDR_LEN, name, (size_t)nl);
	if (opt_off != len)
		dns_put16(e->msg + 10, (uint16_t)(dns_get16(msg + 10) - 1));
	memcpy(e->ttl_offs, offs, sizeof(uint16_t) * (size_t)n);
	e->n_ttl = (uint16_t)n;
	e->len = (uint16_t)opt_off;
	e->name_len = (uint8_t)nl;
	e->qtype = qtype;
	e->qclass = qclass;
	e->flags = flags;
	e->stored = now;
	e->expires = now + ttl;
	e->stale_until = (msg[3] & 0xf) == DNS_R_SERVFAIL ?
	    e->expires :
	    e->expires + DNS_CACHE_STALE_WINDOW;
	e->hash = key_hash(name, nl, qtype, qclass, flags);

	pthread_mutex_lock(&c->lock);
	struct entry *old = find(c, e->hash, name, nl, qtype, qclass, flags);
	if (old != NULL)
		entry_remove(c, old);
	while (c->count >= c->capacity)
		entry_remove(c, TAILQ_LAST(&c->lru, entry_list));
	struct entry **b = &c->buckets[e->hash & c->mask];
	e->next = *b;
	*b = e;
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	c->count++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Copies e into out for q, with TTLs as seen at now. */
static void
render(const struct entry *e, const struct dns_query *q, uint64_t now,
    uint8_t *out)
{
	memcpy(out, e->msg, e->len);
	dns_put16(out, q->id);
	out[2] = (uint8_t)((out[2] & ~0x05) | (q->flags >> 8 & DNS_F_RD >> 8));
	memcpy(out + DNS_HDR_LEN, q->qname, q->qname_len);
	bool stale = now >= e->expires;
	uint32_t elapsed = (uint32_t)(now - e->stored);
	for (uint16_t i = 0; i < e->n_ttl; i++) {
		uint8_t *p = out + e->ttl_offs[i];
		uint32_t t = dns_get32(p);
		if (stale)
			t = DNS_CACHE_STALE_TTL;
		else
			t = t > elapsed ? t - elapsed : 0;
		dns_put32(p, t);
	}
}

enum dns_cache_result
dns_cache_lookup(struct dns_cache *c, const struct dns_query *q, uint64_t now,
    bool allow_stale, uint8_t *out, size_t cap, size_t *outlen)
{
	uint8_t flags = dns_cache_flags(q);
	uint32_t h =
	    key_hash(q->lname, q->qname_len, q->qtype, q->qclass, flags);
	enum dns_cache_result r = DNS_CACHE_MISS;
	pthread_mutex_lock(&c->lock);
	struct entry *e =
	    find(c, h, q->lname, q->qname_len, q->qtype, q->qclass, flags);
	if (e == NULL)
		goto out;
	if (now >= e->stale_until) {
		entry_remove(c, e);
		e = NULL;
		goto out;
	}
	r = now < e->expires ? DNS_CACHE_HIT : DNS_CACHE_STALE;
	if (e->len > cap) {
		r = DNS_CACHE_MISS;
		goto out;
	}
	if (r == DNS_CACHE_STALE && !allow_stale)
		goto out;
	TAILQ_REMOVE(&c->lru, e, lru);
	TAILQ_INSERT_HEAD(&c->lru, e, lru);
	render(e, q, now, out);
	*outlen = e->len;
out:
	pthread_mutex_unlock(&c->lock);
	return r;
}
