/*
 * The HTTP/1.1 parser and chunked decoder: well-formed heads, pipelining,
 * every request-smuggling vector refused with the right status, chunk
 * extensions and trailers, response framing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"

static struct proxy_http_header hdrs[128];
static const struct proxy_http_limits lim = {65536, 100};

static ssize_t
req(const char *s, struct proxy_http_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->headers = hdrs;
	m->cap_headers = 128;
	return proxy_http_parse_request(s, strlen(s), &lim, m);
}

static ssize_t
resp(const char *s, bool head, struct proxy_http_msg *m)
{
	memset(m, 0, sizeof(*m));
	m->headers = hdrs;
	m->cap_headers = 128;
	return proxy_http_parse_response(s, strlen(s), &lim, head, m);
}

static bool
slice_is(struct proxy_str s, const char *lit)
{
	return s.len == strlen(lit) && memcmp(s.p, lit, s.len) == 0;
}

static void
test_simple_get_is_parsed(void **st)
{
	struct proxy_http_msg m;
	const char *s = "GET /a/b?x=1 HTTP/1.1\r\nHost: Example.com:8080\r\n"
	                "User-Agent:  curl  \r\n\r\n";
	assert_int_equal(req(s, &m), strlen(s));
	assert_true(slice_is(m.method, "GET"));
	assert_true(slice_is(m.target, "/a/b?x=1"));
	assert_true(slice_is(m.path, "/a/b"));
	assert_true(slice_is(m.host, "Example.com:8080"));
	assert_int_equal(m.n_headers, 2);
	assert_true(slice_is(m.headers[1].value, "curl"));
	assert_int_equal(m.minor, 1);
	assert_true(m.keep_alive);
	assert_int_equal(m.body, PROXY_BODY_NONE);
}

static void
test_every_prefix_is_incomplete(void **st)
{
	struct proxy_http_msg m;
	const char *s =
	    "POST /u HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n";
	for (size_t i = 0; i < strlen(s); i++) {
		memset(&m, 0, sizeof(m));
		m.headers = hdrs;
		m.cap_headers = 128;
		assert_int_equal(proxy_http_parse_request(s, i, &lim, &m), 0);
	}
	assert_int_equal(req(s, &m), strlen(s));
	assert_int_equal(m.body, PROXY_BODY_LENGTH);
	assert_int_equal(m.content_length, 5);
}

static void
test_pipelined_requests_parse_one_after_another(void **st)
{
	struct proxy_http_msg m;
	const char *s =
	    "GET /1 HTTP/1.1\r\nHost: a\r\n\r\n"
	    "GET /2 HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n";
	ssize_t n = req(s, &m);
	assert_int_equal(n, 28);
	assert_true(slice_is(m.path, "/1"));
	assert_true(m.keep_alive);
	ssize_t n2 = req(s + n, &m);
	assert_int_equal(n + n2, strlen(s));
	assert_true(slice_is(m.path, "/2"));
	assert_true(slice_is(m.host, "b"));
	assert_false(m.keep_alive);
}

static void
test_smuggling_vectors_are_refused(void **st)
{
	static const struct {
		const char *req;
		ssize_t want;
	} cases[] = {
	    /* Content-Length with Transfer-Encoding */
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	     "Content-Length: 4\r\n\r\n",
	        -400},
	    /* duplicate and invalid Content-Length */
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n"
	     "Content-Length: 4\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4, 4\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +4\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0x10\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1 2\r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: \r\n\r\n", -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: "
	     "99999999999999999999\r\n\r\n",
	        -400},
	    /* Transfer-Encoding variants */
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
	     "Transfer-Encoding: chunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, "
	     "chunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
	     "xchunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip"
	     "\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked"
	     "\r\n\r\n",
	        -501},
	    {"POST / HTTP/1.0\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding : "
	     "chunked\r\n\r\n",
	        -400},
	    {"POST / HTTP/1.1\r\nHost: h\r\n Transfer-Encoding: "
	     "chunked\r\n\r\n",
	        -400},
	    /* obs-fold */
	    {"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n 2\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\n\t2\r\n\r\n", -400},
	    /* bare CR, bare LF, control characters */
	    {"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r2\r\n\r\n", -400},
	    {"GET / HTTP/1.1\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01z\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7fz\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX\x01A: 1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nX(A): 1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", -400},
	    /* request line */
	    {"GET  / HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/1.1 \r\nHost: h\r\n\r\n", -400},
	    {"GET /a b HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET /\x80 HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET / HTTP/2.0\r\nHost: h\r\n\r\n", -505},
	    {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", -505},
	    {"GET / http/1.1\r\nHost: h\r\n\r\n", -400},
	    {"GET foo HTTP/1.1\r\nHost: h\r\n\r\n", -400},
	    {"CONNECT h:443 HTTP/1.1\r\nHost: h\r\n\r\n", -405},
	    /* Host */
	    {"GET / HTTP/1.1\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: a b\r\n\r\n", -400},
	    {"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", -400},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct proxy_http_msg m;
		ssize_t got = req(cases[i].req, &m);
		if (got != cases[i].want)
			fail_msg("case %zu: got %zd want %zd", i, got,
			    cases[i].want);
	}
}

