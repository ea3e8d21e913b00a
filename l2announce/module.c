/*
 * The l2announce module's ops table: wanted when a pool or a service
 * address exists (or in Kubernetes mode). The state holds one announcer;
 * a reload that changes the node's name, interface, members or port
 * builds a new announcer before the old one leaves, so a failure keeps
 * the old one serving.
 */
#include <errno.h>
#include <stdlib.h>

#include "announcer.h"
#include "l2announce.h"
#include "log.h"

struct l2_module {
	struct hearth_env *env;
	struct l2_announcer *a;
};

static bool
l2_wanted(const struct hearth_model *m)
{
	return m->n_pools > 0 || m->n_services > 0 || m->kubernetes.enabled;
}

static int
l2_create(struct hearth_env *env, const struct hearth_model *m, void **state)
{
	struct l2_module *mod = calloc(1, sizeof(*mod));
	if (mod == NULL) {
		log_error("l2announce: out of memory");
		return -ENOMEM;
	}
	mod->env = env;
	mod->a = l2_announcer_new(env, m);
	if (mod->a == NULL) {
		free(mod);
		return -EIO;
	}
	*state = mod;
	return 0;
}

static int
l2_apply(void *state, const struct hearth_model *old,
    const struct hearth_model *new)
{
	struct l2_module *mod = state;
	if (l2_announcer_same_shape(mod->a, new))
		return l2_announcer_update(mod->a, new);
	log_info("l2announce: node, interface, members or port changed: "
	         "rejoining");
	struct l2_announcer *a = l2_announcer_new(mod->env, new);
	if (a == NULL)
		return -EIO;
	l2_announcer_stop(mod->a);
	l2_announcer_free(mod->a);
	mod->a = a;
	return 0;
}

static enum hearth_health
l2_health(void *state)
{
	struct l2_module *mod = state;
	return l2_announcer_health(mod->a);
}

static void
l2_metrics(void *state, struct evbuffer *out)
{
	struct l2_module *mod = state;
	l2_announcer_metrics(mod->a, out);
}

static int
l2_stop(void *state, unsigned drain_seconds)
{
	struct l2_module *mod = state;
	l2_announcer_stop(mod->a);
	return 0;
}

static void
l2_destroy(void *state)
{
	struct l2_module *mod = state;
	if (mod == NULL)
		return;
	l2_announcer_free(mod->a);
	free(mod);
}

const struct hearth_module_ops l2announce_module = {
    .name = "l2announce",
    .wanted = l2_wanted,
    .create = l2_create,
    .apply = l2_apply,
    .health = l2_health,
    .metrics = l2_metrics,
    .stop = l2_stop,
    .destroy = l2_destroy,
};
