/*
 * The latency histogram: HDR-style log-linear buckets. Values below
 * 2*SUB fall in a bucket each; above that, every power-of-two range is
 * split into SUB equal buckets, so a percentile is reported within a
 * relative error of 1/SUB (0.8%) over the whole 64-bit range, in fixed
 * memory, and histograms of several threads merge by adding buckets.
 */
#include <string.h>

#include "bench_logic.h"

void
bench_hist_reset(struct bench_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

size_t
bench_hist_index(uint64_t v)
{
	if (v < 2 * BENCH_HIST_SUB)
		return (size_t)v;
	unsigned msb = 63 - (unsigned)__builtin_clzll(v);
	unsigned e = msb - BENCH_HIST_SUB_BITS;
	return (size_t)(e + 1) * BENCH_HIST_SUB +
	    (size_t)((v >> e) - BENCH_HIST_SUB);
}

uint64_t
bench_hist_bucket_high(size_t i)
{
	if (i < 2 * BENCH_HIST_SUB)
		return i;
	unsigned e = (unsigned)(i / BENCH_HIST_SUB) - 1;
	uint64_t m = i % BENCH_HIST_SUB + BENCH_HIST_SUB;
	if (m + 1 == 2 * BENCH_HIST_SUB && e + BENCH_HIST_SUB_BITS + 1 == 64)
		return UINT64_MAX;
	return ((m + 1) << e) - 1;
}

void
bench_hist_record(struct bench_hist *h, uint64_t v)
{
	h->buckets[bench_hist_index(v)]++;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
bench_hist_merge(struct bench_hist *dst, const struct bench_hist *src)
{
	if (src->count == 0)
		return;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++)
		dst->buckets[i] += src->buckets[i];
	dst->count += src->count;
	dst->sum += src->sum;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t
bench_hist_percentile(const struct bench_hist *h, double p)
{
	if (h->count == 0)
		return 0;
	if (p >= 100.0)
		return h->max;
	if (p < 0)
		p = 0;
	long double want = (long double)p / 100.0L * (long double)h->count;
	uint64_t rank = (uint64_t)want;
	if ((long double)rank < want)
		rank++;
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (size_t i = 0; i < BENCH_HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			uint64_t v = bench_hist_bucket_high(i);
			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

double
bench_hist_mean(const struct bench_hist *h)
{
	return h->count ? (double)(h->sum / h->count) : 0.0;
}
