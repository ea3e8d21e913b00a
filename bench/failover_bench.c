/*
 * hearth-bench failover: placeholder until the l2announce module's helper
 * replaces this file with the real measurement (issue #3).
 */
#include <stdio.h>

#include "bench.h"

/* Reports that the measurement is not available yet. */
int
bench_failover_main(int argc, char **argv)
{
	fprintf(stderr, "hearth-bench failover: not available yet\n");
	return 1;
}
