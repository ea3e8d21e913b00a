/*
 * Strict HTTP/1.1 head parsing (RFC 9112 sections 2-7): one pass per line
 * over the caller's buffer, with character classes from RFC 9110 5.6.2
 * (token) and 5.5 (field-value). The parser never copies: names, values,
 * method and target are slices of the input. Anything ambiguous is an
 * error, because a proxy that is lenient where its backend is strict (or
 * the reverse) is how request smuggling works.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "http.h"

/* RFC 9110 tchar: ALPHA, DIGIT and "!#$%&'*+-.^_`|~" (rows of 16 bytes). */
/* clang-format off */
static const bool tchar[256] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 1_ */
    0, 1, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 0, 1, 1, 0, /* 2_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, /* 3_ */
    0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 4_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, /* 5_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 6_ */
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, /* 7_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 8_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 9_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* A_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* B_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* C_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* D_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* E_ */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* F_ */
};
/* clang-format on */

static bool
is_tchar(unsigned char c)
{
	return tchar[c];
}

/* field-vchar, SP and HTAB: no CTL but HTAB, no DEL. */
static bool
is_fchar(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

#define ONES  0x0101010101010101ull
#define HIGHS 0x8080808080808080ull

/*
 * Whether [p, p+n) is all field-vchar, SP and HTAB. Eight bytes at a time:
 * a word with no byte below 0x20 and none equal to 0x7f passes at once
 * (the usual case); one that might hold either is checked byte by byte
 * (so a tab costs a little, and nothing is ever let through wrongly).
 */
static bool
all_fchar(const char *p, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, p + i, 8);
		uint64_t low = (w - ONES * 0x20) & ~w & HIGHS;
		uint64_t x = w ^ (ONES * 0x7f);
		uint64_t del = (x - ONES) & ~x & HIGHS;
		if ((low | del) == 0)
			continue;
		for (size_t j = i; j < i + 8; j++)
			if (!is_fchar((unsigned char)p[j]))
				return false;
	}
	for (; i < n; i++)
		if (!is_fchar((unsigned char)p[i]))
			return false;
	return true;
}

bool
proxy_str_ieq(struct proxy_str s, const char *lit)
{
	size_t n = strlen(lit);
	return s.len == n && strncasecmp(s.p, lit, n) == 0;
}

static bool
str_ieq_lower(struct proxy_str s, const char *lower, size_t n)
{
	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s.p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c + 32);
		if (c != lower[i])
			return false;
	}
	return true;
}

/*
 * Finds the line starting at pos: *end is where its CR is, *next is past
 * its LF. Returns 1, 0 when incomplete, or -431 when the head would pass
 * limit, -400 on a bare LF or CR.
 */
static int
next_line(const char *buf, size_t len, size_t pos, size_t limit, size_t *end,
    size_t *next)
{
	size_t wend = len < limit ? len : limit;
	if (pos >= wend)
		return len >= limit ? -431 : 0;
	const char *lf = memchr(buf + pos, '\n', wend - pos);
	if (lf == NULL)
		return len >= limit ? -431 : 0;
	size_t i = (size_t)(lf - buf);
	if (i == pos || buf[i - 1] != '\r')
		return -400;
	*end = i - 1;
	*next = i + 1;
	return 1;
}

/* Iterates the comma-separated list in s; returns false at its end. */
static bool
list_next(struct proxy_str *s, struct proxy_str *item)
{
	while (s->len > 0 && (*s->p == ',' || *s->p == ' ' || *s->p == '\t')) {
		s->p++;
		s->len--;
	}
	if (s->len == 0)
		return false;
	size_t i = 0;
	while (i < s->len && s->p[i] != ',')
		i++;
	size_t j = i;
	while (j > 0 && (s->p[j - 1] == ' ' || s->p[j - 1] == '\t'))
		j--;
	item->p = s->p;
	item->len = j;
	s->p += i;
	s->len -= i;
	return true;
}

static int
parse_length(struct proxy_str v, uint64_t *out)
{
	uint64_t n = 0;
	if (v.len == 0 || v.len > 19)
		return -1;
	for (size_t i = 0; i < v.len; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return -1;
		n = n * 10 + (uint64_t)(v.p[i] - '0');
	}
	*out = n;
	return 0;
}

static bool
is_host_char(unsigned char c)
{
	static const char extra[] = "-._~!$&'()*+,;=:[]%";
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != 0 && memchr(extra, c, sizeof(extra) - 1) != NULL;
}

static bool
valid_host(struct proxy_str h)
{
	for (size_t i = 0; i < h.len; i++)
		if (!is_host_char((unsigned char)h.p[i]))
			return false;
	return true;
}

