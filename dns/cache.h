/*
 * The forwarder's answer cache: upstream responses kept as wire messages
 * (without their OPT record) with the offsets of their TTL fields, so a
 * hit is one copy plus TTL patching. Honours positive TTLs, negative TTLs
 * (RFC 2308: min of the SOA's TTL and MINIMUM), keeps SERVFAIL briefly
 * and serves expired answers for a while when upstreams fail (RFC 8767).
 * LRU bounded; one mutex, so worker threads may share it.
 */
#ifndef HEARTH_DNS_CACHE_H
#define HEARTH_DNS_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wire.h"

#define DNS_CACHE_MAX_TTL      86400 /* cap on any stored TTL */
#define DNS_CACHE_SERVFAIL_TTL 5     /* how long a SERVFAIL is kept */
#define DNS_CACHE_STALE_WINDOW 1800  /* expired answers kept this long */
#define DNS_CACHE_STALE_TTL    30    /* TTL given to stale answers */

/* Key bits besides the question: the DO and CD bits of the query. */
#define DNS_CACHE_DO 1
#define DNS_CACHE_CD 2

enum dns_cache_result {
	DNS_CACHE_MISS,
	DNS_CACHE_HIT,   /* fresh */
	DNS_CACHE_STALE, /* expired, within the stale window */
};

struct dns_cache;

/* A cache of at most capacity entries; NULL on ENOMEM. */
struct dns_cache *dns_cache_new(uint32_t capacity);
void dns_cache_free(struct dns_cache *c);
uint32_t dns_cache_count(struct dns_cache *c);
uint32_t dns_cache_capacity(const struct dns_cache *c);

/* Key flags of a query. */
uint8_t dns_cache_flags(const struct dns_query *q);

/*
 * Stores an upstream response (its question names the key) at time now
 * (seconds). Returns 0 when stored, -EINVAL when not cacheable (TTL 0, no
 * SOA in a negative answer, malformed), -ENOMEM.
 */
int dns_cache_store(struct dns_cache *c, const uint8_t *msg, size_t len,
    uint8_t flags, uint64_t now);

/*
 * Looks q up. On a hit (or, with allow_stale, a stale entry) writes the
 * response into out (id, question case and RD from q; TTLs decremented,
 * or DNS_CACHE_STALE_TTL when stale; no OPT) and sets *outlen. A stale
 * entry found without allow_stale is reported as DNS_CACHE_STALE with
 * nothing written.
 */
enum dns_cache_result dns_cache_lookup(struct dns_cache *c,
    const struct dns_query *q, uint64_t now, bool allow_stale, uint8_t *out,
    size_t cap, size_t *outlen);

/*
 * Scans a response: the TTL field offsets of its records (OPT skipped),
 * how long it may be cached, and where its OPT record starts (len if none).
 * Returns the number of TTL offsets, or -EBADMSG.
 */
int dns_msg_ttls(const uint8_t *msg, size_t len, uint16_t *offs, int max,
    uint32_t *cache_ttl, size_t *opt_off);

#endif
