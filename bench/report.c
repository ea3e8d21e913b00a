/*
 * Output helpers for hearth-bench (see report.h): text and JSON figures
 * from the latency histogram, and the terminal-only live status line.
 */
#include <errno.h>
#include <stdarg.h>
#include <time.h>
#include <unistd.h>

#include "report.h"

uint64_t
bench_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static double
ms(uint64_t ns)
{
	return (double)ns / 1e6;
}

json_t *
bench_latency_json(const struct bench_hist *h)
{
	return json_pack("{s:f, s:f, s:f, s:f, s:f, s:f}", "p50",
	    ms(bench_hist_percentile(h, 50)), "p90",
	    ms(bench_hist_percentile(h, 90)), "p99",
	    ms(bench_hist_percentile(h, 99)), "p999",
	    ms(bench_hist_percentile(h, 99.9)), "max", ms(h->max), "mean",
	    bench_hist_mean(h) / 1e6);
}

void
bench_latency_print(FILE *f, const struct bench_hist *h)
{
	fprintf(f,
	    "  latency     p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  "
	    "p99.9 %.3f ms  max %.3f ms\n",
	    ms(bench_hist_percentile(h, 50)), ms(bench_hist_percentile(h, 90)),
	    ms(bench_hist_percentile(h, 99)),
	    ms(bench_hist_percentile(h, 99.9)), ms(h->max));
}

int
bench_json_emit(json_t *obj)
{
	if (obj == NULL)
		return -ENOMEM;
	int rc = json_dumpf(obj, stdout, JSON_COMPACT | JSON_REAL_PRECISION(9));
	json_decref(obj);
	if (rc || fputc('\n', stdout) == EOF || fflush(stdout))
		return -EIO;
	return 0;
}

bool
bench_progress_wanted(bool json)
{
	return !json && isatty(STDERR_FILENO);
}

void
bench_progress(const char *fmt, ...)
{
	va_list ap;
	fputs("\r\033[K", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

void
bench_progress_clear(void)
{
	fputs("\r\033[K", stderr);
	fflush(stderr);
}

const char *
bench_fmt_rate(double b, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB"};
	int u = 0;
	while (b >= 1024 && u < 3) {
		b /= 1024;
		u++;
	}
	snprintf(buf, len, "%.2f %s/s", b, unit[u]);
	return buf;
}
