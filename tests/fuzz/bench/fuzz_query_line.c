/*
 * Fuzzes the dnsperf query-file line parser: any line gives a query whose
 * wire form is a well-formed question, a skipped line, or -EINVAL.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_logic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	if (line == NULL)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	struct bench_dns_query q;
	int rc = bench_dns_line_parse(line, &q);
	free(line);
	if (rc != 0 && rc != 1 && rc != -EINVAL)
		abort();
	if (rc == 1) {
		/* header + at least the root label + type + class */
		if (q.len < 17 || q.len > BENCH_DNS_MAX_QUERY)
			abort();
		size_t off = 12;
		while (q.wire[off] != 0) {
			if (q.wire[off] > 63)
				abort();
			off += 1 + q.wire[off];
			if (off >= q.len)
				abort();
		}
		if (off + 5 != q.len)
			abort();
	}
	return 0;
}
