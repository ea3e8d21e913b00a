/*
 * The DNS wire codec: zero-copy parsing of incoming queries (header,
 * question, EDNS0 OPT) and a response writer with name compression and
 * truncation. Pure code over buffers; no I/O, no allocation.
 */
#ifndef HEARTH_DNS_WIRE_H
#define HEARTH_DNS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN    12
#define DNS_NAME_MAX   255
#define DNS_LABEL_MAX  63

#define DNS_T_A        1
#define DNS_T_NS       2
#define DNS_T_CNAME    5
#define DNS_T_SOA      6
#define DNS_T_PTR      12
#define DNS_T_HINFO    13
#define DNS_T_MX       15
#define DNS_T_TXT      16
#define DNS_T_AAAA     28
#define DNS_T_SRV      33
#define DNS_T_OPT      41
#define DNS_T_DS       43
#define DNS_T_RRSIG    46
#define DNS_T_IXFR     251
#define DNS_T_AXFR     252
#define DNS_T_ANY      255
#define DNS_T_CAA      257
#define DNS_C_IN       1
#define DNS_C_ANY      255

#define DNS_R_NOERROR  0
#define DNS_R_FORMERR  1
#define DNS_R_SERVFAIL 2
#define DNS_R_NXDOMAIN 3
#define DNS_R_NOTIMP   4
#define DNS_R_REFUSED  5
#define DNS_R_BADVERS  16 /* extended: 1 in the OPT TTL's upper byte */

/* Header flag bits (the 16-bit flags word). */
#define DNS_F_QR      0x8000
#define DNS_F_AA      0x0400
#define DNS_F_TC      0x0200
#define DNS_F_RD      0x0100
#define DNS_F_RA      0x0080
#define DNS_F_AD      0x0020
#define DNS_F_CD      0x0010
#define DNS_OPCODE(f) (((f) >> 11) & 0xf)

static inline uint16_t
dns_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
dns_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}

static inline void
dns_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
dns_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* What a parsed packet asks of the server. */
enum dns_parse_result {
	DNS_PARSE_OK,      /* a well-formed query */
	DNS_PARSE_DROP,    /* garbage or a response: stay silent */
	DNS_PARSE_FORMERR, /* header readable, the rest malformed */
	DNS_PARSE_NOTIMP,  /* an opcode other than QUERY */
};

/*
 * A parsed query. qname points into the packet (a question name is never
 * compressed); lname is its lower-cased copy in wire form.
 */
struct dns_query {
	const uint8_t *pkt;
	size_t len;
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount;
	const uint8_t *qname; /* into pkt, wire form */
	uint8_t qname_len;    /* including the root label */
	uint8_t qlabels;      /* labels, root excluded */
	uint16_t qtype;
	uint16_t qclass;
	size_t question_end; /* offset after the question */
	bool has_edns;
	bool edns_do;
	uint8_t edns_version;
	uint16_t edns_udp;           /* the client's payload size */
	uint8_t lname[DNS_NAME_MAX]; /* lower-cased qname */
};

/* Parses a query; fills q as far as it could read (id/flags from 12 bytes). */
enum dns_parse_result dns_query_parse(const uint8_t *pkt, size_t len,
    struct dns_query *q);

/*
 * Reads a possibly compressed name at *off in pkt into out (wire form,
 * lower-cased when lower is set). Advances *off past the name as stored.
 * Returns the name's length, or -EBADMSG (loop, out of bounds, too long,
 * a bad label type).
 */
int dns_name_read(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out,
    bool lower);
/* Skips a name at *off (compression allowed); 0 or -EBADMSG. */
int dns_name_skip(const uint8_t *pkt, size_t len, size_t *off);
/* Skips one resource record (not in the question); 0 or -EBADMSG. */
int dns_rr_skip(const uint8_t *pkt, size_t len, size_t *off);
/* Length of an uncompressed wire name within max bytes, or -EBADMSG. */
int dns_name_len(const uint8_t *name, size_t max);
/* Number of labels (root excluded) of a valid uncompressed wire name. */
int dns_name_labels(const uint8_t *name);
/* "a.b.c" (no trailing dot, lower case) -> wire form; length or -EINVAL. */
int dns_name_from_str(const char *s, uint8_t *out);
/* Wire form -> "a.b.c" ("." for the root); out of at least 1010 bytes. */
void dns_name_to_str(const uint8_t *name, char *out, size_t outlen);
/* Case-insensitive equality of two uncompressed wire names. */
bool dns_name_eq(const uint8_t *a, const uint8_t *b);
/* Is name equal to or below suffix (both wire, lower case)? */
bool dns_name_is_sub(const uint8_t *name, int name_len, const uint8_t *suffix,
    int suffix_len);
/* Lower-cases ASCII letters of an uncompressed wire name in place. */
void dns_name_lower(uint8_t *name);
uint32_t dns_name_hash(const uint8_t *name, size_t len);

#define DNS_COMP_MAX 64

/*
 * Writes a response into a caller's buffer. limit is the size the message
 * may reach (less than cap while an OPT is reserved); a record that does
 * not fit is not written and the call returns -ENOSPC.
 */
struct dns_writer {
	uint8_t *buf;
	size_t cap;
	size_t limit;
	size_t len;
	uint16_t comp[DNS_COMP_MAX]; /* offsets of names to point at */
	unsigned ncomp;
};

void dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap);
/* Header echoing q's id, opcode, RD and CD; QR set; counts zeroed. */
int dns_write_header(struct dns_writer *w, const struct dns_query *q);
/* The client's question, byte for byte (its case preserved). */
int dns_write_question(struct dns_writer *w, const struct dns_query *q);
/* A name, compressed against the names written before. */
int dns_write_name(struct dns_writer *w, const uint8_t *name, bool compress);
/*
 * One record; names inside the rdata of NS, CNAME, PTR, MX and SOA are
 * compressed, others written as given. Bumps the section's count
 * (1 answer, 2 authority, 3 additional).
 */
int dns_write_rr(struct dns_writer *w, int section, const uint8_t *owner,
    uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
    uint16_t rdlen);
/* An OPT record: payload size, extended rcode (upper 8 bits), DO bit. */
int dns_write_opt(struct dns_writer *w, uint16_t udp, uint8_t ext_rcode,
    bool do_bit);
void dns_writer_set_rcode(struct dns_writer *w, uint8_t rcode);
void dns_writer_set_flags(struct dns_writer *w, uint16_t set);
/* Rolls back to length len (dropping compression entries beyond it). */
void dns_writer_rewind(struct dns_writer *w, size_t len);

#endif
