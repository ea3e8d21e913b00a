/*
 * Prometheus text exposition helpers. Modules append their lines to the
 * evbuffer the daemon hands them; names are hearth_<module>_<what>.
 */
#ifndef HEARTH_METRICS_H
#define HEARTH_METRICS_H

#include <stdint.h>

#include <event2/buffer.h>

/* "# HELP" and "# TYPE" lines; type is "counter", "gauge" or "histogram". */
void metrics_header(struct evbuffer *out, const char *name, const char *type,
    const char *help);
/* One sample: name{labels} value; labels may be NULL or "". */
void metrics_sample(struct evbuffer *out, const char *name, const char *labels,
    double value);
/* A counter or gauge with its header and one unlabelled sample. */
void metrics_counter(struct evbuffer *out, const char *name, const char *help,
    uint64_t value);
void metrics_gauge(struct evbuffer *out, const char *name, const char *help,
    double value);

/*
 * A fixed-bucket histogram of durations in seconds. Buckets are the
 * upper bounds, ascending; counts has n_bounds + 1 slots (+Inf last).
 */
struct metrics_histogram {
	const double *bounds;
	unsigned n_bounds;
	uint64_t counts[32];
	uint64_t count;
	double sum;
};
void metrics_histogram_observe(struct metrics_histogram *h, double v);
void metrics_histogram_write(struct evbuffer *out, const char *name,
    const char *help, const struct metrics_histogram *h);

#endif