/*
 * Field values and reason phrases are checked eight bytes at a time: every
 * forbidden byte (each control character but HTAB, and DEL) is refused at
 * every position of a long value, and the allowed ones (HTAB, SP, visible
 * ASCII, obs-text) pass, in requests and responses alike; field names take
 * exactly the token characters.
 */
static void
test_value_bytes_at_every_position(void **st)
{
	char buf[256], val[41];
	struct proxy_http_msg m;
	for (size_t pos = 0; pos < sizeof(val) - 1; pos++) {
		for (int c = 0; c < 256; c++) {
			if (c == '\r' || c == '\n' || c == 0)
				continue; /* line structure, C string */
			memset(val, 'v', sizeof(val) - 1);
			val[sizeof(val) - 1] = '\0';
			val[pos] = (char)c;
			bool ok = c == '\t' || (c >= 0x20 && c != 0x7f);
			snprintf(buf, sizeof(buf),
			    "GET / HTTP/1.1\r\nHost: h\r\nX-V: %s\r\n\r\n",
			    val);
			ssize_t r = req(buf, &m);
			if (ok ? r != (ssize_t)strlen(buf) : r != -400)
				fail_msg("request byte 0x%02x at %zu: %zd", c,
				    pos, r);
			snprintf(buf, sizeof(buf),
			    "HTTP/1.1 200 %s\r\nContent-Length: 0\r\n\r\n",
			    val);
			r = resp(buf, false, &m);
			if (ok ? r != (ssize_t)strlen(buf) : r != -502)
				fail_msg("reason byte 0x%02x at %zu: %zd", c,
				    pos, r);
		}
	}
	/* Field names: tchar only (RFC 9110 5.6.2), every byte tried. */
	for (int c = 1; c < 256; c++) {
		if (c == ':' || c == '\r' || c == '\n')
			continue;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') ||
		    strchr("!#$%&'*+-.^_`|~", c) != NULL;
		snprintf(buf, sizeof(buf),
		    "GET / HTTP/1.1\r\nHost: h\r\nX-%cA: 1\r\n\r\n", c);
		ssize_t r = req(buf, &m);
		if (ok ? r != (ssize_t)strlen(buf) : r != -400)
			fail_msg("name byte 0x%02x: %zd", c, r);
	}
	/* A value passing the check keeps its bytes, tabs inside included. */
	const char *s = "GET / HTTP/1.1\r\nHost: h\r\nX-V: \ta\tb\x80\xff "
	                "0123456789abcdef\t \r\n\r\n";
	assert_int_equal(req(s, &m), strlen(s));
	assert_true(
	    slice_is(m.headers[1].value, "a\tb\x80\xff 0123456789abcdef"));
}

static void
test_large_head_is_431(void **st)
{
	static char big[70000];
	struct proxy_http_msg m;
	strcpy(big, "GET / HTTP/1.1\r\nHost: h\r\nX-Big: ");
	size_t n = strlen(big);
	memset(big + n, 'a', 66000);
	big[n + 66000] = '\0';
	/* No end of line yet, already past the limit. */
	assert_int_equal(req(big, &m), -431);
}

