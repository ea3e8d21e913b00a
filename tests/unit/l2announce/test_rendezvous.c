/*
 * Rendezvous ranking: the same owner from the same view on every node,
 * an even spread of the seed's 51 VIPs over its three nodes, and minimal
 * movement when a member leaves or joins.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "rendezvous.h"

#define NVIP 51
static const char *const seed[] = {"k8s-control-plane", "k8s-worker1",
    "k8s-worker2"};

static struct hearth_addr
vip(int i)
{
	struct hearth_addr a = {.family = AF_INET};
	a.v4.s_addr = htonl(0xc0a87a64u + (uint32_t)i); /* .100 + i */
	return a;
}

static const char *
owner(const char *const *names, size_t n, int i)
{
	struct hearth_addr a = vip(i);
	return names[l2_rank_owner(names, n, &a)];
}

static void
test_same_owner_on_every_node_whatever_the_order(void **st)
{
	static const int perm[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2},
	    {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};
	for (int i = 0; i < NVIP; i++) {
		const char *first = owner(seed, 3, i);
		for (int p = 0; p < 6; p++) {
			const char *v[3] = {seed[perm[p][0]], seed[perm[p][1]],
			    seed[perm[p][2]]};
			assert_string_equal(owner(v, 3, i), first);
		}
	}
}

static void
test_51_vips_spread_10_to_24_per_member(void **st)
{
	int count[3] = {0};
	for (int i = 0; i < NVIP; i++) {
		struct hearth_addr a = vip(i);
		count[l2_rank_owner(seed, 3, &a)]++;
	}
	for (int m = 0; m < 3; m++) {
		print_message("%s owns %d\n", seed[m], count[m]);
		assert_in_range(count[m], 10, 24);
	}
}

static void
test_removing_a_member_moves_only_its_vips(void **st)
{
	for (int gone = 0; gone < 3; gone++) {
		const char *rest[2];
		size_t n = 0;
		for (int m = 0; m < 3; m++)
			if (m != gone)
				rest[n++] = seed[m];
		int moved = 0;
		for (int i = 0; i < NVIP; i++) {
			const char *before = owner(seed, 3, i);
			const char *after = owner(rest, 2, i);
			if (before == seed[gone])
				moved++;
			else
				assert_ptr_equal(before, after);
		}
		assert_true(moved > 0);
	}
}

static void
test_adding_a_member_moves_vips_only_to_it(void **st)
{
	const char *four[4] = {seed[0], seed[1], seed[2], "k8s-worker3"};
	int gained = 0;
	for (int i = 0; i < NVIP; i++) {
		const char *after = owner(four, 4, i);
		if (after == four[3])
			gained++;
		else
			assert_ptr_equal(after, owner(seed, 3, i));
	}
	assert_in_range(gained, 5, 20);
}

static void
test_rank_is_a_total_order(void **st)
{
	struct hearth_addr a = vip(0), x = {.family = AF_INET},
	                   y = {.family = AF_INET};
	y.v4.s_addr = 1;
	assert_int_equal(l2_rank_cmp("n", &x, "n", &x, &a), 0);
	assert_true(l2_rank_cmp("n", &x, "n", &y, &a) < 0);
	int ab = l2_rank_cmp("a", &x, "b", &x, &a);
	assert_int_equal(ab, -l2_rank_cmp("b", &x, "a", &x, &a));
	assert_int_not_equal(ab, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_owner_on_every_node_whatever_the_order),
	    cmocka_unit_test(test_51_vips_spread_10_to_24_per_member),
	    cmocka_unit_test(test_removing_a_member_moves_only_its_vips),
	    cmocka_unit_test(test_adding_a_member_moves_vips_only_to_it),
	    cmocka_unit_test(test_rank_is_a_total_order),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
