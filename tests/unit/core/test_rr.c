/*
 * hearth_rr_parse: every supported type to its exact wire bytes, the
 * owner-name rules (relative, "@", absolute, wildcard, lower case, inside
 * the zone), TTL and class in either order, and the lines it refuses.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "config.h"

#define ORIGIN    "example.com"
#define W_EXAMPLE 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'c', 'o', 'm', 0

struct parsed {
	struct hearth_rr rr;
	char err[256];
};

static void
parse_ok(const char *line, struct parsed *p)
{
	if (hearth_rr_parse(line, ORIGIN, &p->rr, p->err, sizeof(p->err)) != 0)
		fail_msg("\"%s\" refused: %s", line, p->err);
}

/* line must parse to owner/type/ttl with exactly these rdata bytes. */
static void
expect_rr(const char *line, const char *owner, uint16_t type, uint32_t ttl,
    const uint8_t *rdata, size_t rdlen)
{
	struct parsed p;
	parse_ok(line, &p);
	assert_string_equal(p.rr.owner, owner);
	assert_int_equal(p.rr.type, type);
	assert_int_equal(p.rr.rclass, 1);
	assert_int_equal(p.rr.ttl, ttl);
	assert_int_equal(p.rr.rdlen, rdlen);
	assert_memory_equal(p.rr.rdata, rdata, rdlen);
	hearth_rr_clear(&p.rr);
}

/* line must be refused with a message containing text. */
static void
expect_refused(const char *line, const char *text)
{
	struct parsed p;
	assert_int_equal(hearth_rr_parse(line, ORIGIN, &p.rr, p.err,
	                     sizeof(p.err)),
	    -EINVAL);
	if (strstr(p.err, text) == NULL)
		fail_msg("\"%s\": message \"%s\" lacks \"%s\"", line, p.err,
		    text);
	assert_null(p.rr.owner);
	assert_null(p.rr.rdata);
}

static void
test_a_record_is_four_bytes(void **state)
{
	static const uint8_t w[] = {192, 0, 2, 1};
	expect_rr("www 300 IN A 192.0.2.1", "www.example.com", 1, 300, w, 4);
}

static void
test_aaaa_record_is_sixteen_bytes(void **state)
{
	static const uint8_t w[] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0,
	    0, 0, 0, 0, 1};
	expect_rr("v6 AAAA 2001:db8::1", "v6.example.com", 28, 300, w, 16);
}

static void
test_cname_target_relative_to_origin(void **state)
{
	static const uint8_t w[] = {3, 'w', 'w', 'w', W_EXAMPLE};
	expect_rr("alias CNAME www", "alias.example.com", 5, 300, w, sizeof(w));
}

static void
test_cname_target_absolute_keeps_its_case(void **state)
{
	static const uint8_t w[] = {2, 'C', 'd', 3, 'n', 'e', 't', 0};
	expect_rr("alias CNAME Cd.net.", "alias.example.com", 5, 300, w,
	    sizeof(w));
}

static void
test_ns_record(void **state)
{
	static const uint8_t w[] = {2, 'n', 's', 1, 'x', 0};
	expect_rr("sub NS ns.x.", "sub.example.com", 2, 300, w, sizeof(w));
}

static void
test_ptr_record(void **state)
{
	static const uint8_t w[] = {1, 'h', W_EXAMPLE};
	expect_rr("1 PTR h", "1.example.com", 12, 300, w, sizeof(w));
}

static void
test_mx_record_has_preference_then_name(void **state)
{
	static const uint8_t w[] = {0, 10, 4, 'm', 'a', 'i', 'l', W_EXAMPLE};
	expect_rr("@ MX 10 mail", "example.com", 15, 300, w, sizeof(w));
}

static void
test_srv_record_has_priority_weight_port_target(void **state)
{
	static const uint8_t w[] = {0, 1, 0, 2, 0x13, 0xc4, 3, 's', 'i', 'p',
	    W_EXAMPLE};
	expect_rr("_sip._tcp 60 SRV 1 2 5060 sip", "_sip._tcp.example.com", 33,
	    60, w, sizeof(w));
}

static void
test_soa_record_has_two_names_and_five_numbers(void **state)
{
	static const uint8_t w[] = {2, 'n', 's', W_EXAMPLE, 1, 'h', W_EXAMPLE,
	    0x78, 0x59, 0x35, 0xd1, 0, 0, 0x0e, 0x10, 0, 0, 0x02, 0x58, 0, 0x09,
	    0x3a, 0x80, 0, 0, 0, 60};
	expect_rr("@ 3600 IN SOA ns h 2019112401 1h 10m 1w 60", "example.com",
	    6, 3600, w, sizeof(w));
}

static void
test_soa_written_with_parentheses_on_one_line(void **state)
{
	static const uint8_t w[] = {1, 'a', 0, 1, 'b', 0, 0, 0, 0, 1, 0, 0, 0,
	    2, 0, 0, 0, 3, 0, 0, 0, 4, 0, 0, 0, 5};
	expect_rr("@ SOA a. b. ( 1 2 3 4 5 ) ; comment", "example.com", 6, 300,
	    w, sizeof(w));
}

static void
test_txt_record_with_several_strings_and_escapes(void **state)
{
	static const uint8_t w[] = {5, 'h', 'e', 'l', 'l', 'o', 7, 'a', ' ',
	    '"', 'b', '"', ';', 'A', 4, 'w', 'o', 'r', 'd'};
	expect_rr("t TXT \"hello\" \"a \\\"b\\\";\\065\" word", "t.example.com",
	    16, 300, w, sizeof(w));
}

