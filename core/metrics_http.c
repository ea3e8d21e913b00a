/*
 * The metrics endpoint on the daemon's event base (libevent's evhttp):
 * GET /metrics answers the Prometheus text format, GET /healthz answers
 * 200 "ok" while every module serves and 503 otherwise.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/util.h>

#include "daemon.h"
#include "log.h"

struct metrics_http {
	struct evhttp *http;
	metrics_http_fill_cb fill;
	metrics_http_health_cb health;
	void *arg;
};

static void
handle_metrics(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	struct evbuffer *out = evbuffer_new();
	if (out == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	h->fill(out, h->arg);
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

static void
handle_healthz(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	struct evbuffer *out = evbuffer_new();
	if (out == NULL) {
		evhttp_send_error(req, HTTP_INTERNAL, NULL);
		return;
	}
	bool ok = h->health(h->arg);
	evbuffer_add_printf(out, ok ? "ok\n" : "not ready\n");
	evhttp_add_header(evhttp_request_get_output_headers(req),
	    "Content-Type", "text/plain; charset=utf-8");
	evhttp_send_reply(req, ok ? HTTP_OK : 503,
	    ok ? "OK" : "Service Unavailable", out);
	evbuffer_free(out);
}

static void
handle_other(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, HTTP_NOTFOUND, NULL);
}

struct metrics_http *
metrics_http_new(struct event_base *base, const struct hearth_endpoint *listen,
    metrics_http_fill_cb fill, metrics_http_health_cb health, void *arg)
{
	char addr[INET6_ADDRSTRLEN];
	struct metrics_http *h = calloc(1, sizeof(*h));
	if (h == NULL)
		return NULL;
	h->fill = fill;
	h->health = health;
	h->arg = arg;
	h->http = evhttp_new(base);
	if (h->http == NULL) {
		free(h);
		return NULL;
	}
	evhttp_set_allowed_methods(h->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_max_headers_size(h->http, 8192);
	evhttp_set_max_body_size(h->http, 0);
	evhttp_set_timeout(h->http, 10);
	evhttp_set_cb(h->http, "/metrics", handle_metrics, h);
	evhttp_set_cb(h->http, "/healthz", handle_healthz, h);
	evhttp_set_gencb(h->http, handle_other, h);
	hearth_addr_str(&listen->addr, addr, sizeof(addr));
	if (evhttp_bind_socket(h->http, addr, listen->port) != 0) {
		int err = errno;
		metrics_http_free(h);
		errno = err;
		return NULL;
	}
	return h;
}

void
metrics_http_free(struct metrics_http *h)
{
	if (h == NULL)
		return;
	if (h->http != NULL)
		evhttp_free(h->http);
	free(h);
}
