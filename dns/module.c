/*
 * The dns module's ops table: creates the server on the daemon's event
 * base (listeners, c-ares channel, cache, rate limiter, query log),
 * applies new models whole or not at all, reports health and metrics,
 * and stops. Everything per packet lives in io.c and forward.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dns.h"
#include "log.h"
#include "server.h"

static const double latency_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
    0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5};

static bool
dns_wanted(const struct hearth_model *m)
{
	return m->has_dns;
}

static bool
ep_eq(const struct hearth_endpoint *a, const struct hearth_endpoint *b)
{
	return a->port == b->port && hearth_addr_eq(&a->addr, &b->addr);
}

static void
server_free(struct dns_server *srv)
{
	if (srv == NULL)
		return;
	dns_workers_stop(srv);
	dns_fwdq_fini(srv);
	struct dns_tcp *c;
	while ((c = TAILQ_FIRST(&srv->conns)) != NULL)
		dns_tcp_close(c);
	struct dns_listener *l;
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		TAILQ_REMOVE(&srv->listeners, l, link);
		dns_listener_close(l);
	}
	dns_forward_fini(srv);
	if (srv->reap_ev != NULL)
		event_free(srv->reap_ev);
	dns_cache_free(srv->cache);
	dns_rl_free(srv->rl);
	dns_qlog_close(srv->qlog);
	dns_snapshot_unref(srv->snap);
	dns_ctx_fini(&srv->main_ctx);
	free(srv);
}

/* Opens listeners for cfg, reusing those of srv already on an endpoint. */
static int
open_listeners(struct dns_server *srv, const struct hearth_dns *cfg,
    struct dns_listener **out)
{
	for (size_t i = 0; i < cfg->n_listen; i++) {
		struct dns_listener *l;
		out[i] = NULL;
		TAILQ_FOREACH(l, &srv->listeners, link)
		if (ep_eq(&l->ep, &cfg->listen[i]))
			out[i] = l;
		for (size_t j = 0; j < i && out[i] == NULL; j++)
			if (ep_eq(&cfg->listen[j], &cfg->listen[i]))
				out[i] = out[j];
		if (out[i] != NULL)
			continue;
		out[i] = dns_listener_open(srv, &cfg->listen[i]);
		if (out[i] == NULL) {
			/* Close what this call opened; keep the old ones. */
			for (size_t j = 0; j < i; j++) {
				bool old = false;
				TAILQ_FOREACH(l, &srv->listeners, link)
				old |= l == out[j];
				for (size_t k = 0; k < j; k++)
					old |= out[k] == out[j];
				if (!old)
					dns_listener_close(out[j]);
			}
			return -EADDRNOTAVAIL;
		}
	}
	return 0;
}

/* Makes the listeners of out the server's, closing the others. */
static void
swap_listeners(struct dns_server *srv, struct dns_listener **ls, size_t n)
{
	struct dns_listener *l;
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		bool kept = false;
		for (size_t i = 0; i < n; i++)
			kept |= ls[i] == l;
		TAILQ_REMOVE(&srv->listeners, l, link);
		if (!kept)
			dns_listener_close(l);
	}
	for (size_t i = 0; i < n; i++) {
		bool dup = false;
		for (size_t j = 0; j < i; j++)
			dup |= ls[j] == ls[i];
		if (!dup)
			TAILQ_INSERT_TAIL(&srv->listeners, ls[i], link);
	}
}