/* What the special fields said, checked once the head is complete. */
struct head_state {
	bool is_request;
	bool seen_cl, seen_te, seen_host;
	bool conn_close, conn_keep_alive, conn_upgrade, has_upgrade;
	bool seen_connection;
	bool te_chunked_last, te_only_chunked;
	int err; /* -status for the first fault */
};

static void
parse_te(struct head_state *st, struct proxy_str v)
{
	struct proxy_str it;
	unsigned n = 0, chunked = 0;
	bool last = false;
	while (list_next(&v, &it)) {
		n++;
		last = proxy_str_ieq(it, "chunked");
		if (last)
			chunked++;
	}
	st->te_chunked_last = last && chunked == 1;
	st->te_only_chunked = n == 1 && chunked == 1;
	if (n == 0 || (chunked > 1))
		st->err = st->err ? st->err : -400;
}

static void
parse_connection(struct head_state *st, struct proxy_str v)
{
	struct proxy_str it;
	while (list_next(&v, &it)) {
		if (proxy_str_ieq(it, "close"))
			st->conn_close = true;
		else if (proxy_str_ieq(it, "keep-alive"))
			st->conn_keep_alive = true;
		else if (proxy_str_ieq(it, "upgrade"))
			st->conn_upgrade = true;
	}
}

/* Interprets one field; sets st->err on a framing fault. */
static void
field_seen(struct head_state *st, struct proxy_http_msg *msg,
    const struct proxy_http_header *h)
{
	int bad = st->is_request ? -400 : -502;
	if (str_ieq_lower(h->name, "content-length", 14)) {
		if (st->seen_cl || parse_length(h->value, &msg->content_length))
			st->err = st->err ? st->err : bad;
		st->seen_cl = true;
	} else if (str_ieq_lower(h->name, "transfer-encoding", 17)) {
		if (st->seen_te)
			st->err = st->err ? st->err : bad;
		st->seen_te = true;
		parse_te(st, h->value);
	} else if (str_ieq_lower(h->name, "host", 4)) {
		if (st->is_request && (st->seen_host || !valid_host(h->value)))
			st->err = st->err ? st->err : -400;
		st->seen_host = true;
		if (msg->host.p == NULL)
			msg->host = h->value;
	} else if (str_ieq_lower(h->name, "connection", 10)) {
		st->seen_connection = true;
		parse_connection(st, h->value);
	} else if (str_ieq_lower(h->name, "upgrade", 7)) {
		st->has_upgrade = true;
	} else if (str_ieq_lower(h->name, "expect", 6)) {
		if (proxy_str_ieq(h->value, "100-continue"))
			msg->expect_continue = true;
	}
}

/* Parses "name: value" in [p, p+n). Returns 0 or -1. */
static int
parse_field(const char *p, size_t n, struct proxy_http_header *h)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ':')
		return -1; /* empty name, space before ':', or bad char */
	h->name.p = p;
	h->name.len = i;
	i++;
	while (i < n && (p[i] == ' ' || p[i] == '\t'))
		i++;
	size_t vs = i;
	if (!all_fchar(p + i, n - i))
		return -1;
	size_t ve = n;
	while (ve > vs && (p[ve - 1] == ' ' || p[ve - 1] == '\t'))
		ve--;
	h->value.p = p + vs;
	h->value.len = ve - vs;
	return 0;
}

/* Parses field lines from pos to the blank line; returns the head length. */
static ssize_t
parse_fields(const char *buf, size_t len, size_t pos,
    const struct proxy_http_limits *lim, struct proxy_http_msg *msg,
    struct head_state *st)
{
	size_t max_h = lim->max_headers < msg->cap_headers ? lim->max_headers :
	                                                     msg->cap_headers;
	int too_many = st->is_request ? -431 : -502;
	for (;;) {
		size_t end, next;
		int r = next_line(buf, len, pos, lim->max_header_bytes, &end,
		    &next);
		if (r <= 0)
			return r == -431 && !st->is_request ? -502 :
			    r == -400 && !st->is_request    ? -502 :
			                                      r;
		if (end == pos)
			return (ssize_t)next;
		if (buf[pos] == ' ' || buf[pos] == '\t')
			return st->is_request ? -400 : -502; /* obs-fold */
		if (msg->n_headers >= max_h)
			return too_many;
		struct proxy_http_header *h = &msg->headers[msg->n_headers];
		if (parse_field(buf + pos, end - pos, h) != 0)
			return st->is_request ? -400 : -502;
		msg->n_headers++;
		field_seen(st, msg, h);
		pos = next;
	}
}

