/*
 * The ownership state machine, run as a small simulated cluster: nodes
 * exchange real encoded and authenticated heartbeats over a perfect
 * network with a 1 ms clock, tick only at the deadlines the election asks
 * for (or on a heartbeat), and the harness checks after every millisecond
 * that no VIP has two owners unless a test allows it.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "election.h"
#include "rendezvous.h"

#define MAXN 4
#define NV   51

struct node {
	struct l2_election *e;
	char name[16];
	bool running;
	bool blocked; /* its heartbeats are dropped both ways */
	bool poke;    /* heard something: tick now */
	uint64_t inc;
	int64_t next_hb;
};

struct sim {
	int n;
	struct node nodes[MAXN];
	struct hearth_addr members[MAXN];
	struct hearth_addr vips[NV];
	struct l2_key *key;
	struct l2_params p;
	int64_t now;
	bool allow_double; /* a test that provokes conflicts */
	int64_t last_change[NV];
	int64_t takeover_ms[NV];
	uint64_t incs;
	struct l2_heartbeat hb, rx;
	uint8_t wire[L2_HB_MAX_LEN];
};

static struct l2_change changes[NV];

static struct sim *
sim_new(int n, bool quorum, bool rebalance)
{
	struct sim *s = calloc(1, sizeof(*s));
	static const uint8_t k[] = "sixteen-byte-key-and-some-more";
	s->key = l2_key_new(k, sizeof(k) - 1);
	s->n = n;
	s->p = (struct l2_params){100, 400, quorum, rebalance};
	for (int i = 0; i < n; i++) {
		s->members[i].family = AF_INET;
		s->members[i].v4.s_addr = htonl(0xc0a87a0au + (uint32_t)i);
		snprintf(s->nodes[i].name, sizeof(s->nodes[i].name), "node%d",
		    i + 1);
	}
	for (int v = 0; v < NV; v++) {
		s->vips[v].family = AF_INET;
		s->vips[v].v4.s_addr = htonl(0xc0a87a64u + (uint32_t)v);
		s->last_change[v] = -1;
		s->takeover_ms[v] = -1;
	}
	return s;
}

static void
sim_free(struct sim *s)
{
	for (int i = 0; i < s->n; i++)
		l2_election_free(s->nodes[i].e);
	l2_key_free(s->key);
	free(s);
}

/* Node i sends a heartbeat of type t to every reachable running node. */
static void
send_hb(struct sim *s, int i, enum l2_hb_type t)
{
	struct node *me = &s->nodes[i];
	l2_election_heartbeat(me->e, &s->hb, t, me->inc);
	int len = l2_heartbeat_encode(s->key, &s->hb, s->wire, sizeof(s->wire));
	assert_true(len > 0);
	for (int j = 0; j < s->n; j++) {
		struct node *to = &s->nodes[j];
		if (j == i || !to->running || me->blocked || to->blocked)
			continue;
		assert_int_equal(l2_heartbeat_decode(s->key, s->wire,
		                     (size_t)len, &s->rx),
		    0);
		assert_int_equal(l2_election_heard(to->e, &s->members[i],
		                     &s->rx, s->now),
		    0);
		to->poke = true;
	}
}

static void
tick(struct sim *s, int i)
{
	struct node *nd = &s->nodes[i];
	size_t n = l2_election_tick(nd->e, s->now, changes);
	for (size_t c = 0; c < n; c++) {
		s->last_change[changes[c].vip] = s->now;
		if (changes[c].taken)
			s->takeover_ms[changes[c].vip] = changes[c].takeover_ms;
	}
	nd->poke = false;
	if (n > 0)
		send_hb(s, i, L2_HB_ALIVE); /* claims changed: tell now */
}

static int
owners(struct sim *s, int v)
{
	int c = 0;
	for (int i = 0; i < s->n; i++)
		if (s->nodes[i].running &&
		    l2_election_owns(s->nodes[i].e, (size_t)v))
			c++;
	return c;
}

