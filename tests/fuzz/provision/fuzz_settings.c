/* Fuzzes the settings parser and validator (provision/settings.c). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "provision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hearth_config_errors errs = {0};
	struct prov_settings *s;

	s = prov_settings_parse("fuzz.yaml", (const char *)data, size, &errs);
	if (s != NULL) {
		/* A valid file must give documents without failing. */
		char *x = prov_network_xml(s, NULL, NULL);

		free(x);
		x = prov_network_config(s, prov_control_plane(s));
		free(x);
	}
	prov_settings_free(s);
	hearth_config_errors_free(&errs);
	return 0;
}
