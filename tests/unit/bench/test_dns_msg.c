/*
 * dnsperf query-file lines, query encoding and reply header checks.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "bench_logic.h"

static void
test_line_builds_wire_query(void **state)
{
	struct bench_dns_query q;
	assert_int_equal(bench_dns_line_parse("www.example.com A", &q), 1);
	static const uint8_t want[] = {0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	    3, 'w', 'w', 'w', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o',
	    'm', 0, 0, 1, 0, 1};
	assert_int_equal(q.len, sizeof(want));
	assert_memory_equal(q.wire, want, sizeof(want));
}

static void
test_types_and_trailing_dot(void **state)
{
	struct bench_dns_query q;
	assert_int_equal(bench_dns_line_parse("  a.test.\tAAAA  ", &q), 1);
	assert_int_equal(q.len, 12 + 8 + 4);
	assert_int_equal(q.wire[12 + 8 + 1], 28);
	assert_int_equal(bench_dns_line_parse("a.test mx", &q), 1);
	assert_int_equal(q.wire[q.len - 3], 15);
	assert_int_equal(bench_dns_line_parse("a.test TYPE65534", &q), 1);
	assert_int_equal(q.wire[q.len - 4], 0xff);
	assert_int_equal(q.wire[q.len - 3], 0xfe);
	assert_int_equal(bench_dns_line_parse(". NS", &q), 1);
	assert_int_equal(q.len, 12 + 1 + 4);
}

static void
test_comments_and_blank_lines_are_skipped(void **state)
{
	struct bench_dns_query q;
	assert_int_equal(bench_dns_line_parse("", &q), 0);
	assert_int_equal(bench_dns_line_parse("   ", &q), 0);
	assert_int_equal(bench_dns_line_parse("# a.test A", &q), 0);
	assert_int_equal(bench_dns_line_parse("; a.test A", &q), 0);
}

static void
test_bad_lines_are_refused(void **state)
{
	struct bench_dns_query q;
	const char *bad[] = {"a.test", "a.test BOGUS", "a.test A extra",
	    "a..test A", ".a.test A", "a.test TYPE", "a.test TYPE70000",
	    "a\\ A", "a\\256 A"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bench_dns_line_parse(bad[i], &q), -EINVAL);
	char label[80];
	memset(label, 'x', 64);
	strcpy(label + 64, " A");
	assert_int_equal(bench_dns_line_parse(label, &q), -EINVAL);
	label[63] = ' ';
	label[64] = 'A';
	label[65] = 0;
	assert_int_equal(bench_dns_line_parse(label, &q), 1);
	char longname[400] = "";
	for (int i = 0; i < 26; i++)
		strcat(longname, "abcdefghi.");
	strcat(longname, " A"); /* 260 octets on the wire */
	assert_int_equal(bench_dns_line_parse(longname, &q), -EINVAL);
}

static void
test_escapes(void **state)
{
	struct bench_dns_query q;
	assert_int_equal(bench_dns_line_parse("a\\.b.test A", &q), 1);
	assert_int_equal(q.wire[12], 3);
	assert_memory_equal(q.wire + 13, "a.b", 3);
	assert_int_equal(bench_dns_line_parse("\\065.test A", &q), 1);
	assert_int_equal(q.wire[13], 'A');
}

static void
test_reply_header(void **state)
{
	struct bench_dns_reply r;
	uint8_t msg[12] = {0x12, 0x34, 0x81, 0x83, 0, 1, 0, 0, 0, 0, 0, 0};
	assert_int_equal(bench_dns_reply_parse(msg, sizeof(msg), &r), 0);
	assert_int_equal(r.id, 0x1234);
	assert_int_equal(r.rcode, 3);
	assert_false(r.truncated);
	msg[2] = 0x83;
	assert_int_equal(bench_dns_reply_parse(msg, sizeof(msg), &r), 0);
	assert_true(r.truncated);
	msg[2] = 0x01; /* a query, not a reply */
	assert_int_equal(bench_dns_reply_parse(msg, sizeof(msg), &r), -EBADMSG);
	assert_int_equal(bench_dns_reply_parse(msg, 11, &r), -EBADMSG);
	msg[2] = 0x81;
	msg[5] = 2;
	assert_int_equal(bench_dns_reply_parse(msg, sizeof(msg), &r), -EBADMSG);
}

static void
test_rcode_names(void **state)
{
	char b[16];
	assert_string_equal(bench_dns_rcode_name(0, b, sizeof(b)), "NOERROR");
	assert_string_equal(bench_dns_rcode_name(3, b, sizeof(b)), "NXDOMAIN");
	assert_string_equal(bench_dns_rcode_name(5, b, sizeof(b)), "REFUSED");
	assert_string_equal(bench_dns_rcode_name(15, b, sizeof(b)), "RCODE15");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_line_builds_wire_query),
	    cmocka_unit_test(test_types_and_trailing_dot),
	    cmocka_unit_test(test_comments_and_blank_lines_are_skipped),
	    cmocka_unit_test(test_bad_lines_are_refused),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_reply_header),
	    cmocka_unit_test(test_rcode_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
