/*
 * The incremental HTTP/1.1 response parser: framing by Content-Length,
 * chunks and close; keep-alive rules; interim responses; any split of the
 * input gives the same result; malformed responses are refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_logic.h"

/* Parses s fed in pieces of `step` bytes; returns the result of the last
 * call and the total bytes used. */
static int
feed(struct bench_http_parser *p, const char *s, size_t step, size_t *total)
{
	size_t len = strlen(s), off = 0;
	int rc = 0;
	bench_http_parser_reset(p);
	*total = 0;
	while (off < len) {
		size_t n = len - off < step ? len - off : step, used = 0;
		rc = bench_http_parse(p, s + off, n, &used);
		*total += used;
		if (rc != 0)
			return rc;
		assert_int_equal(used, n);
		off += n;
	}
	return rc;
}

static void
test_content_length_at_every_split(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
	                "Server: x\r\n\r\nhello";
	struct bench_http_parser p = {0};
	for (size_t step = 1; step <= strlen(r); step++) {
		size_t used;
		assert_int_equal(feed(&p, r, step, &used), 1);
		assert_int_equal(used, strlen(r));
		assert_int_equal(p.status, 200);
		assert_int_equal(p.body_bytes, 5);
		assert_true(p.keep_alive);
	}
}

static void
test_leftover_bytes_are_not_consumed(void **state)
{
	const char *r = "HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 200";
	struct bench_http_parser p = {0};
	size_t used;
	assert_int_equal(feed(&p, r, 1000, &used), 1);
	assert_int_equal(used, strlen("HTTP/1.1 204 No Content\r\n\r\n"));
	assert_int_equal(p.status, 204);
}

static void
test_chunked_with_extensions_and_trailers(void **state)
{
	const char *r = "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked"
	                "\r\n\r\n5;ext=1\r\nhello\r\nA\r\n0123456789\r\n"
	                "0\r\nX-Trailer: 1\r\n\r\n";
	struct bench_http_parser p = {0};
	for (size_t step = 1; step <= strlen(r); step += 3) {
		size_t used;
		assert_int_equal(feed(&p, r, step, &used), 1);
		assert_int_equal(used, strlen(r));
		assert_int_equal(p.body_bytes, 15);
		assert_true(p.keep_alive);
	}
}

static void
test_connection_close_and_http10(void **state)
{
	struct bench_http_parser p = {0};
	size_t used;
	assert_int_equal(feed(&p,
	                     "HTTP/1.1 200 OK\r\nConnection: close\r\n"
	                     "Content-Length: 0\r\n\r\n",
	                     7, &used),
	    1);
	assert_false(p.keep_alive);
	assert_int_equal(feed(&p,
	                     "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n"
	                     "\r\nx",
	                     64, &used),
	    1);
	assert_false(p.keep_alive);
	assert_int_equal(feed(&p,
	                     "HTTP/1.0 200 OK\r\nConnection: Keep-Alive"
	                     "\r\nContent-Length: 1\r\n\r\nx",
	                     64, &used),
	    1);
	assert_true(p.keep_alive);
}

static void
test_body_delimited_by_close(void **state)
{
	struct bench_http_parser p = {0};
	size_t used;
	assert_int_equal(feed(&p, "HTTP/1.1 200 OK\r\n\r\nsome body", 4, &used),
	    0);
	assert_false(p.keep_alive);
	assert_int_equal(p.body_bytes, 9);
	assert_int_equal(bench_http_parse_eof(&p), 1);
	/* a length body cut short is not complete at EOF */
	assert_int_equal(feed(&p,
	                     "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n"
	                     "\r\nshort",
	                     100, &used),
	    0);
	assert_int_equal(bench_http_parse_eof(&p), -EBADMSG);
	bench_http_parser_reset(&p);
	assert_int_equal(bench_http_parse_eof(&p), -EBADMSG);
}

static void
test_interim_100_continue_is_skipped(void **state)
{
	struct bench_http_parser p = {0};
	size_t used;
	assert_int_equal(feed(&p,
	                     "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 503 "
	                     "Busy\r\nContent-Length: 2\r\n\r\nno",
	                     5, &used),
	    1);
	assert_int_equal(p.status, 503);
	assert_int_equal(p.body_bytes, 2);
}

static void
test_large_body_is_counted_not_stored(void **state)
{
	struct bench_http_parser p = {0};
	bench_http_parser_reset(&p);
	const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 1048576\r\n\r\n";
	size_t used;
	assert_int_equal(bench_http_parse(&p, h, strlen(h), &used), 0);
	static char chunk[65536];
	for (int i = 0; i < 15; i++)
		assert_int_equal(bench_http_parse(&p, chunk, sizeof(chunk),
		                     &used),
		    0);
	assert_int_equal(bench_http_parse(&p, chunk, sizeof(chunk), &used), 1);
	assert_int_equal(p.body_bytes, 1048576);
}

static void
test_malformed_responses_are_refused(void **state)
{
	const char *bad[] = {
	    "HTTP/2 200 OK\r\n\r\n",
	    "HTTP/1.1 20 OK\r\n\r\n",
	    "HTTP/1.1 2000 OK\r\n\r\n",
	    "ICY 200 OK\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nNo colon here\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nab\r\n",
	    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
	    "fffffffffffffffff\r\n",
	    "HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	};
	struct bench_http_parser p = {0};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		size_t used;
		assert_int_equal(feed(&p, bad[i], 1000, &used), -EBADMSG);
	}
}

static void
test_head_larger_than_limit_is_refused(void **state)
{
	struct bench_http_parser p = {0};
	bench_http_parser_reset(&p);
	const char *h = "HTTP/1.1 200 OK\r\n";
	size_t used;
	assert_int_equal(bench_http_parse(&p, h, strlen(h), &used), 0);
	static char hdr[1024];
	memset(hdr, 'a', sizeof(hdr));
	memcpy(hdr, "X-Big: ", 7);
	hdr[sizeof(hdr) - 2] = '\r';
	hdr[sizeof(hdr) - 1] = '\n';
	int rc = 0;
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = bench_http_parse(&p, hdr, sizeof(hdr), &used);
	assert_int_equal(rc, -EBADMSG);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_content_length_at_every_split),
	    cmocka_unit_test(test_leftover_bytes_are_not_consumed),
	    cmocka_unit_test(test_chunked_with_extensions_and_trailers),
	    cmocka_unit_test(test_connection_close_and_http10),
	    cmocka_unit_test(test_body_delimited_by_close),
	    cmocka_unit_test(test_interim_100_continue_is_skipped),
	    cmocka_unit_test(test_large_body_is_counted_not_stored),
	    cmocka_unit_test(test_malformed_responses_are_refused),
	    cmocka_unit_test(test_head_larger_than_limit_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
