/*
 * The JSON hearth-provision exchanges with the API server: the Nodes'
 * Ready condition read from a NodeList (GET /api/v1/nodes), and the
 * bootstrap-token Secret it creates when a worker must join after the
 * first token expired.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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

char *
prov_token_secret_json(const char *token, time_t expires)
{
	char id[7], name[32], exp[32];
	struct tm tm;
	json_t *j;
	char *out;

	if (!prov_token_valid(token) || gmtime_r(&expires, &tm) == NULL)
		return NULL;
	memcpy(id, token, 6);
	id[6] = '\0';
	snprintf(name, sizeof(name), "bootstrap-token-%s", id);
	strftime(exp, sizeof(exp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	j = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:{s:s, s:s, s:s, s:s, "
	              "s:s, s:s, s:s}}",
	    "apiVersion", "v1", "kind", "Secret", "metadata", "name", name,
	    "namespace", "kube-system", "type", "bootstrap.kubernetes.io/token",
	    "stringData", "description",
	    "hearth-provision: joins of re-made nodes", "token-id", id,
	    "token-secret", token + 7, "expiration", exp,
	    "usage-bootstrap-authentication", "true", "usage-bootstrap-signing",
	    "true", "auth-extra-groups",
	    "system:bootstrappers:kubeadm:default-node-token");
	if (j == NULL)
		return NULL;
	out = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	return out;
}
