/*
 * The DNS wire codec: reading names (with compression pointers that must
 * point strictly backwards, so loops cannot happen), parsing queries in
 * place, and writing responses with name compression. Everything is
 * bounds-checked against the packet length; nothing allocates.
 */
#include <errno.h>
#include <string.h>

#include "wire.h"

static inline uint8_t
lower(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + 32) : c;
}

int
dns_name_read(const uint8_t *pkt, size_t len, size_t *off, uint8_t *out,
    bool lwr)
{
	size_t p = *off, end = 0, o = 0;
	size_t floor = *off; /* pointers must go below this */
	bool jumped = false;

	for (;;) {
		if (p >= len)
			return -EBADMSG;
		uint8_t l = pkt[p];
		if ((l & 0xc0) == 0xc0) {
			if (p + 1 >= len)
				return -EBADMSG;
			size_t target = (size_t)(l & 0x3f) << 8 | pkt[p + 1];
			if (target >= floor)
				return -EBADMSG;
			if (!jumped)
				end = p + 2;
			jumped = true;
			floor = target;
			p = target;
			continue;
		}
		if (l & 0xc0)
			return -EBADMSG;
		if (o + 1 + l > DNS_NAME_MAX || p + 1 + l > len)
			return -EBADMSG;
		out[o++] = l;
		if (l == 0)
			break;
		for (size_t i = 0; i < l; i++)
			out[o + i] =
			    lwr ? lower(pkt[p + 1 + i]) : pkt[p + 1 + i];
		o += l;
		p += 1 + l;
	}
	*off = jumped ? end : p + 1;
	return (int)o;
}

int
dns_name_skip(const uint8_t *pkt, size_t len, size_t *off)
{
	uint8_t tmp[DNS_NAME_MAX];
	int r = dns_name_read(pkt, len, off, tmp, false);
	return r < 0 ? r : 0;
}

int
dns_rr_skip(const uint8_t *pkt, size_t len, size_t *off)
{
	if (dns_name_skip(pkt, len, off) < 0 || *off + 10 > len)
		return -EBADMSG;
	size_t rdlen = dns_get16(pkt + *off + 8);
	if (*off + 10 + rdlen > len)
		return -EBADMSG;
	*off += 10 + rdlen;
	return 0;
}

int
dns_name_len(const uint8_t *name, size_t max)
{
	size_t o = 0;
	for (;;) {
		if (o >= max || o >= DNS_NAME_MAX)
			return -EBADMSG;
		uint8_t l = name[o];
		if (l & 0xc0)
			return -EBADMSG;
		if (l == 0)
			return (int)o + 1;
		o += 1 + (size_t)l;
	}
}

int
dns_name_labels(const uint8_t *name)
{
	int n = 0;
	while (*name) {
		name += 1 + *name;
		n++;
	}
	return n;
}

int
dns_name_from_str(const char *s, uint8_t *out)
{
	size_t o = 0;
	if (s[0] == '\0' || (s[0] == '.' && s[1] == '\0')) {
		out[0] = 0;
		return 1;
	}
	while (*s) {
		const char *dot = strchr(s, '.');
		size_t l = dot ? (size_t)(dot - s) : strlen(s);
		if (l == 0 || l > DNS_LABEL_MAX || o + 1 + l + 1 > DNS_NAME_MAX)
			return -EINVAL;
		out[o++] = (uint8_t)l;
		for (size_t i = 0; i < l; i++)
			out[o++] = lower((uint8_t)s[i]);
		s += l;
		if (*s == '.')
			s++;
	}
	out[o++] = 0;
	return (int)o;
}

void
dns_name_to_str(const uint8_t *name, char *out, size_t outlen)
{
	size_t o = 0;
	while (*name && o + 1 < outlen) {
		uint8_t l = *name++;
		for (uint8_t i = 0; i < l && o + 5 < outlen; i++) {
			uint8_t c = name[i];
			if (c == '.' || c == '\\' || c == '"') {
				out[o++] = '\\';
				out[o++] = (char)c;
			} else if (c <= ' ' || c >= 0x7f) {
				out[o++] = '\\';
				out[o++] = (char)('0' + c / 100);
				out[o++] = (char)('0' + c / 10 % 10);
				out[o++] = (char)('0' + c % 10);
			} else {
				out[o++] = (char)c;
			}
		}
		name += l;
		if (*name && o + 1 < outlen)
			out[o++] = '.';
	}
	if (o == 0 && outlen > 1)
		out[o++] = '.';
	if (outlen > 0)
		out[o] = '\0';
}

