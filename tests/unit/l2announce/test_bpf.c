/*
 * The packet socket's BPF program, run by the interpreter in bpf.c over
 * real frames: requests and claims for owned VIPs pass, everything else
 * (other VIPs, other protocols, short frames) is dropped in the kernel.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "bpf.h"
#include "frame.h"

static struct sock_filter prog[L2_BPF_MAX_LEN];
static struct in_addr owned[L2_BPF_MAX_VIPS];

static struct in_addr
v4(const char *s)
{
	struct in_addr a;
	inet_pton(AF_INET, s, &a);
	return a;
}

/* An ARP request from 192.168.122.50 for target. */
static size_t
request(uint8_t *f, const char *target)
{
	struct l2_arp req = {.spa = v4("192.168.122.50"),
	    .sha = {2, 0, 0, 0, 0, 0x50}};
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0x50};
	size_t n = l2_garp_build(f, mac, v4(target), false);
	memcpy(f + 28, &req.spa, 4); /* who-has target tell .50 */
	return n;
}

static void
test_only_owned_vips_pass(void **st)
{
	owned[0] = v4("192.168.122.100");
	owned[1] = v4("192.168.122.107");
	size_t len = l2_bpf_build(prog, owned, 2);
	uint8_t f[L2_FRAME_MAX];
	size_t n = request(f, "192.168.122.107");
	assert_int_equal(l2_bpf_run(prog, len, f, n), 1514);
	n = request(f, "192.168.122.101");
	assert_int_equal(l2_bpf_run(prog, len, f, n), 0);
	/* Another MAC claiming an owned VIP passes (conflict). */
	static const uint8_t other[6] = {2, 0, 0, 0, 0, 0x66};
	n = l2_garp_build(f, other, owned[0], true);
	assert_int_equal(l2_bpf_run(prog, len, f, n), 1514);
	/* Truncated: the kernel drops a frame it cannot read. */
	assert_int_equal(l2_bpf_run(prog, len, f, 30), 0);
	/* Not ARP, not IPv6. */
	f[12] = 0x08, f[13] = 0x00;
	assert_int_equal(l2_bpf_run(prog, len, f, n), 0);
}

static void
test_nothing_owned_drops_every_arp(void **st)
{
	size_t len = l2_bpf_build(prog, owned, 0);
	uint8_t f[L2_FRAME_MAX];
	size_t n = request(f, "192.168.122.100");
	assert_int_equal(l2_bpf_run(prog, len, f, n), 0);
}

static void
test_neighbour_solicitations_pass_and_advertisements_do_not(void **st)
{
	size_t len = l2_bpf_build(prog, owned, 0);
	uint8_t f[L2_FRAME_MAX];
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 0x10};
	struct in6_addr t;
	inet_pton(AF_INET6, "fd00::100", &t);
	size_t n = l2_na_unsolicited_build(f, mac, &t);
	assert_int_equal(l2_bpf_run(prog, len, f, n), 0);
	f[54] = 135; /* the same frame as a solicitation */
	assert_int_equal(l2_bpf_run(prog, len, f, n), 1514);
}

static void
test_a_thousand_owned_vips_fit_and_the_last_passes(void **st)
{
	for (uint32_t i = 0; i < L2_BPF_MAX_VIPS; i++)
		owned[i].s_addr = htonl(0x0a000000u + i);
	size_t len = l2_bpf_build(prog, owned, L2_BPF_MAX_VIPS);
	assert_true(len <= BPF_MAXINSNS);
	assert_true(len <= L2_BPF_MAX_LEN);
	uint8_t f[L2_FRAME_MAX];
	size_t n = request(f, "10.0.3.231"); /* 0x0a0003e7 = the 1000th */
	assert_int_equal(l2_bpf_run(prog, len, f, n), 1514);
	n = request(f, "10.0.3.232");
	assert_int_equal(l2_bpf_run(prog, len, f, n), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_only_owned_vips_pass),
	    cmocka_unit_test(test_nothing_owned_drops_every_arp),
	    cmocka_unit_test(
	        test_neighbour_solicitations_pass_and_advertisements_do_not),
	    cmocka_unit_test(
	        test_a_thousand_owned_vips_fit_and_the_last_passes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
