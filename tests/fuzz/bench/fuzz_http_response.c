/*
 * Fuzzes the HTTP/1.1 response parser: the input is split at a point
 * taken from its first byte and fed as two reads, then as EOF, and every
 * result must be one of the documented ones with the bytes used in range.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bench_logic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	struct bench_http_parser p = {0};
	p.head_request = data[0] & 0x80;
	bench_http_parser_reset(&p);
	size_t split = data[0] & 0x7f;
	const char *buf = (const char *)data + 1;
	size_t len = size - 1, off = 0;
	if (split > len)
		split = len;
	size_t parts[2] = {split, len - split};
	for (int i = 0; i < 2; i++) {
		size_t used = 0;
		int rc = bench_http_parse(&p, buf + off, parts[i], &used);
		if (used > parts[i])
			abort();
		if (rc != 0 && rc != 1 && rc != -EBADMSG)
			abort();
		if (rc != 0)
			return 0;
		off += parts[i];
	}
	int rc = bench_http_parse_eof(&p);
	if (rc != 1 && rc != -EBADMSG)
		abort();
	return 0;
}
