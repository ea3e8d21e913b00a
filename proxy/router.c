/*
 * The route index: host names sorted for binary search (exact names and
 * wildcard suffixes apart), and each route's rules sorted once by
 * precedence so that a lookup is the first rule that matches.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "router.h"

struct host_ent {
	const char *name; /* exact name, or the suffix ".x.y" */
	size_t len;
	const struct hearth_proxy_route *route;
};

struct rule_ent {
	const struct hearth_proxy_rule *rule;
	size_t id;
	size_t order;
};

struct route_ent {
	const struct hearth_proxy_route *route;
	struct rule_ent *rules; /* sorted by precedence */
	size_t n_rules;
};

struct host_table {
	struct host_ent *exact, *wild;
	size_t n_exact, n_wild;
};

struct proxy_router {
	struct host_table any, http;
	struct route_ent *routes;
	size_t n_routes;
	size_t n_rules;
};

static int
host_cmp(const void *a, const void *b)
{
	const struct host_ent *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->name, y->name, n);
	if (c != 0)
		return c;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* Sorting order: by name, then the earlier route first. */
static int
host_sort_cmp(const void *a, const void *b)
{
	const struct host_ent *x = a, *y = b;
	int c = host_cmp(a, b);
	if (c != 0)
		return c;
	return x->route < y->route ? -1 : x->route > y->route;
}

static int
rule_cmp(const void *a, const void *b)
{
	const struct rule_ent *x = a, *y = b;
	const struct hearth_proxy_rule *rx = x->rule, *ry = y->rule;
	if (rx->match != ry->match)
		return rx->match == HEARTH_PATH_EXACT ? -1 : 1;
	size_t lx = strlen(rx->path ? rx->path : "/");
	size_t ly = strlen(ry->path ? ry->path : "/");
	if (lx != ly)
		return lx > ly ? -1 : 1;
	if ((rx->n_headers > 0) != (ry->n_headers > 0))
		return rx->n_headers > 0 ? -1 : 1;
	if (rx->n_headers != ry->n_headers)
		return rx->n_headers > ry->n_headers ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
table_build(struct host_table *t, const struct hearth_proxy *p, bool http)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_routes; i++)
		n += p->routes[i].n_hostnames;
	t->exact = calloc(n ? n : 1, sizeof(*t->exact));
	t->wild = calloc(n ? n : 1, sizeof(*t->wild));
	if (t->exact == NULL || t->wild == NULL)
		return -1;
	for (size_t i = 0; i < p->n_routes; i++) {
		const struct hearth_proxy_route *rt = &p->routes[i];
		if (http && rt->passthrough)
			continue;
		for (size_t j = 0; j < rt->n_hostnames; j++) {
			const char *h = rt->hostnames[j];
			if (h[0] == '*' && h[1] == '.')
				t->wild[t->n_wild++] =
				    (struct host_ent){h + 1, strlen(h + 1), rt};
			else
				t->exact[t->n_exact++] =
				    (struct host_ent){h, strlen(h), rt};
		}
	}
	/* On equal names the earlier route wins. */
	qsort(t->exact, t->n_exact, sizeof(*t->exact), host_sort_cmp);
	qsort(t->wild, t->n_wild, sizeof(*t->wild), host_sort_cmp);
	return 0;
}

static int
routes_build(struct proxy_router *r, const struct hearth_proxy *p)
{
	r->routes = calloc(p->n_routes ? p->n_routes : 1, sizeof(*r->routes));
	if (r->routes == NULL)
		return -1;
	r->n_routes = p->n_routes;
	for (size_t i = 0; i < p->n_routes; i++) {
		struct route_ent *e = &r->routes[i];
		e->route = &p->routes[i];
		e->n_rules = p->routes[i].n_rules;
		e->rules =
		    calloc(e->n_rules ? e->n_rules : 1, sizeof(*e->rules));
		if (e->rules == NULL)
			return -1;
		for (size_t j = 0; j < e->n_rules; j++)
			e->rules[j] = (struct rule_ent){&p->routes[i].rules[j],
			    r->n_rules++, j};
		qsort(e->rules, e->n_rules, sizeof(*e->rules), rule_cmp);
	}
	return 0;
}

struct proxy_router *
proxy_router_new(const struct hearth_proxy *p)
{
	struct proxy_router *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	if (table_build(&r->any, p, false) != 0 ||
	    table_build(&r->http, p, true) != 0 || routes_build(r, p) != 0) {
		proxy_router_free(r);
		return NULL;
	}
	return r;
}

