/*
 * A proxy worker: one thread with its own event base, its own listening
 * sockets (SO_REUSEPORT spreads connections over the workers) and its
 * own connections and upstream pools. The main thread talks to it only
 * through a mailbox (a new snapshot, new sockets, stop, exit) and an
 * eventfd; the worker answers "drained" the same way.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "proxy_int.h"

static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10};

/*
 * A listening socket: level-triggered, one connection accepted per
 * callback, so one per listener and loop iteration (as nginx without
 * multi_accept): a burst of new TLS connections does not put all their
 * handshakes ahead of those already under way, and the listener stays
 * registered as it is (no epoll change per connection). When the process
 * is out of descriptors or memory, it pauses for ACCEPT_PAUSE_MS instead
 * of being woken again at once.
 */
#define ACCEPT_PAUSE_MS 100

struct proxy_listener {
	struct proxy_worker *w;
	struct event *ev, *pause;
	int fd;
	bool tls;
};

static void
listener_resume(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_listener *l = arg;
	event_add(l->ev, NULL);
}

static void
accept_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_listener *l = arg;
	struct proxy_worker *w = l->w;
	struct proxy_mod *m = w->mod;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int c = accept4(fd, (struct sockaddr *)&ss, &sl,
	    SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (c < 0) {
		int e = errno;
		if (e == EAGAIN || e == EWOULDBLOCK || e == EINTR ||
		    e == ECONNABORTED)
			return;
		log_debug("proxy: accept: %s", strerror(e));
		if (e == EMFILE || e == ENFILE || e == ENOBUFS || e == ENOMEM) {
			static const struct timeval tv = {0,
			    ACCEPT_PAUSE_MS * 1000};
			event_del(l->ev);
			evtimer_add(l->pause, &tv);
		}
		return;
	}
	uint64_t n = __atomic_add_fetch(&m->active, 1, __ATOMIC_RELAXED);
	if (w->draining || n > w->conf->p->limits.max_connections) {
		__atomic_sub_fetch(&m->active, 1, __ATOMIC_RELAXED);
		close(c);
		return;
	}
	proxy_conn_accept(w, c, (struct sockaddr *)&ss, l->tls);
}

static void
listener_free(struct proxy_listener *l)
{
	if (l == NULL)
		return;
	if (l->ev != NULL)
		event_free(l->ev);
	if (l->pause != NULL)
		event_free(l->pause);
	close(l->fd);
	free(l);
}

/* Replaces listener *l with one on fd (-1: none). */
static void
set_listener(struct proxy_worker *w, struct proxy_listener **l, int fd)
{
	listener_free(*l);
	*l = NULL;
	if (fd < 0)
		return;
	struct proxy_listener *n = calloc(1, sizeof(*n));
	if (n != NULL) {
		n->w = w;
		n->fd = fd;
		n->tls = l == &w->l_https;
		n->ev =
		    event_new(w->base, fd, EV_READ | EV_PERSIST, accept_cb, n);
		n->pause = evtimer_new(w->base, listener_resume, n);
	}
	if (n == NULL || n->ev == NULL || n->pause == NULL ||
	    evutil_make_socket_nonblocking(fd) != 0 ||
	    evutil_make_socket_closeonexec(fd) != 0 ||
	    event_add(n->ev, NULL) != 0) {
		log_warnx("proxy: worker %u cannot listen", w->id);
		if (n != NULL)
			listener_free(n);
		else
			close(fd);
		return;
	}
	*l = n;
}

/* Tells the main thread this worker has no connection left. */
static void
maybe_drained(struct proxy_worker *w)
{
	if (!w->draining || w->n_conns > 0)
		return;
	pthread_mutex_lock(&w->mu);
	bool told = w->drained_told;
	w->drained_told = true;
	pthread_mutex_unlock(&w->mu);
	if (!told) {
		uint64_t one = 1;
		ssize_t r = write(w->mod->done_fd, &one, sizeof(one));
		(void)r;
	}
}

void
proxy_worker_conn_gone(struct proxy_worker *w)
{
	w->n_conns--;
	__atomic_sub_fetch(&w->mod->active, 1, __ATOMIC_RELAXED);
	maybe_drained(w);
}

static void
begin_drain(struct proxy_worker *w)
{
	if (w->draining)
		return;
	w->draining = true;
	set_listener(w, &w->l_http, -1);
	set_listener(w, &w->l_https, -1);
	proxy_conn_drain_all(w);
	maybe_drained(w);
}

