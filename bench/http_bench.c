/*
 * hearth-bench http (skeleton; the load generator lands next).
 */
#include <stdio.h>

#include "bench.h"

/* Runs the http load generator. */
int
bench_http_main(int argc, char **argv)
{
	fprintf(stderr, "hearth-bench http: not available yet\n");
	return 1;
}