static int
owner(struct sim *s, int v)
{
	for (int i = 0; i < s->n; i++)
		if (s->nodes[i].running &&
		    l2_election_owns(s->nodes[i].e, (size_t)v))
			return i;
	return -1;
}

static void
sim_run(struct sim *s, int64_t ms)
{
	int64_t end = s->now + ms;
	for (; s->now < end; s->now++) {
		for (int i = 0; i < s->n; i++) {
			struct node *nd = &s->nodes[i];
			if (nd->running && s->now >= nd->next_hb) {
				send_hb(s, i, L2_HB_ALIVE);
				nd->next_hb = s->now + s->p.interval_ms;
			}
		}
		for (int i = 0; i < s->n; i++) {
			struct node *nd = &s->nodes[i];
			if (nd->running &&
			    (nd->poke ||
			        s->now >= l2_election_next_deadline(nd->e)))
				tick(s, i);
		}
		for (int v = 0; v < NV && !s->allow_double; v++)
			if (owners(s, v) > 1)
				fail_msg("VIP %d has two owners at %lld ms", v,
				    (long long)s->now);
	}
}

static void
sim_start(struct sim *s, int i)
{
	struct node *nd = &s->nodes[i];
	l2_election_free(nd->e);
	nd->e = l2_election_new(nd->name, &s->members[i], s->members,
	    (size_t)s->n, &s->p);
	assert_non_null(nd->e);
	assert_int_equal(l2_election_set_vips(nd->e, s->vips, NV), 0);
	l2_election_start(nd->e, s->now);
	nd->inc = ++s->incs;
	nd->running = true;
	nd->next_hb = s->now;
	nd->poke = true;
}

static void
sim_kill(struct sim *s, int i)
{
	s->nodes[i].running = false;
}

static void
sim_stop(struct sim *s, int i)
{
	l2_election_stop(s->nodes[i].e);
	tick(s, i);
	send_hb(s, i, L2_HB_LEAVING);
	s->nodes[i].running = false;
}

static int
count_owned(struct sim *s, int i)
{
	int c = 0;
	for (int v = 0; v < NV; v++)
		c += owner(s, v) == i;
	return c;
}

/* The rendezvous owner of VIP v among the running nodes. */
static int
rendezvous(struct sim *s, int v)
{
	const char *names[MAXN];
	int idx[MAXN], n = 0;
	for (int i = 0; i < s->n; i++)
		if (s->nodes[i].running) {
			names[n] = s->nodes[i].name;
			idx[n++] = i;
		}
	return idx[l2_rank_owner(names, (size_t)n, &s->vips[v])];
}

static void
assert_all_owned_once(struct sim *s)
{
	for (int v = 0; v < NV; v++)
		assert_int_equal(owners(s, v), 1);
}

static void
test_nodes_started_together_split_by_rendezvous(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	assert_all_owned_once(s);
	for (int v = 0; v < NV; v++)
		assert_int_equal(owner(s, v), rendezvous(s, v));
	sim_free(s);
}

static void
test_a_node_listens_before_it_claims(void **st)
{
	struct sim *s = sim_new(3, false, false);
	sim_start(s, 0); /* the others never come */
	sim_run(s, 399);
	assert_int_equal(count_owned(s, 0), 0);
	assert_false(l2_election_serving(s->nodes[0].e));
	sim_run(s, 2);
	assert_int_equal(count_owned(s, 0), NV);
	sim_free(s);
}

static void
test_without_a_majority_nothing_is_announced(void **st)
{
	struct sim *s = sim_new(3, true, false);
	sim_start(s, 0);
	sim_run(s, 2000);
	assert_false(l2_election_quorate(s->nodes[0].e));
	assert_int_equal(count_owned(s, 0), 0);
	sim_start(s, 1); /* two of three: a majority */
	sim_run(s, 1000);
	assert_int_equal(count_owned(s, 0) + count_owned(s, 1), NV);
	sim_free(s);
}