bool
dns_name_eq(const uint8_t *a, const uint8_t *b)
{
	for (;;) {
		if (*a != *b)
			return false;
		uint8_t l = *a;
		if (l == 0)
			return true;
		for (uint8_t i = 1; i <= l; i++)
			if (lower(a[i]) != lower(b[i]))
				return false;
		a += 1 + l;
		b += 1 + l;
	}
}

bool
dns_name_is_sub(const uint8_t *name, int name_len, const uint8_t *suffix,
    int suffix_len)
{
	if (suffix_len > name_len)
		return false;
	const uint8_t *p = name;
	/* Walk labels until the remaining length equals the suffix's. */
	while (name_len - (int)(p - name) > suffix_len)
		p += 1 + *p;
	if (name_len - (int)(p - name) != suffix_len)
		return false;
	return memcmp(p, suffix, (size_t)suffix_len) == 0;
}

void
dns_name_lower(uint8_t *name)
{
	while (*name) {
		uint8_t l = *name;
		for (uint8_t i = 1; i <= l; i++)
			name[i] = lower(name[i]);
		name += 1 + l;
	}
}

uint32_t
dns_name_hash(const uint8_t *name, size_t len)
{
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++) {
		h ^= name[i];
		h *= 16777619u;
	}
	return h ^ (h >> 15);
}

/* Finds the OPT record among the additional records, checking the rest. */
static enum dns_parse_result
parse_sections(const uint8_t *pkt, size_t len, struct dns_query *q, size_t off)
{
	uint16_t an = dns_get16(pkt + 6), ns = dns_get16(pkt + 8);
	uint16_t ar = dns_get16(pkt + 10);
	for (unsigned i = 0; i < (unsigned)an + ns; i++)
		if (dns_rr_skip(pkt, len, &off) < 0)
			return DNS_PARSE_FORMERR;
	for (unsigned i = 0; i < ar; i++) {
		size_t start = off;
		if (dns_name_skip(pkt, len, &off) < 0 || off + 10 > len)
			return DNS_PARSE_FORMERR;
		const uint8_t *r = pkt + off;
		size_t rdlen = dns_get16(r + 8);
		if (off + 10 + rdlen > len)
			return DNS_PARSE_FORMERR;
		off += 10 + rdlen;
		if (dns_get16(r) != DNS_T_OPT)
			continue;
		/* OPT: owner must be the root, and only one. */
		if (q->has_edns || pkt[start] != 0)
			return DNS_PARSE_FORMERR;
		q->has_edns = true;
		q->edns_udp = dns_get16(r + 2);
		q->edns_version = r[5];
		q->edns_do = (r[6] & 0x80) != 0;
	}
	(void)off; /* trailing bytes are tolerated, as BIND does */
	return DNS_PARSE_OK;
}

enum dns_parse_result
dns_query_parse(const uint8_t *pkt, size_t len, struct dns_query *q)
{
	memset(q, 0, offsetof(struct dns_query, lname));
	q->pkt = pkt;
	q->len = len;
	if (len < DNS_HDR_LEN)
		return DNS_PARSE_DROP;
	q->id = dns_get16(pkt);
	q->flags = dns_get16(pkt + 2);
	q->qdcount = dns_get16(pkt + 4);
	if (q->flags & DNS_F_QR)
		return DNS_PARSE_DROP;
	if (DNS_OPCODE(q->flags) != 0)
		return DNS_PARSE_NOTIMP;
	if (q->qdcount != 1)
		return DNS_PARSE_FORMERR;
	size_t off = DNS_HDR_LEN;
	int n = dns_name_len(pkt + off, len - off);
	if (n < 0 || off + (size_t)n + 4 > len)
		return DNS_PARSE_FORMERR;
	q->qname = pkt + off;
	q->qname_len = (uint8_t)n;
	memcpy(q->lname, q->qname, (size_t)n);
	dns_name_lower(q->lname);
	q->qlabels = (uint8_t)dns_name_labels(q->lname);
	off += (size_t)n;
	q->qtype = dns_get16(pkt + off);
	q->qclass = dns_get16(pkt + off + 2);
	off += 4;
	q->question_end = off;
	return parse_sections(pkt, len, q, off);
}

