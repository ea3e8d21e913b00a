/*
 * Query processing: parse, refuse or answer from a zone view, or from the
 * cache, or hand over to the forwarders. Also shapes upstream traffic:
 * the query sent to a forwarder and its answer turned into the client's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"

#define EDNS_UPSTREAM_UDP 1232

struct dns_snapshot *
dns_snapshot_new(const struct hearth_dns *cfg)
{
	struct dns_snapshot *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	atomic_init(&s->refs, 1);
	s->db = dns_db_new(cfg);
	if (cfg->n_recursion_clients > 0) {
		s->recursion =
		    calloc(cfg->n_recursion_clients, sizeof(*s->recursion));
		if (s->recursion != NULL)
			memcpy(s->recursion, cfg->recursion_clients,
			    cfg->n_recursion_clients * sizeof(*s->recursion));
	}
	if (s->db == NULL ||
	    (cfg->n_recursion_clients > 0 && s->recursion == NULL)) {
		dns_snapshot_unref(s);
		return NULL;
	}
	s->n_recursion = cfg->n_recursion_clients;
	s->have_forwarders = cfg->n_forwarders > 0;
	s->max_udp =
	    cfg->max_udp_payload_bytes < 512 ? 512 : cfg->max_udp_payload_bytes;
	return s;
}

struct dns_snapshot *
dns_snapshot_ref(struct dns_snapshot *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void
dns_snapshot_unref(struct dns_snapshot *s)
{
	if (s == NULL || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	dns_db_free(s->db);
	free(s->recursion);
	free(s);
}

static bool
is_recursion_client(const struct dns_snapshot *s, const struct hearth_addr *src)
{
	for (size_t i = 0; i < s->n_recursion; i++)
		if (hearth_cidr_contains(&s->recursion[i], src))
			return true;
	return false;
}

size_t
dns_reply_limit(const struct dns_query *q, uint16_t max_udp, bool tcp)
{
	if (tcp)
		return 65535;
	if (!q->has_edns)
		return 512;
	size_t l = q->edns_udp < 512 ? 512 : q->edns_udp;
	return l > max_udp ? max_udp : l;
}

size_t
dns_reply_rcode(const struct dns_query *q, uint8_t rcode, uint8_t *buf,
    size_t cap)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap);
	dns_write_header(&w, q);
	if (q->qname != NULL)
		dns_write_question(&w, q);
	dns_writer_set_rcode(&w, rcode);
	return w.len;
}

size_t
dns_reply_finish(uint8_t *buf, size_t len, size_t cap,
    const struct dns_query *q, uint16_t max_udp, size_t limit, bool ra,
    bool *truncated)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap);
	w.len = len;
	if (ra)
		dns_writer_set_flags(&w, DNS_F_RA);
	else /* an upstream's or the cache's RA is not ours to give */
		buf[3] &= (uint8_t)~DNS_F_RA;
	size_t need = len + (q->has_edns ? 11 : 0);
	*truncated = need > limit;
	if (*truncated) {
		w.len = q->question_end;
		memset(buf + 6, 0, 6);
		dns_writer_set_flags(&w, DNS_F_TC);
	}
	if (q->has_edns)
		dns_write_opt(&w, max_udp, 0, q->edns_do);
	return w.len;
}

/* The authoritative answer from view v. */
static size_t
answer_zone(const struct dns_zone *z, const struct dns_view *v,
    const struct dns_query *q, uint8_t *buf, size_t limit,
    struct dns_result *res)
{
	struct dns_writer w;
	struct dns_answer a;
	dns_writer_init(&w, buf, limit);
	dns_write_header(&w, q);
	dns_write_question(&w, q);
	dns_view_lookup(z, v, q->lname, q->qname_len, q->qtype, &a);
	res->rcode = a.rcode;
	res->authoritative = true;
	/* Leave room for the OPT echo; finish truncates what would not fit. */
	w.limit = limit - (q->has_edns ? 11 : 0);
	if (dns_answer_write(&a, &w) < 0) {
		dns_writer_rewind(&w, q->question_end);
		memset(buf + 6, 0, 6);
		dns_writer_set_flags(&w, DNS_F_TC);
	}
	return w.len;
}

/* Replies to a packet that is not a query we can answer normally. */
static bool
early_reply(const struct dns_snapshot *s, const struct dns_query *q,
    uint8_t *buf, size_t cap, size_t *outlen, struct dns_result *res)
{
	struct dns_writer w;
	dns_writer_init(&w, buf, cap);
	if (res->parse == DNS_PARSE_FORMERR || res->parse == DNS_PARSE_NOTIMP) {
		struct dns_query hq = *q;
		hq.qname = NULL;
		res->rcode = res->parse == DNS_PARSE_FORMERR ? DNS_R_FORMERR :
		                                               DNS_R_NOTIMP;
		*outlen = dns_reply_rcode(&hq, res->rcode, buf, cap);
		return true;
	}
	if (q->has_edns && q->edns_version > 0) {
		/* RFC 6891 6.1.3: BADVERS, our version (0) in the OPT. */
		dns_write_header(&w, q);
		dns_write_question(&w, q);
		dns_write_opt(&w, s->max_udp, DNS_R_BADVERS >> 4, q->edns_do);
		res->rcode = DNS_R_BADVERS;
		*outlen = w.len;
		return true;
	}
	uint8_t rcode = DNS_R_NOERROR;
	if (q->qtype == DNS_T_OPT || q->qtype == 0)
		rcode = DNS_R_FORMERR;
	else if (q->qclass != DNS_C_IN && q->qclass != DNS_C_ANY)
		rcode = DNS_R_REFUSED;
	else if (q->qtype == DNS_T_AXFR || q->qtype == DNS_T_IXFR)
		rcode = DNS_R_REFUSED;
	if (rcode == DNS_R_NOERROR)
		return false;
	res->rcode = rcode;
	*outlen = dns_reply_rcode(q, rcode, buf, cap);
	return true;
}