static void
test_killed_owner_vips_move_within_dead_after(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	int before[NV];
	for (int v = 0; v < NV; v++)
		before[v] = owner(s, v);
	int64_t killed = s->now;
	sim_kill(s, 1);
	sim_run(s, 1000);
	assert_all_owned_once(s);
	for (int v = 0; v < NV; v++) {
		if (before[v] != 1) {
			assert_int_equal(owner(s, v), before[v]);
			continue;
		}
		assert_true(s->last_change[v] > killed);
		assert_true(s->last_change[v] <= killed + s->p.dead_after_ms);
		assert_in_range(s->takeover_ms[v], s->p.dead_after_ms,
		    s->p.dead_after_ms + s->p.interval_ms);
		assert_int_equal(owner(s, v), rendezvous(s, v));
	}
	sim_free(s);
}

static void
test_leaving_node_hands_over_at_once(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	int64_t stopped = s->now;
	sim_stop(s, 2);
	sim_run(s, 1);
	assert_all_owned_once(s);
	for (int v = 0; v < NV; v++)
		assert_true(
		    s->last_change[v] < 0 || s->last_change[v] <= stopped);
	sim_free(s);
}

static void
test_returning_node_takes_nothing_back(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	sim_kill(s, 0);
	sim_run(s, 1000);
	int before[NV];
	for (int v = 0; v < NV; v++)
		before[v] = owner(s, v);
	sim_start(s, 0);
	sim_run(s, 3000);
	assert_int_equal(count_owned(s, 0), 0);
	for (int v = 0; v < NV; v++)
		assert_int_equal(owner(s, v), before[v]);
	sim_free(s);
}

static void
test_node_restarted_at_once_after_leaving_takes_nothing(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++) {
		sim_start(s, i);
		sim_run(s, 31 + 7 * i);
	}
	sim_run(s, 1000);
	for (int round = 0; round < 6; round++) {
		int victim = round % 3;
		sim_stop(s, victim);
		sim_run(s, 5);
		assert_all_owned_once(s);
		int before[NV];
		for (int v = 0; v < NV; v++)
			before[v] = owner(s, v);
		sim_start(s, victim);
		sim_run(s, 1500);
		assert_int_equal(count_owned(s, victim), 0);
		for (int v = 0; v < NV; v++)
			assert_int_equal(owner(s, v), before[v]);
	}
	sim_free(s);
}

static void
test_rebalance_moves_vips_back_to_their_rendezvous_owner(void **st)
{
	struct sim *s = sim_new(3, true, true);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	sim_kill(s, 0);
	sim_run(s, 1000);
	assert_int_equal(count_owned(s, 0), 0);
	sim_start(s, 0);
	sim_run(s, 2000);
	assert_all_owned_once(s);
	for (int v = 0; v < NV; v++)
		assert_int_equal(owner(s, v), rendezvous(s, v));
	assert_true(count_owned(s, 0) > 0);
	sim_free(s);
}

static void
test_conflicting_claims_leave_the_best_ranked_owner(void **st)
{
	/* Two members cannot have quorum: a partition makes both claim. */
	struct sim *s = sim_new(2, true, false);
	s->allow_double = true;
	s->nodes[1].blocked = true;
	sim_start(s, 0);
	sim_start(s, 1);
	sim_run(s, 1000);
	assert_int_equal(count_owned(s, 0), NV);
	assert_int_equal(l2_election_n_owned(s->nodes[1].e), NV);
	s->nodes[1].blocked = false; /* the partition heals */
	sim_run(s, 300);
	assert_all_owned_once(s);
	for (int v = 0; v < NV; v++)
		assert_int_equal(owner(s, v), rendezvous(s, v));
	s->allow_double = false;
	sim_run(s, 2000);
	sim_free(s);
}

