/*
 * Fuzzes the ClientHello server-name reader: any input must give a result
 * without reading outside it, and a found name is a non-empty lower-case
 * name. Seeds are ClientHellos captured from openssl s_client and curl.
 */
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "sni.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checked in every build type (assert vanishes under NDEBUG). */
#define CHECK(x)                                                               \
	do {                                                                   \
		if (!(x))                                                      \
			abort();                                               \
	} while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char name[256];
	int r = proxy_sni_parse(data, size, name, sizeof(name));
	if (r == PROXY_SNI_FOUND) {
		size_t n = strlen(name);
		CHECK(n > 0 && n < 256);
		for (size_t i = 0; i < n; i++)
			CHECK(name[i] < 'A' || name[i] > 'Z');
	}
	return 0;
}
