/*
 * The DNS wire codec: query parsing (EDNS, malformed and truncated
 * packets), name reading with compression pointers (loops, forward and
 * out-of-bounds pointers, label lengths), and the response writer's
 * compression and truncation, checked by reading its output back.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "helpers.h"
#include "wire.h"

static void
test_query_parse_reads_question_and_edns(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	size_t n = th_query(buf, 0x1234, "Harbor.QROKSERA.com", DNS_T_AAAA,
	    true, 4096, 0, true);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
	assert_int_equal(q.id, 0x1234);
	assert_int_equal(q.qtype, DNS_T_AAAA);
	assert_int_equal(q.qclass, DNS_C_IN);
	assert_int_equal(q.qlabels, 3);
	assert_int_equal(q.qname_len, 21);
	assert_memory_equal(q.lname, "\6harbor\10qroksera\3com", 21);
	assert_memory_equal(q.qname, "\6Harbor\10QROKSERA\3com", 21);
	assert_true(q.has_edns);
	assert_true(q.edns_do);
	assert_int_equal(q.edns_udp, 4096);
	assert_int_equal(q.edns_version, 0);
}

static void
test_query_parse_without_edns_resets_previous_state(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	size_t n = th_query(buf, 1, "a.b", DNS_T_A, true, 1232, 0, false);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
	n = th_query(buf, 1, "a.b", DNS_T_A, false, 0, 0, false);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
	assert_false(q.has_edns);
}

static void
test_query_parse_classifies_bad_packets(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	size_t n = th_query(buf, 1, "a.example", DNS_T_A, true, 1232, 0, false);

	assert_int_equal(dns_query_parse(buf, 11, &q), DNS_PARSE_DROP);
	buf[2] |= 0x80; /* a response */
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_DROP);
	buf[2] = 0x10; /* opcode 2 (STATUS) */
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_NOTIMP);
	buf[2] = 0x01;
	dns_put16(buf + 4, 2);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_FORMERR);
	dns_put16(buf + 4, 0);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_FORMERR);
	dns_put16(buf + 4, 1);
	/* Claims two additional records, holds one. */
	dns_put16(buf + 10, 2);
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_FORMERR);
	/* Two OPT records. */
	memcpy(buf + n, buf + n - 11, 11);
	assert_int_equal(dns_query_parse(buf, n + 11, &q), DNS_PARSE_FORMERR);
}

static void
test_every_truncation_of_a_query_is_rejected_safely(void **state)
{
	uint8_t buf[512];
	struct dns_query q;
	size_t n =
	    th_query(buf, 1, "www.example.org", DNS_T_A, true, 1232, 0, false);
	for (size_t i = 0; i < n; i++) {
		uint8_t *copy = malloc(i ? i : 1);
		memcpy(copy, buf, i);
		enum dns_parse_result r = dns_query_parse(copy, i, &q);
		if (i < 12)
			assert_int_equal(r, DNS_PARSE_DROP);
		else
			assert_int_equal(r, DNS_PARSE_FORMERR);
		free(copy);
	}
	assert_int_equal(dns_query_parse(buf, n, &q), DNS_PARSE_OK);
}

static void
test_question_name_with_pointer_is_formerr(void **state)
{
	uint8_t buf[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0,
	    1};
	struct dns_query q;
	assert_int_equal(dns_query_parse(buf, sizeof(buf), &q),
	    DNS_PARSE_FORMERR);
}

static void
test_name_read_follows_backward_pointers(void **state)
{
	/* "example.com" at 12, then "www" + pointer to 12 at 25. */
	uint8_t pkt[64] = {0};
	memcpy(pkt + 12, "\7example\3com", 13);
	memcpy(pkt + 25, "\3WWW\xc0\x0c", 6);
	uint8_t out[DNS_NAME_MAX];
	size_t off = 25;
	int n = dns_name_read(pkt, 31, &off, out, true);
	assert_int_equal(n, 17);
	assert_int_equal(off, 31);
	assert_memory_equal(out, "\3www\7example\3com", 17);
	off = 25;
	n = dns_name_read(pkt, 31, &off, out, false);
	assert_memory_equal(out, "\3WWW", 4);
}

static void
test_name_read_rejects_pointer_loops(void **state)
{
	uint8_t out[DNS_NAME_MAX];
	/* Points at itself. */
	uint8_t self[] = {0xc0, 0x00};
	size_t off = 0;
	assert_int_equal(dns_name_read(self, 2, &off, out, false), -EBADMSG);
	/* Two pointers pointing at each other. */
	uint8_t pair[] = {0xc0, 0x02, 0xc0, 0x00};
	off = 2;
	assert_int_equal(dns_name_read(pair, 4, &off, out, false), -EBADMSG);
	/* A label then a pointer back to the label: a loop too. */
	uint8_t lab[] = {1, 'a', 0xc0, 0x00};
	off = 0;
	assert_int_equal(dns_name_read(lab, 4, &off, out, false), -EBADMSG);
}

