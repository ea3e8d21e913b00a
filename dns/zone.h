/*
 * The zone database: the model's zones and views turned into hash tables
 * of owner names, and the authoritative lookup (exact match, RFC 4592
 * wildcards with empty non-terminals, NXDOMAIN vs NODATA with the SOA,
 * CNAME chains within the zone, referrals below delegations, minimal ANY).
 * Built once per configuration and then only read, so worker threads can
 * share one.
 */
#ifndef HEARTH_DNS_ZONE_H
#define HEARTH_DNS_ZONE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"
#include "wire.h"

struct dns_rdata {
	uint8_t *data;
	uint16_t len;
};

struct dns_rrset {
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint16_t n;
	struct dns_rdata *rd;
};

struct dns_node {
	struct dns_node *next; /* hash chain */
	uint8_t *name;         /* wire form, lower case */
	uint8_t name_len;
	uint16_t nsets;
	struct dns_rrset *sets;
};

struct dns_view {
	char *name;
	struct hearth_cidr *clients;
	size_t n_clients;
	bool forward;
	struct dns_node **buckets;
	uint32_t mask; /* buckets - 1 */
	size_t n_nodes;
	const struct dns_node *apex;
	const struct dns_rrset *soa; /* the apex SOA; NULL if none */
	uint32_t neg_ttl;            /* min(SOA TTL, SOA minimum) */
	bool has_delegations;        /* NS below the apex */
};

struct dns_zone {
	uint8_t origin[DNS_NAME_MAX];
	int origin_len;
	int origin_labels;
	char *origin_str;
	struct dns_view *views;
	size_t n_views;
};

struct dns_db {
	struct dns_zone *zones;
	size_t n_zones;
};

/* Builds the database from the model's dns section; NULL on ENOMEM. */
struct dns_db *dns_db_new(const struct hearth_dns *cfg);
void dns_db_free(struct dns_db *db);

/* The zone with the longest origin that holds name (wire, lower), or NULL. */
const struct dns_zone *dns_db_zone(const struct dns_db *db, const uint8_t *name,
    int name_len);
/* The first view whose clients hold src, or NULL. */
const struct dns_view *dns_zone_view(const struct dns_zone *z,
    const struct hearth_addr *src);
/* The node named exactly name (wire, lower case), or NULL. */
const struct dns_node *dns_view_node(const struct dns_view *v,
    const uint8_t *name, int name_len);
const struct dns_rrset *dns_node_rrset(const struct dns_node *n, uint16_t type);

#define DNS_ANS_MAX 16

/* One RRset to write: owner (wire) and the set; ttl overrides if nonzero. */
struct dns_ans_rr {
	const uint8_t *owner;
	const struct dns_rrset *set;
	uint32_t ttl;
};

/* What the lookup decided; the caller writes it. */
struct dns_answer {
	uint8_t rcode;
	bool aa;
	unsigned n_an, n_ns, n_ar;
	struct dns_ans_rr an[DNS_ANS_MAX];
	struct dns_ans_rr ns[DNS_ANS_MAX];
	struct dns_ans_rr ar[DNS_ANS_MAX];
};

/*
 * Answers qname (wire, lower case) / qtype from view v of zone z. The
 * first owner written for qname is qname itself, so a writer that
 * compresses it against the question echoes the client's case.
 */
void dns_view_lookup(const struct dns_zone *z, const struct dns_view *v,
    const uint8_t *qname, int qname_len, uint16_t qtype, struct dns_answer *a);

/* Writes the answer's sections; 0, or -ENOSPC when a section did not fit. */
int dns_answer_write(const struct dns_answer *a, struct dns_writer *w);

#endif
