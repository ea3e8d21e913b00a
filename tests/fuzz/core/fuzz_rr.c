/*
 * Fuzz target of hearth_rr_parse: the first byte picks the zone origin,
 * the rest is the presentation line. A record that parses must have an
 * owner inside the origin and rdata of the length it claims.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const origins[] = {"qroksera.com", "example.com",
	    "a.b.c.d.e.f.g", "x"};
	if (size == 0 || size > 65536)
		return 0;
	const char *origin = origins[data[0] % 4];
	char *line = malloc(size);
	if (line == NULL)
		return 0;
	memcpy(line, data + 1, size - 1);
	line[size - 1] = '\0';
	struct hearth_rr rr;
	char err[256];
	if (hearth_rr_parse(line, origin, &rr, err, sizeof(err)) == 0) {
		size_t ol = strlen(rr.owner), gl = strlen(origin);
		if (rr.rdata == NULL || rr.rdlen == 0 || ol < gl ||
		    strcmp(rr.owner + ol - gl, origin) != 0)
			abort();
		uint8_t sum = 0;
		for (size_t i = 0; i < rr.rdlen; i++)
			sum ^= rr.rdata[i];
		if (sum == 0 && rr.rdata[0] != 0 && rr.rdlen == 1)
			abort(); /* reads every byte under ASan */
		hearth_rr_clear(&rr);
	} else if (err[0] == '\0') {
		abort();
	}
	free(line);
	return 0;
}
