/*
 * The answering thread's flood guard: within a window it stays at real-
 * time priority until its CPU budget is spent, then is told how long the
 * window has left (it runs at normal priority that long); a new window
 * starts afresh (an idle spell banks nothing), and a thread kept busy
 * flat out spends at most budget/window of the time at real time.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "budget.h"

#define MS INT64_C(1000000)

static void
test_under_budget_stays_real_time(void **state)
{
	struct l2_budget b;
	l2_budget_init(&b, 100 * MS, 20 * MS, 0, 0);
	/* 19 ms of CPU spread over 99 ms: within budget throughout. */
	for (int64_t t = 1; t < 100; t++)
		assert_int_equal(l2_budget_charge(&b, t * MS, t * MS * 10 / 52),
		    0);
}

static void
test_spent_budget_reports_rest_of_window(void **state)
{
	struct l2_budget b;
	l2_budget_init(&b, 100 * MS, 20 * MS, 1000 * MS, 5 * MS);
	assert_int_equal(l2_budget_charge(&b, 1010 * MS, 15 * MS), 0);
	/* 20 ms used 25 ms in: normal priority for the remaining 75 ms. */
	assert_int_equal(l2_budget_charge(&b, 1025 * MS, 25 * MS), 75 * MS);
	/* The next window starts when that ends, with a full budget. */
	assert_int_equal(l2_budget_charge(&b, 1100 * MS, 25 * MS), 0);
	assert_int_equal(l2_budget_charge(&b, 1150 * MS, 44 * MS), 0);
	assert_int_equal(l2_budget_charge(&b, 1160 * MS, 45 * MS), 40 * MS);
}

static void
test_idle_spell_banks_nothing(void **state)
{
	struct l2_budget b;
	l2_budget_init(&b, 100 * MS, 20 * MS, 0, 0);
	/* Ten idle seconds, then a burst: the budget is one window's. */
	assert_int_equal(l2_budget_charge(&b, 10000 * MS, 1 * MS), 0);
	assert_int_equal(l2_budget_charge(&b, 10005 * MS, 21 * MS), 95 * MS);
}

static void
test_busy_thread_gets_at_most_its_share(void **state)
{
	struct l2_budget b;
	int64_t now = 0, cpu = 0, ran = 0;
	l2_budget_init(&b, 100 * MS, 20 * MS, now, cpu);
	/*
	 * Batches of 0.3 ms back to back for ten seconds; once the budget
	 * is spent, the rest of the window runs at normal priority (skipped).
	 */
	while (now < 10000 * MS) {
		now += 300000;
		cpu += 300000;
		ran += 300000;
		now += l2_budget_charge(&b, now, cpu);
	}
	/* Real time a fifth of the time, give or take a batch per window. */
	assert_true(ran <= now / 5 + 100 * 300000);
	assert_true(ran >= now / 5 - 100 * 300000);
}

static void
test_clock_going_back_restarts_the_window(void **state)
{
	struct l2_budget b;
	l2_budget_init(&b, 100 * MS, 20 * MS, 500 * MS, 0);
	assert_int_equal(l2_budget_charge(&b, 400 * MS, 30 * MS), 0);
	assert_int_equal(l2_budget_charge(&b, 410 * MS, 49 * MS), 0);
	assert_int_equal(l2_budget_charge(&b, 420 * MS, 50 * MS), 80 * MS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_under_budget_stays_real_time),
	    cmocka_unit_test(test_spent_budget_reports_rest_of_window),
	    cmocka_unit_test(test_idle_spell_banks_nothing),
	    cmocka_unit_test(test_busy_thread_gets_at_most_its_share),
	    cmocka_unit_test(test_clock_going_back_restarts_the_window),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
