/*
 * Output shared by hearth-bench's load generators: the monotonic clock,
 * the latency figures as text and as a jansson object, and the one-line
 * live status shown only on a terminal.
 */
#ifndef HEARTH_BENCH_REPORT_H
#define HEARTH_BENCH_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "bench_logic.h"

/* Nanoseconds on CLOCK_MONOTONIC. */
uint64_t bench_now_ns(void);
/* {p50, p90, p99, p999, max, mean} in milliseconds of a ns histogram. */
json_t *bench_latency_json(const struct bench_hist *h);
/* One text line "latency  p50 ... max ..." of a ns histogram. */
void bench_latency_print(FILE *f, const struct bench_hist *h);
/* Prints a JSON object as one line on stdout and frees it; 0 or -EIO. */
int bench_json_emit(json_t *obj);
/* True when a live status line should be drawn (stderr is a TTY, no --json). */
bool bench_progress_wanted(bool json);
/* Redraws the live status line on stderr. */
void bench_progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Erases the live status line. */
void bench_progress_clear(void);
/* Formats a byte rate like "12.3 MiB/s". */
const char *bench_fmt_rate(double bytes_per_s, char *buf, size_t len);

#endif
