/*
 * The answering thread's CPU budget (see budget.h): fixed windows; a
 * window that has ended starts a new one at the current reading, so an
 * idle spell never banks budget for a later burst.
 */
#include "budget.h"

void
l2_budget_init(struct l2_budget *b, int64_t window_ns, int64_t cpu_ns,
    int64_t now, int64_t cpu)
{
	b->window_ns = window_ns > 0 ? window_ns : 1;
	b->cpu_ns = cpu_ns > 0 ? cpu_ns : 1;
	b->start = now;
	b->cpu_at_start = cpu;
}

int64_t
l2_budget_charge(struct l2_budget *b, int64_t now, int64_t cpu)
{
	if (now - b->start >= b->window_ns || now < b->start) {
		b->start = now;
		b->cpu_at_start = cpu;
		return 0;
	}
	if (cpu - b->cpu_at_start < b->cpu_ns)
		return 0;
	int64_t pause = b->start + b->window_ns - now;
	/* The pause ends this window; the next one starts after it. */
	b->start = now + pause;
	b->cpu_at_start = cpu;
	return pause;
}
