/*
 * Fuzzes what hearth-provision reads back from libvirt (network, domain,
 * volume and pool XML) and from the API server (NodeList JSON): the first
 * byte picks the parser, the rest is its input, NUL-terminated.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provision.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct prov_settings *s;
	char *text, path[256], name[64], uuid[PROV_UUID_STRLEN];
	union {
		struct prov_net_facts n;
		struct prov_dom_facts d;
		struct prov_vol_facts v;
	} f;
	size_t ready;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (text == NULL)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 6) {
	case 0:
		prov_net_facts_parse(text, &f.n);
		break;
	case 1:
		prov_dom_facts_parse(text, &f.d);
		break;
	case 2:
		prov_vol_facts_parse(text, &f.v);
		break;
	case 3:
		prov_pool_path_parse(text, path, sizeof(path));
		break;
	case 4:
		prov_xml_identity(text, name, sizeof(name), uuid);
		break;
	case 5:
		s = prov_settings_default();
		prov_nodes_ready(s, text, &ready);
		prov_settings_free(s);
		break;
	}
	free(text);
	return 0;
}
