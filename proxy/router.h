/*
 * Route choice, pure: an immutable index built from the model's proxy
 * routes that answers "which route serves this host name" (exact name
 * over the longest wildcard suffix) and "which rule of that route serves
 * this path and these headers" (path_exact over path_prefix, longer
 * prefix first, a rule with headers before one without, then file
 * order), plus smooth weighted round robin among a rule's backends.
 */
#ifndef HEARTH_PROXY_ROUTER_H
#define HEARTH_PROXY_ROUTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"
#include "model.h"

struct proxy_router;

/* Which routes a host lookup considers. */
enum proxy_route_kind {
	PROXY_ROUTES_ANY,  /* TLS SNI: passthrough or terminated */
	PROXY_ROUTES_HTTP, /* HTTP requests: no passthrough routes */
};

/*
 * Builds the index over p's routes (borrowed: p must outlive it).
 * Returns NULL on allocation failure.
 */
struct proxy_router *proxy_router_new(const struct hearth_proxy *p);
void proxy_router_free(struct proxy_router *r);

/* How many rules the routes hold; rule ids are 0..n-1. */
size_t proxy_router_n_rules(const struct proxy_router *r);

/*
 * The route for host name (any case; a ":port" suffix and a trailing dot
 * are ignored), or NULL.
 */
const struct hearth_proxy_route *proxy_router_host(const struct proxy_router *r,
    const char *host, size_t len, enum proxy_route_kind kind);

/*
 * The rule of route serving path (no query) for request msg's headers,
 * or NULL. *rule_id is its id for per-rule state.
 */
const struct hearth_proxy_rule *proxy_router_rule(const struct proxy_router *r,
    const struct hearth_proxy_route *route, struct proxy_str path,
    const struct proxy_http_msg *msg, size_t *rule_id);

/* Does a path_prefix match path, by whole segments ("/a" covers "/a/b"). */
bool proxy_path_prefix_match(const char *prefix, struct proxy_str path);

/*
 * Smooth weighted round robin (nginx's): picks one of n backends whose
 * bit is set in alive (bit i for backend i, first 64), updating the
 * running weights cur[n]. Returns the index, or -1 when no alive backend
 * has a weight above 0.
 */
int proxy_swrr_pick(const struct hearth_proxy_backend *b, size_t n,
    uint64_t alive, int64_t *cur);

#endif
