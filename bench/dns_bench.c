/*
 * hearth-bench dns (skeleton; the load generator lands next).
 */
#include <stdio.h>

#include "bench.h"

/* Runs the dns load generator. */
int
bench_dns_main(int argc, char **argv)
{
	fprintf(stderr, "hearth-bench dns: not available yet\n");
	return 1;
}
