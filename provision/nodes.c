/*
 * The Nodes' Ready condition, read from the API server's NodeList JSON
 * (GET /api/v1/nodes): how many of the settings' nodes report Ready=True.
 */
#include <errno.h>
#include <string.h>

#include <jansson.h>

#include "provision.h"

int
prov_nodes_ready(const struct prov_settings *s, const char *json, size_t *ready)
{
	json_t *root = json_loads(json, 0, NULL), *items, *item;
	size_t i;

	*ready = 0;
	if (root == NULL)
		return -EINVAL;
	items = json_object_get(root, "items");
	if (!json_is_array(items)) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(items, i, item)
	{
		const char *name = json_string_value(
		    json_object_get(json_object_get(item, "metadata"), "name"));
		json_t *conds = json_object_get(json_object_get(item, "status"),
		           "conditions"),
		       *c;
		bool ours = false;
		size_t j;

		for (size_t k = 0; name != NULL && k < s->n_nodes; k++)
			ours |= strcmp(s->nodes[k].name, name) == 0;
		if (!ours)
			continue;
		json_array_foreach(conds, j, c)
		{
			const char *type =
			    json_string_value(json_object_get(c, "type"));
			const char *st =
			    json_string_value(json_object_get(c, "status"));

			if (type && st && strcmp(type, "Ready") == 0 &&
			    strcmp(st, "True") == 0)
				(*ready)++;
		}
	}
	json_decref(root);
	return 0;
}