static int
parse_version(const char *p, size_t n, unsigned *minor)
{
	if (n != 8 || memcmp(p, "HTTP/", 5) != 0 || p[6] != '.' || p[5] < '0' ||
	    p[5] > '9' || p[7] < '0' || p[7] > '9')
		return -400;
	if (p[5] != '1' || p[7] > '1')
		return -505;
	*minor = (unsigned)(p[7] - '0');
	return 0;
}

/* Splits the target into host (absolute-form) and path. */
static int
parse_target(struct proxy_http_msg *msg)
{
	struct proxy_str t = msg->target;
	size_t skip = 0;
	if (t.p[0] == '/') {
		skip = 0;
	} else if (t.len > 7 && strncasecmp(t.p, "http://", 7) == 0) {
		skip = 7;
	} else if (t.len > 8 && strncasecmp(t.p, "https://", 8) == 0) {
		skip = 8;
	} else if (t.len == 1 && t.p[0] == '*' &&
	    proxy_str_ieq(msg->method, "OPTIONS")) {
		msg->path = t;
		return 0;
	} else {
		return -400;
	}
	size_t i = skip;
	if (skip > 0) {
		while (i < t.len && t.p[i] != '/' && t.p[i] != '?')
			i++;
		msg->host.p = t.p + skip;
		msg->host.len = i - skip;
		if (msg->host.len == 0 || !valid_host(msg->host))
			return -400;
	}
	size_t q = i;
	while (q < t.len && t.p[q] != '?' && t.p[q] != '#')
		q++;
	if (q == i) {
		msg->path.p = "/";
		msg->path.len = 1;
	} else {
		msg->path.p = t.p + i;
		msg->path.len = q - i;
	}
	return 0;
}

/* method SP request-target SP HTTP-version */
static int
parse_request_line(const char *p, size_t n, struct proxy_http_msg *msg)
{
	size_t i = 0;
	while (i < n && is_tchar((unsigned char)p[i]))
		i++;
	if (i == 0 || i == n || p[i] != ' ')
		return -400;
	msg->method.p = p;
	msg->method.len = i;
	size_t ts = ++i;
	while (i < n && p[i] > 0x20 && p[i] < 0x7f)
		i++;
	if (i == ts || i == n || p[i] != ' ')
		return -400;
	msg->target.p = p + ts;
	msg->target.len = i - ts;
	int r = parse_version(p + i + 1, n - i - 1, &msg->minor);
	if (r != 0)
		return r;
	if (proxy_str_ieq(msg->method, "CONNECT"))
		return -405;
	msg->is_head = msg->method.len == 4 && memcmp(p, "HEAD", 4) == 0;
	return parse_target(msg);
}

static void
msg_reset(struct proxy_http_msg *msg)
{
	struct proxy_http_header *h = msg->headers;
	size_t cap = msg->cap_headers;
	memset(msg, 0, sizeof(*msg));
	msg->headers = h;
	msg->cap_headers = cap;
}

static void
set_keep_alive(struct proxy_http_msg *msg, const struct head_state *st)
{
	if (msg->minor >= 1)
		msg->keep_alive = !st->conn_close;
	else
		msg->keep_alive = st->conn_keep_alive && !st->conn_close;
	msg->upgrade = msg->minor >= 1 && st->has_upgrade && st->conn_upgrade;
	msg->has_te = st->seen_te;
	msg->has_connection = st->seen_connection;
}

ssize_t
proxy_http_parse_request(const char *buf, size_t len,
    const struct proxy_http_limits *lim, struct proxy_http_msg *msg)
{
	struct head_state st = {.is_request = true};
	size_t pos = 0, end, next;
	msg_reset(msg);
	/* RFC 9112 2.2: ignore at least one empty line before the request. */
	while (pos + 1 < len && buf[pos] == '\r' && buf[pos + 1] == '\n')
		pos += 2;
	int r = next_line(buf, len, pos, lim->max_header_bytes, &end, &next);
	if (r <= 0)
		return r;
	r = parse_request_line(buf + pos, end - pos, msg);
	if (r != 0)
		return r;
	ssize_t head = parse_fields(buf, len, next, lim, msg, &st);
	if (head <= 0)
		return head;
	if (st.err != 0)
		return st.err;
	if (msg->minor == 1 && !st.seen_host)
		return -400;
	if (st.seen_te) {
		if (st.seen_cl || msg->minor == 0)
			return -400;
		if (!st.te_chunked_last)
			return -400;
		if (!st.te_only_chunked)
			return -501;
		msg->body = PROXY_BODY_CHUNKED;
	} else if (st.seen_cl && msg->content_length > 0) {
		msg->body = PROXY_BODY_LENGTH;
	}
	set_keep_alive(msg, &st);
	return head;
}

