/*
 * The dns module's internals shared by its I/O files: the server state,
 * listeners, TCP connections, forwarded queries, the query log and the
 * counters behind /metrics. Not a public header: only dns/ includes it.
 */
#ifndef HEARTH_DNS_SERVER_H
#define HEARTH_DNS_SERVER_H

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

#define DNS_UDP_BATCH        32
#define DNS_UDP_MAX          4096 /* largest UDP query read / answer sent */
#define DNS_TCP_MAX_CONNS    1024
#define DNS_TCP_IDLE_SECONDS 10
#define DNS_TCP_MAX_PENDING  64
#define DNS_MAX_VIEWS        16
#define DNS_N_TYPES          14
#define DNS_N_RCODES         8

struct dns_server;

struct dns_listener {
	TAILQ_ENTRY(dns_listener) link;
	struct dns_server *srv;
	struct hearth_endpoint ep;
	int ufd;
	struct event *uev;
	struct evconnlistener *tl;
	bool pktinfo; /* bound to a wildcard: reply from the dst */
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
	int ufd;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct in6_pktinfo pi6;
	struct in_pktinfo pi4;
	bool has_pi;
	struct hearth_addr src;
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

struct dns_stats {
	char views[DNS_MAX_VIEWS][64]; /* [0] is "" (no view) */
	unsigned n_views;
	uint64_t queries[DNS_MAX_VIEWS][DNS_N_TYPES][DNS_N_RCODES];
	uint64_t cache_hits, cache_misses, stale_served;
	uint64_t truncated, rl_dropped, rl_slipped, dropped;
	uint64_t forwarded, forward_failures;
	uint64_t tcp_conns, tcp_refused;
	struct metrics_histogram fwd_latency;
};

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
	ares_channel channel;
	bool have_channel;
	TAILQ_HEAD(, dns_ares_sock) asocks;
	struct event *ares_timer;
	bool stopping;
	struct dns_stats stats;
	uint8_t *rx; /* DNS_UDP_BATCH * DNS_UDP_MAX */
	uint8_t *tx;
	uint8_t tcpbuf[65535 + 64];
};

/* Monotonic clock helpers. */
uint64_t dns_now_ns(void);

/* Listeners (io.c). */
struct dns_listener *dns_listener_open(
    struct dns_server *srv, const struct hearth_endpoint *ep);
void dns_listener_close(struct dns_listener *l);
void dns_tcp_close(struct dns_tcp *c);
void dns_send_udp(struct dns_server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, const struct in_pktinfo *pi4,
    const struct in6_pktinfo *pi6, bool has_pi, const uint8_t *buf, size_t len);
void dns_tcp_send(struct dns_tcp *c, const uint8_t *buf, size_t len);
/* Counts one answered query, and logs it. */
void dns_account(struct dns_server *srv, const struct dns_query *q,
    const struct dns_result *res, const struct hearth_addr *src, bool tcp,
    uint64_t start_ns);

/* Forwarding (forward.c). */
int dns_forward_init(struct dns_server *srv, const struct hearth_dns *cfg);
void dns_forward_fini(struct dns_server *srv);
/* Sends q upstream; p holds the client's packet. Takes ownership of p. */
void dns_forward_start(struct dns_server *srv, struct dns_pending *p,
    const struct dns_query *q, bool stale_cached);
void dns_pending_free(struct dns_pending *p);

/* Query log (querylog.c). */
struct dns_qlog *dns_qlog_open(const char *path);
void dns_qlog_close(struct dns_qlog *ql);
void dns_qlog_write(struct dns_qlog *ql, const struct dns_query *q,
    const struct dns_result *res, const struct hearth_addr *src, bool tcp,
    double ms);

#endif
