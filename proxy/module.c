/*
 * The proxy module on the daemon's event base: builds configuration
 * snapshots (route index, TLS contexts, weighted-choice state), opens
 * one SO_REUSEPORT listening socket per worker and port before
 * privileges are dropped, starts one worker thread per core, hands each
 * new snapshot to the workers (they use it for new requests), and
 * coordinates the graceful drain and the metrics.
 */
#include <errno.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "hcheck.h"
#include "log.h"
#include "proxy.h"
#include "proxy_int.h"

int64_t
proxy_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t
proxy_coarse_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct proxy_health *
proxy_health_get(struct proxy_mod *m, const struct hearth_endpoint *ep)
{
	struct proxy_health *h;
	pthread_mutex_lock(&m->health_mu);
	LIST_FOREACH(h, &m->health, link)
	if (h->ep.port == ep->port && hearth_addr_eq(&h->ep.addr, &ep->addr))
		break;
	if (h == NULL && (h = calloc(1, sizeof(*h))) != NULL) {
		h->ep = *ep;
		LIST_INSERT_HEAD(&m->health, h, link);
	}
	pthread_mutex_unlock(&m->health_mu);
	return h;
}

void
proxy_health_fail(struct proxy_health *h)
{
	uint32_t f = __atomic_add_fetch(&h->fails, 1, __ATOMIC_RELAXED);
	if (f >= PROXY_EJECT_AFTER) {
		int64_t until = proxy_coarse_ms() + PROXY_EJECT_MS;
		__atomic_store_n(&h->ejected_until_ms, until, __ATOMIC_RELAXED);
		if (f == PROXY_EJECT_AFTER) {
			char ep[HEARTH_ENDPOINT_STRLEN];
			log_warnx("proxy: backend %s ejected after %u failures",
			    hearth_endpoint_str(&h->ep, ep, sizeof(ep)), f);
		}
	}
}

void
proxy_health_ok(struct proxy_health *h)
{
	if (__atomic_load_n(&h->fails, __ATOMIC_RELAXED) != 0)
		__atomic_store_n(&h->fails, 0, __ATOMIC_RELAXED);
}

int
proxy_pick_backend(struct proxy_pick *pk, int not )
{
	uint64_t alive = 0;
	int64_t now = proxy_coarse_ms();
	for (size_t i = 0; i < pk->n && i < 64; i++) {
		struct proxy_health *h = pk->health[i];
		if ((int)i !=
		        not &&(h == NULL ||
		            __atomic_load_n(&h->ejected_until_ms,
		                __ATOMIC_RELAXED) <= now) &&
		    (pk->checks[i] == NULL ||
		        proxy_hc_target_up(pk->checks[i])))
			alive |= UINT64_C(1) << i;
	}
	pthread_mutex_lock(&pk->mu);
	int r = proxy_swrr_pick(pk->backends, pk->n, alive, pk->cur);
	pthread_mutex_unlock(&pk->mu);
	return r;
}

/*
 * A backend list's choice state; check (when enabled) probes each
 * backend with Host host, over TLS when tls.
 */
static int
pick_init(struct proxy_mod *m, struct proxy_pick *pk,
    const struct hearth_proxy_backend *b, size_t n,
    const struct hearth_proxy_health_check *check, const char *host, bool tls)
{
	pthread_mutex_init(&pk->mu, NULL);
	pk->backends = b;
	pk->n = n;
	pk->cur = calloc(n ? n : 1, sizeof(*pk->cur));
	pk->health = calloc(n ? n : 1, sizeof(*pk->health));
	pk->checks = calloc(n ? n : 1, sizeof(*pk->checks));
	if (pk->cur == NULL || pk->health == NULL || pk->checks == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		if ((pk->health[i] = proxy_health_get(m, &b[i].address)) ==
		    NULL)
			return -ENOMEM;
		if (check->enabled &&
		    (pk->checks[i] = proxy_hc_target_get(m->hc, check,
		         &b[i].address, host, tls)) == NULL)
			return -ENOMEM;
	}
	return 0;
}