/* HTTP-version SP 3DIGIT SP reason-phrase */
static int
parse_status_line(const char *p, size_t n, struct proxy_http_msg *msg)
{
	if (n < 12 || p[8] != ' ' || parse_version(p, 8, &msg->minor) != 0)
		return -502;
	unsigned s = 0;
	for (int i = 9; i < 12; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -502;
		s = s * 10 + (unsigned)(p[i] - '0');
	}
	if (s < 100 || s > 599)
		return -502;
	msg->status = s;
	if (n > 12 && p[12] != ' ')
		return -502;
	if (n > 13 && !all_fchar(p + 13, n - 13))
		return -502;
	msg->reason.p = n > 13 ? p + 13 : "";
	msg->reason.len = n > 13 ? n - 13 : 0;
	return 0;
}

ssize_t
proxy_http_parse_response(const char *buf, size_t len,
    const struct proxy_http_limits *lim, bool req_head,
    struct proxy_http_msg *msg)
{
	struct head_state st = {.is_request = false};
	size_t end, next;
	msg_reset(msg);
	int r = next_line(buf, len, 0, lim->max_header_bytes, &end, &next);
	if (r <= 0)
		return r < 0 ? -502 : 0;
	if (parse_status_line(buf, end, msg) != 0)
		return -502;
	ssize_t head = parse_fields(buf, len, next, lim, msg, &st);
	if (head <= 0)
		return head;
	if (st.err != 0)
		return -502;
	set_keep_alive(msg, &st);
	unsigned s = msg->status;
	if (req_head || s < 200 || s == 204 || s == 304) {
		msg->body = PROXY_BODY_NONE;
	} else if (st.seen_te) {
		msg->body =
		    st.te_chunked_last ? PROXY_BODY_CHUNKED : PROXY_BODY_CLOSE;
		if (st.seen_cl || !st.te_chunked_last)
			msg->keep_alive = false;
	} else if (st.seen_cl) {
		msg->body = msg->content_length > 0 ? PROXY_BODY_LENGTH :
		                                      PROXY_BODY_NONE;
	} else {
		msg->body = PROXY_BODY_CLOSE;
		msg->keep_alive = false;
	}
	return head;
}

const struct proxy_http_header *
proxy_http_find(const struct proxy_http_msg *msg, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < msg->n_headers; i++)
		if (str_ieq_lower(msg->headers[i].name, name, n))
			return &msg->headers[i];
	return NULL;
}

/* Connection, Keep-Alive, Proxy-Connection, TE, Trailer,
 * Transfer-Encoding, Upgrade (by length first: most names have none). */
static bool
fixed_hop(struct proxy_str name)
{
	switch (name.len) {
	case 2:
		return str_ieq_lower(name, "te", 2);
	case 7:
		return str_ieq_lower(name, "trailer", 7) ||
		    str_ieq_lower(name, "upgrade", 7);
	case 10:
		return str_ieq_lower(name, "connection", 10) ||
		    str_ieq_lower(name, "keep-alive", 10);
	case 16:
		return str_ieq_lower(name, "proxy-connection", 16);
	case 17:
		return str_ieq_lower(name, "transfer-encoding", 17);
	default:
		return false;
	}
}

void
proxy_http_hops_init(const struct proxy_http_msg *msg,
    struct proxy_http_hops *h)
{
	h->n = 0;
	h->many = false;
	for (size_t i = 0; msg->has_connection && i < msg->n_headers; i++) {
		if (!str_ieq_lower(msg->headers[i].name, "connection", 10))
			continue;
		struct proxy_str v = msg->headers[i].value, it;
		while (list_next(&v, &it)) {
			if (h->n == sizeof(h->tok) / sizeof(*h->tok)) {
				h->many = true;
				return;
			}
			h->tok[h->n++] = it;
		}
	}
}

bool
proxy_http_hops_has(const struct proxy_http_hops *h,
    const struct proxy_http_msg *msg, struct proxy_str name)
{
	if (fixed_hop(name))
		return true;
	if (h->many)
		return proxy_http_is_hop(msg, name);
	for (size_t i = 0; i < h->n; i++)
		if (h->tok[i].len == name.len &&
		    strncasecmp(h->tok[i].p, name.p, name.len) == 0)
			return true;
	return false;
}

bool
proxy_http_is_hop(const struct proxy_http_msg *msg, struct proxy_str name)
{
	if (fixed_hop(name))
		return true;
	if (!msg->has_connection)
		return false;
	for (size_t i = 0; i < msg->n_headers; i++) {
		if (!str_ieq_lower(msg->headers[i].name, "connection", 10))
			continue;
		struct proxy_str v = msg->headers[i].value, it;
		while (list_next(&v, &it))
			if (it.len == name.len &&
			    strncasecmp(it.p, name.p, it.len) == 0)
				return true;
	}
	return false;
}
