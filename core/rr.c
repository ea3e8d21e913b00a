/*
 * DNS resource records from RFC 1035 presentation lines, as the
 * configuration's `records:` lists hold them: "name [ttl] [class] type
 * rdata", TTL and class optional in either order (default 300 and IN).
 * Owner names come out absolute, lower case and without the trailing dot;
 * rdata comes out in wire format with uncompressed names, ready for the
 * DNS module to copy into answers. Pure code: no I/O.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config.h"

#define RR_DEFAULT_TTL 300
#define RR_MAX_TTL     2147483647u
#define RR_MAX_NAME    255
#define RR_MAX_LABEL   63
#define RR_MAX_RDATA   65535

/* One token of the line; quoted tokens are already unescaped. */
struct tok {
	const char *s;
	size_t len;
	bool quoted;
};

struct toks {
	struct tok *v;
	size_t n;
	char *buf; /* storage for unescaped quoted text */
};

/* A growing rdata buffer capped at 64 KiB. */
struct wbuf {
	uint8_t *p;
	size_t len, cap;
	bool over;
};

struct rr_type {
	const char *name;
	uint16_t type;
};

static const struct rr_type rr_types[] = {
    {"A", 1},
    {"NS", 2},
    {"CNAME", 5},
    {"SOA", 6},
    {"PTR", 12},
    {"MX", 15},
    {"TXT", 16},
    {"AAAA", 28},
    {"SRV", 33},
    {"CAA", 257},
};

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static void
wb_put(struct wbuf *w, const void *data, size_t n)
{
	if (w->over)
		return;
	if (w->len + n > RR_MAX_RDATA) {
		w->over = true;
		return;
	}
	if (w->len + n > w->cap) {
		size_t cap = w->cap ? w->cap : 64;
		while (cap < w->len + n)
			cap *= 2;
		uint8_t *p = realloc(w->p, cap);
		if (p == NULL) {
			w->over = true;
			return;
		}
		w->p = p;
		w->cap = cap;
	}
	memcpy(w->p + w->len, data, n);
	w->len += n;
}

static void
wb_u8(struct wbuf *w, uint8_t v)
{
	wb_put(w, &v, 1);
}

static void
wb_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	wb_put(w, b, 2);
}

static void
wb_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16),
	    (uint8_t)(v >> 8), (uint8_t)v};
	wb_put(w, b, 4);
}

/* Decodes one backslash escape at *p (just past the backslash). */
static int
unescape(const char **p, uint8_t *out)
{
	const char *s = *p;
	if (isdigit((unsigned char)s[0])) {
		if (!isdigit((unsigned char)s[1]) ||
		    !isdigit((unsigned char)s[2]))
			return -EINVAL;
		int v = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
		if (v > 255)
			return -EINVAL;
		*out = (uint8_t)v;
		*p = s + 3;
		return 0;
	}
	if (s[0] == '\0')
		return -EINVAL;
	*out = (uint8_t)s[0];
	*p = s + 1;
	return 0;
}

static bool
is_sep(char c)
{
	return c == ' ' || c == '\t' || c == '(' || c == ')' || c == '\r' ||
	    c == '\n';
}

/* Splits line into tokens; a ';' outside quotes starts a comment. */
static int
tokenize(const char *line, struct toks *t, char *err, size_t errlen)
{
	size_t len = strlen(line);
	t->v = calloc(len / 2 + 2, sizeof(*t->v));
	t->buf = malloc(len + 1);
	t->n = 0;
	if (t->v == NULL || t->buf == NULL)
		return fail(err, errlen, "out of memory");
	char *o = t->buf;
	const char *p = line;
	for (;;) {
		while (is_sep(*p))
			p++;
		if (*p == '\0' || *p == ';')
			break;
		struct tok *k = &t->v[t->n++];
		if (*p == '"') {
			p++;
			k->s = o;
			k->quoted = true;
			while (*p != '"') {
				if (*p == '\0')
					return fail(err, errlen,
					    "unterminated quoted string");
				if (*p == '\\') {
					p++;
					uint8_t c;
					if (unescape(&p, &c) != 0)
						return fail(err, errlen,
						    "bad escape in quoted "
						    "string");
					*o++ = (char)c;
				} else {
					*o++ = *p++;
				}
			}
			k->len = (size_t)(o - k->s);
			p++;
			if (*p != '\0' && !is_sep(*p) && *p != ';')
				return fail(err, errlen,
				    "text right after a closing quote");
			continue;
		}
		k->s = p;
		while (*p != '\0' && !is_sep(*p) && *p != ';' && *p != '"') {
			if (*p == '\\' && p[1] != '\0')
				p++;
			p++;
		}
		k->len = (size_t)(p - k->s);
	}
	return 0;
}