static void
pick_fini(struct proxy_pick *pk)
{
	if (pk->cur == NULL && pk->health == NULL && pk->checks == NULL)
		return;
	pthread_mutex_destroy(&pk->mu);
	for (size_t i = 0; pk->checks != NULL && i < pk->n; i++)
		proxy_hc_target_unref(pk->checks[i]);
	free(pk->cur);
	free(pk->health);
	free(pk->checks);
}

struct proxy_conf *
proxy_conf_ref(struct proxy_conf *c)
{
	__atomic_add_fetch(&c->refs, 1, __ATOMIC_RELAXED);
	return c;
}

void
proxy_conf_unref(struct proxy_conf *c)
{
	if (c == NULL || __atomic_sub_fetch(&c->refs, 1, __ATOMIC_ACQ_REL) > 0)
		return;
	for (size_t i = 0; c->rule_picks != NULL && i < c->n_rule_picks; i++)
		pick_fini(&c->rule_picks[i]);
	for (size_t i = 0; c->route_picks != NULL && i < c->p->n_routes; i++)
		pick_fini(&c->route_picks[i]);
	free(c->rule_picks);
	free(c->route_picks);
	proxy_router_free(c->router);
	proxy_tls_free(c->tls);
	hearth_model_unref(c->model);
	free(c);
}

/* A snapshot of model m; NULL (logged) on failure. */
static struct proxy_conf *
conf_new(struct proxy_mod *mod, const struct hearth_model *m)
{
	struct proxy_conf *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->refs = 1;
	c->model = hearth_model_ref((struct hearth_model *)m);
	c->p = &m->proxy;
	c->router = proxy_router_new(c->p);
	if (c->router == NULL)
		goto fail;
	if (c->p->n_certificates > 0 && (c->tls = proxy_tls_new(c->p)) == NULL)
		goto fail;
	c->n_rule_picks = proxy_router_n_rules(c->router);
	c->rule_picks = calloc(c->n_rule_picks + 1, sizeof(*c->rule_picks));
	c->route_picks = calloc(c->p->n_routes + 1, sizeof(*c->route_picks));
	if (c->rule_picks == NULL || c->route_picks == NULL)
		goto fail;
	size_t id = 0;
	for (size_t i = 0; i < c->p->n_routes; i++) {
		const struct hearth_proxy_route *r = &c->p->routes[i];
		if (r->passthrough)
			c->https = true;
		const char *host = proxy_hc_route_host(r);
		if (pick_init(mod, &c->route_picks[i], r->backends,
		        r->n_backends, &r->health_check, host, true) != 0)
			goto fail;
		for (size_t j = 0; j < r->n_rules; j++)
			if (pick_init(mod, &c->rule_picks[id++],
			        r->rules[j].backends, r->rules[j].n_backends,
			        &r->rules[j].health_check, host, false) != 0)
				goto fail;
	}
	if (c->tls != NULL)
		c->https = true;
	return c;
fail:
	log_warnx("proxy: cannot build the configuration");
	proxy_conf_unref(c);
	return NULL;
}

/* A listening socket on every local address, port, SO_REUSEPORT. */
static int
listen_socket(uint16_t port)
{
	int fd =
	    socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0;
	bool v6 = fd >= 0;
	if (!v6)
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	int rc;
	if (v6) {
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
		struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
		    .sin6_port = htons(port),
		    .sin6_addr = in6addr_any};
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	} else {
		struct sockaddr_in sa = {.sin_family = AF_INET,
		    .sin_port = htons(port)};
		rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	}
	if (rc != 0 || listen(fd, 4096) != 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Opens n sockets on port into fds; on failure closes them. */
static int
listen_all(uint16_t port, unsigned n, int *fds)
{
	for (unsigned i = 0; i < n; i++) {
		fds[i] = listen_socket(port);
		if (fds[i] < 0) {
			int rc = fds[i];
			errno = -rc;
			log_warn("proxy: cannot listen on port %u", port);
			while (i-- > 0)
				close(fds[i]);
			return rc;
		}
	}
	return 0;
}

static void
done_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_mod *m = arg;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0)
		return;
	unsigned drained = 0;
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct proxy_worker *w = &m->workers[i];
		pthread_mutex_lock(&w->mu);
		drained += w->drained_told;
		pthread_mutex_unlock(&w->mu);
	}
	if (m->stopping && drained == m->n_workers && !m->stopped_told) {
		m->stopped_told = true;
		log_info("proxy: drained");
		m->env->stopped(m->env, "proxy");
	}
}