static void
wake_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_worker *w = arg;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->mu);
	struct proxy_conf *c = w->next_conf;
	int hfd = w->next_http_fd, sfd = w->next_https_fd;
	bool stop = w->stop_req, exit_now = w->exit_req;
	w->next_conf = NULL;
	w->next_http_fd = w->next_https_fd = -2;
	pthread_mutex_unlock(&w->mu);
	if (c != NULL) {
		proxy_conf_unref(w->conf);
		w->conf = c;
		size_t want = c->p->limits.max_headers + 1;
		if (want < 256)
			want = 256;
		if (want > w->cap_hdrs) {
			struct proxy_http_header *h =
			    realloc(w->hdrs, want * sizeof(*h));
			if (h != NULL) {
				w->hdrs = h;
				w->cap_hdrs = want;
			}
		}
	}
	if (!w->draining && hfd != -2)
		set_listener(w, &w->l_http, hfd);
	else if (hfd >= 0)
		close(hfd);
	if (!w->draining && sfd != -2)
		set_listener(w, &w->l_https, sfd);
	else if (sfd >= 0)
		close(sfd);
	if (stop)
		begin_drain(w);
	if (exit_now)
		event_base_loopbreak(w->base);
}

static void *
worker_main(void *arg)
{
	struct proxy_worker *w = arg;
	event_base_dispatch(w->base);
	struct proxy_conn *c;
	while ((c = TAILQ_FIRST(&w->conns)) != NULL)
		proxy_conn_free(c);
	struct proxy_pool *p;
	while ((p = LIST_FIRST(&w->pools)) != NULL) {
		LIST_REMOVE(p, link);
		proxy_pool_free(p);
	}
	set_listener(w, &w->l_http, -1);
	set_listener(w, &w->l_https, -1);
	proxy_io_thread_done();
	return NULL;
}

int
proxy_worker_start(struct proxy_worker *w)
{
	pthread_mutex_init(&w->mu, NULL);
	pthread_mutex_init(&w->stats.mu, NULL);
	w->stats.latency.bounds = latency_bounds;
	w->stats.latency.n_bounds =
	    sizeof(latency_bounds) / sizeof(*latency_bounds);
	TAILQ_INIT(&w->conns);
	LIST_INIT(&w->pools);
	w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	/* Batched epoll changes: an event added and removed in one loop
	 * iteration (the write side of a short response) costs nothing. */
	struct event_config *cfg = event_config_new();
	if (cfg != NULL) {
		event_config_set_flag(cfg,
		    EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
		event_config_set_flag(cfg, EVENT_BASE_FLAG_NOLOCK);
		w->base = event_base_new_with_config(cfg);
		event_config_free(cfg);
	}
	w->scratch = evbuffer_new();
	if (w->wake_fd < 0 || w->base == NULL || w->scratch == NULL)
		return -ENOMEM;
	w->wake_ev =
	    event_new(w->base, w->wake_fd, EV_READ | EV_PERSIST, wake_cb, w);
	if (w->wake_ev == NULL || event_add(w->wake_ev, NULL) != 0)
		return -ENOMEM;
	/* Take the first snapshot and sockets before the thread runs. */
	wake_cb(w->wake_fd, EV_READ, w);
	if (w->conf == NULL || w->hdrs == NULL)
		return -ENOMEM;
	if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
		return -errno;
	w->started = true;
	return 0;
}

void
proxy_worker_post(struct proxy_worker *w)
{
	uint64_t one = 1;
	if (w->wake_fd >= 0) {
		ssize_t r = write(w->wake_fd, &one, sizeof(one));
		(void)r;
	}
}

void
proxy_worker_join(struct proxy_worker *w)
{
	if (w->mod == NULL)
		return;
	if (w->started) {
		pthread_mutex_lock(&w->mu);
		w->exit_req = true;
		pthread_mutex_unlock(&w->mu);
		proxy_worker_post(w);
		pthread_join(w->thread, NULL);
	} else {
		struct proxy_conn *c;
		while ((c = TAILQ_FIRST(&w->conns)) != NULL)
			proxy_conn_free(c);
		set_listener(w, &w->l_http, -1);
		set_listener(w, &w->l_https, -1);
	}
	pthread_mutex_lock(&w->mu);
	if (w->next_conf != NULL)
		proxy_conf_unref(w->next_conf);
	if (w->next_http_fd >= 0)
		close(w->next_http_fd);
	if (w->next_https_fd >= 0)
		close(w->next_https_fd);
	pthread_mutex_unlock(&w->mu);
	proxy_conf_unref(w->conf);
	if (w->wake_ev != NULL)
		event_free(w->wake_ev);
	if (w->wake_fd > 0)
		close(w->wake_fd);
	if (w->scratch != NULL)
		evbuffer_free(w->scratch);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w->hdrs);
	pthread_mutex_destroy(&w->mu);
	pthread_mutex_destroy(&w->stats.mu);
}
