/*
 * Query processing without I/O: one immutable snapshot of the dns section
 * (zone database, recursion clients, limits) and the function that turns
 * a received packet into a response, a drop, or a question for the
 * forwarders; plus the helpers that shape forwarded and cached answers
 * (upstream query, OPT echo, truncation) for the client.
 */
#ifndef HEARTH_DNS_ANSWER_H
#define HEARTH_DNS_ANSWER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cache.h"
#include "model.h"
#include "wire.h"
#include "zone.h"

/* What the server answers with, shared read-only by every worker. */
struct dns_snapshot {
	atomic_int refs;
	struct dns_db *db;
	struct hearth_cidr *recursion;
	size_t n_recursion;
	bool have_forwarders;
	uint16_t max_udp;
};

/* A snapshot of cfg; refs = 1. NULL on ENOMEM. */
struct dns_snapshot *dns_snapshot_new(const struct hearth_dns *cfg);
struct dns_snapshot *dns_snapshot_ref(struct dns_snapshot *s);
void dns_snapshot_unref(struct dns_snapshot *s);

enum dns_verdict {
	DNS_V_DROP,    /* say nothing */
	DNS_V_REPLY,   /* the response is in the writer */
	DNS_V_FORWARD, /* ask the forwarders (not in cache) */
};

/* What was decided, for metrics, logs and the forwarding path. */
struct dns_result {
	enum dns_verdict verdict;
	enum dns_parse_result parse;
	const char *view; /* the answering view's name, or "" */
	bool recursion_client;
	bool authoritative; /* answered from a zone */
	bool truncated;
	bool from_cache;
	bool stale_cached; /* a stale entry exists (serve it on failure) */
	uint8_t rcode;
};

/*
 * Handles the packet pkt from src. buf (cap >= 65535 + 11 for TCP, or the
 * UDP limit) receives a reply; *outlen its length. The cache may be NULL.
 * now is in seconds (monotonic) for TTL arithmetic.
 */
void dns_process(const struct dns_snapshot *s, struct dns_cache *cache,
    const struct hearth_addr *src, bool tcp, const uint8_t *pkt, size_t len,
    struct dns_query *q, uint64_t now, uint8_t *buf, size_t cap, size_t *outlen,
    struct dns_result *res);

/* The largest response q may get: 512, its EDNS size capped, or 65535. */
size_t dns_reply_limit(const struct dns_query *q, uint16_t max_udp, bool tcp);

/*
 * Completes a response of len bytes in buf (header and question already
 * the client's): RA set when ra, else cleared, the OPT echo, and truncation to
 * limit (TC=1, sections emptied). Returns the final length.
 */
size_t dns_reply_finish(uint8_t *buf, size_t len, size_t cap,
    const struct dns_query *q, uint16_t max_udp, size_t limit, bool ra,
    bool *truncated);

/* The query sent upstream for q: RD, CD and DO kept, name lower-cased. */
int dns_upstream_query(const struct dns_query *q, uint8_t *out, size_t cap);

/*
 * An upstream response turned into the client's: id, question case and
 * RD restored, AA cleared, upstream OPT removed. Returns the length, or
 * -EBADMSG when it does not answer q.
 */
int dns_upstream_render(const uint8_t *msg, size_t len,
    const struct dns_query *q, uint8_t *out, size_t cap);

/* A header + question response with rcode (no records), for q. */
size_t dns_reply_rcode(const struct dns_query *q, uint8_t rcode, uint8_t *buf,
    size_t cap);

#endif