/* Builds everything for cfg, then swaps it in; on error nothing changes. */
static int
server_configure(struct dns_server *srv, const struct hearth_dns *cfg)
{
	struct dns_snapshot *snap = dns_snapshot_new(cfg);
	struct dns_cache *cache = NULL;
	struct dns_rl *rl = NULL;
	struct dns_qlog *ql = NULL;
	struct dns_listener **ls =
	    calloc(cfg->n_listen ? cfg->n_listen : 1, sizeof(*ls));
	int r = -ENOMEM;
	if (snap == NULL || ls == NULL)
		goto fail;
	/* The cache survives a reload that keeps its size and forwarders. */
	bool keep_cache = srv->cache != NULL && cfg->n_forwarders > 0 &&
	    dns_cache_capacity(srv->cache) == cfg->cache_entries &&
	    dns_forward_same(srv, cfg);
	/* cache_entries 0: no cache (every miss asks the forwarders). */
	if (cfg->n_forwarders > 0 && cfg->cache_entries > 0 && !keep_cache &&
	    (cache = dns_cache_new(cfg->cache_entries)) == NULL)
		goto fail;
	rl = dns_rl_new(&cfg->rate_limit);
	if (cfg->rate_limit.responses_per_second > 0 && rl == NULL)
		goto fail;
	if (cfg->query_log != NULL && cfg->query_log[0] != '\0' &&
	    (ql = dns_qlog_open(cfg->query_log)) == NULL) {
		log_warn("dns: cannot open query log %s", cfg->query_log);
		r = -EACCES;
		goto fail;
	}
	r = open_listeners(srv, cfg, ls);
	if (r < 0)
		goto fail;
	/* Past this point nothing fails that leaves the old state broken. */
	dns_workers_stop(srv);
	if (!dns_forward_same(srv, cfg)) {
		dns_forward_fini(srv);
		if (dns_forward_init(srv, cfg) < 0)
			log_warnx("dns: cannot set up the forwarders");
	}
	swap_listeners(srv, ls, cfg->n_listen);
	free(ls);
	dns_snapshot_unref(srv->snap);
	srv->snap = snap;
	if (!keep_cache) {
		dns_cache_free(srv->cache);
		srv->cache = cache;
	}
	dns_rl_free(srv->rl);
	srv->rl = rl;
	dns_qlog_close(srv->qlog);
	srv->qlog = ql;
	if (!srv->stopping && dns_workers_start(srv) < 0)
		log_warnx(
		    "dns: no worker threads; the main loop answers alone");
	return 0;
fail:
	dns_snapshot_unref(snap);
	dns_cache_free(cache);
	dns_rl_free(rl);
	dns_qlog_close(ql);
	free(ls);
	return r;
}

static int
dns_create(struct hearth_env *env, const struct hearth_model *m, void **state)
{
	struct dns_server *srv = calloc(1, sizeof(*srv));
	if (srv == NULL)
		return -ENOMEM;
	srv->env = env;
	srv->base = env->base;
	TAILQ_INIT(&srv->listeners);
	TAILQ_INIT(&srv->conns);
	srv->stats.n_views = 1;
	srv->stats.fwd_latency.bounds = latency_bounds;
	srv->stats.fwd_latency.n_bounds =
	    sizeof(latency_bounds) / sizeof(latency_bounds[0]);
	srv->fwdq_fd = -1;
	if (dns_ctx_init(&srv->main_ctx, srv, &srv->stats, NULL) < 0 ||
	    dns_fwdq_init(srv) < 0) {
		server_free(srv);
		return -ENOMEM;
	}
	int r = server_configure(srv, &m->dns);
	if (r < 0) {
		server_free(srv);
		return r;
	}
	log_info("dns: serving %zu zone(s) on %zu listener(s), %zu "
	         "forwarder(s)",
	    m->dns.n_zones, m->dns.n_listen, m->dns.n_forwarders);
	*state = srv;
	return 0;
}

static int
dns_apply(void *state, const struct hearth_model *old,
    const struct hearth_model *new)
{
	struct dns_server *srv = state;
	if (old != NULL && hearth_model_dns_equal(old, new))
		return 0;
	int r = server_configure(srv, &new->dns);
	if (r == 0)
		log_info("dns: configuration applied (%zu zone(s))",
		    new->dns.n_zones);
	return r;
}

static enum hearth_health
dns_health(void *state)
{
	struct dns_server *srv = state;
	return TAILQ_EMPTY(&srv->listeners) ? HEARTH_HEALTH_STARTING :
	                                      HEARTH_HEALTH_OK;
}

static const char *const type_names[DNS_N_TYPES] = {"A", "AAAA", "CNAME", "MX",
    "TXT", "NS", "SOA", "SRV", "PTR", "CAA", "ANY", "HTTPS", "DS", "other"};
