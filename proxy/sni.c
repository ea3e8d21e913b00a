/*
 * ClientHello parsing for SNI routing: reassembles the handshake message
 * from consecutive handshake records, then walks the ClientHello's fixed
 * fields and its extensions with bounds checked at every step.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "sni.h"

/* A bounds-checked reader over a byte range. */
struct rd {
	const uint8_t *p;
	size_t len;
	bool bad;
};

static unsigned
rd_u8(struct rd *r)
{
	if (r->len < 1) {
		r->bad = true;
		return 0;
	}
	unsigned v = r->p[0];
	r->p++;
	r->len--;
	return v;
}

static unsigned
rd_u16(struct rd *r)
{
	unsigned hi = rd_u8(r);
	return hi << 8 | rd_u8(r);
}

/* A sub-reader of n bytes, advancing r past them. */
static struct rd
rd_sub(struct rd *r, size_t n)
{
	struct rd s = {r->p, n, false};
	if (r->len < n) {
		r->bad = true;
		s.len = 0;
		s.bad = true;
		return s;
	}
	r->p += n;
	r->len -= n;
	return s;
}

static bool
host_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
	    c == '.' || c == '_';
}

/* server_name extension body: the first host_name entry. */
static int
parse_server_name(struct rd ext, char *name, size_t cap)
{
	struct rd list = rd_sub(&ext, rd_u16(&ext));
	if (ext.bad || ext.len != 0 || list.len == 0)
		return -EBADMSG;
	while (list.len > 0) {
		unsigned type = rd_u8(&list);
		struct rd n = rd_sub(&list, rd_u16(&list));
		if (list.bad)
			return -EBADMSG;
		if (type != 0)
			continue;
		size_t len = n.len;
		if (len > 0 && n.p[len - 1] == '.')
			len--;
		if (len == 0 || len >= cap || len > 255)
			return -EBADMSG;
		for (size_t i = 0; i < len; i++) {
			uint8_t c = n.p[i];
			if (c >= 'A' && c <= 'Z')
				c = (uint8_t)(c + 32);
			if (!host_char(c))
				return -EBADMSG;
			name[i] = (char)c;
		}
		name[len] = '\0';
		return PROXY_SNI_FOUND;
	}
	return PROXY_SNI_NONE;
}

/* The ClientHello body (after the 4-byte handshake header). */
static int
parse_hello(struct rd h, char *name, size_t cap)
{
	unsigned major = rd_u8(&h);
	rd_u8(&h);
	rd_sub(&h, 32); /* random */
	unsigned sid = rd_u8(&h);
	if (major != 3 || sid > 32)
		return -EBADMSG;
	rd_sub(&h, sid);
	unsigned cs = rd_u16(&h);
	if (cs < 2 || cs % 2 != 0)
		return -EBADMSG;
	rd_sub(&h, cs);
	unsigned comp = rd_u8(&h);
	if (comp < 1)
		return -EBADMSG;
	rd_sub(&h, comp);
	if (h.bad)
		return -EBADMSG;
	if (h.len == 0)
		return PROXY_SNI_NONE; /* no extensions at all */
	struct rd exts = rd_sub(&h, rd_u16(&h));
	if (h.bad || h.len != 0)
		return -EBADMSG;
	int result = PROXY_SNI_NONE;
	bool seen = false;
	while (exts.len > 0) {
		unsigned type = rd_u16(&exts);
		struct rd ext = rd_sub(&exts, rd_u16(&exts));
		if (exts.bad)
			return -EBADMSG;
		if (type != 0)
			continue;
		if (seen)
			return -EBADMSG; /* duplicate server_name */
		seen = true;
		result = parse_server_name(ext, name, cap);
		if (result < 0)
			return result;
	}
	return result;
}

int
proxy_sni_parse(const uint8_t *buf, size_t len, char *name, size_t name_cap)
{
	static __thread uint8_t msg[PROXY_SNI_MAX_HELLO + 4];
	size_t have = 0, need = 0; /* handshake bytes gathered / wanted */
	size_t pos = 0;
	while (pos < len) {
		if (len - pos < 5)
			return PROXY_SNI_MORE;
		const uint8_t *rec = buf + pos;
		size_t rlen = (size_t)rec[3] << 8 | rec[4];
		if (rec[0] != 22 || rec[1] != 3 || rlen == 0 ||
		    rlen > 16384 + 256)
			return -EBADMSG;
		size_t avail = len - pos - 5;
		size_t take = avail < rlen ? avail : rlen;
		if (have + take > sizeof(msg))
			take = sizeof(msg) - have;
		memcpy(msg + have, rec + 5, take);
		have += take;
		if (need == 0 && have >= 4) {
			if (msg[0] != 1)
				return -EBADMSG; /* not a ClientHello */
			need = 4 +
			    ((size_t)msg[1] << 16 | (size_t)msg[2] << 8 |
			        msg[3]);
			if (need > sizeof(msg))
				return -EMSGSIZE;
			if (need < 4 + 38)
				return -EBADMSG;
		}
		if (need > 0 && have >= need) {
			struct rd h = {msg + 4, need - 4, false};
			return parse_hello(h, name, name_cap);
		}
		if (avail < rlen)
			return PROXY_SNI_MORE;
		pos += 5 + rlen;
	}
	return PROXY_SNI_MORE;
}