static void proxy_destroy(void *state);

/* One worker per core this process may run on (taskset is honoured). */
static unsigned
n_cores(void)
{
	cpu_set_t set;
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	if (sched_getaffinity(0, sizeof(set), &set) == 0)
		n = CPU_COUNT(&set);
	return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

/* Sends conf and new listening sockets (or -2: keep) to every worker. */
static void
post_all(struct proxy_mod *m, struct proxy_conf *c, int *hfds, int *sfds)
{
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct proxy_worker *w = &m->workers[i];
		pthread_mutex_lock(&w->mu);
		if (w->next_conf != NULL)
			proxy_conf_unref(w->next_conf);
		w->next_conf = proxy_conf_ref(c);
		if (hfds != NULL)
			w->next_http_fd = hfds[i];
		if (sfds != NULL)
			w->next_https_fd = sfds[i];
		pthread_mutex_unlock(&w->mu);
		proxy_worker_post(w);
	}
}

/* Opens the sockets c needs that differ from what is open now. */
static int
open_listeners(struct proxy_mod *m, const struct proxy_conf *c, int *hfds,
    int *sfds, bool *new_http, bool *new_https)
{
	*new_http = m->workers == NULL || c->p->http_port != m->http_port;
	*new_https = m->workers == NULL || c->https != m->https ||
	    (c->https && c->p->https_port != m->https_port);
	for (unsigned i = 0; i < m->n_workers; i++)
		hfds[i] = sfds[i] = -1;
	if (*new_http && listen_all(c->p->http_port, m->n_workers, hfds) != 0)
		return -EADDRINUSE;
	if (*new_https && c->https &&
	    listen_all(c->p->https_port, m->n_workers, sfds) != 0) {
		for (unsigned i = 0; *new_http && i < m->n_workers; i++)
			close(hfds[i]);
		return -EADDRINUSE;
	}
	return 0;
}

/* Raises the open-file limit to its hard maximum: a connection is 2 fds. */
static void
raise_nofile(uint32_t max_connections)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)max_connections * 2 + 64)
		log_info("proxy: open files limited to %llu, below 2 per "
		         "connection for max_connections %u",
		    (unsigned long long)rl.rlim_cur, max_connections);
}

/*
 * Opens p's access log: the first time, the line log with its writer;
 * after that (every reload, so that SIGHUP after a rotation starts a new
 * file) the file anew, or none. Logged; -errno when a new file cannot
 * be opened (the same file that cannot be reopened stays in use).
 */
static int
access_log_apply(struct proxy_mod *m, const struct hearth_proxy *p)
{
	int rc = 0;
	const char *now = m->conf != NULL ? m->conf->p->access_log : NULL;
	if (m->access_log != NULL) {
		rc = hearth_linelog_reopen(m->access_log, p->access_log);
		if (rc != 0 && now != NULL && strcmp(now, p->access_log) == 0) {
			errno = -rc;
			log_warn("proxy: cannot reopen the access log %s; "
			         "still writing the open file",
			    now);
			return 0;
		}
	} else if (p->access_log != NULL) {
		struct hearth_linelog *l =
		    hearth_linelog_open(p->access_log, m->n_workers, NULL);
		rc = l == NULL ? -errno : 0;
		__atomic_store_n(&m->access_log, l, __ATOMIC_RELEASE);
	}
	if (rc != 0) {
		errno = -rc;
		log_warn("proxy: cannot open the access log %s", p->access_log);
	}
	return rc;
}