static void
test_name_read_rejects_bad_pointers_and_labels(void **state)
{
	uint8_t out[DNS_NAME_MAX];
	size_t off;
	/* A forward pointer. */
	uint8_t fwd[] = {0xc0, 0x03, 0, 0};
	off = 0;
	assert_int_equal(dns_name_read(fwd, 4, &off, out, false), -EBADMSG);
	/* A pointer past the end, and a pointer cut in half. */
	uint8_t oob[] = {0, 0xff, 0xff};
	off = 1;
	assert_int_equal(dns_name_read(oob, 3, &off, out, false), -EBADMSG);
	off = 2;
	assert_int_equal(dns_name_read(oob, 3, &off, out, false), -EBADMSG);
	/* Label types 01 and 10 are not allowed. */
	uint8_t ext[] = {0x41, 'a', 0};
	off = 0;
	assert_int_equal(dns_name_read(ext, 3, &off, out, false), -EBADMSG);
	ext[0] = 0x81;
	off = 0;
	assert_int_equal(dns_name_read(ext, 3, &off, out, false), -EBADMSG);
	/* A label longer than the packet. */
	uint8_t cut[] = {5, 'a', 'b'};
	off = 0;
	assert_int_equal(dns_name_read(cut, 3, &off, out, false), -EBADMSG);
	/* No terminating root label. */
	uint8_t noroot[] = {1, 'a'};
	off = 0;
	assert_int_equal(dns_name_read(noroot, 2, &off, out, false), -EBADMSG);
}

static void
test_name_over_255_bytes_is_rejected(void **state)
{
	uint8_t pkt[300];
	size_t o = 0;
	/* Four labels of 63 = 256 bytes with the root: one too many. */
	for (int i = 0; i < 4; i++) {
		pkt[o++] = 63;
		memset(pkt + o, 'a', 63);
		o += 63;
	}
	pkt[o++] = 0;
	uint8_t out[DNS_NAME_MAX];
	size_t off = 0;
	assert_int_equal(dns_name_read(pkt, o, &off, out, false), -EBADMSG);
	assert_int_equal(dns_name_len(pkt, o), -EBADMSG);
	/* Three of 63 and one of 61: exactly 255. */
	pkt[3 * 64] = 61;
	pkt[3 * 64 + 62] = 0;
	off = 0;
	assert_int_equal(dns_name_read(pkt, 255, &off, out, false), 255);
	/* Presentation form: a 64-byte label is refused. */
	char big[80];
	memset(big, 'x', 64);
	big[64] = '\0';
	assert_int_equal(dns_name_from_str(big, out), -EINVAL);
	big[63] = '\0';
	assert_int_equal(dns_name_from_str(big, out), 65);
}

static void
test_name_string_round_trip(void **state)
{
	uint8_t w[DNS_NAME_MAX];
	char s[1100];
	int n = dns_name_from_str("Harbor.Qroksera.com", w);
	assert_int_equal(n, 21);
	dns_name_to_str(w, s, sizeof(s));
	assert_string_equal(s, "harbor.qroksera.com");
	assert_int_equal(dns_name_from_str("", w), 1);
	dns_name_to_str(w, s, sizeof(s));
	assert_string_equal(s, ".");
	assert_int_equal(dns_name_from_str("a..b", w), -EINVAL);
	uint8_t odd[] = {3, 'a', '.', ' ', 0};
	dns_name_to_str(odd, s, sizeof(s));
	assert_string_equal(s, "a\\.\\032");
}

