/*
 * URL, duration and count parsing for hearth-bench: http:// and https://
 * URLs with an optional port and path (IPv6 literals in brackets), and the
 * small numeric option values. Pure functions over strings.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench_logic.h"

int
bench_parse_count(const char *s, uint64_t max, uint64_t *out)
{
	if (s == NULL || !isdigit((unsigned char)s[0]))
		return -EINVAL;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int
bench_parse_duration_ms(const char *s, uint64_t *ms)
{
	if (s == NULL || !(isdigit((unsigned char)s[0]) || s[0] == '.'))
		return -EINVAL;
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || !isfinite(v))
		return -EINVAL;
	double scale;
	if (*end == '\0' || !strcmp(end, "s"))
		scale = 1000;
	else if (!strcmp(end, "ms"))
		scale = 1;
	else if (!strcmp(end, "m"))
		scale = 60000;
	else if (!strcmp(end, "h"))
		scale = 3600000;
	else
		return -EINVAL;
	double r = v * scale;
	if (r < 1 || r > 1e11)
		return -EINVAL;
	*ms = (uint64_t)(r + 0.5);
	return 0;
}

bool
bench_host_is_literal(const char *host)
{
	unsigned char buf[16];
	return inet_pton(AF_INET, host, buf) == 1 ||
	    inet_pton(AF_INET6, host, buf) == 1;
}

static int
parse_port(const char *s, size_t n, uint16_t *port)
{
	if (n == 0 || n > 5)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static bool
host_chars_ok(const char *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)h[i];
		if (!(isalnum(c) || c == '-' || c == '.' || c == '_'))
			return false;
	}
	return n > 0;
}

/* Splits "host[:port]" (host may be "[v6]") out of an authority. */
static int
parse_authority(const char *a, size_t n, struct bench_url *u, const char **why)
{
	const char *host = a, *colon = NULL;
	size_t hlen;
	if (n > 0 && a[0] == '[') {
		const char *close = memchr(a, ']', n);
		if (close == NULL)
			return *why = "unterminated '[' in host", -EINVAL;
		host = a + 1;
		hlen = (size_t)(close - host);
		if (close + 1 < a + n) {
			if (close[1] != ':')
				return *why = "junk after ']' in host", -EINVAL;
			colon = close + 1;
		}
		char tmp[64];
		unsigned char bin[16];
		if (hlen == 0 || hlen >= sizeof(tmp))
			return *why = "bad IPv6 literal", -EINVAL;
		memcpy(tmp, host, hlen);
		tmp[hlen] = '\0';
		if (inet_pton(AF_INET6, tmp, bin) != 1)
			return *why = "bad IPv6 literal", -EINVAL;
	} else {
		colon = memchr(a, ':', n);
		hlen = colon ? (size_t)(colon - a) : n;
		if (!host_chars_ok(host, hlen))
			return *why = "bad or empty host name", -EINVAL;
	}
	if (hlen >= sizeof(u->host))
		return *why = "host name too long", -EINVAL;
	memcpy(u->host, host, hlen);
	u->host[hlen] = '\0';
	if (colon) {
		if (parse_port(colon + 1, (size_t)(a + n - colon - 1),
		        &u->port))
			return *why = "bad port", -EINVAL;
		u->port_explicit = true;
	}
	return 0;
}

int
bench_url_parse(const char *s, struct bench_url *u, const char **why)
{
	const char *dummy;
	if (why == NULL)
		why = &dummy;
	memset(u, 0, sizeof(*u));
	const char *rest;
	if (!strncasecmp(s, "http://", 7)) {
		rest = s + 7;
	} else if (!strncasecmp(s, "https://", 8)) {
		rest = s + 8;
		u->tls = true;
	} else {
		return *why = "URL must start with http:// or https://",
		       -EINVAL;
	}
	size_t alen = strcspn(rest, "/?#");
	if (memchr(rest, '@', alen))
		return *why = "user names in URLs are not supported", -EINVAL;
	int rc = parse_authority(rest, alen, u, why);
	if (rc)
		return rc;
	if (!u->port_explicit)
		u->port = u->tls ? 443 : 80;
	const char *p = rest + alen;
	size_t plen = strcspn(p, "#");
	for (size_t i = 0; i < plen; i++)
		if ((unsigned char)p[i] <= ' ' || p[i] == 0x7f)
			return *why = "spaces or control characters in path",
			       -EINVAL;
	if (plen + 2 > sizeof(u->path))
		return *why = "path too long", -EINVAL;
	size_t off = 0;
	if (plen == 0 || p[0] != '/')
		u->path[off++] = '/';
	memcpy(u->path + off, p, plen);
	u->path[off + plen] = '\0';
	return 0;
}