static int
proxy_create(struct hearth_env *env, const struct hearth_model *model,
    void **state)
{
	struct proxy_mod *m = calloc(1, sizeof(*m));
	int hfds[64], sfds[64];
	bool nh, ns;
	if (m == NULL)
		return -ENOMEM;
	m->env = env;
	m->done_fd = -1;
	pthread_mutex_init(&m->health_mu, NULL);
	LIST_INIT(&m->health);
	if ((m->hc = proxy_hc_new(env->base)) == NULL) {
		proxy_destroy(m);
		return -ENOMEM;
	}
	m->n_workers = n_cores();
	raise_nofile(model->proxy.limits.max_connections);
	if (access_log_apply(m, &model->proxy) != 0) {
		proxy_destroy(m);
		return -EACCES;
	}
	m->conf = conf_new(m, model);
	if (m->conf == NULL) {
		proxy_destroy(m);
		return -EINVAL;
	}
	if (open_listeners(m, m->conf, hfds, sfds, &nh, &ns) != 0) {
		proxy_destroy(m);
		return -EADDRINUSE;
	}
	m->http_port = model->proxy.http_port;
	m->https_port = model->proxy.https_port;
	m->https = m->conf->https;
	m->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	m->done_ev =
	    event_new(env->base, m->done_fd, EV_READ | EV_PERSIST, done_cb, m);
	m->workers = calloc(m->n_workers, sizeof(*m->workers));
	if (m->done_fd < 0 || m->done_ev == NULL || m->workers == NULL) {
		for (unsigned i = 0; i < m->n_workers; i++) {
			close(hfds[i]);
			if (sfds[i] >= 0)
				close(sfds[i]);
		}
		proxy_destroy(m);
		return -ENOMEM;
	}
	event_add(m->done_ev, NULL);
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct proxy_worker *w = &m->workers[i];
		w->mod = m;
		w->id = i;
		w->next_conf = proxy_conf_ref(m->conf);
		w->next_http_fd = hfds[i];
		w->next_https_fd = sfds[i];
		if (proxy_worker_start(w) != 0) {
			log_warnx("proxy: cannot start worker %u", i);
			for (unsigned j = i + 1; j < m->n_workers; j++) {
				close(hfds[j]);
				if (sfds[j] >= 0)
					close(sfds[j]);
			}
			proxy_destroy(m);
			return -ENOMEM;
		}
	}
	if (m->https)
		log_info("proxy: listening on ports %u and %u with %u workers, "
		         "%zu routes",
		    m->http_port, m->https_port, m->n_workers,
		    model->proxy.n_routes);
	else
		log_info("proxy: listening on port %u with %u workers, %zu "
		         "routes",
		    m->http_port, m->n_workers, model->proxy.n_routes);
	*state = m;
	return 0;
}

static int
proxy_apply(void *state, const struct hearth_model *old,
    const struct hearth_model *new)
{
	struct proxy_mod *m = state;
	int hfds[64], sfds[64];
	bool nh, ns;
	struct proxy_conf *c = conf_new(m, new);
	if (c == NULL)
		return -EINVAL;
	int rc = open_listeners(m, c, hfds, sfds, &nh, &ns);
	if (rc != 0) {
		proxy_conf_unref(c);
		return rc;
	}
	if (access_log_apply(m, &new->proxy) != 0) {
		for (unsigned i = 0; i < m->n_workers; i++) {
			if (nh)
				close(hfds[i]);
			if (ns && sfds[i] >= 0)
				close(sfds[i]);
		}
		proxy_conf_unref(c);
		return -EACCES;
	}
	post_all(m, c, nh ? hfds : NULL, ns ? sfds : NULL);
	proxy_conf_unref(m->conf);
	m->conf = c;
	m->http_port = new->proxy.http_port;
	m->https_port = new->proxy.https_port;
	m->https = c->https;
	m->reloads++;
	log_info("proxy: configuration applied (%zu routes)",
	    new->proxy.n_routes);
	return 0;
}

static enum hearth_health
proxy_health(void *state)
{
	return HEARTH_HEALTH_OK;
}

