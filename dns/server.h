/*
 * The dns module's internals shared by its I/O files: the server state,
 * listeners, TCP connections, forwarded queries, the query log and the
 * counters behind /metrics. Not a public header: only dns/ includes it.
 */
#ifndef HEARTH_DNS_SERVER_H
#define HEARTH_DNS_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/socket.h>

#include <ares.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "answer.h"
#include "cache.h"
#include "metrics.h"
#include "module.h"
#include "ratelimit.h"

#define DNS_UDP_BATCH 64   /* datagrams gathered before answering */
#define DNS_UDP_MAX   4096 /* largest UDP query read / answer sent */
#ifndef DNS_UDP_TICK_US    /* -DDNS_UDP_TICK_US=0: no polling under load */
#define DNS_UDP_TICK_US                                                        \
	200 /* under load, read the socket at least this often */
#endif
#ifndef DNS_UDP_TICK_QUERIES
#define DNS_UDP_TICK_QUERIES 4 /* ...and after about this many queries */
#endif
#define DNS_TCP_MAX_CONNS    1024
#define DNS_TCP_IDLE_SECONDS 10
#define DNS_TCP_MAX_PENDING  64
#define DNS_FWD_TAB          1024 /* buckets of upstream questions */
#define DNS_MAX_INFLIGHT     8192 /* queries waiting for the forwarders */
#define DNS_MAX_VIEWS        16
#define DNS_N_TYPES          14
#define DNS_N_RCODES         8

struct dns_stats {
	char views[DNS_MAX_VIEWS][64]; /* [0] is "" (no view) */
	unsigned n_views;
	uint64_t queries[DNS_MAX_VIEWS][DNS_N_TYPES][DNS_N_RCODES];
	uint64_t cache_hits, cache_misses, stale_served;
	uint64_t truncated, rl_dropped, rl_slipped, dropped;
	uint64_t forwarded, forward_failures, coalesced;
	uint64_t tcp_conns, tcp_refused;
	uint64_t udp_polled; /* UDP queries read on a polling tick */
	struct metrics_histogram fwd_latency;
};

struct dns_server;
struct dns_worker;
struct dns_udp_batch;

/*
 * Where UDP packets are answered: the main loop or one worker thread,
 * each with its own buffers and counters.
 */
struct dns_udp_ctx {
	struct dns_server *srv;
	struct dns_worker *worker; /* NULL: the main loop */
	struct dns_stats *stats;
	uint8_t *rx; /* DNS_UDP_BATCH * DNS_UDP_MAX */
	uint8_t *tx;
	struct dns_udp_batch *batch; /* io.c's gather state */
};

/*
 * One UDP socket and its events: ev while it wakes the loop per datagram,
 * the timer tfd/tev while it is polled under load (see io.c).
 */
struct dns_udp_sock {
	int fd;
	bool pktinfo;             /* bound to a wildcard: reply from dst */
	bool no_gso;              /* UDP segmentation was refused: one by one */
	bool polling;             /* read on tev's ticks, ev deleted */
	uint64_t last_ns, gap_ns; /* last read; mean gap between queries */
	struct event *ev;
	int tfd;           /* a timerfd, open while tev is not NULL */
	struct event *tev; /* NULL: no polling (never under load) */
	struct dns_udp_ctx *ctx;
	struct dns_listener *main; /* the listener of this endpoint */
};

/*
 * One listen endpoint of the main loop: its UDP socket and TCP listener.
 * Referenced by queries waiting for the forwarders (they answer through
 * its socket), so it is freed on the last dns_listener_unref().
 */
struct dns_listener {
	TAILQ_ENTRY(dns_listener) link;
	atomic_int refs;
	struct dns_server *srv;
	struct hearth_endpoint ep;
	struct dns_udp_sock udp;
	struct evconnlistener *tl;
};

struct dns_pending;

struct dns_tcp {
	TAILQ_ENTRY(dns_tcp) link;
	struct dns_server *srv;
	struct bufferevent *bev;
	struct hearth_addr peer;
	TAILQ_HEAD(, dns_pending) pending;
	unsigned n_pending;
	bool reading;
};

/* A query waiting for the forwarders. */
struct dns_pending {
	TAILQ_ENTRY(dns_pending) tlink; /* in its TCP connection */
	struct dns_server *srv;
	struct dns_snapshot *snap;
	struct dns_tcp *tcp; /* NULL: UDP (or a closed connection) */
	bool was_tcp;
	TAILQ_ENTRY(dns_pending) qlink; /* in the workers' hand-over queue */
	struct sockaddr_storage sa;
	socklen_t salen;
	struct in6_pktinfo pi6;
	struct in_pktinfo pi4;
	bool has_pi;
	struct dns_listener *listener; /* UDP: answers go out through it */
	struct hearth_addr src;
	bool recursion_client; /* else RA stays clear in the answer */
	uint64_t start_ns;
	char view[64];
	size_t len;
	uint8_t pkt[]; /* the client's query */
};

