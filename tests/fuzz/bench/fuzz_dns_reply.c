/*
 * Fuzzes the DNS reply header check: any bytes give 0 or -EBADMSG, and an
 * accepted reply has an rcode in range.
 */
#include <errno.h>
#include <stdlib.h>

#include "bench_logic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bench_dns_reply r;
	int rc = bench_dns_reply_parse(data, size, &r);
	if (rc != 0 && rc != -EBADMSG)
		abort();
	if (rc == 0 && r.rcode > 15)
		abort();
	return 0;
}