static void
test_cut_off_node_gives_up_before_others_take_over(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++) {
		sim_start(s, i); /* heartbeats out of phase */
		sim_run(s, 33 + 17 * i);
	}
	sim_run(s, 1000);
	for (int phase = 0; phase < 3; phase++) {
		s->nodes[2].blocked = true; /* never two owners: sim_run */
		sim_run(s, 1000 + 29 * phase);
		assert_false(l2_election_quorate(s->nodes[2].e));
		assert_int_equal(count_owned(s, 2), 0);
		assert_all_owned_once(s);
		int before[NV];
		for (int v = 0; v < NV; v++)
			before[v] = owner(s, v);
		s->nodes[2].blocked = false;
		sim_run(s, 1000);
		assert_true(l2_election_quorate(s->nodes[2].e));
		for (int v = 0; v < NV; v++)
			assert_int_equal(owner(s, v), before[v]);
	}
	sim_free(s);
}

static void
test_quorum_off_keeps_an_isolated_node_serving(void **st)
{
	struct sim *s = sim_new(3, false, false);
	s->allow_double = true;
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	s->nodes[2].blocked = true;
	sim_run(s, 1000);
	assert_int_equal(l2_election_n_owned(s->nodes[2].e), NV);
	sim_free(s);
}

static void
test_link_down_leaves_and_link_up_rejoins_without_taking(void **st)
{
	struct sim *s = sim_new(3, true, false);
	for (int i = 0; i < 3; i++)
		sim_start(s, i);
	sim_run(s, 1000);
	/* Link down: the node owns nothing and is silent (blocked). */
	l2_election_link(s->nodes[1].e, false, s->now);
	s->nodes[1].blocked = true;
	sim_run(s, 1);
	assert_int_equal(count_owned(s, 1), 0);
	sim_run(s, 1000);
	assert_all_owned_once(s);
	s->nodes[1].blocked = false;
	l2_election_link(s->nodes[1].e, true, s->now);
	sim_run(s, 2000);
	assert_int_equal(count_owned(s, 1), 0);
	assert_all_owned_once(s);
	sim_free(s);
}

static void
test_new_vip_is_claimed_and_old_ones_stay(void **st)
{
	struct sim *s = sim_new(1, true, false);
	sim_start(s, 0);
	sim_run(s, 500);
	struct l2_election *e = s->nodes[0].e;
	assert_int_equal(l2_election_n_owned(e), NV);
	struct hearth_addr more[NV + 1];
	memcpy(more, s->vips, sizeof(s->vips));
	more[NV].family = AF_INET;
	more[NV].v4.s_addr = htonl(0xc0a87a64u + NV);
	assert_int_equal(l2_election_set_vips(e, more, NV + 1), 0);
	assert_int_equal(l2_election_n_owned(e), NV);
	assert_int_equal(l2_election_tick(e, s->now, changes), 1);
	assert_int_equal(changes[0].vip, NV);
	assert_true(changes[0].taken);
	assert_int_equal(l2_election_find(e, &more[NV]), NV);
	sim_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_nodes_started_together_split_by_rendezvous),
	    cmocka_unit_test(test_a_node_listens_before_it_claims),
	    cmocka_unit_test(test_without_a_majority_nothing_is_announced),
	    cmocka_unit_test(test_killed_owner_vips_move_within_dead_after),
	    cmocka_unit_test(test_leaving_node_hands_over_at_once),
	    cmocka_unit_test(test_returning_node_takes_nothing_back),
	    cmocka_unit_test(
	        test_node_restarted_at_once_after_leaving_takes_nothing),
	    cmocka_unit_test(
	        test_rebalance_moves_vips_back_to_their_rendezvous_owner),
	    cmocka_unit_test(
	        test_conflicting_claims_leave_the_best_ranked_owner),
	    cmocka_unit_test(
	        test_cut_off_node_gives_up_before_others_take_over),
	    cmocka_unit_test(test_quorum_off_keeps_an_isolated_node_serving),
	    cmocka_unit_test(
	        test_link_down_leaves_and_link_up_rejoins_without_taking),
	    cmocka_unit_test(test_new_vip_is_claimed_and_old_ones_stay),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