void
dns_process(const struct dns_snapshot *s, struct dns_cache *cache,
    const struct hearth_addr *src, bool tcp, const uint8_t *pkt, size_t len,
    struct dns_query *q, uint64_t now, uint8_t *buf, size_t cap, size_t *outlen,
    struct dns_result *res)
{
	memset(res, 0, sizeof(*res));
	res->view = "";
	res->verdict = DNS_V_DROP;
	res->parse = dns_query_parse(pkt, len, q);
	*outlen = 0;
	if (res->parse == DNS_PARSE_DROP)
		return;
	res->recursion_client = is_recursion_client(s, src);
	bool ra = res->recursion_client;
	res->verdict = DNS_V_REPLY;
	size_t limit = dns_reply_limit(q, s->max_udp, tcp);
	if (limit > cap)
		limit = cap;
	if (early_reply(s, q, buf, cap, outlen, res)) {
		if (ra)
			buf[3] |= DNS_F_RA;
		if (res->parse == DNS_PARSE_OK && q->has_edns &&
		    q->edns_version == 0)
			*outlen = dns_reply_finish(buf, *outlen, cap, q,
			    s->max_udp, limit, ra, &res->truncated);
		return;
	}
	size_t n;
	const struct dns_zone *z = dns_db_zone(s->db, q->lname, q->qname_len);
	const struct dns_view *v = z ? dns_zone_view(z, src) : NULL;
	if (v != NULL && !v->forward && v->apex == NULL)
		v = NULL; /* a view without records answers nothing */
	if (v != NULL)
		res->view = v->name;
	if (v != NULL && !v->forward) {
		n = answer_zone(z, v, q, buf, limit, res);
		*outlen = dns_reply_finish(buf, n, cap, q, s->max_udp, limit,
		    ra, &res->truncated);
		if (buf[2] & (DNS_F_TC >> 8))
			res->truncated = true;
		return;
	}
	if (!s->have_forwarders || (v == NULL && !res->recursion_client)) {
		res->rcode = DNS_R_REFUSED;
		n = dns_reply_rcode(q, DNS_R_REFUSED, buf, cap);
		*outlen = dns_reply_finish(buf, n, cap, q, s->max_udp, limit,
		    ra, &res->truncated);
		return;
	}
	if (cache != NULL) {
		enum dns_cache_result cr =
		    dns_cache_lookup(cache, q, now, false, buf, cap, &n);
		if (cr == DNS_CACHE_HIT) {
			res->from_cache = true;
			res->rcode = buf[3] & 0xf;
			*outlen = dns_reply_finish(buf, n, cap, q, s->max_udp,
			    limit, ra, &res->truncated);
			return;
		}
		res->stale_cached = cr == DNS_CACHE_STALE;
	}
	res->verdict = DNS_V_FORWARD;
}

int
dns_upstream_query(const struct dns_query *q, uint8_t *out, size_t cap)
{
	if (cap < DNS_HDR_LEN + (size_t)q->qname_len + 4 + 11)
		return -ENOSPC;
	memset(out, 0, DNS_HDR_LEN);
	dns_put16(out + 2, (uint16_t)(DNS_F_RD | (q->flags & DNS_F_CD)));
	dns_put16(out + 4, 1);
	dns_put16(out + 10, 1);
	size_t o = DNS_HDR_LEN;
	memcpy(out + o, q->lname, q->qname_len);
	o += q->qname_len;
	dns_put16(out + o, q->qtype);
	dns_put16(out + o + 2, q->qclass);
	o += 4;
	out[o] = 0;
	dns_put16(out + o + 1, DNS_T_OPT);
	dns_put16(out + o + 3, EDNS_UPSTREAM_UDP);
	out[o + 5] = 0;
	out[o + 6] = 0;
	out[o + 7] = q->edns_do ? 0x80 : 0;
	out[o + 8] = 0;
	dns_put16(out + o + 9, 0);
	return (int)(o + 11);
}

int
dns_upstream_render(const uint8_t *msg, size_t len, const struct dns_query *q,
    uint8_t *out, size_t cap)
{
	uint16_t offs[256];
	uint32_t ttl;
	size_t opt_off;
	uint8_t name[DNS_NAME_MAX];
	if (len < DNS_HDR_LEN || !(msg[2] & 0x80))
		return -EBADMSG;
	if (dns_msg_ttls(msg, len, offs, 256, &ttl, &opt_off) < 0)
		return -EBADMSG;
	size_t off = DNS_HDR_LEN;
	int nl = dns_name_read(msg, len, &off, name, true);
	if (nl != q->qname_len || off != DNS_HDR_LEN + (size_t)nl ||
	    memcmp(name, q->lname, (size_t)nl) != 0 ||
	    dns_get16(msg + off) != q->qtype ||
	    dns_get16(msg + off + 2) != q->qclass)
		return -EBADMSG;
	if (opt_off > cap)
		return -ENOSPC;
	memcpy(out, msg, opt_off);
	dns_put16(out, q->id);
	out[2] = (uint8_t)((out[2] & ~0x05) | ((q->flags >> 8) & 0x01));
	memcpy(out + DNS_HDR_LEN, q->qname, q->qname_len);
	if (opt_off != len)
		dns_put16(out + 10, (uint16_t)(dns_get16(out + 10) - 1));
	return (int)opt_off;
}