void
dns_writer_init(struct dns_writer *w, uint8_t *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->limit = cap;
	w->len = 0;
	w->ncomp = 0;
}

int
dns_write_header(struct dns_writer *w, const struct dns_query *q)
{
	if (w->limit < DNS_HDR_LEN)
		return -ENOSPC;
	memset(w->buf, 0, DNS_HDR_LEN);
	dns_put16(w->buf, q->id);
	dns_put16(w->buf + 2,
	    (uint16_t)(DNS_F_QR | (q->flags & (0x7800 | DNS_F_RD | DNS_F_CD))));
	w->len = DNS_HDR_LEN;
	return 0;
}

int
dns_write_question(struct dns_writer *w, const struct dns_query *q)
{
	size_t n = q->question_end - DNS_HDR_LEN;
	if (w->len + n > w->limit)
		return -ENOSPC;
	memcpy(w->buf + w->len, q->pkt + DNS_HDR_LEN, n);
	if (w->ncomp < DNS_COMP_MAX)
		w->comp[w->ncomp++] = (uint16_t)w->len;
	w->len += n;
	dns_put16(w->buf + 4, 1);
	return 0;
}

/*
 * Does the name at packet offset off (possibly compressed, written by us)
 * equal the uncompressed name?
 */
static bool
packet_name_eq(const uint8_t *pkt, size_t off, const uint8_t *name)
{
	for (int hops = 0; hops < 64;) {
		uint8_t l = pkt[off];
		if ((l & 0xc0) == 0xc0) {
			off = (size_t)(l & 0x3f) << 8 | pkt[off + 1];
			hops++;
			continue;
		}
		if (l != *name)
			return false;
		if (l == 0)
			return true;
		for (uint8_t i = 1; i <= l; i++)
			if (lower(pkt[off + i]) != lower(name[i]))
				return false;
		off += 1 + l;
		name += 1 + l;
	}
	return false;
}

/* Offset of an earlier name equal to suffix, or 0. */
static uint16_t
comp_find(const struct dns_writer *w, const uint8_t *suffix)
{
	for (unsigned i = 0; i < w->ncomp; i++) {
		/* Each entry's suffixes are candidates too. */
		size_t off = w->comp[i];
		for (int hops = 0; hops < 128; hops++) {
			uint8_t l = w->buf[off];
			if ((l & 0xc0) == 0xc0)
				break; /* the pointed-to name is an entry */
			if (l == 0)
				break;
			if (l == *suffix && packet_name_eq(w->buf, off, suffix))
				return (uint16_t)off;
			off += 1 + l;
		}
	}
	return 0;
}

int
dns_write_name(struct dns_writer *w, const uint8_t *name, bool compress)
{
	size_t start = w->len;
	const uint8_t *p = name;
	while (*p) {
		uint16_t ptr = compress ? comp_find(w, p) : 0;
		if (ptr && ptr < 0x4000) {
			if (w->len + 2 > w->limit)
				goto nospc;
			dns_put16(w->buf + w->len, (uint16_t)(0xc000 | ptr));
			w->len += 2;
			goto done;
		}
		if (w->len + 1 + *p > w->limit)
			goto nospc;
		memcpy(w->buf + w->len, p, 1 + (size_t)*p);
		w->len += 1 + (size_t)*p;
		p += 1 + *p;
	}
	if (w->len + 1 > w->limit)
		goto nospc;
	w->buf[w->len++] = 0;
done:
	if (compress && w->len - start > 2 && w->ncomp < DNS_COMP_MAX &&
	    start < 0x4000)
		w->comp[w->ncomp++] = (uint16_t)start;
	return 0;
nospc:
	w->len = start;
	return -ENOSPC;
}

