/*
 * UDP segmentation planning: which answers of a batch leave as one train.
 * Same client, port, local address and length group together; anything
 * else (another port, another local address, another length, a long
 * answer) does not; the kernel's limits on segments and bytes hold; every
 * answer is sent exactly once and answers keep their order in a group.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "gso.h"

static void
key4(struct dns_gso_key *k, const char *addr, uint16_t port, const char *local)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
	    .sin_port = htons(port)};
	struct in_addr la;
	inet_pton(AF_INET, addr, &sa.sin_addr);
	if (local != NULL)
		inet_pton(AF_INET, local, &la);
	dns_gso_key_make(k, (struct sockaddr *)&sa, local ? &la : NULL);
}

/* Checks the plan covers 0..n-1 exactly once, groups are homogeneous. */
static void
check_plan(const struct dns_gso_key *key, const uint16_t *len, size_t n,
    const uint16_t *order, const struct dns_gso_group *g, size_t ng)
{
	int seen[DNS_GSO_MAX_ITEMS] = {0};
	size_t at = 0;
	for (size_t j = 0; j < ng; j++) {
		assert_int_equal(g[j].start, at);
		assert_true(g[j].count >= 1 && g[j].count <= DNS_GSO_MAX_SEGS);
		assert_true((size_t)g[j].count * len[order[g[j].start]] <=
		        DNS_GSO_MAX_BYTES ||
		    g[j].count == 1);
		for (size_t m = 0; m < g[j].count; m++) {
			uint16_t i = order[at + m];
			uint16_t f = order[g[j].start];
			seen[i]++;
			assert_int_equal(len[i], len[f]);
			assert_memory_equal(&key[i], &key[f], sizeof(key[i]));
			if (m > 0)
				assert_true(i > order[at + m - 1]);
		}
		at += g[j].count;
	}
	assert_int_equal(at, n);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seen[i], 1);
}

static void
test_same_client_and_length_form_one_train(void **state)
{
	struct dns_gso_key key[6];
	uint16_t len[6] = {45, 45, 61, 45, 45, 61}, order[6];
	struct dns_gso_group g[6];
	for (int i = 0; i < 6; i++)
		key4(&key[i], "127.0.0.1", 40000, NULL);
	size_t ng = dns_gso_plan(key, len, 6, 1232, order, g);
	assert_int_equal(ng, 2);
	assert_int_equal(g[0].count, 4); /* the 45-byte answers, in order */
	assert_int_equal(order[0], 0);
	assert_int_equal(order[1], 1);
	assert_int_equal(order[2], 3);
	assert_int_equal(order[3], 4);
	assert_int_equal(g[1].count, 2);
	assert_int_equal(order[4], 2);
	assert_int_equal(order[5], 5);
	check_plan(key, len, 6, order, g, ng);
}

static void
test_other_port_address_or_local_address_is_another_train(void **state)
{
	struct dns_gso_key key[5];
	uint16_t len[5] = {50, 50, 50, 50, 50}, order[5];
	struct dns_gso_group g[5];
	key4(&key[0], "10.0.0.1", 1000, "10.0.0.53");
	key4(&key[1], "10.0.0.1", 1001, "10.0.0.53");
	key4(&key[2], "10.0.0.2", 1000, "10.0.0.53");
	key4(&key[3], "10.0.0.1", 1000, "10.0.1.53");
	key4(&key[4], "10.0.0.1", 1000, "10.0.0.53");
	size_t ng = dns_gso_plan(key, len, 5, 1232, order, g);
	assert_int_equal(ng, 4);
	assert_int_equal(g[0].count, 2); /* answers 0 and 4 */
	assert_int_equal(order[1], 4);
	check_plan(key, len, 5, order, g, ng);

	struct sockaddr_in6 a = {.sin6_family = AF_INET6,
	                        .sin6_port = htons(53)},
	                    b = a;
	inet_pton(AF_INET6, "fe80::1", &a.sin6_addr);
	b.sin6_addr = a.sin6_addr;
	b.sin6_scope_id = 2; /* the same address on another link */
	dns_gso_key_make(&key[0], (struct sockaddr *)&a, NULL);
	dns_gso_key_make(&key[1], (struct sockaddr *)&b, NULL);
	assert_int_equal(dns_gso_plan(key, len, 2, 1232, order, g), 2);
}

static void
test_long_answers_and_disabled_segmentation_go_alone(void **state)
{
	struct dns_gso_key key[4];
	uint16_t len[4] = {1400, 1400, 100, 100}, order[4];
	struct dns_gso_group g[4];
	for (int i = 0; i < 4; i++)
		key4(&key[i], "127.0.0.1", 5, NULL);
	assert_int_equal(dns_gso_plan(key, len, 4, 4096, order, g), 3);
	check_plan(key, len, 4, order, g, 3);
	/* max_len 0: segmentation off, every answer its own datagram. */
	assert_int_equal(dns_gso_plan(key, len, 4, 0, order, g), 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(order[i], i);
}

static void
test_segment_and_byte_limits_split_a_train(void **state)
{
	static struct dns_gso_key key[DNS_GSO_MAX_ITEMS];
	static uint16_t len[DNS_GSO_MAX_ITEMS], order[DNS_GSO_MAX_ITEMS];
	static struct dns_gso_group g[DNS_GSO_MAX_ITEMS];
	for (int i = 0; i < DNS_GSO_MAX_ITEMS; i++) {
		key4(&key[i], "127.0.0.1", 5, NULL);
		len[i] = 40;
	}
	size_t ng = dns_gso_plan(key, len, DNS_GSO_MAX_ITEMS, 1232, order, g);
	assert_int_equal(ng, DNS_GSO_MAX_ITEMS / DNS_GSO_MAX_SEGS);
	check_plan(key, len, DNS_GSO_MAX_ITEMS, order, g, ng);
	for (int i = 0; i < 100; i++)
		len[i] = 1200; /* 50 of these make 60000 bytes */
	ng = dns_gso_plan(key, len, 100, 1232, order, g);
	assert_int_equal(ng, 2);
	assert_int_equal(g[0].count, DNS_GSO_MAX_BYTES / 1200);
	check_plan(key, len, 100, order, g, ng);
}

static void
test_many_clients_each_get_their_answers_once(void **state)
{
	static struct dns_gso_key key[DNS_GSO_MAX_ITEMS];
	static uint16_t len[DNS_GSO_MAX_ITEMS], order[DNS_GSO_MAX_ITEMS];
	static struct dns_gso_group g[DNS_GSO_MAX_ITEMS];
	char addr[32];
	for (int i = 0; i < DNS_GSO_MAX_ITEMS; i++) {
		/* 3 clients x 2 ports x 2 lengths, interleaved */
		snprintf(addr, sizeof(addr), "10.0.0.%d", i % 3);
		key4(&key[i], addr, (uint16_t)(1000 + i % 2), NULL);
		len[i] = (uint16_t)(30 + i / 2 % 2);
	}
	size_t ng = dns_gso_plan(key, len, DNS_GSO_MAX_ITEMS, 1232, order, g);
	assert_int_equal(ng, 12);
	check_plan(key, len, DNS_GSO_MAX_ITEMS, order, g, ng);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_client_and_length_form_one_train),
	    cmocka_unit_test(
	        test_other_port_address_or_local_address_is_another_train),
	    cmocka_unit_test(
	        test_long_answers_and_disabled_segmentation_go_alone),
	    cmocka_unit_test(test_segment_and_byte_limits_split_a_train),
	    cmocka_unit_test(test_many_clients_each_get_their_answers_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
