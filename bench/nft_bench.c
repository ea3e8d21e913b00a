/*
 * hearth-bench nft: placeholder until the nft module's helper
 * replaces this file with the real measurement (issue #3).
 */
#include <stdio.h>

#include "bench.h"

/* Reports that the measurement is not available yet. */
int
bench_nft_main(int argc, char **argv)
{
	fprintf(stderr, "hearth-bench nft: not available yet\n");
	return 1;
}
