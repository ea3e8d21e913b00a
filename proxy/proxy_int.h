/*
 * The proxy module's insides, shared by its files and nobody else: the
 * immutable configuration snapshot that worker threads share (routes,
 * TLS contexts, weighted-choice state), the worker threads with their
 * own event bases, client connections and upstream pools.
 */
#ifndef HEARTH_PROXY_INT_H
#define HEARTH_PROXY_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/ssl.h>

#include "http.h"
#include "linelog.h"
#include "metrics.h"
#include "model.h"
#include "module.h"
#include "router.h"

#define PROXY_EJECT_AFTER     3     /* consecutive failures */
#define PROXY_EJECT_MS        10000 /* before a backend is tried again */
#define PROXY_HIGH_WATER      (1024 * 1024) /* per direction buffered */
#define PROXY_MAX_ROUTE_STATS 256

/* A backend's passive health, shared by every worker and snapshot. */
struct proxy_health {
	struct hearth_endpoint ep;
	uint32_t fails;           /* atomic */
	int64_t ejected_until_ms; /* atomic; proxy_coarse_ms */
	LIST_ENTRY(proxy_health) link;
};

/* Active health checks (health.c), run on the daemon's event base. */
struct proxy_hc;
struct proxy_hc_target;
struct proxy_hc *proxy_hc_new(struct event_base *base);
/* Frees every target; the snapshots using them must be gone. */
void proxy_hc_free(struct proxy_hc *hc);
/*
 * The checked backend ep with Host host (NULL: ep) under check cfg, over
 * TLS when tls; found (state kept) or created, with one reference more.
 * Main thread only. NULL on allocation failure.
 */
struct proxy_hc_target *proxy_hc_target_get(struct proxy_hc *hc,
    const struct hearth_proxy_health_check *cfg,
    const struct hearth_endpoint *ep, const char *host, bool tls);
/* Drops a reference (any thread); the main thread frees it later. */
void proxy_hc_target_unref(struct proxy_hc_target *t);
/* Whether the checks count the backend as up (any thread). */
bool proxy_hc_target_up(const struct proxy_hc_target *t);
/* The up/down gauges and check counters. */
void proxy_hc_metrics(struct proxy_hc *hc, struct evbuffer *out);

/* Weighted-choice state of one backend list (a rule or a passthrough). */
struct proxy_pick {
	pthread_mutex_t mu;
	const struct hearth_proxy_backend *backends;
	size_t n;
	int64_t *cur;
	struct proxy_health **health;
	struct proxy_hc_target **checks; /* NULL entries: not checked */
};

/* Server TLS: one context per certificate, chosen by SNI. */
struct proxy_tls;
/* Loads p's certificates; NULL (logged) when one cannot be used. */
struct proxy_tls *proxy_tls_new(const struct hearth_proxy *p);
void proxy_tls_free(struct proxy_tls *t);
/* The context new connections start with (the first certificate). */
SSL_CTX *proxy_tls_default(struct proxy_tls *t);

/* A stapled OCSP response (ocsp.c). */
struct proxy_ocsp;
/*
 * Reads the DER OCSP response file for ctx's certificate and staples it
 * when it matches and is current (*out set; else NULL, logged). Returns
 * -EINVAL (logged) when file is not a successful OCSP response.
 */
int proxy_ocsp_attach(SSL_CTX *ctx, const char *file, struct proxy_ocsp **out);
void proxy_ocsp_free(struct proxy_ocsp *o);

/* One configuration snapshot; immutable but for the pick states. */
struct proxy_conf {
	int refs;                   /* atomic */
	struct hearth_model *model; /* reference held */
	const struct hearth_proxy *p;
	struct proxy_router *router;
	struct proxy_tls *tls;         /* NULL without certificates */
	struct proxy_pick *rule_picks; /* by rule id */
	size_t n_rule_picks;
	struct proxy_pick *route_picks; /* by route index (passthrough) */
	bool https;                     /* listen on https_port */
};

struct proxy_conf *proxy_conf_ref(struct proxy_conf *c);
void proxy_conf_unref(struct proxy_conf *c);

/* Counters a worker keeps; read under mu by the metrics writer. */
struct proxy_route_stat {
	char route[64];
	unsigned status;
	uint64_t count;
};