static void
toks_free(struct toks *t)
{
	free(t->v);
	free(t->buf);
}

static bool
tok_is(const struct tok *k, const char *s)
{
	return !k->quoted && strlen(s) == k->len &&
	    strncasecmp(k->s, s, k->len) == 0;
}

/* A token as a NUL-terminated string in buf (truncated to fit). */
static const char *
tok_str(const struct tok *k, char *buf, size_t len)
{
	size_t n = k->len < len - 1 ? k->len : len - 1;
	memcpy(buf, k->s, n);
	buf[n] = '\0';
	return buf;
}

static int
parse_num(const struct tok *k, unsigned long max, unsigned long *out)
{
	if (k->quoted || k->len == 0 || k->len > 10)
		return -EINVAL;
	unsigned long v = 0;
	for (size_t i = 0; i < k->len; i++) {
		if (!isdigit((unsigned char)k->s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned long)(k->s[i] - '0');
	}
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* A TTL: seconds, or BIND-style units ("1h30m"). */
static int
parse_ttl(const struct tok *k, uint32_t *out)
{
	unsigned long long total = 0, cur = 0;
	bool digits = false;
	if (k->quoted || k->len == 0 || k->len > 24)
		return -EINVAL;
	for (size_t i = 0; i < k->len; i++) {
		char c = k->s[i];
		if (isdigit((unsigned char)c)) {
			cur = cur * 10 + (unsigned long long)(c - '0');
			digits = true;
			if (cur > RR_MAX_TTL)
				return -ERANGE;
			continue;
		}
		unsigned long long mul;
		switch (tolower((unsigned char)c)) {
		case 's':
			mul = 1;
			break;
		case 'm':
			mul = 60;
			break;
		case 'h':
			mul = 3600;
			break;
		case 'd':
			mul = 86400;
			break;
		case 'w':
			mul = 604800;
			break;
		default:
			return -EINVAL;
		}
		if (!digits)
			return -EINVAL;
		total += cur * mul;
		cur = 0;
		digits = false;
		if (total > RR_MAX_TTL)
			return -ERANGE;
	}
	if (digits)
		total += cur;
	else if (!isalpha((unsigned char)k->s[k->len - 1]))
		return -EINVAL;
	if (total > RR_MAX_TTL)
		return -ERANGE;
	*out = (uint32_t)total;
	return 0;
}

static bool
name_char_ok(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '*';
}

/*
 * Makes a name absolute under origin: "@" is the origin, a trailing dot
 * marks an absolute name. Writes the text (no trailing dot) into text and
 * the wire form into wire; checks characters, labels and length.
 */
static int
name_make(const struct tok *k, const char *origin, char *text, uint8_t *wire,
    size_t *wlen, char *err, size_t errlen)
{
	char t[RR_MAX_NAME * 2 + 4];
	char shown[80];
	tok_str(k, shown, sizeof(shown));
	if (k->quoted)
		return fail(err, errlen, "name \"%s\" must not be quoted",
		    shown);
	if (k->len == 1 && k->s[0] == '@') {
		snprintf(t, sizeof(t), "%s", origin);
	} else if (k->len > RR_MAX_NAME + 1) {
		return fail(err, errlen, "name \"%s...\" is longer than 255",
		    shown);
	} else if (k->s[k->len - 1] == '.') {
		if (k->len == 1)
			t[0] = '\0';
		else
			tok_str(k, t, k->len); /* drops the dot */
	} else if (origin[0] == '\0') {
		tok_str(k, t, sizeof(t));
	} else {
		snprintf(t, sizeof(t), "%.*s.%s", (int)k->len, k->s, origin);
	}
	size_t n = 0, tl = strlen(t);
	if (tl > RR_MAX_NAME)
		return fail(err, errlen, "name \"%s\" is longer than 255",
		    shown);
	const char *p = t;
	while (*p != '\0') {
		const char *dot = strchr(p, '.');
		size_t ll = dot ? (size_t)(dot - p) : strlen(p);
		if (ll == 0)
			return fail(err, errlen, "empty label in name \"%s\"",
			    shown);
		if (ll > RR_MAX_LABEL)
			return fail(err, errlen,
			    "label longer than 63 in name \"%s\"", shown);
		for (size_t i = 0; i < ll; i++) {
			if (!name_char_ok(p[i]))
				return fail(err, errlen,
				    "invalid character '%c' in name \"%s\"",
				    isprint((unsigned char)p[i]) ? p[i] : '?',
				    shown);
			if (p[i] == '*' && (ll != 1 || p != t))
				return fail(err, errlen,
				    "'*' must be the whole leftmost label in "
				    "\"%s\"",
				    shown);
		}
		wire[n++] = (uint8_t)ll;
		memcpy(wire + n, p, ll);
		n += ll;
		p += ll;
		if (*p == '.')
			p++;
	}
	wire[n++] = 0;
	if (n > RR_MAX_NAME)
		return fail(err, errlen, "name \"%s\" is longer than 255",
		    shown);
	*wlen = n;
	memcpy(text, t, tl + 1);
	return 0;
}

static int
rdata_name(const struct tok *k, const char *origin, struct wbuf *w, char *err,
    size_t errlen)
{
	char text[RR_MAX_NAME * 2 + 4];
	uint8_t wire[RR_MAX_NAME + 2];
	size_t wl;
	if (name_make(k, origin, text, wire, &wl, err, errlen) != 0)
		return -EINVAL;
	wb_put(w, wire, wl);
	return 0;
}

static int
rdata_num(const struct tok *k, unsigned long max, const char *what,
    unsigned long *out, char *err, size_t errlen)
{
	char shown[40];
	if (parse_num(k, max, out) != 0)
		return fail(err, errlen, "bad %s \"%s\" (0-%lu)", what,
		    tok_str(k, shown, sizeof(shown)), max);
	return 0;
}

/* A character-string (TXT, CAA value): quoted text or an unquoted word. */
static int
char_string(const struct tok *k, uint8_t *out, size_t *outlen, size_t max,
    char *err, size_t errlen)
{
	size_t n = 0;
	if (k->quoted) {
		if (k->len > max)
			return fail(err, errlen,
			    "character string longer than %zu", max);
		memcpy(out, k->s, k->len);
		*outlen = k->len;
		return 0;
	}
	const char *p = k->s, *end = k->s + k->len;
	while (p < end) {
		uint8_t c;
		if (*p == '\\') {
			p++;
			if (unescape(&p, &c) != 0 || p > end)
				return fail(err, errlen, "bad escape");
		} else {
			c = (uint8_t)*p++;
		}
		if (n == max)
			return fail(err, errlen,
			    "character string longer than %zu", max);
		out[n++] = c;
	}
	*outlen = n;
	return 0;
}

static int
want_args(size_t have, size_t want, const char *type, char *err, size_t errlen)
{
	if (have < want)
		return fail(err, errlen, "%s needs %zu fields, got %zu", type,
		    want, have);
	if (have > want)
		return fail(err, errlen, "trailing data after %s record", type);
	return 0;
}

static int
rdata_addr(const struct tok *a, size_t n, int family, struct wbuf *w, char *err,
    size_t errlen)
{
	const char *tn = family == AF_INET ? "A" : "AAAA";
	if (want_args(n, 1, tn, err, errlen) != 0)
		return -EINVAL;
	char buf[INET6_ADDRSTRLEN + 1];
	uint8_t bin[16];
	if (a[0].quoted || a[0].len >= sizeof(buf) ||
	    inet_pton(family, tok_str(&a[0], buf, sizeof(buf)), bin) != 1) {
		char shown[48];
		return fail(err, errlen, "bad %s address \"%s\"",
		    family == AF_INET ? "IPv4" : "IPv6",
		    tok_str(&a[0], shown, sizeof(shown)));
	}
	wb_put(w, bin, family == AF_INET ? 4 : 16);
	return 0;
}

static int
rdata_soa(const struct tok *a, size_t n, const char *origin, struct wbuf *w,
    char *err, size_t errlen)
{
	static const char *const what[] = {"serial", "refresh", "retry",
	    "expire", "minimum"};
	if (want_args(n, 7, "SOA", err, errlen) != 0 ||
	    rdata_name(&a[0], origin, w, err, errlen) != 0 ||
	    rdata_name(&a[1], origin, w, err, errlen) != 0)
		return -EINVAL;
	for (size_t i = 0; i < 5; i++) {
		uint32_t v = 0;
		unsigned long u;
		if (i == 0) {
			if (rdata_num(&a[2], 0xffffffffu, what[0], &u, err,
			        errlen) != 0)
				return -EINVAL;
			v = (uint32_t)u;
		} else if (parse_ttl(&a[2 + i], &v) != 0) {
			char shown[40];
			return fail(err, errlen, "bad SOA %s \"%s\"", what[i],
			    tok_str(&a[2 + i], shown, sizeof(shown)));
		}
		wb_u32(w, v);
	}
	return 0;
}

static int
rdata_txt(const struct tok *a, size_t n, struct wbuf *w, char *err,
    size_t errlen)
{
	if (n == 0)
		return fail(err, errlen, "TXT needs at least one string");
	for (size_t i = 0; i < n; i++) {
		uint8_t s[255];
		size_t sl = 0;
		if (char_string(&a[i], s, &sl, sizeof(s), err, errlen) != 0)
			return -EINVAL;
		wb_u8(w, (uint8_t)sl);
		wb_put(w, s, sl);
	}
	return 0;
}

static int
rdata_caa(const struct tok *a, size_t n, struct wbuf *w, char *err,
    size_t errlen)
{
	unsigned long flags;
	if (want_args(n, 3, "CAA", err, errlen) != 0 ||
	    rdata_num(&a[0], 255, "CAA flags", &flags, err, errlen) != 0)
		return -EINVAL;
	if (a[1].quoted || a[1].len == 0 || a[1].len > 15)
		return fail(err, errlen, "CAA tag must be 1-15 letters/digits");
	for (size_t i = 0; i < a[1].len; i++)
		if (!isalnum((unsigned char)a[1].s[i]))
			return fail(err, errlen,
			    "CAA tag must be 1-15 letters/digits");
	uint8_t *v = malloc(a[2].len + 1);
	size_t vl = 0;
	if (v == NULL)
		return fail(err, errlen, "out of memory");
	int rc = char_string(&a[2], v, &vl, RR_MAX_RDATA, err, errlen);
	if (rc == 0) {
		wb_u8(w, (uint8_t)flags);
		wb_u8(w, (uint8_t)a[1].len);
		for (size_t i = 0; i < a[1].len; i++)
			wb_u8(w, (uint8_t)tolower((unsigned char)a[1].s[i]));
		wb_put(w, v, vl);
	}
	free(v);
	return rc;
}

/* Numbers then one name: MX (1 number), SRV (3). */
static int
rdata_nums_name(const struct tok *a, size_t n, const char *type, size_t nnums,
    const char *const *what, const char *origin, struct wbuf *w, char *err,
    size_t errlen)
{
	if (want_args(n, nnums + 1, type, err, errlen) != 0)
		return -EINVAL;
	for (size_t i = 0; i < nnums; i++) {
		unsigned long v = 0;
		if (rdata_num(&a[i], 65535, what[i], &v, err, errlen) != 0)
			return -EINVAL;
		wb_u16(w, (uint16_t)v);
	}
	return rdata_name(&a[nnums], origin, w, err, errlen);
}

static int
rdata_build(uint16_t type, const struct tok *a, size_t n, const char *origin,
    struct wbuf *w, char *err, size_t errlen)
{
	static const char *const mx[] = {"MX preference"};
	static const char *const srv[] = {"SRV priority", "SRV weight",
	    "SRV port"};
	switch (type) {
	case 1:
		return rdata_addr(a, n, AF_INET, w, err, errlen);
	case 28:
		return rdata_addr(a, n, AF_INET6, w, err, errlen);
	case 2:
	case 5:
	case 12:
		if (want_args(n, 1,
		        type == 2     ? "NS" :
		            type == 5 ? "CNAME" :
		                        "PTR",
		        err, errlen) != 0)
			return -EINVAL;
		return rdata_name(&a[0], origin, w, err, errlen);
	case 6:
		return rdata_soa(a, n, origin, w, err, errlen);
	case 15:
		return rdata_nums_name(a, n, "MX", 1, mx, origin, w, err,
		    errlen);
	case 16:
		return rdata_txt(a, n, w, err, errlen);
	case 33:
		return rdata_nums_name(a, n, "SRV", 3, srv, origin, w, err,
		    errlen);
	case 257:
		return rdata_caa(a, n, w, err, errlen);
	}
	return fail(err, errlen, "unsupported type");
}

static bool
in_zone(const char *name, const char *origin)
{
	size_t nl = strlen(name), ol = strlen(origin);
	if (ol == 0 || strcmp(name, origin) == 0)
		return true;
	return nl > ol && name[nl - ol - 1] == '.' &&
	    strcmp(name + nl - ol, origin) == 0;
}

/* Reads "[ttl] [class] type" after the owner; returns the index of rdata. */
static int
parse_header(const struct toks *t, struct hearth_rr *out, char *err,
    size_t errlen)
{
	bool have_ttl = false, have_class = false;
	size_t i = 1;
	char shown[40];
	out->ttl = RR_DEFAULT_TTL;
	out->rclass = 1;
	for (; i < t->n; i++) {
		const struct tok *k = &t->v[i];
		if (!k->quoted && k->len > 0 &&
		    isdigit((unsigned char)k->s[0])) {
			if (have_ttl)
				return fail(err, errlen, "two TTLs");
			if (parse_ttl(k, &out->ttl) != 0)
				return fail(err, errlen,
				    "bad TTL \"%s\" (0-2147483647)",
				    tok_str(k, shown, sizeof(shown)));
			have_ttl = true;
			continue;
		}
		if (tok_is(k, "IN")) {
			if (have_class)
				return fail(err, errlen, "two classes");
			have_class = true;
			continue;
		}
		if (tok_is(k, "CH") || tok_is(k, "HS") || tok_is(k, "CS"))
			return fail(err, errlen, "only class IN is supported");
		for (size_t j = 0; j < sizeof(rr_types) / sizeof(rr_types[0]);
		     j++) {
			if (tok_is(k, rr_types[j].name)) {
				out->type = rr_types[j].type;
				return (int)(i + 1);
			}
		}
		return fail(err, errlen, "unknown or unsupported type \"%s\"",
		    tok_str(k, shown, sizeof(shown)));
	}
	return fail(err, errlen, "no record type");
}

int
hearth_rr_parse(const char *line, const char *origin, struct hearth_rr *out,
    char *err, size_t errlen)
{
	struct toks t = {0};
	struct wbuf w = {0};
	char owner[RR_MAX_NAME * 2 + 4];
	uint8_t wire[RR_MAX_NAME + 2];
	size_t wl;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	if (errlen > 0)
		err[0] = '\0';
	if (tokenize(line, &t, err, errlen) != 0)
		goto done;
	if (t.n == 0) {
		fail(err, errlen, "empty record");
		goto done;
	}
	if (name_make(&t.v[0], origin, owner, wire, &wl, err, errlen) != 0)
		goto done;
	for (char *p = owner; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	if (!in_zone(owner, origin)) {
		fail(err, errlen, "name \"%s\" is outside the zone %s", owner,
		    origin);
		goto done;
	}
	int first = parse_header(&t, out, err, errlen);
	if (first < 0)
		goto done;
	if (rdata_build(out->type, &t.v[first], t.n - (size_t)first, origin, &w,
	        err, errlen) != 0)
		goto done;
	if (w.over) {
		fail(err, errlen, "record data longer than 65535 bytes");
		goto done;
	}
	out->owner = strdup(owner);
	if (out->owner == NULL) {
		fail(err, errlen, "out of memory");
		goto done;
	}
	out->rdata = w.p;
	out->rdlen = (uint16_t)w.len;
	w.p = NULL;
	rc = 0;
done:
	toks_free(&t);
	free(w.p);
	if (rc != 0) {
		free(out->owner);
		memset(out, 0, sizeof(*out));
	}
	return rc;
}

void
hearth_rr_clear(struct hearth_rr *rr)
{
	if (rr == NULL)
		return;
	free(rr->owner);
	free(rr->rdata);
	rr->owner = NULL;
	rr->rdata = NULL;
	rr->rdlen = 0;
}
