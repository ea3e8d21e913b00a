/*
 * ARP and NDP frames, built and parsed, against byte-exact frames written
 * out from RFC 826 / RFC 4861 (the ICMPv6 checksums were computed apart,
 * with Python's own arithmetic, not with the code under test).
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "frame.h"

static const uint8_t us[6] = {0x02, 0, 0, 0, 0, 0x10};
static const uint8_t them[6] = {0x02, 0, 0, 0, 0, 0x50};

/* ARP request who-has 192.168.122.100 tell 192.168.122.50, unpadded. */
static const uint8_t arp_request[] = {
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x08,
    0x06,
    0x00,
    0x01,
    0x08,
    0x00,
    0x06,
    0x04,
    0x00,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    192,
    168,
    122,
    50,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    192,
    168,
    122,
    100,
};

/* The reply: unicast to the requester, 192.168.122.100 is-at us. */
static const uint8_t arp_reply[60] = {
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x08,
    0x06,
    0x00,
    0x01,
    0x08,
    0x00,
    0x06,
    0x04,
    0x00,
    0x02,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    192,
    168,
    122,
    100,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    192,
    168,
    122,
    50,
};

/* Gratuitous ARP, request form (RFC 5227 announcement: target hw 0). */
static const uint8_t garp_request[60] = {
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x08,
    0x06,
    0x00,
    0x01,
    0x08,
    0x00,
    0x06,
    0x04,
    0x00,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    192,
    168,
    122,
    100,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    192,
    168,
    122,
    100,
};

/* Gratuitous ARP, reply form (RFC 5944 4.6: target hw = the new address). */
static const uint8_t garp_reply[60] = {
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0xff,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x08,
    0x06,
    0x00,
    0x01,
    0x08,
    0x00,
    0x06,
    0x04,
    0x00,
    0x02,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    192,
    168,
    122,
    100,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    192,
    168,
    122,
    100,
};

/* NA fd00::100 is-at us, to fd00::50, S=1 O=1, TLLA option. */
static const uint8_t na_solicited[] = {
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x86,
    0xdd,
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x3a,
    0xff,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x88,
    0x00,
    0x1a,
    0x41,
    0x60,
    0x00,
    0x00,
    0x00,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x02,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
};

/* Unsolicited NA for fd00::100 to ff02::1, S=0 O=1. */
static const uint8_t na_unsolicited[] = {
    0x33,
    0x33,
    0x00,
    0x00,
    0x00,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x86,
    0xdd,
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x3a,
    0xff,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0xff,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x88,
    0x00,
    0x58,
    0x8e,
    0x20,
    0x00,
    0x00,
    0x00,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x02,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
};

/* NS from fd00::50 to its solicited-node group, SLLA option. */
static const uint8_t ns_multicast[] = {
    0x33,
    0x33,
    0xff,
    0x00,
    0x01,
    0x00,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x86,
    0xdd,
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x20,
    0x3a,
    0xff,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0xff,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0xff,
    0x00,
    0x01,
    0x00,
    0x87,
    0x00,
    0x7a,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x01,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
};

/* Unicast NS (NUD) to fd00::100 without a source link-layer option. */
static const uint8_t ns_unicast_no_slla[] = {
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x10,
    0x02,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0x86,
    0xdd,
    0x60,
    0x00,
    0x00,
    0x00,
    0x00,
    0x18,
    0x3a,
    0xff,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x50,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
    0x87,
    0x00,
    0x7f,
    0x5a,
    0x00,
    0x00,
    0x00,
    0x00,
    0xfd,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x00,
    0x01,
    0x00,
};

static struct in_addr
v4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

static struct in6_addr
v6(const char *s)
{
	struct in6_addr a;
	inet_pton(AF_INET6, s, &a);
	return a;
}

static void
test_arp_request_parses_and_reply_is_byte_exact(void **st)
{
	struct l2_rx rx;
	assert_int_equal(l2_frame_parse(arp_request, sizeof(arp_request), &rx),
	    L2_RX_ARP_REQUEST);
	assert_memory_equal(rx.arp.sha, them, 6);
	assert_int_equal(rx.arp.tpa.s_addr, v4("192.168.122.100").s_addr);
	assert_int_equal(rx.arp.spa.s_addr, v4("192.168.122.50").s_addr);
	uint8_t buf[L2_FRAME_MAX];
	size_t n = l2_arp_reply_build(buf, us, rx.arp.tpa, &rx.arp);
	assert_int_equal(n, sizeof(arp_reply));
	assert_memory_equal(buf, arp_reply, n);
}

static void
test_garp_both_forms_are_byte_exact(void **st)
{
	uint8_t buf[L2_FRAME_MAX];
	size_t n = l2_garp_build(buf, us, v4("192.168.122.100"), false);
	assert_int_equal(n, sizeof(garp_request));
	assert_memory_equal(buf, garp_request, n);
	n = l2_garp_build(buf, us, v4("192.168.122.100"), true);
	assert_int_equal(n, sizeof(garp_reply));
	assert_memory_equal(buf, garp_reply, n);
}

