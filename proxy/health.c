/*
 * Active HTTP health checks on the daemon's event base. Each checked
 * backend (a target: address, Host, path, expected statuses, and TLS for
 * passthrough routes) is probed every interval_ms with one non-blocking
 * GET that must answer within timeout_ms; the verdict (hcheck.c) is
 * published in an atomic flag the workers read when choosing a backend.
 * Snapshots hold references on their targets, so a reload finds the
 * targets of backends that stay, with their state; a target no snapshot
 * uses any more is freed at its next tick (always on the main thread).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "hcheck.h"
#include "log.h"
#include "proxy_int.h"

struct proxy_hc_target {
	int refs;    /* atomic: snapshots using it */
	uint32_t up; /* atomic: read by the workers */
	struct proxy_hc *hc;
	struct hearth_endpoint ep;
	char *host; /* Host header and SNI */
	bool tls;
	struct hearth_proxy_health_check cfg; /* path owned */
	struct proxy_hc_sm sm;
	uint64_t n_pass, n_fail;
	int64_t started_ms;
	struct event *timer;     /* next check, or the running one's timeout */
	struct bufferevent *bev; /* the running check */
	LIST_ENTRY(proxy_hc_target) link;
};

struct proxy_hc {
	struct event_base *base;
	SSL_CTX *tls; /* client context for passthrough backends */
	LIST_HEAD(, proxy_hc_target) targets;
};

struct proxy_hc *
proxy_hc_new(struct event_base *base)
{
	struct proxy_hc *hc = calloc(1, sizeof(*hc));
	if (hc == NULL)
		return NULL;
	hc->base = base;
	LIST_INIT(&hc->targets);
	return hc;
}

static void
target_free(struct proxy_hc_target *t)
{
	LIST_REMOVE(t, link);
	if (t->bev != NULL)
		bufferevent_free(t->bev);
	if (t->timer != NULL)
		event_free(t->timer);
	free(t->cfg.path);
	free(t->host);
	free(t);
}

void
proxy_hc_free(struct proxy_hc *hc)
{
	if (hc == NULL)
		return;
	while (!LIST_EMPTY(&hc->targets))
		target_free(LIST_FIRST(&hc->targets));
	SSL_CTX_free(hc->tls);
	free(hc);
}

static const char *
target_name(const struct proxy_hc_target *t, char *buf, size_t len)
{
	char ep[HEARTH_ENDPOINT_STRLEN];
	snprintf(buf, len, "%s%s (Host %s, %s)", t->tls ? "https://" : "",
	    hearth_endpoint_str(&t->ep, ep, sizeof(ep)), t->host, t->cfg.path);
	return buf;
}

static void
schedule(struct proxy_hc_target *t, int64_t delay_ms)
{
	if (delay_ms < 0)
		delay_ms = 0;
	struct timeval tv = {.tv_sec = delay_ms / 1000,
	    .tv_usec = (delay_ms % 1000) * 1000};
	evtimer_add(t->timer, &tv);
}

