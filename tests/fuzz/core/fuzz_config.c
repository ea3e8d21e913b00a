/*
 * Fuzz target of hearth_config_parse: any bytes give a model or errors,
 * never a crash, a leak or unbounded memory. A model that parses is
 * parsed again and must equal itself section by section, and its errors
 * (if any) must print.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Relative paths land in a directory that does not exist. */
	const char *name = "/nonexistent-hearth-fuzz/hearth.yaml";
	struct hearth_config_errors e = {0}, e2 = {0};
	struct hearth_model *m =
	    hearth_config_parse(name, (const char *)data, size, &e);
	if ((m == NULL) == (e.n == 0))
		abort();
	FILE *out = fopen("/dev/null", "w");
	if (out != NULL) {
		hearth_config_errors_print(&e, out);
		fclose(out);
	}
	if (m != NULL) {
		struct hearth_model *m2 =
		    hearth_config_parse(name, (const char *)data, size, &e2);
		if (m2 == NULL || !hearth_model_services_equal(m, m2) ||
		    !hearth_model_nat_equal(m, m2) ||
		    !hearth_model_dns_equal(m, m2) ||
		    !hearth_model_proxy_equal(m, m2) ||
		    !hearth_model_l2_equal(m, m2))
			abort();
		hearth_model_unref(m2);
	}
	hearth_config_errors_free(&e);
	hearth_config_errors_free(&e2);
	hearth_model_unref(m);
	return 0;
}