struct dns_ares_sock {
	TAILQ_ENTRY(dns_ares_sock) link;
	ares_socket_t fd;
	struct event *ev;
};

struct dns_qlog;
struct dns_chan;
struct dns_inflight;

struct dns_server {
	struct hearth_env *env;
	struct event_base *base;
	struct dns_snapshot *snap;
	TAILQ_HEAD(, dns_listener) listeners;
	TAILQ_HEAD(, dns_tcp) conns;
	unsigned n_conns;
	struct dns_cache *cache;
	struct dns_rl *rl;
	struct dns_qlog *qlog;
	struct dns_chan *chan;          /* new forwarded queries go here */
	TAILQ_HEAD(, dns_chan) retired; /* draining, then destroyed */
	struct ares_addr_port_node *fwd_nodes; /* the forwarders */
	struct event *reap_ev;
	bool stopping;
	struct dns_stats stats; /* the main loop's */
	struct dns_udp_ctx main_ctx;
	struct dns_worker **workers;
	unsigned n_workers;
	/* Queries the workers hand over to the forwarders. */
	pthread_mutex_t fwdq_lock;
	TAILQ_HEAD(, dns_pending) fwdq;
	int fwdq_fd; /* eventfd */
	struct event *fwdq_ev;
	atomic_uint inflight; /* queries waiting for forwarders */
	struct dns_inflight *fwd_tab[DNS_FWD_TAB]; /* upstream questions */
	atomic_ulong shed; /* cache misses dropped past the bound */
	uint8_t tcpbuf[65535 + 64];
};

/* Monotonic clock helpers. */
uint64_t dns_now_ns(void);

/* Listeners and packets (io.c). */
struct dns_listener *dns_listener_open(struct dns_server *srv,
    const struct hearth_endpoint *ep);
/* Stops listening; the struct lives on while queries reference it. */
void dns_listener_close(struct dns_listener *l);
void dns_listener_unref(struct dns_listener *l);
/* A UDP socket on ep for a worker (SO_REUSEPORT), or -errno. */
int dns_udp_socket(const struct hearth_endpoint *ep, bool *pktinfo);
/* Watches us->fd (already open) in base; 0 or -ENOMEM. */
int dns_udp_watch(struct dns_udp_sock *us, struct event_base *base);
/* Frees what dns_udp_watch() made and closes us->fd; idempotent. */
void dns_udp_unwatch(struct dns_udp_sock *us);
void dns_tcp_close(struct dns_tcp *c);
void dns_send_udp(struct dns_server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, const struct in_pktinfo *pi4,
    const struct in6_pktinfo *pi6, bool has_pi, const uint8_t *buf, size_t len);
void dns_tcp_send(struct dns_tcp *c, const uint8_t *buf, size_t len);
/* Counts one answered query in st, and logs it. */
void dns_account(struct dns_server *srv, struct dns_stats *st,
    const struct dns_query *q, const struct dns_result *res,
    const struct hearth_addr *src, bool tcp, uint64_t start_ns);
int dns_ctx_init(struct dns_udp_ctx *ctx, struct dns_server *srv,
    struct dns_stats *st, struct dns_worker *w);
void dns_ctx_fini(struct dns_udp_ctx *ctx);

/* Worker threads (worker.c): one event loop each, own UDP sockets. */
int dns_workers_start(struct dns_server *srv);
void dns_workers_stop(struct dns_server *srv);
/* Drops every capability of the calling thread when not root. */
void dns_thread_drop_caps(void);
/* Adds the workers' counters into st. */
void dns_workers_stats(struct dns_server *srv, struct dns_stats *st);
void dns_stats_merge(struct dns_stats *into, const struct dns_stats *from);

/* Forwarding (forward.c). */
int dns_forward_init(struct dns_server *srv, const struct hearth_dns *cfg);
void dns_forward_fini(struct dns_server *srv);
/* Are cfg's forwarders those the server asks already? */
bool dns_forward_same(const struct dns_server *srv,
    const struct hearth_dns *cfg);
/* Sends p's query upstream; takes ownership of p. Main loop only. */
void dns_forward_start(struct dns_server *srv, struct dns_pending *p);
/* From a worker: hands p to the main loop's forwarders. */
void dns_forward_handover(struct dns_server *srv, struct dns_pending *p);
int dns_fwdq_init(struct dns_server *srv);
void dns_fwdq_fini(struct dns_server *srv);
void dns_pending_free(struct dns_pending *p);

/* Query log (querylog.c). */
struct dns_qlog *dns_qlog_open(const char *path);
void dns_qlog_close(struct dns_qlog *ql);
void dns_qlog_write(struct dns_qlog *ql, const struct dns_query *q,
    const struct dns_result *res, const struct hearth_addr *src, bool tcp,
    double ms);

#endif