/* Ends the running check with its result and plans the next one. */
static void
finish(struct proxy_hc_target *t, bool passed, const char *why)
{
	char name[HEARTH_ENDPOINT_STRLEN + 300];
	if (t->bev != NULL) {
		bufferevent_free(t->bev);
		t->bev = NULL;
	}
	evtimer_del(t->timer);
	if (passed)
		t->n_pass++;
	else
		t->n_fail++;
	if (proxy_hc_sm_feed(&t->sm, passed, t->cfg.unhealthy_after,
	        t->cfg.healthy_after)) {
		__atomic_store_n(&t->up, t->sm.up, __ATOMIC_RELEASE);
		if (t->sm.up)
			log_info("proxy: backend %s is up again after %u "
			         "passed checks",
			    target_name(t, name, sizeof(name)),
			    t->cfg.healthy_after);
		else
			log_warnx("proxy: backend %s is down after %u failed "
			          "checks: %s",
			    target_name(t, name, sizeof(name)),
			    t->cfg.unhealthy_after, why);
	} else if (!passed) {
		log_debug("proxy: health check of %s failed: %s",
		    target_name(t, name, sizeof(name)), why);
	}
	schedule(t, t->started_ms + t->cfg.interval_ms - proxy_now_ms());
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	struct proxy_hc_target *t = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	if (len > PROXY_HC_MAX_HEAD)
		len = PROXY_HC_MAX_HEAD;
	const char *p = (const char *)evbuffer_pullup(in, (ssize_t)len);
	unsigned status;
	char why[64];
	switch (proxy_hc_judge(p, len, &t->cfg, &status)) {
	case PROXY_HC_MORE:
		return;
	case PROXY_HC_PASS:
		finish(t, true, "");
		return;
	case PROXY_HC_FAIL:
		if (status != 0)
			snprintf(why, sizeof(why), "status %u", status);
		else
			snprintf(why, sizeof(why), "not an HTTP response");
		finish(t, false, why);
		return;
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct proxy_hc_target *t = arg;
	char why[128];
	if (what & BEV_EVENT_CONNECTED)
		return;
	int err = EVUTIL_SOCKET_ERROR();
	unsigned long ssl_err = t->tls ? bufferevent_get_openssl_error(bev) : 0;
	if (ssl_err != 0)
		ERR_error_string_n(ssl_err, why, sizeof(why));
	else if ((what & BEV_EVENT_ERROR) && err != 0)
		snprintf(why, sizeof(why), "%s", strerror(err));
	else
		snprintf(why, sizeof(why), "closed before a response");
	finish(t, false, why);
}

/* The client context for checks over TLS (no verification: liveness). */
static SSL_CTX *
client_ctx(struct proxy_hc *hc)
{
	if (hc->tls != NULL)
		return hc->tls;
	hc->tls = SSL_CTX_new(TLS_client_method());
	if (hc->tls != NULL) {
		SSL_CTX_set_min_proto_version(hc->tls, TLS1_2_VERSION);
		SSL_CTX_set_verify(hc->tls, SSL_VERIFY_NONE, NULL);
	}
	return hc->tls;
}

static struct bufferevent *
check_bev(struct proxy_hc_target *t)
{
	struct event_base *base = t->hc->base;
	if (!t->tls)
		return bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	SSL_CTX *ctx = client_ctx(t->hc);
	SSL *ssl = ctx != NULL ? SSL_new(ctx) : NULL;
	if (ssl == NULL)
		return NULL;
	struct hearth_addr a;
	if (hearth_addr_parse(t->host, &a) != 0)
		SSL_set_tlsext_host_name(ssl, t->host);
	struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_CONNECTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL)
		SSL_free(ssl);
	return bev;
}

/* Starts one check: connect, send the request, arm the timeout. */
static void
check_start(struct proxy_hc_target *t)
{
	char req[2048];
	struct sockaddr_storage ss = {0};
	socklen_t sl;
	int n = proxy_hc_request(req, sizeof(req), t->host, t->cfg.path);
	t->started_ms = proxy_now_ms();
	if (t->ep.addr.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = t->ep.addr.v6;
		s6->sin6_port = htons(t->ep.port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr = t->ep.addr.v4;
		s4->sin_port = htons(t->ep.port);
		sl = sizeof(*s4);
	}
	t->bev = n > 0 ? check_bev(t) : NULL;
	if (t->bev == NULL) {
		finish(t, false, n > 0 ? "out of memory" : "request too long");
		return;
	}
	bufferevent_setcb(t->bev, read_cb, NULL, event_cb, t);
	bufferevent_write(t->bev, req, (size_t)n);
	bufferevent_enable(t->bev, EV_READ | EV_WRITE);
	schedule(t, t->cfg.timeout_ms);
	struct bufferevent *bev = t->bev;
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&ss, sl) != 0 &&
	    t->bev == bev)
		finish(t, false, strerror(errno));
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_hc_target *t = arg;
	if (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) == 0) {
		target_free(t);
		return;
	}
	if (t->bev != NULL) {
		char why[64];
		snprintf(why, sizeof(why), "no answer within %u ms",
		    t->cfg.timeout_ms);
		finish(t, false, why);
		return;
	}
	check_start(t);
}

