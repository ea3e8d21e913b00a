/*
 * UDP worker threads: each has its own event base and, for every listen
 * endpoint, its own SO_REUSEPORT socket, so the kernel spreads clients
 * over the threads. Workers share only immutable or locked state: the
 * snapshot, the cache and the rate limiter (each behind its own mutex) and
 * the query log; queries for the forwarders are handed to the main loop.
 * A new configuration stops the workers and starts new ones.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <linux/capability.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define DNS_MAX_WORKERS 7

struct dns_worker {
	struct dns_server *srv;
	pthread_t thread;
	bool running;
	struct event_base *base;
	int quit_fd;
	struct event *quit_ev;
	struct dns_udp_sock *socks;
	size_t n_socks;
	struct dns_stats stats;
	struct dns_udp_ctx ctx;
};

/* Workers beside the main loop: one per CPU this process may use, less one. */
static unsigned
worker_count(void)
{
	const char *env = getenv("HEARTH_DNS_WORKERS");
	if (env != NULL && *env != '\0')
		return (unsigned)strtoul(env, NULL, 10) > DNS_MAX_WORKERS ?
		    DNS_MAX_WORKERS :
		    (unsigned)strtoul(env, NULL, 10);
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	int n = CPU_COUNT(&set) - 1;
	return n < 0 ? 0 :
	               (n > DNS_MAX_WORKERS ? DNS_MAX_WORKERS : (unsigned)n);
}

static void
quit_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_worker *w = arg;
	event_base_loopbreak(w->base);
}

void
dns_thread_drop_caps(void)
{
	/*
	 * Only once privileges are dropped: a root thread without CAP_SETUID
	 * would make the daemon's later setresuid() fail in this thread
	 * (glibc applies it to every thread). Threads started before the
	 * drop lose their capabilities with the uid change anyway.
	 */
	if (geteuid() == 0)
		return;
	struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d) != 0)
		log_debug("dns: a thread kept its capabilities");
}

static void *
worker_main(void *arg)
{
	struct dns_worker *w = arg;
	dns_thread_drop_caps();
	event_base_dispatch(w->base);
	return NULL;
}

static void
worker_free(struct dns_worker *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->n_socks; i++)
		dns_udp_unwatch(&w->socks[i]);
	free(w->socks);
	if (w->quit_ev != NULL)
		event_free(w->quit_ev);
	if (w->quit_fd >= 0)
		close(w->quit_fd);
	if (w->base != NULL)
		event_base_free(w->base);
	dns_ctx_fini(&w->ctx);
	free(w);
}

/* A worker with a socket beside each of the main loop's listeners. */
static struct dns_worker *
worker_new(struct dns_server *srv, size_t n_listeners)
{
	struct dns_worker *w = calloc(1, sizeof(*w));
	if (w == NULL)
		return NULL;
	w->srv = srv;
	w->quit_fd = -1;
	w->stats.n_views = 1;
	w->stats.fwd_latency = srv->stats.fwd_latency;
	memset(w->stats.fwd_latency.counts, 0,
	    sizeof(w->stats.fwd_latency.counts));
	w->stats.fwd_latency.count = 0;
	w->stats.fwd_latency.sum = 0;
	w->base = event_base_new();
	w->socks = calloc(n_listeners ? n_listeners : 1, sizeof(*w->socks));
	w->quit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (w->base == NULL || w->socks == NULL || w->quit_fd < 0 ||
	    dns_ctx_init(&w->ctx, srv, &w->stats, w) < 0)
		goto fail;
	w->quit_ev = event_new(w->base, w->quit_fd, EV_READ, quit_cb, w);
	if (w->quit_ev == NULL || event_add(w->quit_ev, NULL) < 0)
		goto fail;
	struct dns_listener *l;
	TAILQ_FOREACH(l, &srv->listeners, link)
	{
		struct dns_udp_sock *us = &w->socks[w->n_socks++];
		us->ctx = &w->ctx;
		us->main = l;
		us->fd = dns_udp_socket(&l->ep, &us->pktinfo);
		if (us->fd < 0)
			goto fail;
		if (dns_udp_watch(us, w->base) < 0)
			goto fail;
	}
	return w;
fail:
	worker_free(w);
	return NULL;
}

int
dns_workers_start(struct dns_server *srv)
{
	unsigned n = worker_count();
	size_t nl = 0;
	struct dns_listener *l;
	TAILQ_FOREACH(l, &srv->listeners, link)
	nl++;
	if (n == 0 || nl == 0)
		return 0;
	srv->workers = calloc(n, sizeof(*srv->workers));
	if (srv->workers == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		struct dns_worker *w = worker_new(srv, nl);
		if (w == NULL) {
			log_warnx("dns: worker %u not started; answering with "
			          "%u",
			    i, i + 1);
			break;
		}
		if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
			worker_free(w);
			break;
		}
		w->running = true;
		srv->workers[srv->n_workers++] = w;
	}
	log_debug("dns: %u worker thread(s) besides the main loop",
	    srv->n_workers);
	return 0;
}

void
dns_workers_stop(struct dns_server *srv)
{
	for (unsigned i = 0; i < srv->n_workers; i++) {
		struct dns_worker *w = srv->workers[i];
		uint64_t one = 1;
		if (write(w->quit_fd, &one, sizeof(one)) < 0)
			log_debug("dns: waking worker %u failed", i);
		pthread_join(w->thread, NULL);
		/* Its counters outlive it. */
		dns_stats_merge(&srv->stats, &w->stats);
		worker_free(w);
	}
	free(srv->workers);
	srv->workers = NULL;
	srv->n_workers = 0;
}

void
dns_stats_merge(struct dns_stats *into, const struct dns_stats *from)
{
	for (unsigned v = 0; v < from->n_views; v++) {
		unsigned t = 0;
		if (v > 0) {
			for (t = 1; t < into->n_views; t++)
				if (strcmp(into->views[t], from->views[v]) == 0)
					break;
			if (t == into->n_views && t < DNS_MAX_VIEWS) {
				memcpy(into->views[t], from->views[v],
				    sizeof(into->views[t]));
				into->n_views++;
			} else if (t == DNS_MAX_VIEWS) {
				t = 0;
			}
		}
		for (unsigned a = 0; a < DNS_N_TYPES; a++)
			for (unsigned b = 0; b < DNS_N_RCODES; b++)
				into->queries[t][a][b] +=
				    from->queries[v][a][b];
	}
	into->cache_hits += from->cache_hits;
	into->cache_misses += from->cache_misses;
	into->stale_served += from->stale_served;
	into->truncated += from->truncated;
	into->rl_dropped += from->rl_dropped;
	into->rl_slipped += from->rl_slipped;
	into->dropped += from->dropped;
	into->forwarded += from->forwarded;
	into->forward_failures += from->forward_failures;
	into->coalesced += from->coalesced;
	into->tcp_conns += from->tcp_conns;
	into->tcp_refused += from->tcp_refused;
	into->udp_polled += from->udp_polled;
}

void
dns_workers_stats(struct dns_server *srv, struct dns_stats *st)
{
	/* Counters read while workers run: word-sized, at worst one behind. */
	for (unsigned i = 0; i < srv->n_workers; i++)
		dns_stats_merge(st, &srv->workers[i]->stats);
}
