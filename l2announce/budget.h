/*
 * The flood guard of the ARP/NDP answering thread: a CPU budget per time
 * window. The thread runs at real-time priority so that a request is
 * answered as soon as it arrives, and so it must never be able to take a
 * whole core: after each batch it charges the CPU time it used, and once
 * the window's budget is spent it goes on at normal priority, competing
 * like any other process, until the window ends. Pure arithmetic.
 */
#ifndef HEARTH_L2_BUDGET_H
#define HEARTH_L2_BUDGET_H
#include <stdint.h>

/* 50 ms of CPU per 100 ms: real time takes at most half a core. */
#define L2_BUDGET_WINDOW_NS 100000000
#define L2_BUDGET_CPU_NS    50000000

struct l2_budget {
	int64_t window_ns, cpu_ns; /* the window's length and budget */
	int64_t start;             /* the current window's start (clock) */
	int64_t cpu_at_start;      /* the thread's CPU time then */
};

/* A budget of cpu_ns per window_ns, its first window starting at now. */
void l2_budget_init(struct l2_budget *b, int64_t window_ns, int64_t cpu_ns,
    int64_t now, int64_t cpu);

/*
 * Charges the thread's CPU clock reading cpu at time now (both in ns).
 * Returns 0 while within budget, or how long (ns) until the window ends
 * once its budget is spent; the next window starts then.
 */
int64_t l2_budget_charge(struct l2_budget *b, int64_t now, int64_t cpu);
#endif
