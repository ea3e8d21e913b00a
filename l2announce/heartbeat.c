/*
 * Heartbeat encoding and checked decoding (format in heartbeat.h). The tag
 * is verified before a single field is believed; after that the parse is
 * strict: exact length, known type, printable name, valid families.
 */
#include <errno.h>
#include <string.h>

#include "heartbeat.h"

static const uint8_t magic[4] = {'H', 'R', 'T', 'B'};

static void
put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t
get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static bool
name_ok(const char *s, size_t len)
{
	if (len == 0 || len > L2_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return false;
	return true;
}

int
l2_heartbeat_encode(const struct l2_key *k, const struct l2_heartbeat *hb,
    uint8_t *buf, size_t cap)
{
	size_t nlen = strnlen(hb->name, L2_NAME_MAX + 1);
	if (!name_ok(hb->name, nlen) || hb->n_vips > L2_HB_MAX_VIPS ||
	    (hb->type != L2_HB_ALIVE && hb->type != L2_HB_LEAVING))
		return -EINVAL;
	size_t need = L2_HB_HEADER_LEN + nlen + L2_TAG_LEN;
	for (size_t i = 0; i < hb->n_vips; i++)
		need += hb->vips[i].family == AF_INET6 ? 17 : 5;
	if (need > cap)
		return -EMSGSIZE;
	memcpy(buf, magic, 4);
	buf[4] = 1;
	buf[5] = hb->type;
	buf[6] = hb->flags;
	buf[7] = (uint8_t)nlen;
	put64(buf + 8, hb->incarnation);
	put64(buf + 16, hb->seq);
	buf[24] = (uint8_t)(hb->n_vips >> 8);
	buf[25] = (uint8_t)hb->n_vips;
	buf[26] = buf[27] = 0;
	size_t off = L2_HB_HEADER_LEN;
	memcpy(buf + off, hb->name, nlen);
	off += nlen;
	for (size_t i = 0; i < hb->n_vips; i++) {
		const struct hearth_addr *a = &hb->vips[i];
		if (a->family == AF_INET6) {
			buf[off++] = 6;
			memcpy(buf + off, &a->v6, 16);
			off += 16;
		} else if (a->family == AF_INET) {
			buf[off++] = 4;
			memcpy(buf + off, &a->v4, 4);
			off += 4;
		} else {
			return -EINVAL;
		}
	}
	if (l2_key_sign(k, buf, off, buf + off) != 0)
		return -EIO;
	return (int)(off + L2_TAG_LEN);
}

/* Parses the VIP list of n entries in p[0..len); exact length required. */
static int
parse_vips(const uint8_t *p, size_t len, size_t n, struct l2_heartbeat *out)
{
	size_t off = 0;
	for (size_t i = 0; i < n; i++) {
		struct hearth_addr *a = &out->vips[i];
		memset(a, 0, sizeof(*a));
		if (off >= len)
			return -EBADMSG;
		uint8_t fam = p[off++];
		size_t alen = fam == 4 ? 4 : fam == 6 ? 16 : 0;
		if (alen == 0 || len - off < alen)
			return -EBADMSG;
		a->family = fam == 4 ? AF_INET : AF_INET6;
		memcpy(fam == 4 ? (void *)&a->v4 : (void *)&a->v6, p + off,
		    alen);
		off += alen;
	}
	out->n_vips = n;
	return off == len ? 0 : -EBADMSG;
}

int
l2_heartbeat_decode(const struct l2_key *k, const uint8_t *buf, size_t len,
    struct l2_heartbeat *out)
{
	if (len < L2_HB_HEADER_LEN + L2_TAG_LEN || len > L2_HB_MAX_LEN)
		return -EBADMSG;
	size_t body = len - L2_TAG_LEN;
	if (!l2_key_verify(k, buf, body, buf + body))
		return -EACCES;
	if (memcmp(buf, magic, 4) != 0 || buf[4] != 1 ||
	    (buf[5] != L2_HB_ALIVE && buf[5] != L2_HB_LEAVING) ||
	    buf[26] != 0 || buf[27] != 0)
		return -EBADMSG;
	size_t nlen = buf[7];
	size_t n = (size_t)buf[24] << 8 | buf[25];
	if (n > L2_HB_MAX_VIPS || body - L2_HB_HEADER_LEN < nlen ||
	    !name_ok((const char *)buf + L2_HB_HEADER_LEN, nlen))
		return -EBADMSG;
	out->type = buf[5];
	out->flags = buf[6];
	memcpy(out->name, buf + L2_HB_HEADER_LEN, nlen);
	out->name[nlen] = '\0';
	out->incarnation = get64(buf + 8);
	out->seq = get64(buf + 16);
	size_t off = L2_HB_HEADER_LEN + nlen;
	return parse_vips(buf + off, body - off, n, out);
}