static int
proxy_stop(void *state, unsigned drain_seconds)
{
	struct proxy_mod *m = state;
	m->stopping = true;
	if (__atomic_load_n(&m->active, __ATOMIC_RELAXED) == 0)
		m->stopped_told = true;
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct proxy_worker *w = &m->workers[i];
		pthread_mutex_lock(&w->mu);
		w->stop_req = true;
		pthread_mutex_unlock(&w->mu);
		proxy_worker_post(w);
	}
	if (m->stopped_told)
		return 0;
	log_info("proxy: draining %llu connection(s) for up to %u s",
	    (unsigned long long)__atomic_load_n(&m->active, __ATOMIC_RELAXED),
	    drain_seconds);
	return 1;
}

static void
proxy_destroy(void *state)
{
	struct proxy_mod *m = state;
	if (m == NULL)
		return;
	for (unsigned i = 0; m->workers != NULL && i < m->n_workers; i++)
		proxy_worker_join(&m->workers[i]);
	free(m->workers);
	if (m->done_ev != NULL)
		event_free(m->done_ev);
	if (m->done_fd >= 0)
		close(m->done_fd);
	proxy_conf_unref(m->conf);
	hearth_linelog_close(m->access_log); /* after the workers */
	proxy_hc_free(m->hc);
	struct proxy_health *h;
	while ((h = LIST_FIRST(&m->health)) != NULL) {
		LIST_REMOVE(h, link);
		free(h);
	}
	pthread_mutex_destroy(&m->health_mu);
	free(m);
}

static const double latency_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1, 2.5, 5, 10};

static void
proxy_metrics(void *state, struct evbuffer *out)
{
	struct proxy_mod *m = state;
	struct metrics_histogram lat = {.bounds = latency_bounds,
	    .n_bounds = sizeof(latency_bounds) / sizeof(*latency_bounds)};
	uint64_t tls = 0;
	metrics_header(out, "hearth_proxy_requests_total", "counter",
	    "Requests answered, by route and status (code \"passthrough\": "
	    "a spliced TLS connection).");
	for (unsigned i = 0; i < m->n_workers; i++) {
		struct proxy_stats *s = &m->workers[i].stats;
		pthread_mutex_lock(&s->mu);
		for (size_t j = 0; j < s->n_routes; j++) {
			char labels[160], code[16];
			/* Status 0: a passthrough connection (TLS not opened).
			 */
			snprintf(code, sizeof(code), "%u", s->routes[j].status);
			snprintf(labels, sizeof(labels),
			    "route=\"%s\",code=\"%s\",worker=\"%u\"",
			    s->routes[j].route,
			    s->routes[j].status ? code : "passthrough", i);
			metrics_sample(out, "hearth_proxy_requests_total",
			    labels, (double)s->routes[j].count);
		}
		for (unsigned b = 0; b <= lat.n_bounds; b++)
			lat.counts[b] += s->latency.counts[b];
		lat.count += s->latency.count;
		lat.sum += s->latency.sum;
		pthread_mutex_unlock(&s->mu);
		tls += __atomic_load_n(&s->tls_handshakes, __ATOMIC_RELAXED);
	}
	metrics_histogram_write(out, "hearth_proxy_upstream_latency_seconds",
	    "Time from request sent to response header, per request.", &lat);
	metrics_gauge(out, "hearth_proxy_active_connections",
	    "Open client connections.",
	    (double)__atomic_load_n(&m->active, __ATOMIC_RELAXED));
	metrics_counter(out, "hearth_proxy_tls_handshakes_total",
	    "Completed TLS handshakes.", tls);
	metrics_counter(out, "hearth_proxy_reloads_total",
	    "Configurations applied after the first.", m->reloads);
	metrics_counter(out, "hearth_proxy_access_log_dropped_total",
	    "Access-log lines dropped: the writer fell behind or the file "
	    "refused them.",
	    m->access_log ? hearth_linelog_dropped(m->access_log) : 0);
	proxy_hc_metrics(m->hc, out);
}

static bool
proxy_wanted(const struct hearth_model *m)
{
	return m->has_proxy;
}

const struct hearth_module_ops proxy_module = {
    .name = "proxy",
    .wanted = proxy_wanted,
    .create = proxy_create,
    .apply = proxy_apply,
    .health = proxy_health,
    .metrics = proxy_metrics,
    .stop = proxy_stop,
    .destroy = proxy_destroy,
};
