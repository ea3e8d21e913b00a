/*
 * The latency histogram: exact below 256, within 1/128 above, percentiles
 * by rank over the recorded values, and merging across threads.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "bench_logic.h"

static struct bench_hist *
hist_new(void)
{
	struct bench_hist *h = malloc(sizeof(*h));
	assert_non_null(h);
	bench_hist_reset(h);
	return h;
}

static void
test_small_values_are_exact(void **state)
{
	struct bench_hist *h = hist_new();
	for (uint64_t v = 1; v <= 100; v++)
		bench_hist_record(h, v);
	assert_int_equal(bench_hist_percentile(h, 50), 50);
	assert_int_equal(bench_hist_percentile(h, 90), 90);
	assert_int_equal(bench_hist_percentile(h, 99), 99);
	assert_int_equal(bench_hist_percentile(h, 99.9), 100);
	assert_int_equal(bench_hist_percentile(h, 100), 100);
	assert_int_equal(h->min, 1);
	assert_true(bench_hist_mean(h) > 50.49 && bench_hist_mean(h) < 50.51);
	free(h);
}

static void
test_bucket_bounds_are_continuous(void **state)
{
	/* every value falls in a bucket whose high bound is >= it and
	 * whose predecessor's high bound is < it */
	for (uint64_t v = 0; v < 200000; v += (v < 4096 ? 1 : 97)) {
		size_t i = bench_hist_index(v);
		assert_true(bench_hist_bucket_high(i) >= v);
		if (i > 0)
			assert_true(bench_hist_bucket_high(i - 1) < v);
	}
	assert_true(bench_hist_index(UINT64_MAX) < BENCH_HIST_BUCKETS);
	assert_int_equal(bench_hist_bucket_high(bench_hist_index(UINT64_MAX)),
	    UINT64_MAX);
}

static void
test_large_values_within_relative_error(void **state)
{
	struct bench_hist *h = hist_new();
	/* latencies in ns: 1 ms .. 1000 ms */
	for (uint64_t i = 1; i <= 1000; i++)
		bench_hist_record(h, i * 1000000);
	uint64_t p50 = bench_hist_percentile(h, 50);
	uint64_t p99 = bench_hist_percentile(h, 99);
	assert_true(p50 >= 500000000 && p50 <= 500000000 + 500000000 / 128);
	assert_true(p99 >= 990000000 && p99 <= 990000000 + 990000000 / 128);
	assert_int_equal(bench_hist_percentile(h, 100), 1000000000);
	free(h);
}

static void
test_percentile_of_skewed_distribution(void **state)
{
	struct bench_hist *h = hist_new();
	for (int i = 0; i < 990; i++)
		bench_hist_record(h, 100);
	for (int i = 0; i < 10; i++)
		bench_hist_record(h, 200000);
	assert_int_equal(bench_hist_percentile(h, 50), 100);
	assert_int_equal(bench_hist_percentile(h, 99), 100);
	uint64_t p999 = bench_hist_percentile(h, 99.9);
	assert_true(p999 >= 200000 && p999 <= 200000 + 200000 / 128);
	assert_int_equal(h->max, 200000);
	free(h);
}

static void
test_merge_adds_counts(void **state)
{
	struct bench_hist *a = hist_new(), *b = hist_new();
	for (int i = 0; i < 50; i++)
		bench_hist_record(a, 10);
	for (int i = 0; i < 50; i++)
		bench_hist_record(b, 30);
	bench_hist_merge(a, b);
	assert_int_equal(a->count, 100);
	assert_int_equal(a->min, 10);
	assert_int_equal(a->max, 30);
	assert_int_equal(bench_hist_percentile(a, 50), 10);
	assert_int_equal(bench_hist_percentile(a, 51), 30);
	free(a);
	free(b);
}

static void
test_empty_histogram_reports_zero(void **state)
{
	struct bench_hist *h = hist_new();
	assert_int_equal(bench_hist_percentile(h, 50), 0);
	assert_true(bench_hist_mean(h) == 0.0);
	free(h);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_small_values_are_exact),
	    cmocka_unit_test(test_bucket_bounds_are_continuous),
	    cmocka_unit_test(test_large_values_within_relative_error),
	    cmocka_unit_test(test_percentile_of_skewed_distribution),
	    cmocka_unit_test(test_merge_adds_counts),
	    cmocka_unit_test(test_empty_histogram_reports_zero),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