static bool
target_is(const struct proxy_hc_target *t,
    const struct hearth_proxy_health_check *cfg,
    const struct hearth_endpoint *ep, const char *host, bool tls)
{
	return t->tls == tls && t->ep.port == ep->port &&
	    hearth_addr_eq(&t->ep.addr, &ep->addr) &&
	    strcmp(t->host, host) == 0 && strcmp(t->cfg.path, cfg->path) == 0 &&
	    t->cfg.expect_min == cfg->expect_min &&
	    t->cfg.expect_max == cfg->expect_max;
}

struct proxy_hc_target *
proxy_hc_target_get(struct proxy_hc *hc,
    const struct hearth_proxy_health_check *cfg,
    const struct hearth_endpoint *ep, const char *host, bool tls)
{
	char ep_str[HEARTH_ENDPOINT_STRLEN];
	struct proxy_hc_target *t;
	if (host == NULL)
		host = hearth_endpoint_str(ep, ep_str, sizeof(ep_str));
	LIST_FOREACH(t, &hc->targets, link)
	if (target_is(t, cfg, ep, host, tls)) {
		/* The newest configuration's timing and thresholds win. */
		t->cfg.interval_ms = cfg->interval_ms;
		t->cfg.timeout_ms = cfg->timeout_ms;
		t->cfg.unhealthy_after = cfg->unhealthy_after;
		t->cfg.healthy_after = cfg->healthy_after;
		__atomic_add_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
		return t;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	t->hc = hc;
	t->ep = *ep;
	t->tls = tls;
	t->cfg = *cfg;
	t->cfg.path = strdup(cfg->path);
	t->host = strdup(host);
	t->timer = evtimer_new(hc->base, tick_cb, t);
	LIST_INSERT_HEAD(&hc->targets, t, link);
	if (t->cfg.path == NULL || t->host == NULL || t->timer == NULL) {
		target_free(t);
		return NULL;
	}
	proxy_hc_sm_init(&t->sm);
	t->up = t->sm.up;
	t->refs = 1;
	schedule(t, 0);
	return t;
}

void
proxy_hc_target_unref(struct proxy_hc_target *t)
{
	if (t != NULL)
		__atomic_sub_fetch(&t->refs, 1, __ATOMIC_ACQ_REL);
}

bool
proxy_hc_target_up(const struct proxy_hc_target *t)
{
	return __atomic_load_n(&t->up, __ATOMIC_ACQUIRE) != 0;
}

/* s with '\\', '"' and newlines escaped, for a label value. */
static void
label_escape(char *out, size_t len, const char *s)
{
	size_t o = 0;
	for (; *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\n' ? 'n' : *s;
		} else
			out[o++] = *s;
	}
	out[o] = '\0';
}

void
proxy_hc_metrics(struct proxy_hc *hc, struct evbuffer *out)
{
	struct proxy_hc_target *t;
	if (hc == NULL || LIST_EMPTY(&hc->targets))
		return;
	for (int pass = 0; pass < 2; pass++) {
		const char *name = pass ? "hearth_proxy_health_checks_total" :
		                          "hearth_proxy_backend_up";
		if (pass)
			metrics_header(out, name, "counter",
			    "Active health checks by backend and result.");
		else
			metrics_header(out, name, "gauge",
			    "Whether active health checks count a backend "
			    "as up (1) or down (0).");
		LIST_FOREACH(t, &hc->targets, link)
		{
			char ep[HEARTH_ENDPOINT_STRLEN], host[300], path[600];
			char labels[1024];
			if (__atomic_load_n(&t->refs, __ATOMIC_ACQUIRE) == 0)
				continue;
			label_escape(host, sizeof(host), t->host);
			label_escape(path, sizeof(path), t->cfg.path);
			int n = snprintf(labels, sizeof(labels),
			    "backend=\"%s\",host=\"%s\",path=\"%s\"",
			    hearth_endpoint_str(&t->ep, ep, sizeof(ep)), host,
			    path);
			if (!pass) {
				metrics_sample(out, name, labels,
				    t->sm.up ? 1 : 0);
				continue;
			}
			snprintf(labels + n, sizeof(labels) - (size_t)n,
			    ",result=\"pass\"");
			metrics_sample(out, name, labels, (double)t->n_pass);
			snprintf(labels + n, sizeof(labels) - (size_t)n,
			    ",result=\"fail\"");
			metrics_sample(out, name, labels, (double)t->n_fail);
		}
	}
}