static void
test_garp_parses_as_a_claim_by_its_sender(void **st)
{
	struct l2_rx rx;
	assert_int_equal(l2_frame_parse(garp_reply, sizeof(garp_reply), &rx),
	    L2_RX_ARP_REPLY);
	assert_memory_equal(rx.arp.sha, us, 6);
	assert_int_equal(rx.arp.spa.s_addr, v4("192.168.122.100").s_addr);
	assert_int_equal(l2_frame_parse(garp_request, sizeof(garp_request),
	                     &rx),
	    L2_RX_ARP_REQUEST);
}

static void
test_solicited_na_answering_multicast_ns_is_byte_exact(void **st)
{
	struct l2_rx rx;
	assert_int_equal(l2_frame_parse(ns_multicast, sizeof(ns_multicast),
	                     &rx),
	    L2_RX_NS);
	struct in6_addr t = v6("fd00::100");
	assert_memory_equal(&rx.ns.target, &t, 16);
	assert_true(rx.ns.has_slla);
	assert_memory_equal(rx.ns.slla, them, 6);
	uint8_t buf[L2_FRAME_MAX];
	size_t n = l2_na_reply_build(buf, us, &rx.ns);
	assert_int_equal(n, sizeof(na_solicited));
	assert_memory_equal(buf, na_solicited, n);
}

static void
test_unicast_ns_without_slla_is_answered_to_its_ethernet_source(void **st)
{
	struct l2_rx rx;
	assert_int_equal(l2_frame_parse(ns_unicast_no_slla,
	                     sizeof(ns_unicast_no_slla), &rx),
	    L2_RX_NS);
	assert_false(rx.ns.has_slla);
	uint8_t buf[L2_FRAME_MAX];
	size_t n = l2_na_reply_build(buf, us, &rx.ns);
	assert_int_equal(n, sizeof(na_solicited));
	assert_memory_equal(buf, na_solicited, n);
}

static void
test_unsolicited_na_is_byte_exact(void **st)
{
	uint8_t buf[L2_FRAME_MAX];
	struct in6_addr t = v6("fd00::100");
	size_t n = l2_na_unsolicited_build(buf, us, &t);
	assert_int_equal(n, sizeof(na_unsolicited));
	assert_memory_equal(buf, na_unsolicited, n);
}

static void
test_ns_failing_validation_is_ignored(void **st)
{
	uint8_t f[sizeof(ns_multicast)];
	struct l2_rx rx;
	memcpy(f, ns_multicast, sizeof(f));
	f[14 + 7] = 254; /* hop limit */
	assert_int_equal(l2_frame_parse(f, sizeof(f), &rx), L2_RX_NONE);
	memcpy(f, ns_multicast, sizeof(f));
	f[14 + 40 + 2] ^= 1; /* checksum */
	assert_int_equal(l2_frame_parse(f, sizeof(f), &rx), L2_RX_NONE);
	memcpy(f, ns_multicast, sizeof(f));
	f[14 + 40 + 1] = 1; /* code */
	assert_int_equal(l2_frame_parse(f, sizeof(f), &rx), L2_RX_NONE);
	for (size_t n = 0; n < sizeof(ns_multicast); n++)
		assert_int_equal(l2_frame_parse(ns_multicast, n, &rx),
		    L2_RX_NONE);
}

static void
test_truncated_arp_is_ignored(void **st)
{
	struct l2_rx rx;
	for (size_t n = 0; n < sizeof(arp_request); n++)
		assert_int_equal(l2_frame_parse(arp_request, n, &rx),
		    L2_RX_NONE);
}

static void
test_solicited_node_group_and_mac(void **st)
{
	struct in6_addr a = v6("fd00::12:3456"), g,
	                want = v6("ff02::1:ff12:3456");
	uint8_t mac[6], wmac[6] = {0x33, 0x33, 0xff, 0x12, 0x34, 0x56};
	l2_solicited_node(&a, &g);
	assert_memory_equal(&g, &want, 16);
	l2_ipv6_mcast_mac(&g, mac);
	assert_memory_equal(mac, wmac, 6);
}

static void
test_announcements_burst_then_refresh(void **st)
{
	for (unsigned i = 1; i < 5; i++)
		assert_int_equal(l2_announce_delay_ms(false, i, 60), 1100);
	assert_int_equal(l2_announce_delay_ms(false, 5, 60), 60000);
	assert_int_equal(l2_announce_delay_ms(true, 2, 60), 1100);
	assert_int_equal(l2_announce_delay_ms(true, 3, 30), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_arp_request_parses_and_reply_is_byte_exact),
	    cmocka_unit_test(test_garp_both_forms_are_byte_exact),
	    cmocka_unit_test(test_garp_parses_as_a_claim_by_its_sender),
	    cmocka_unit_test(
	        test_solicited_na_answering_multicast_ns_is_byte_exact),
	    cmocka_unit_test(
	        test_unicast_ns_without_slla_is_answered_to_its_ethernet_source),
	    cmocka_unit_test(test_unsolicited_na_is_byte_exact),
	    cmocka_unit_test(test_ns_failing_validation_is_ignored),
	    cmocka_unit_test(test_truncated_arp_is_ignored),
	    cmocka_unit_test(test_solicited_node_group_and_mac),
	    cmocka_unit_test(test_announcements_burst_then_refresh),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