static void
test_txt_record_of_an_empty_string(void **state)
{
	static const uint8_t w[] = {0};
	expect_rr("t TXT \"\"", "t.example.com", 16, 300, w, 1);
}

static void
test_caa_record_has_flags_tag_value(void **state)
{
	static const uint8_t w[] = {128, 5, 'i', 's', 's', 'u', 'e', 'l', 'e',
	    't', 's', 'e', 'n', 'c', 'r', 'y', 'p', 't', '.', 'o', 'r', 'g'};
	expect_rr("@ CAA 128 issue \"letsencrypt.org\"", "example.com", 257,
	    300, w, sizeof(w));
}

static void
test_ttl_and_class_in_either_order(void **state)
{
	static const uint8_t w[] = {10, 0, 0, 1};
	expect_rr("a IN 60 A 10.0.0.1", "a.example.com", 1, 60, w, 4);
	expect_rr("a 60 IN A 10.0.0.1", "a.example.com", 1, 60, w, 4);
	expect_rr("a IN A 10.0.0.1", "a.example.com", 1, 300, w, 4);
	expect_rr("a 2h A 10.0.0.1", "a.example.com", 1, 7200, w, 4);
}

static void
test_owner_forms(void **state)
{
	static const uint8_t w[] = {10, 0, 0, 1};
	expect_rr("@ A 10.0.0.1", "example.com", 1, 300, w, 4);
	expect_rr("* A 10.0.0.1", "*.example.com", 1, 300, w, 4);
	expect_rr("*.Dev A 10.0.0.1", "*.dev.example.com", 1, 300, w, 4);
	expect_rr("WWW.Example.Com. a 10.0.0.1", "www.example.com", 1, 300, w,
	    4);
	expect_rr("example.com. A 10.0.0.1", "example.com", 1, 300, w, 4);
}

static void
test_name_outside_the_zone_is_refused(void **state)
{
	expect_refused("www.example.org. A 10.0.0.1", "outside the zone");
	expect_refused("notexample.com. A 10.0.0.1", "outside the zone");
}

static void
test_label_longer_than_63_is_refused(void **state)
{
	char line[200] = "";
	memset(line, 'a', 64);
	strcat(line, " A 10.0.0.1");
	expect_refused(line, "label longer than 63");
	memset(line, 'a', 63);
	strcpy(line + 63, " A 10.0.0.1");
	struct parsed p;
	parse_ok(line, &p);
	hearth_rr_clear(&p.rr);
}

static void
test_name_longer_than_255_is_refused(void **state)
{
	char line[400] = "";
	for (int i = 0; i < 5; i++)
		strcat(line,
		    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
	strcat(line, "x A 10.0.0.1");
	expect_refused(line, "longer than 255");
}

static void
test_malformed_lines_are_refused_with_the_reason(void **state)
{
	expect_refused("", "empty record");
	expect_refused("www", "no record type");
	expect_refused("www 300 IN", "no record type");
	expect_refused("www IN BOGUS 1", "unknown or unsupported type");
	expect_refused("www CH A 1.2.3.4", "only class IN");
	expect_refused("www A 1.2.3", "bad IPv4 address");
	expect_refused("www AAAA 1.2.3.4", "bad IPv6 address");
	expect_refused("www A 1.2.3.4 5.6.7.8", "trailing data");
	expect_refused("www MX 65536 mail", "bad MX preference");
	expect_refused("www SRV 1 2 mail", "SRV needs 4 fields");
	expect_refused("www 99999999999 A 1.2.3.4", "bad TTL");
	expect_refused("www 1x A 1.2.3.4", "bad TTL");
	expect_refused("www TXT \"open", "unterminated");
	expect_refused("www TXT", "at least one string");
	expect_refused("a.*.b A 1.2.3.4", "leftmost label");
	expect_refused("a..b A 1.2.3.4", "empty label");
	expect_refused("w$w A 1.2.3.4", "invalid character");
	expect_refused("www CNAME a..b.", "empty label");
	expect_refused("www CAA 0 is-sue x", "CAA tag");
	expect_refused("www SOA a. b. 1 2 3 4", "SOA needs 7 fields");
}

static void
test_txt_string_longer_than_255_is_refused(void **state)
{
	char line[400] = "t TXT \"";
	memset(line + strlen(line), 'x', 256);
	strcat(line, "\"");
	expect_refused(line, "longer than 255");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_a_record_is_four_bytes),
	    cmocka_unit_test(test_aaaa_record_is_sixteen_bytes),
	    cmocka_unit_test(test_cname_target_relative_to_origin),
	    cmocka_unit_test(test_cname_target_absolute_keeps_its_case),
	    cmocka_unit_test(test_ns_record),
	    cmocka_unit_test(test_ptr_record),
	    cmocka_unit_test(test_mx_record_has_preference_then_name),
	    cmocka_unit_test(test_srv_record_has_priority_weight_port_target),
	    cmocka_unit_test(test_soa_record_has_two_names_and_five_numbers),
	    cmocka_unit_test(test_soa_written_with_parentheses_on_one_line),
	    cmocka_unit_test(test_txt_record_with_several_strings_and_escapes),
	    cmocka_unit_test(test_txt_record_of_an_empty_string),
	    cmocka_unit_test(test_caa_record_has_flags_tag_value),
	    cmocka_unit_test(test_ttl_and_class_in_either_order),
	    cmocka_unit_test(test_owner_forms),
	    cmocka_unit_test(test_name_outside_the_zone_is_refused),
	    cmocka_unit_test(test_label_longer_than_63_is_refused),
	    cmocka_unit_test(test_name_longer_than_255_is_refused),
	    cmocka_unit_test(test_malformed_lines_are_refused_with_the_reason),
	    cmocka_unit_test(test_txt_string_longer_than_255_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