/* Writes rdata, compressing the names of the RFC 1035 types. */
static int
write_rdata(struct dns_writer *w, uint16_t type, const uint8_t *rd,
    uint16_t rdlen)
{
	size_t fixed_before = 0, names = 0, fixed_after = 0;
	switch (type) {
	case DNS_T_NS:
	case DNS_T_CNAME:
	case DNS_T_PTR:
		names = 1;
		break;
	case DNS_T_MX:
		fixed_before = 2;
		names = 1;
		break;
	case DNS_T_SOA:
		names = 2;
		fixed_after = 20;
		break;
	}
	if (names == 0)
		goto raw;
	size_t off = 0;
	if (rdlen < fixed_before)
		goto raw;
	if (w->len + fixed_before > w->limit)
		return -ENOSPC;
	memcpy(w->buf + w->len, rd, fixed_before);
	w->len += fixed_before;
	off = fixed_before;
	for (size_t i = 0; i < names; i++) {
		int n = dns_name_len(rd + off, rdlen - off);
		if (n < 0)
			return -EBADMSG;
		if (dns_write_name(w, rd + off, true) < 0)
			return -ENOSPC;
		off += (size_t)n;
	}
	if (rdlen - off != fixed_after)
		return -EBADMSG;
	if (w->len + fixed_after > w->limit)
		return -ENOSPC;
	memcpy(w->buf + w->len, rd + off, fixed_after);
	w->len += fixed_after;
	return 0;
raw:
	if (w->len + rdlen > w->limit)
		return -ENOSPC;
	memcpy(w->buf + w->len, rd, rdlen);
	w->len += rdlen;
	return 0;
}

int
dns_write_rr(struct dns_writer *w, int section, const uint8_t *owner,
    uint16_t type, uint16_t rclass, uint32_t ttl, const uint8_t *rdata,
    uint16_t rdlen)
{
	size_t start = w->len;
	unsigned ncomp = w->ncomp;
	int r = dns_write_name(w, owner, true);
	if (r < 0)
		goto fail;
	if (w->len + 10 > w->limit) {
		r = -ENOSPC;
		goto fail;
	}
	uint8_t *h = w->buf + w->len;
	dns_put16(h, type);
	dns_put16(h + 2, rclass);
	dns_put32(h + 4, ttl);
	w->len += 10;
	size_t rstart = w->len;
	r = write_rdata(w, type, rdata, rdlen);
	if (r < 0)
		goto fail;
	dns_put16(h + 8, (uint16_t)(w->len - rstart));
	uint8_t *cnt = w->buf + 4 + 2 * section;
	dns_put16(cnt, (uint16_t)(dns_get16(cnt) + 1));
	return 0;
fail:
	w->len = start;
	w->ncomp = ncomp;
	return r;
}

int
dns_write_opt(struct dns_writer *w, uint16_t udp, uint8_t ext_rcode,
    bool do_bit)
{
	if (w->len + 11 > w->cap)
		return -ENOSPC;
	uint8_t *p = w->buf + w->len;
	p[0] = 0;
	dns_put16(p + 1, DNS_T_OPT);
	dns_put16(p + 3, udp);
	p[5] = ext_rcode;
	p[6] = 0;
	p[7] = do_bit ? 0x80 : 0;
	p[8] = 0;
	dns_put16(p + 9, 0);
	w->len += 11;
	dns_put16(w->buf + 10, (uint16_t)(dns_get16(w->buf + 10) + 1));
	return 0;
}

void
dns_writer_set_rcode(struct dns_writer *w, uint8_t rcode)
{
	w->buf[3] = (uint8_t)((w->buf[3] & 0xf0) | (rcode & 0x0f));
}

void
dns_writer_set_flags(struct dns_writer *w, uint16_t set)
{
	dns_put16(w->buf + 2, (uint16_t)(dns_get16(w->buf + 2) | set));
}

void
dns_writer_rewind(struct dns_writer *w, size_t len)
{
	w->len = len;
	while (w->ncomp > 0 && w->comp[w->ncomp - 1] >= len)
		w->ncomp--;
}
