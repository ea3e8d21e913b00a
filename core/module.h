/*
 * The module interface. Each module (l2announce, nft, dns, proxy) exports
 * one const ops table from its one public header; the daemon creates a
 * module when the model gives it work, hands it every new model, asks it
 * for health and metrics, and stops and destroys it in reverse order.
 * Modules never include each other; they see only core's public headers.
 */
#ifndef HEARTH_MODULE_H
#define HEARTH_MODULE_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "model.h"

struct hearth_env;

/* What the daemon lends a module. Borrowed; lives as long as the daemon. */
struct hearth_env {
	struct event_base *base; /* the one event base; never block on it */
	const char *node_name;   /* this node's resolved name */
	/* A draining module calls this when its stop has finished. */
	void (*stopped)(struct hearth_env *env, const char *module);
	/* A module calls this when its health changes (for READY=1). */
	void (*health_changed)(struct hearth_env *env, const char *module);
	void *daemon; /* opaque to modules */
};

enum hearth_health {
	HEARTH_HEALTH_STARTING, /* not yet serving */
	HEARTH_HEALTH_OK,
	HEARTH_HEALTH_DEGRADED, /* serving, with a fault (e.g. a refused batch)
	                         */
};

struct hearth_module_ops {
	const char *name;
	/* Does this model give the module work? (SPEC section 2) */
	bool (*wanted)(const struct hearth_model *m);
	/*
	 * Acquires the module's resources (sockets, netlink) and starts it
	 * with model m. Runs before privileges are dropped. Returns 0, or a
	 * negative errno after logging one line that names the resource.
	 */
	int (*create)(struct hearth_env *env, const struct hearth_model *m,
	    void **state);
	/*
	 * Moves from model old to model new (both borrowed; new stays alive
	 * until the next apply). Applied whole or not at all: on error the
	 * module keeps serving old and returns a negative errno.
	 */
	int (*apply)(void *state, const struct hearth_model *old,
	    const struct hearth_model *new);
	enum hearth_health (*health)(void *state);
	/* Appends Prometheus text lines (hearth_<module>_...). May be NULL. */
	void (*metrics)(void *state, struct evbuffer *out);
	/*
	 * Begins a graceful stop. Returns 0 when stopped at once, or 1 when
	 * draining: the module calls env->stopped() when it has finished.
	 * drain_seconds bounds the drain; the daemon destroys it after that.
	 */
	int (*stop)(void *state, unsigned drain_seconds);
	/* Frees everything; accepts a half-built or stopping module. */
	void (*destroy)(void *state);
};

#endif