static void
test_too_many_headers_is_431(void **st)
{
	static char buf[8192];
	struct proxy_http_msg m;
	strcpy(buf, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 100; i++)
		strcat(buf, "X-A: 1\r\n");
	strcat(buf, "\r\n");
	assert_int_equal(req(buf, &m), -431);
}

static void
test_chunked_request_and_connection_tokens(void **st)
{
	struct proxy_http_msg m;
	const char *s =
	    "POST /u HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: "
	    "Chunked\r\nExpect: 100-continue\r\nConnection: keep-alive, X-Hop"
	    "\r\nX-Hop: 1\r\nX-End: 2\r\n\r\n";
	assert_int_equal(req(s, &m), strlen(s));
	assert_int_equal(m.body, PROXY_BODY_CHUNKED);
	assert_true(m.expect_continue);
	assert_true(proxy_http_is_hop(&m, m.headers[4].name));
	assert_false(proxy_http_is_hop(&m, m.headers[5].name));
	assert_true(proxy_http_is_hop(&m, m.headers[1].name));
	/* The gathered form answers the same for every field. */
	struct proxy_http_hops h;
	proxy_http_hops_init(&m, &h);
	assert_int_equal(h.n, 2);
	for (size_t i = 0; i < m.n_headers; i++)
		assert_int_equal(proxy_http_hops_has(&h, &m, m.headers[i].name),
		    proxy_http_is_hop(&m, m.headers[i].name));
	/* More Connection names than it gathers: still the same answers. */
	const char *many =
	    "GET / HTTP/1.1\r\nHost: h\r\nConnection: a, b, c, d, "
	    "e, f, g, h, i, j\r\nj: 1\r\nk: 2\r\n\r\n";
	assert_int_equal(req(many, &m), strlen(many));
	proxy_http_hops_init(&m, &h);
	assert_true(h.many);
	assert_true(proxy_http_hops_has(&h, &m, m.headers[2].name));
	assert_false(proxy_http_hops_has(&h, &m, m.headers[3].name));
}

static void
test_websocket_upgrade_is_recognised(void **st)
{
	struct proxy_http_msg m;
	const char *s = "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
	                "Connection: Upgrade\r\n\r\n";
	assert_int_equal(req(s, &m), strlen(s));
	assert_true(m.upgrade);
	const char *s2 =
	    "GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n";
	assert_int_equal(req(s2, &m), strlen(s2));
	assert_false(m.upgrade);
}

static void
test_http10_and_absolute_form(void **st)
{
	struct proxy_http_msg m;
	const char *s = "GET http://Other.Host:81/p?q HTTP/1.0\r\n\r\n";
	assert_int_equal(req(s, &m), strlen(s));
	assert_true(slice_is(m.host, "Other.Host:81"));
	assert_true(slice_is(m.path, "/p"));
	assert_false(m.keep_alive);
	const char *s2 = "\r\nGET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
	assert_int_equal(req(s2, &m), strlen(s2));
	assert_true(m.keep_alive);
}

/* Feeds s to a fresh decoder n bytes at a time; returns consumed or -1. */
static ssize_t
dechunk(const char *s, size_t len, size_t step, char *out, size_t *out_len)
{
	struct proxy_chunk c;
	size_t pos = 0;
	*out_len = 0;
	proxy_chunk_init(&c, 0);
	while (pos < len && !proxy_chunk_done(&c)) {
		size_t n = len - pos < step ? len - pos : step;
		while (n > 0 && !proxy_chunk_done(&c)) {
			const char *d;
			size_t dl;
			ssize_t r = proxy_chunk_feed(&c, s + pos, n, &d, &dl);
			if (r < 0)
				return -1;
			if (dl > 0)
				memcpy(out + *out_len, d, dl);
			*out_len += dl;
			pos += (size_t)r;
			n -= (size_t)r;
		}
	}
	return proxy_chunk_done(&c) ? (ssize_t)pos : 0;
}

