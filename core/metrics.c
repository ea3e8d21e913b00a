/*
 * Prometheus text exposition helpers (format 0.0.4).
 */
#include <math.h>

#include "metrics.h"

void
metrics_header(struct evbuffer *out, const char *name, const char *type,
    const char *help)
{
	evbuffer_add_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help,
	    name, type);
}

void
metrics_sample(struct evbuffer *out, const char *name, const char *labels,
    double value)
{
	if (labels != NULL && *labels != '\0')
		evbuffer_add_printf(out, "%s{%s} %.17g\n", name, labels, value);
	else
		evbuffer_add_printf(out, "%s %.17g\n", name, value);
}

void
metrics_counter(struct evbuffer *out, const char *name, const char *help,
    uint64_t value)
{
	metrics_header(out, name, "counter", help);
	evbuffer_add_printf(out, "%s %llu\n", name, (unsigned long long)value);
}

void
metrics_gauge(struct evbuffer *out, const char *name, const char *help,
    double value)
{
	metrics_header(out, name, "gauge", help);
	metrics_sample(out, name, NULL, value);
}

void
metrics_histogram_observe(struct metrics_histogram *h, double v)
{
	unsigned i = 0;
	while (i < h->n_bounds && v > h->bounds[i])
		i++;
	if (i < sizeof(h->counts) / sizeof(h->counts[0]))
		h->counts[i]++;
	h->count++;
	h->sum += v;
}

void
metrics_histogram_write(struct evbuffer *out, const char *name,
    const char *help, const struct metrics_histogram *h)
{
	uint64_t cum = 0;
	metrics_header(out, name, "histogram", help);
	for (unsigned i = 0; i < h->n_bounds; i++) {
		cum += h->counts[i];
		evbuffer_add_printf(out, "%s_bucket{le=\"%g\"} %llu\n", name,
		    h->bounds[i], (unsigned long long)cum);
	}
	evbuffer_add_printf(out, "%s_bucket{le=\"+Inf\"} %llu\n", name,
	    (unsigned long long)h->count);
	evbuffer_add_printf(out, "%s_sum %.17g\n%s_count %llu\n", name, h->sum,
	    name, (unsigned long long)h->count);
}