struct proxy_stats {
	pthread_mutex_t mu;
	struct proxy_route_stat routes[PROXY_MAX_ROUTE_STATS];
	size_t n_routes;
	struct metrics_histogram latency;
	uint64_t tls_handshakes; /* atomic */
};

struct proxy_conn;
struct proxy_upstream;
TAILQ_HEAD(proxy_conn_list, proxy_conn);
struct proxy_mod;

/* An upstream pool: idle keep-alive connections to one backend. */
struct proxy_pool {
	struct hearth_endpoint ep;
	TAILQ_HEAD(, proxy_upstream) idle;
	unsigned n_idle;
	LIST_ENTRY(proxy_pool) link;
};

struct proxy_listener; /* a listening socket of a worker (worker.c) */

struct proxy_worker {
	struct proxy_mod *mod;
	unsigned id;
	pthread_t thread;
	bool started;
	struct event_base *base;
	int wake_fd; /* eventfd: the mailbox has news */
	struct event *wake_ev;
	/* mailbox, under mu */
	pthread_mutex_t mu;
	struct proxy_conf *next_conf;
	int next_http_fd, next_https_fd; /* -1: none; -2: unchanged */
	bool stop_req, exit_req;
	/* owned by the worker thread */
	struct proxy_conf *conf;
	struct proxy_listener *l_http, *l_https; /* worker.c */
	bool draining, drained_told;
	struct proxy_conn_list conns;
	unsigned n_conns;
	LIST_HEAD(, proxy_pool) pools;
	struct proxy_http_header *hdrs; /* parse scratch, cap_hdrs long */
	size_t cap_hdrs;
	struct evbuffer *scratch;
	struct proxy_stats stats;
};

/* The module's state, on the daemon's event base. */
struct proxy_mod {
	struct hearth_env *env;
	struct proxy_conf *conf;
	struct proxy_worker *workers;
	unsigned n_workers;
	uint16_t http_port, https_port;
	bool https;
	pthread_mutex_t health_mu;
	LIST_HEAD(, proxy_health) health;
	struct proxy_hc *hc; /* active checks, main thread */
	/* atomic; created once on first need, freed by destroy */
	struct hearth_linelog *access_log;
	uint64_t active; /* atomic: open client connections */
	uint64_t reloads;
	int done_fd; /* eventfd: a worker has drained */
	struct event *done_ev;
	bool stopping, stopped_told;
};

/* One access-log line's fields (accesslog.c). */
struct proxy_access {
	const char *client, *method, *host, *path,
	    *route;                            /* "" or NULL: none */
	const struct hearth_endpoint *backend; /* NULL: none */
	unsigned status;                       /* 0: a passthrough connection */
	uint64_t bytes;                        /* response body bytes */
	int64_t upstream_ms; /* request sent to response head; -1: none */
	int64_t ms;          /* request head to the response's end */
	bool tls;
};
/* Logs a (when conf has an access log); never blocks. */
void proxy_access_log(struct proxy_worker *w, const struct proxy_conf *conf,
    const struct proxy_access *a);

/* worker.c */
int proxy_worker_start(struct proxy_worker *w);
void proxy_worker_post(struct proxy_worker *w);
void proxy_worker_join(struct proxy_worker *w);
void proxy_worker_conn_gone(struct proxy_worker *w);

/* conn.c */
void proxy_conn_accept(struct proxy_worker *w, int fd,
    const struct sockaddr *sa, bool tls);
/* Idle connections close; busy ones close after their response. */
void proxy_conn_drain_all(struct proxy_worker *w);
void proxy_conn_free(struct proxy_conn *c);
/* Idle upstreams of pool p are closed and freed. */
void proxy_pool_free(struct proxy_pool *p);

/* Monotonic milliseconds. */
int64_t proxy_now_ms(void);
/* The same from the coarse clock (a tick of a few ms, cheaper to read):
 * for timeouts, not for latencies. */
int64_t proxy_coarse_ms(void);
/* The health entry for ep, created on first use (main thread). */
struct proxy_health *proxy_health_get(struct proxy_mod *m,
    const struct hearth_endpoint *ep);
/* Picks a live backend of pk other than `not` (-1: any); -1 if none. */
int proxy_pick_backend(struct proxy_pick *pk, int not );
void proxy_health_fail(struct proxy_health *h);
void proxy_health_ok(struct proxy_health *h);

#endif