static void
test_chunked_body_with_extensions_and_trailers(void **st)
{
	const char *s =
	    "5;name=value;q=\"x y\"\r\nhello\r\n"
	    "6 ; ext\r\n world\r\n0\r\nX-Sum: abc\r\nX-B:\r\n\r\nNEXT";
	char out[64];
	size_t ol;
	for (size_t step = 1; step <= strlen(s); step++) {
		ssize_t r = dechunk(s, strlen(s), step, out, &ol);
		assert_int_equal(r, strlen(s) - 4);
		assert_int_equal(ol, 11);
		assert_memory_equal(out, "hello world", 11);
	}
}

static void
test_bad_chunks_are_refused(void **st)
{
	static const char *bad[] = {
	    "-1\r\n",
	    "0x5\r\nhello\r\n0\r\n\r\n",
	    "\r\n",
	    "5 5\r\n",
	    "fffffffffffffffff\r\n",
	    "5\nhello\r\n",
	    "5\r\nhelloX\r\n",
	    "5\r\nhello\r\r",
	    "0\r\nX: 1\r\n folded\r\n\r\n",
	    "0\r\nX 1\r\n\r\n",
	    "0\r\n\r\r",
	    "5;\x01\r\n",
	    "g\r\n",
	    "0\r\nX: a\rb\r\n\r\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char out[64];
		size_t ol;
		if (dechunk(bad[i], strlen(bad[i]), 64, out, &ol) != -1)
			fail_msg("bad chunk %zu accepted", i);
	}
}

static void
test_response_framing(void **st)
{
	struct proxy_http_msg m;
	const char *a = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n";
	assert_int_equal(resp(a, false, &m), strlen(a));
	assert_int_equal(m.status, 200);
	assert_int_equal(m.body, PROXY_BODY_LENGTH);
	assert_int_equal(resp(a, true, &m), strlen(a));
	assert_int_equal(m.body, PROXY_BODY_NONE);
	const char *b = "HTTP/1.1 204 No Content\r\n\r\n";
	assert_int_equal(resp(b, false, &m), strlen(b));
	assert_int_equal(m.body, PROXY_BODY_NONE);
	assert_true(m.keep_alive);
	const char *c = "HTTP/1.0 200 OK\r\n\r\n";
	assert_int_equal(resp(c, false, &m), strlen(c));
	assert_int_equal(m.body, PROXY_BODY_CLOSE);
	assert_false(m.keep_alive);
	const char *d = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n"
	                "Content-Length: 3\r\n\r\n";
	assert_int_equal(resp(d, false, &m), strlen(d));
	assert_int_equal(m.body, PROXY_BODY_CHUNKED);
	assert_false(m.keep_alive);
	const char *e = "HTTP/1.1 100 Continue\r\n\r\n";
	assert_int_equal(resp(e, false, &m), strlen(e));
	assert_int_equal(m.status, 100);
	const char *f = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket"
	                "\r\nConnection: upgrade\r\n\r\n";
	assert_int_equal(resp(f, false, &m), strlen(f));
	assert_true(m.upgrade);
	assert_int_equal(resp("HTTP/1.1 2000 OK\r\n\r\n", false, &m), -502);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nA: b\r\n c\r\n\r\n", false,
	                     &m),
	    -502);
	assert_int_equal(resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
	                      "Content-Length: 2\r\n\r\n",
	                     false, &m),
	    -502);
	assert_int_equal(resp("HTTP/1.1 200", false, &m), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_simple_get_is_parsed),
	    cmocka_unit_test(test_every_prefix_is_incomplete),
	    cmocka_unit_test(test_pipelined_requests_parse_one_after_another),
	    cmocka_unit_test(test_smuggling_vectors_are_refused),
	    cmocka_unit_test(test_value_bytes_at_every_position),
	    cmocka_unit_test(test_large_head_is_431),
	    cmocka_unit_test(test_too_many_headers_is_431),
	    cmocka_unit_test(test_chunked_request_and_connection_tokens),
	    cmocka_unit_test(test_websocket_upgrade_is_recognised),
	    cmocka_unit_test(test_http10_and_absolute_form),
	    cmocka_unit_test(test_chunked_body_with_extensions_and_trailers),
	    cmocka_unit_test(test_bad_chunks_are_refused),
	    cmocka_unit_test(test_response_framing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
