/*
 * Fuzzes the HTTP/1.1 request and response parsers and the chunked
 * decoder: the first byte picks request/response and a feed step; the
 * parsed slices must lie inside the input, and a chunked body fed in
 * pieces must decode exactly as fed whole.
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checked in every build type (assert vanishes under NDEBUG). */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

static void
check_inside(struct proxy_str s, const char *buf, size_t len)
{
	if (s.len > 0 && s.p >= buf && s.p < buf + len)
		CHECK(s.p + s.len <= buf + len);
}

/* Decodes body with the given step; returns consumed, or -1. */
static ssize_t
dechunk(const char *p, size_t n, size_t step, uint64_t *sum, size_t *dlen)
{
	struct proxy_chunk c;
	size_t pos = 0;
	proxy_chunk_init(&c, 1024);
	*sum = 0;
	*dlen = 0;
	while (pos < n && !proxy_chunk_done(&c)) {
		size_t k = n - pos < step ? n - pos : step;
		const char *d;
		size_t dl;
		ssize_t r = proxy_chunk_feed(&c, p + pos, k, &d, &dl);
		if (r < 0)
			return -1;
		CHECK((size_t)r <= k);
		for (size_t i = 0; i < dl; i++)
			*sum = *sum * 31 + (uint8_t)d[i];
		*dlen += dl;
		pos += (size_t)r;
	}
	return (ssize_t)pos;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_http_header hdrs[32];
	struct proxy_http_limits lim = {4096, 32};
	struct proxy_http_msg m = {.headers = hdrs, .cap_headers = 32};
	if (size < 1)
		return 0;
	unsigned mode = data[0];
	const char *buf = (const char *)data + 1;
	size_t len = size - 1;
	ssize_t r = (mode & 1) ?
	    proxy_http_parse_response(buf, len, &lim, mode & 2, &m) :
	    proxy_http_parse_request(buf, len, &lim, &m);
	CHECK(r <= (ssize_t)len);
	if (r > 0) {
		CHECK(m.n_headers <= 32);
		for (size_t i = 0; i < m.n_headers; i++) {
			check_inside(m.headers[i].name, buf, len);
			check_inside(m.headers[i].value, buf, len);
			(void)proxy_http_is_hop(&m, m.headers[i].name);
		}
		check_inside(m.target, buf, len);
		check_inside(m.host, buf, len);
		buf += r;
		len -= (size_t)r;
	}
	uint64_t s1, s2;
	size_t l1, l2;
	ssize_t a = dechunk(buf, len, len ? len : 1, &s1, &l1);
	ssize_t b = dechunk(buf, len, (mode >> 2) % 7 + 1, &s2, &l2);
	CHECK(a == b);
	if (a >= 0)
		CHECK(s1 == s2 && l1 == l2);
	return 0;
}
