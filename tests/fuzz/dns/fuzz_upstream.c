/*
 * Fuzz target: what comes back from a forwarder. The input is an upstream
 * response to a fixed query; it is rendered for the client, stored in the
 * cache and served from it, fresh and stale.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "answer.h"
#include "cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t query[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0,
	    0, 3, 'W', 'w', 'W', 7, 'e', 'x', 'a', 'm', 'p', 'l', 'e', 3, 'o',
	    'r', 'g', 0, 0, 1, 0, 1};
	static uint8_t out[65535 + 64];
	struct dns_query q;
	if (dns_query_parse(query, sizeof(query), &q) != DNS_PARSE_OK)
		abort();
	uint8_t *msg = malloc(size ? size : 1);
	memcpy(msg, data, size);
	dns_upstream_render(msg, size, &q, out, sizeof(out));
	struct dns_cache *c = dns_cache_new(4);
	size_t n;
	if (size >= DNS_HDR_LEN && dns_cache_store(c, msg, size, 0, 100) == 0) {
		dns_cache_lookup(c, &q, 101, false, out, sizeof(out), &n);
		dns_cache_lookup(c, &q, 100000, true, out, sizeof(out), &n);
	}
	dns_cache_free(c);
	free(msg);
	return 0;
}