static void
test_writer_compresses_against_question_and_rdata(void **state)
{
	uint8_t qb[512], out[512];
	struct dns_query q;
	size_t n =
	    th_query(qb, 7, "WWW.Example.com", DNS_T_A, false, 0, 0, false);
	assert_int_equal(dns_query_parse(qb, n, &q), DNS_PARSE_OK);
	struct dns_writer w;
	dns_writer_init(&w, out, sizeof(out));
	assert_int_equal(dns_write_header(&w, &q), 0);
	assert_int_equal(dns_write_question(&w, &q), 0);
	uint8_t owner[DNS_NAME_MAX], target[DNS_NAME_MAX];
	dns_name_from_str("www.example.com", owner);
	int tl = dns_name_from_str("web.example.com", target);
	size_t before = w.len;
	assert_int_equal(dns_write_rr(&w, 1, owner, DNS_T_CNAME, DNS_C_IN, 60,
	                     target, (uint16_t)tl),
	    0);
	/* owner: 2-byte pointer; rdata: "web" + pointer. */
	assert_int_equal(w.len - before, 2 + 10 + 4 + 2);
	uint8_t a[4] = {192, 0, 2, 1};
	assert_int_equal(dns_write_rr(&w, 1, target, DNS_T_A, DNS_C_IN, 60, a,
	                     4),
	    0);
	struct th_msg m;
	assert_int_equal(th_parse(out, w.len, &m), 0);
	assert_int_equal(m.counts[1], 2);
	assert_string_equal(m.qname, "WWW.Example.com");
	/* The owner repeats the question, so it echoes the client's case. */
	assert_string_equal(m.rr[0].owner, "WWW.Example.com");
	assert_string_equal(m.rr[1].owner, "web.Example.com");
	size_t off = m.rr[0].rdoff;
	uint8_t name[DNS_NAME_MAX];
	assert_int_equal(dns_name_read(out, w.len, &off, name, true), tl);
	assert_memory_equal(name, target, (size_t)tl);
}

static void
test_writer_leaves_srv_rdata_uncompressed(void **state)
{
	uint8_t out[512];
	struct dns_writer w;
	dns_writer_init(&w, out, sizeof(out));
	memset(out, 0, 12);
	w.len = 12;
	uint8_t owner[DNS_NAME_MAX], rd[300];
	int ol = dns_name_from_str("_x._tcp.example.com", owner);
	memset(rd, 0, 6);
	int tl = dns_name_from_str("example.com", rd + 6);
	assert_int_equal(dns_write_rr(&w, 1, owner, DNS_T_SRV, DNS_C_IN, 1, rd,
	                     (uint16_t)(6 + tl)),
	    0);
	assert_int_equal(w.len, 12 + (size_t)ol + 10 + 6 + (size_t)tl);
}

static void
test_writer_refuses_what_does_not_fit(void **state)
{
	uint8_t out[512];
	struct dns_writer w;
	dns_writer_init(&w, out, sizeof(out));
	memset(out, 0, 12);
	w.len = 12;
	w.limit = 39;
	uint8_t owner[DNS_NAME_MAX], a[4] = {1, 2, 3, 4};
	dns_name_from_str("host.example", owner);
	assert_int_equal(dns_write_rr(&w, 1, owner, DNS_T_A, 1, 1, a, 4),
	    -ENOSPC);
	assert_int_equal(w.len, 12);
	assert_int_equal(dns_get16(out + 6), 0);
	w.limit = 12 + 14 + 10 + 4;
	assert_int_equal(dns_write_rr(&w, 1, owner, DNS_T_A, 1, 1, a, 4), 0);
	assert_int_equal(dns_get16(out + 6), 1);
}

static void
test_writer_rejects_malformed_soa_rdata(void **state)
{
	uint8_t out[512], owner[DNS_NAME_MAX];
	struct dns_writer w;
	dns_writer_init(&w, out, sizeof(out));
	memset(out, 0, 12);
	w.len = 12;
	dns_name_from_str("example", owner);
	uint8_t bad[] = {1, 'a', 0, 1, 'b', 0, 1, 2, 3};
	assert_int_equal(dns_write_rr(&w, 1, owner, DNS_T_SOA, 1, 1, bad,
	                     sizeof(bad)),
	    -EBADMSG);
	assert_int_equal(w.len, 12);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_query_parse_reads_question_and_edns),
	    cmocka_unit_test(
	        test_query_parse_without_edns_resets_previous_state),
	    cmocka_unit_test(test_query_parse_classifies_bad_packets),
	    cmocka_unit_test(
	        test_every_truncation_of_a_query_is_rejected_safely),
	    cmocka_unit_test(test_question_name_with_pointer_is_formerr),
	    cmocka_unit_test(test_name_read_follows_backward_pointers),
	    cmocka_unit_test(test_name_read_rejects_pointer_loops),
	    cmocka_unit_test(test_name_read_rejects_bad_pointers_and_labels),
	    cmocka_unit_test(test_name_over_255_bytes_is_rejected),
	    cmocka_unit_test(test_name_string_round_trip),
	    cmocka_unit_test(test_writer_compresses_against_question_and_rdata),
	    cmocka_unit_test(test_writer_leaves_srv_rdata_uncompressed),
	    cmocka_unit_test(test_writer_refuses_what_does_not_fit),
	    cmocka_unit_test(test_writer_rejects_malformed_soa_rdata),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