static const char *const rcode_names[DNS_N_RCODES] = {"NOERROR", "FORMERR",
    "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "BADVERS", "other"};

/* A view name as a Prometheus label value: quotes, backslashes and
 * control characters become '_'. */
static void
label_value(const char *in, char *out, size_t cap)
{
	size_t i = 0;
	for (; in[i] != '\0' && i + 1 < cap; i++)
		out[i] = (in[i] == '"' || in[i] == '\\' ||
		             (unsigned char)in[i] < 0x20) ?
		    '_' :
		    in[i];
	out[i] = '\0';
}

static void
dns_metrics(void *state, struct evbuffer *out)
{
	struct dns_server *srv = state;
	struct dns_stats *st = malloc(sizeof(*st));
	if (st == NULL)
		return;
	*st = srv->stats;
	dns_workers_stats(srv, st);
	metrics_header(out, "hearth_dns_queries_total", "counter",
	    "Queries answered, by view, query type and response code.");
	for (unsigned v = 0; v < st->n_views; v++)
		for (unsigned t = 0; t < DNS_N_TYPES; t++)
			for (unsigned r = 0; r < DNS_N_RCODES; r++) {
				if (st->queries[v][t][r] == 0)
					continue;
				char labels[200], view[64];
				label_value(st->views[v], view, sizeof(view));
				snprintf(labels, sizeof(labels),
				    "view=\"%s\",type=\"%s\",rcode=\"%s\"",
				    view, type_names[t], rcode_names[r]);
				metrics_sample(out, "hearth_dns_queries_total",
				    labels, (double)st->queries[v][t][r]);
			}
	metrics_counter(out, "hearth_dns_cache_hits_total",
	    "Forwardable queries answered from the cache.", st->cache_hits);
	metrics_counter(out, "hearth_dns_cache_misses_total",
	    "Forwardable queries sent to the forwarders.", st->cache_misses);
	metrics_counter(out, "hearth_dns_stale_answers_total",
	    "Expired cached answers served while forwarders failed.",
	    st->stale_served);
	metrics_gauge(out, "hearth_dns_cache_entries", "Entries in the cache.",
	    srv->cache ? dns_cache_count(srv->cache) : 0);
	metrics_counter(out, "hearth_dns_forward_failures_total",
	    "Forwarded queries no forwarder answered.", st->forward_failures);
	metrics_histogram_write(out, "hearth_dns_forwarder_latency_seconds",
	    "Time from forwarding a query to its upstream answer.",
	    &st->fwd_latency);
	metrics_counter(out, "hearth_dns_truncated_total",
	    "UDP answers sent truncated (TC=1).", st->truncated);
	metrics_header(out, "hearth_dns_rate_limited_total", "counter",
	    "Responses withheld by the rate limit, by action.");
	metrics_sample(out, "hearth_dns_rate_limited_total", "action=\"drop\"",
	    (double)st->rl_dropped);
	metrics_sample(out, "hearth_dns_rate_limited_total", "action=\"slip\"",
	    (double)st->rl_slipped);
	metrics_counter(out, "hearth_dns_dropped_total",
	    "Packets dropped unanswered (garbage, send failures).",
	    st->dropped);
	metrics_counter(out, "hearth_dns_tcp_connections_total",
	    "TCP connections accepted.", st->tcp_conns);
	metrics_counter(out, "hearth_dns_forwarding_coalesced_total",
	    "Cache misses that joined an identical query already upstream.",
	    st->coalesced);
	metrics_gauge(out, "hearth_dns_forwarding_in_flight",
	    "Queries waiting for the forwarders.",
	    (double)atomic_load(&srv->inflight));
	metrics_counter(out, "hearth_dns_forwarding_shed_total",
	    "Cache misses dropped because too many were in flight.",
	    (uint64_t)atomic_load(&srv->shed));
	metrics_counter(out, "hearth_dns_udp_polled_total",
	    "UDP queries read on the polling timer under load rather than "
	    "by a wakeup of their own.",
	    st->udp_polled);
	metrics_gauge(out, "hearth_dns_worker_threads",
	    "UDP worker threads besides the main loop.", srv->n_workers);
	free(st);
}

static int
dns_stop(void *state, unsigned drain_seconds)
{
	struct dns_server *srv = state;
	srv->stopping = true;
	dns_workers_stop(srv);
	struct dns_listener *l;
	while ((l = TAILQ_FIRST(&srv->listeners)) != NULL) {
		TAILQ_REMOVE(&srv->listeners, l, link);
		dns_listener_close(l);
	}
	return 0;
}

static void
dns_destroy(void *state)
{
	server_free(state);
}

const struct hearth_module_ops dns_module = {
    .name = "dns",
    .wanted = dns_wanted,
    .create = dns_create,
    .apply = dns_apply,
    .health = dns_health,
    .metrics = dns_metrics,
    .stop = dns_stop,
    .destroy = dns_destroy,
};