void
proxy_router_free(struct proxy_router *r)
{
	if (r == NULL)
		return;
	free(r->any.exact);
	free(r->any.wild);
	free(r->http.exact);
	free(r->http.wild);
	for (size_t i = 0; r->routes != NULL && i < r->n_routes; i++)
		free(r->routes[i].rules);
	free(r->routes);
	free(r);
}

size_t
proxy_router_n_rules(const struct proxy_router *r)
{
	return r->n_rules;
}

/* The first entry named exactly key (earliest route on duplicates). */
static const struct host_ent *
table_find(const struct host_ent *v, size_t n, const char *key, size_t len)
{
	size_t lo = 0, hi = n;
	struct host_ent k = {key, len, NULL};
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (host_cmp(&v[mid], &k) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < n && host_cmp(&v[lo], &k) == 0)
		return &v[lo];
	return NULL;
}

const struct hearth_proxy_route *
proxy_router_host(const struct proxy_router *r, const char *host, size_t len,
    enum proxy_route_kind kind)
{
	char name[256];
	const struct host_table *t =
	    kind == PROXY_ROUTES_HTTP ? &r->http : &r->any;
	if (len > 0 && host[0] != '[') {
		const char *colon = memchr(host, ':', len);
		if (colon != NULL)
			len = (size_t)(colon - host);
	}
	if (len > 0 && host[len - 1] == '.')
		len--;
	if (len == 0 || len >= sizeof(name))
		return NULL;
	for (size_t i = 0; i < len; i++) {
		char c = host[i];
		name[i] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	const struct host_ent *e = table_find(t->exact, t->n_exact, name, len);
	if (e != NULL)
		return e->route;
	/* Longest wildcard suffix first: ".b.c" before ".c". */
	for (size_t i = 1; i < len; i++) {
		if (name[i] != '.')
			continue;
		e = table_find(t->wild, t->n_wild, name + i, len - i);
		if (e != NULL)
			return e->route;
	}
	return NULL;
}

bool
proxy_path_prefix_match(const char *prefix, struct proxy_str path)
{
	size_t n = strlen(prefix);
	while (n > 1 && prefix[n - 1] == '/')
		n--;
	if (n == 1 && prefix[0] == '/')
		return true;
	if (path.len < n || memcmp(path.p, prefix, n) != 0)
		return false;
	return path.len == n || path.p[n] == '/';
}

static bool
headers_match(const struct hearth_proxy_rule *rule,
    const struct proxy_http_msg *msg)
{
	for (size_t i = 0; i < rule->n_headers; i++) {
		const struct hearth_proxy_header_match *m = &rule->headers[i];
		size_t nl = strlen(m->name), vl = strlen(m->value);
		bool found = false;
		for (size_t j = 0; msg != NULL && j < msg->n_headers && !found;
		     j++) {
			const struct proxy_http_header *h = &msg->headers[j];
			found = h->name.len == nl &&
			    strncasecmp(h->name.p, m->name, nl) == 0 &&
			    h->value.len == vl &&
			    memcmp(h->value.p, m->value, vl) == 0;
		}
		if (!found)
			return false;
	}
	return true;
}

const struct hearth_proxy_rule *
proxy_router_rule(const struct proxy_router *r,
    const struct hearth_proxy_route *route, struct proxy_str path,
    const struct proxy_http_msg *msg, size_t *rule_id)
{
	const struct route_ent *e = NULL;
	for (size_t i = 0; i < r->n_routes && e == NULL; i++)
		if (r->routes[i].route == route)
			e = &r->routes[i];
	if (e == NULL)
		return NULL;
	for (size_t i = 0; i < e->n_rules; i++) {
		const struct hearth_proxy_rule *rule = e->rules[i].rule;
		const char *rp = rule->path ? rule->path : "/";
		bool ok = rule->match == HEARTH_PATH_EXACT ?
		    strlen(rp) == path.len &&
		        memcmp(rp, path.p, path.len) == 0 :
		    proxy_path_prefix_match(rp, path);
		if (ok && headers_match(rule, msg)) {
			*rule_id = e->rules[i].id;
			return rule;
		}
	}
	return NULL;
}

int
proxy_swrr_pick(const struct hearth_proxy_backend *b, size_t n, uint64_t alive,
    int64_t *cur)
{
	int64_t total = 0;
	int best = -1;
	for (size_t i = 0; i < n && i < 64; i++) {
		if (!(alive & (UINT64_C(1) << i)) || b[i].weight == 0)
			continue;
		cur[i] += b[i].weight;
		total += b[i].weight;
		if (best < 0 || cur[i] > cur[best])
			best = (int)i;
	}
	if (best >= 0)
		cur[best] -= total;
	return best;
}
