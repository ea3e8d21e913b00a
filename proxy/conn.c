/*
 * One client connection inside a worker, and the upstream connection it
 * borrows for each request: the HTTP/1.1 forwarding state machine (head,
 * connect, forward bodies both ways, tunnel after an Upgrade), TLS
 * passthrough by SNI, timeouts, errors, keep-alive on both sides with a
 * pool of idle upstream connections per backend, and the access log.
 * Bodies move between evbuffers in bounded steps (watermarks give the
 * backpressure); nothing is ever buffered whole.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include "io.h"
#include "log.h"
#include "proxy_int.h"
#include "sni.h"

#define RESP_HEAD_MAX 131072
#define POOL_MAX_IDLE 256
#define PEEK_MAX      (PROXY_SNI_MAX_HELLO + 1024)
#define HOLD_HEAD_MAX 16384 /* see hold_head() */
#define JOIN_MAX      512   /* see move_body() */

enum conn_state {
	C_PEEK,    /* TLS port: waiting for the ClientHello */
	C_HEAD,    /* reading a request head */
	C_CONNECT, /* connecting to a backend */
	C_FORWARD, /* request and response bodies */
	C_TUNNEL,  /* after 101 or for passthrough: bytes both ways */
	C_CLOSING, /* flushing a last response, then closing */
};

struct proxy_upstream {
	struct proxy_io *io;
	struct proxy_pool *pool;
	struct proxy_health *health;
	struct proxy_conn *owner; /* NULL while idle in the pool */
	bool reused;
	TAILQ_ENTRY(proxy_upstream) link;
};

struct proxy_conn {
	struct proxy_worker *w;
	TAILQ_ENTRY(proxy_conn) link;
	enum conn_state state;
	struct event *timer;
	int64_t due, armed; /* the state's timeout; the timer's (ms) */
	bool timer_on;      /* the timer is pending */
	struct proxy_io *io;
	struct proxy_conf *conf; /* reference; renewed per request */
	bool tls, passthrough, draining, in_head, client_eof, lingering;
	char peer[INET6_ADDRSTRLEN];
	int64_t last_io, deadline;
	/* the request in flight */
	struct proxy_upstream *up;
	struct proxy_pick *pick;
	int backend;
	bool retried;
	struct evbuffer *head; /* request head for the upstream */
	enum proxy_body req_body;
	uint64_t req_left, req_bytes;
	struct proxy_chunk req_chunk;
	bool req_done, client_ka, is_head, upgrade, http10;
	enum proxy_body resp_body;
	uint64_t resp_left, resp_bytes;
	struct proxy_chunk resp_chunk;
	bool resp_head_done, up_reusable, keep_after, dechunk;
	unsigned status;
	int64_t t_start, t_sent, up_ms; /* up_ms: to the response head */
	const char *route;
	char method[16], host[128], path[256];
};

static void client_read_cb(struct proxy_io *io, void *arg);
static void client_write_cb(struct proxy_io *io, void *arg);
static void client_event_cb(struct proxy_io *io, int what, void *arg);
static void up_read_cb(struct proxy_io *io, void *arg);
static void up_write_cb(struct proxy_io *io, void *arg);
static void up_event_cb(struct proxy_io *io, int what, void *arg);
static void try_head(struct proxy_conn *c);
static void connect_backend(struct proxy_conn *c, bool fresh);
static void tunnel_start(struct proxy_conn *c);

static void
flush_client(struct proxy_conn *c)
{
	proxy_io_flush(c->io);
}

static void
flush_up(struct proxy_conn *c)
{
	if (c->up != NULL)
		proxy_io_flush(c->up->io);
}

static struct evbuffer *
client_in(struct proxy_conn *c)
{
	return proxy_io_input(c->io);
}

static struct evbuffer *
client_out(struct proxy_conn *c)
{
	return proxy_io_output(c->io);
}

static const struct hearth_proxy_limits *
limits(const struct proxy_conn *c)
{
	return &c->conf->p->limits;
}

/*
 * Timeouts and idle times run on the coarse monotonic clock (a tick of a
 * few ms; much cheaper per call than the precise one, and a request reads
 * it several times); latencies (t_start, t_sent) use proxy_now_ms. A timer
 * may fire up to a tick before the coarse clock has reached its deadline:
 * COARSE_SLACK_MS counts as reached.
 */
#define COARSE_SLACK_MS 10

/*
 * The state's timeout is now + ms. The timer is only moved when that is
 * earlier than where it stands: a later one (the usual case, as each
 * request pushes the idle and header timeouts out) waits for the timer
 * to fire, which then re-arms it for what is left (no timer-heap work
 * per request).
 */
static void
arm(struct proxy_conn *c, int64_t ms)
{
	c->due = proxy_coarse_ms() + ms;
	if (c->timer_on && c->armed <= c->due)
		return;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	c->armed = c->due;
	c->timer_on = true;
	evtimer_add(c->timer, &tv);
}

static void
touch(struct proxy_conn *c)
{
	c->last_io = proxy_coarse_ms();
}

/* Upstreams and pools. */

static void
up_free(struct proxy_upstream *u)
{
	if (u == NULL)
		return;
	if (u->owner == NULL && u->pool != NULL) {
		TAILQ_REMOVE(&u->pool->idle, u, link);
		u->pool->n_idle--;
	}
	proxy_io_free(u->io);
	free(u);
}

static void
idle_read_cb(struct proxy_io *io, void *arg)
{
	up_free(arg); /* a backend speaking unasked: drop it */
}

static void
idle_event_cb(struct proxy_io *io, int what, void *arg)
{
	up_free(arg);
}

void
proxy_pool_free(struct proxy_pool *p)
{
	struct proxy_upstream *u;
	while ((u = TAILQ_FIRST(&p->idle)) != NULL)
		up_free(u);
	free(p);
}

static struct proxy_pool *
pool_get(struct proxy_worker *w, const struct hearth_endpoint *ep)
{
	struct proxy_pool *p;
	LIST_FOREACH(p, &w->pools, link)
	if (p->ep.port == ep->port && hearth_addr_eq(&p->ep.addr, &ep->addr))
		return p;
	p = calloc(1, sizeof(*p));
	if (p == NULL)
		return NULL;
	p->ep = *ep;
	TAILQ_INIT(&p->idle);
	LIST_INSERT_HEAD(&w->pools, p, link);
	return p;
}

/* Parks u in its pool for the next request to that backend. */
static void
pool_put(struct proxy_conn *c, struct proxy_upstream *u)
{
	struct proxy_pool *p = u->pool;
	if (p == NULL || p->n_idle >= POOL_MAX_IDLE || c->w->draining ||
	    evbuffer_get_length(proxy_io_input(u->io)) > 0 ||
	    proxy_io_pending(u->io) > 0) {
		u->owner = NULL;
		u->pool = NULL;
		up_free(u);
		return;
	}
	u->owner = NULL;
	TAILQ_INSERT_HEAD(&p->idle, u, link);
	p->n_idle++;
	struct timeval tv = {limits(c)->idle_timeout_seconds, 0};
	proxy_io_setcb(u->io, idle_read_cb, NULL, idle_event_cb, u);
	proxy_io_timeout(u->io, &tv);
	proxy_io_read(u->io, true);
}

static struct proxy_upstream *
pool_take(struct proxy_pool *p, struct proxy_conn *c)
{
	struct proxy_upstream *u = TAILQ_FIRST(&p->idle);
	if (u == NULL)
		return NULL;
	TAILQ_REMOVE(&p->idle, u, link);
	p->n_idle--;
	u->owner = c;
	u->reused = true;
	proxy_io_timeout(u->io, NULL);
	proxy_io_setcb(u->io, up_read_cb, up_write_cb, up_event_cb, c);
	return u;
}

static void
drop_upstream(struct proxy_conn *c)
{
	if (c->up == NULL)
		return;
	c->up->owner = NULL;
	c->up->pool = NULL;
	up_free(c->up);
	c->up = NULL;
}

/* The connection's life. */

void
proxy_conn_free(struct proxy_conn *c)
{
	struct proxy_worker *w = c->w;
	drop_upstream(c);
	TAILQ_REMOVE(&w->conns, c, link);
	if (c->timer != NULL)
		event_free(c->timer);
	proxy_io_free(c->io);
	if (c->head != NULL)
		evbuffer_free(c->head);
	proxy_conf_unref(c->conf);
	free(c);
	proxy_worker_conn_gone(w);
}

static void
record(struct proxy_conn *c, unsigned status)
{
	struct proxy_stats *s = &c->w->stats;
	const char *route = c->route ? c->route : "";
	pthread_mutex_lock(&s->mu);
	size_t i;
	for (i = 0; i < s->n_routes; i++)
		if (s->routes[i].status == status &&
		    strcmp(s->routes[i].route, route) == 0)
			break;
	if (i == s->n_routes && i < PROXY_MAX_ROUTE_STATS) {
		snprintf(s->routes[i].route, sizeof(s->routes[i].route), "%s",
		    route);
		s->routes[i].status = status;
		s->n_routes++;
	}
	if (i < s->n_routes)
		s->routes[i].count++;
	pthread_mutex_unlock(&s->mu);
	if (c->conf->p->access_log != NULL) {
		struct proxy_access a = {c->peer, c->method, c->host, c->path,
		    route, NULL, status, c->resp_bytes, c->up_ms,
		    proxy_now_ms() - c->t_start, c->tls};
		if (c->pick != NULL && c->backend >= 0)
			a.backend = &c->pick->backends[c->backend].address;
		proxy_access_log(c->w, c->conf, &a);
	}
}

static const char *
reason(unsigned status)
{
	switch (status) {
	case 308:
		return "Permanent Redirect";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 408:
		return "Request Timeout";
	case 413:
		return "Content Too Large";
	case 431:
		return "Request Header Fields Too Large";
	case 501:
		return "Not Implemented";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	case 505:
		return "HTTP Version Not Supported";
	}
	return "Error";
}

/*
 * Once the last response is out: half-close and keep discarding input a
 * moment, so a client still sending (a refused body, a huge header) reads
 * the answer instead of a reset.
 */
static void
linger(struct proxy_conn *c)
{
	if (c->tls || c->lingering) {
		if (!c->lingering)
			proxy_conn_free(c);
		return;
	}
	c->lingering = true; /* (the FIN went out after the output) */
	arm(c, 2000);
}

/* Starts closing: the output is flushed, then the connection freed. */
static void
close_after_flush(struct proxy_conn *c)
{
	c->state = C_CLOSING;
	drop_upstream(c);
	if (c->io == NULL)
		return proxy_conn_free(c);
	proxy_io_watermarks(c->io, 0, 0);
	proxy_io_read(c->io, true);
	arm(c, 5000);
	proxy_io_shutdown(c->io); /* after the output */
	if (proxy_io_pending(c->io) == 0)
		linger(c);
}

/* Answers the request in flight with status and closes. */
static void
respond_error(struct proxy_conn *c, unsigned status, const char *extra)
{
	if (c->resp_head_done || c->io == NULL) {
		proxy_conn_free(c);
		return;
	}
	char body[96];
	int n = snprintf(body, sizeof(body), "%u %s\n", status, reason(status));
	evbuffer_add_printf(client_out(c),
	    "HTTP/1.1 %u %s\r\nContent-Type: text/plain\r\n"
	    "Content-Length: %d\r\n%sConnection: close\r\n\r\n%s",
	    status, reason(status), n, extra ? extra : "", body);
	c->resp_head_done = true;
	c->resp_bytes = (uint64_t)n;
	record(c, status);
	close_after_flush(c);
}

static void
client_io_setup(struct proxy_conn *c)
{
	size_t rh = limits(c)->max_header_bytes + 1;
	if (rh < PROXY_HIGH_WATER)
		rh = PROXY_HIGH_WATER;
	proxy_io_setcb(c->io, client_read_cb, client_write_cb, client_event_cb,
	    c);
	proxy_io_watermarks(c->io, rh, PROXY_HIGH_WATER / 2);
	proxy_io_read(c->io, true);
}

/* Waits for the next request: idle timeout until its first byte. */
static void
wait_request(struct proxy_conn *c, bool first)
{
	c->state = C_HEAD;
	c->in_head = false;
	c->up = NULL;
	c->pick = NULL;
	c->backend = -1;
	c->route = NULL;
	c->resp_head_done = false;
	c->status = 0;
	c->resp_bytes = 0;
	c->up_ms = -1;
	c->method[0] = c->host[0] = c->path[0] = '\0';
	if (first)
		arm(c, limits(c)->header_timeout_ms);
	else
		arm(c, (int64_t)limits(c)->idle_timeout_seconds * 1000);
	if (evbuffer_get_length(client_in(c)) > 0)
		try_head(c);
}

/* Copies at most cap-1 bytes of s into d. */
static void
copy_str(char *d, size_t cap, struct proxy_str s)
{
	size_t n = s.len < cap - 1 ? s.len : cap - 1;
	memcpy(d, s.p, n);
	d[n] = '\0';
}

/* The target in origin form (absolute-form requests lose the authority). */
static struct proxy_str
origin_target(struct proxy_str t)
{
	if (t.len == 0 || t.p[0] == '/' || t.p[0] == '*')
		return t;
	const char *s = memchr(t.p, ':', t.len);
	size_t i = s ? (size_t)(s - t.p) + 3 : 0;
	while (i < t.len && t.p[i] != '/' && t.p[i] != '?')
		i++;
	if (i >= t.len)
		return (struct proxy_str){"/", 1};
	return (struct proxy_str){t.p + i, t.len - i};
}

/* A head being written: pieces gather in a local buffer, then go to the
 * evbuffer in one add (no printf, no evbuffer call per piece). */
struct head_out {
	struct evbuffer *b;
	size_t n;
	char d[4096];
};

static void
put(struct head_out *o, const void *p, size_t len)
{
	if (o->n + len > sizeof(o->d)) {
		evbuffer_add(o->b, o->d, o->n);
		o->n = 0;
		if (len > sizeof(o->d)) {
			evbuffer_add(o->b, p, len);
			return;
		}
	}
	memcpy(o->d + o->n, p, len);
	o->n += len;
}

#define PUT_LIT(o, lit) put((o), (lit), sizeof(lit) - 1)

static void
put_s(struct head_out *o, const char *s)
{
	put(o, s, strlen(s));
}

static void
put_str(struct head_out *o, struct proxy_str s)
{
	put(o, s.p, s.len);
}

static void
put_uint(struct head_out *o, unsigned v)
{
	char t[12];
	size_t i = sizeof(t);
	do
		t[--i] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	put(o, t + i, sizeof(t) - i);
}

static void
put_end(struct head_out *o)
{
	if (o->n > 0)
		evbuffer_add(o->b, o->d, o->n);
	o->n = 0;
}

/*
 * Fields are copied as they came, whole lines at a time: a head's field
 * lines lie one after the other in the parsed buffer (each header is one
 * line, starting with its name; the parser refuses anything else), so a
 * run of kept fields is one copy, from the first one's name to the next
 * dropped field's name (or to fields_end, where the blank line starts).
 * put_run ends the run before dropped field h; returns NULL.
 */
static const char *
put_run(struct head_out *o, const char *run, const struct proxy_http_header *h)
{
	if (run != NULL)
		put(o, run, (size_t)(h->name.p - run));
	return NULL;
}

/* The request head for the upstream; fields_end: see put_run. */
static void
build_head(struct proxy_conn *c, const struct proxy_http_msg *m,
    const char *fields_end)
{
	struct head_out o = {.b = c->head};
	struct proxy_str t = origin_target(m->target);
	bool absolute = t.p != m->target.p;
	const char *proto = c->tls ? "https" : "http";
	evbuffer_drain(c->head, evbuffer_get_length(c->head));
	put_str(&o, m->method);
	PUT_LIT(&o, " ");
	if (t.p[0] == '?')
		PUT_LIT(&o, "/");
	put_str(&o, t);
	PUT_LIT(&o, " HTTP/1.1\r\n");
	if (absolute || proxy_http_find(m, "host") == NULL) {
		PUT_LIT(&o, "Host: ");
		put_str(&o, m->host);
		PUT_LIT(&o, "\r\n");
	}
	PUT_LIT(&o, "X-Forwarded-For: ");
	for (size_t i = 0; i < m->n_headers; i++) {
		const struct proxy_http_header *h = &m->headers[i];
		if (proxy_str_ieq(h->name, "x-forwarded-for")) {
			put_str(&o, h->value);
			PUT_LIT(&o, ", ");
		}
	}
	put_s(&o, c->peer);
	PUT_LIT(&o, "\r\nX-Forwarded-Proto: ");
	put_s(&o, proto);
	PUT_LIT(&o, "\r\nX-Forwarded-Host: ");
	put_str(&o, m->host);
	PUT_LIT(&o, "\r\n");
	struct proxy_http_hops hops;
	proxy_http_hops_init(m, &hops);
	const char *run = NULL;
	for (size_t i = 0; i < m->n_headers; i++) {
		const struct proxy_http_header *h = &m->headers[i];
		if (proxy_http_hops_has(&hops, m, h->name) ||
		    (h->name.len >= 15 && h->name.len <= 17 &&
		        (proxy_str_ieq(h->name, "x-forwarded-for") ||
		            proxy_str_ieq(h->name, "x-forwarded-proto") ||
		            proxy_str_ieq(h->name, "x-forwarded-host"))) ||
		    (absolute && proxy_str_ieq(h->name, "host")))
			run = put_run(&o, run, h);
		else if (run == NULL)
			run = h->name.p;
	}
	if (run != NULL)
		put(&o, run, (size_t)(fields_end - run));
	bool v6 = strchr(c->peer, ':') != NULL;
	PUT_LIT(&o, "Forwarded: for=");
	if (v6)
		PUT_LIT(&o, "\"[");
	put_s(&o, c->peer);
	if (v6)
		PUT_LIT(&o, "]\"");
	PUT_LIT(&o, ";host=\"");
	put_str(&o, m->host);
	PUT_LIT(&o, "\";proto=");
	put_s(&o, proto);
	PUT_LIT(&o, "\r\n");
	if (m->body == PROXY_BODY_CHUNKED)
		PUT_LIT(&o, "Transfer-Encoding: chunked\r\n");
	if (m->upgrade) {
		const struct proxy_http_header *u =
		    proxy_http_find(m, "upgrade");
		PUT_LIT(&o, "Connection: upgrade\r\nUpgrade: ");
		put_str(&o, u->value);
		PUT_LIT(&o, "\r\n");
	}
	PUT_LIT(&o, "\r\n");
	put_end(&o);
}

static void
redirect(struct proxy_conn *c, const struct proxy_http_msg *m)
{
	char loc[2048];
	struct proxy_str h = m->host;
	const char *colon =
	    h.len > 0 && h.p[0] != '[' ? memchr(h.p, ':', h.len) : NULL;
	if (colon != NULL)
		h.len = (size_t)(colon - h.p);
	struct proxy_str t = origin_target(m->target);
	uint16_t port = c->conf->p->https_port;
	char ps[8] = "";
	if (port != 443)
		snprintf(ps, sizeof(ps), ":%u", port);
	snprintf(loc, sizeof(loc), "Location: https://%.*s%s%.*s\r\n",
	    (int)h.len, h.p, ps, (int)t.len, t.p);
	respond_error(c, 308, loc);
}

/* A parsed request head of head_len bytes: route it and connect. */
static void
start_request(struct proxy_conn *c, const struct proxy_http_msg *m,
    const char *buf, size_t head_len)
{
	const struct hearth_proxy_limits *lim = limits(c);
	copy_str(c->method, sizeof(c->method), m->method);
	copy_str(c->host, sizeof(c->host), m->host);
	copy_str(c->path, sizeof(c->path), m->target);
	c->is_head = m->is_head;
	c->http10 = m->minor == 0;
	c->client_ka = m->keep_alive && !c->draining;
	c->upgrade = m->upgrade;
	c->req_body = m->body;
	c->req_left = m->content_length;
	c->req_bytes = 0;
	c->req_done = m->body == PROXY_BODY_NONE;
	proxy_chunk_init(&c->req_chunk, lim->max_header_bytes);
	c->t_start = proxy_now_ms();
	c->retried = false;
	if (lim->max_body_bytes > 0 && m->body == PROXY_BODY_LENGTH &&
	    m->content_length > lim->max_body_bytes)
		return respond_error(c, 413, NULL);
	if (c->conf->p->redirect_http_to_https && !c->tls)
		return redirect(c, m);
	const struct hearth_proxy_route *route =
	    proxy_router_host(c->conf->router, m->host.p, m->host.len,
	        PROXY_ROUTES_HTTP);
	size_t id = 0;
	const struct hearth_proxy_rule *rule = route == NULL ?
	    NULL :
	    proxy_router_rule(c->conf->router, route, m->path, m, &id);
	if (rule == NULL)
		return respond_error(c, 404, NULL);
	c->route = route->hostnames[0];
	c->pick = &c->conf->rule_picks[id];
	c->backend = proxy_pick_backend(c->pick, -1);
	if (c->backend < 0)
		return respond_error(c, 503, NULL);
	if (c->head == NULL && (c->head = evbuffer_new()) == NULL)
		return respond_error(c, 503, NULL);
	build_head(c, m, buf + head_len - 2);
	evbuffer_drain(client_in(c), head_len);
	connect_backend(c, false);
}

static void
try_head(struct proxy_conn *c)
{
	struct evbuffer *in = client_in(c);
	size_t len = evbuffer_get_length(in);
	if (len == 0)
		return;
	if (!c->in_head) {
		c->in_head = true;
		/* A new request uses the newest configuration. */
		if (c->conf != c->w->conf) {
			proxy_conf_unref(c->conf);
			c->conf = proxy_conf_ref(c->w->conf);
		}
		arm(c, limits(c)->header_timeout_ms);
	}
	const struct hearth_proxy_limits *lim = limits(c);
	size_t n = len < lim->max_header_bytes ? len : lim->max_header_bytes;
	const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)n);
	struct proxy_http_msg m = {.headers = c->w->hdrs,
	    .cap_headers = c->w->cap_hdrs};
	struct proxy_http_limits pl = {lim->max_header_bytes, lim->max_headers};
	ssize_t r = proxy_http_parse_request(buf, n, &pl, &m);
	if (r == 0)
		return;
	if (r < 0) {
		c->t_start = proxy_now_ms();
		snprintf(c->path, sizeof(c->path), "-");
		return respond_error(c, (unsigned)-r, NULL);
	}
	start_request(c, &m, buf, (size_t)r);
}

/* Moves body bytes from in to out as framing allows. Returns -1 on bad
 * chunked framing, else 0; *done is set at the body's end. */
static int
move_body(struct evbuffer *in, struct evbuffer *out, enum proxy_body kind,
    uint64_t *left, struct proxy_chunk *ch, bool dechunk, bool *done,
    uint64_t *moved)
{
	while (!*done && evbuffer_get_length(in) > 0 &&
	    evbuffer_get_length(out) < PROXY_HIGH_WATER) {
		size_t len = evbuffer_get_length(in);
		if (kind == PROXY_BODY_LENGTH || kind == PROXY_BODY_CLOSE) {
			size_t n = len;
			if (kind == PROXY_BODY_LENGTH && (uint64_t)n > *left)
				n = (size_t)*left;
			if (n <= JOIN_MAX && evbuffer_get_length(out) > 0) {
				/* A small piece joins what the output holds
				 * (the head: one buffer, one send) instead of
				 * following it as a chain of its own. */
				evbuffer_add(out,
				    evbuffer_pullup(in, (ssize_t)n), n);
				evbuffer_drain(in, n);
			} else {
				evbuffer_remove_buffer(in, out, n);
			}
			*moved += n;
			if (kind == PROXY_BODY_LENGTH && (*left -= n) == 0)
				*done = true;
			continue;
		}
		struct evbuffer_iovec v[8];
		int nv = evbuffer_peek(in, -1, NULL, v, 8);
		size_t total = 0;
		for (int i = 0; i < nv && !proxy_chunk_done(ch); i++) {
			const char *p = v[i].iov_base;
			size_t l = v[i].iov_len;
			while (l > 0 && !proxy_chunk_done(ch)) {
				const char *d;
				size_t dl;
				ssize_t r = proxy_chunk_feed(ch, p, l, &d, &dl);
				if (r < 0)
					return -1;
				if (dechunk && dl > 0)
					evbuffer_add(out, d, dl);
				*moved += dl;
				p += r;
				l -= (size_t)r;
				total += (size_t)r;
			}
		}
		if (dechunk)
			evbuffer_drain(in, total);
		else
			evbuffer_remove_buffer(in, out, total);
		*done = proxy_chunk_done(ch);
	}
	return 0;
}

static void
schedule(struct proxy_conn *c)
{
	int64_t now = proxy_coarse_ms();
	int64_t idle = (int64_t)limits(c)->idle_timeout_seconds * 1000;
	int64_t next = c->last_io + idle;
	if (c->deadline > 0 && c->deadline < next)
		next = c->deadline;
	arm(c, next > now ? next - now : 0);
}

static void
pump_request(struct proxy_conn *c)
{
	if (c->state != C_FORWARD || c->req_done || c->up == NULL)
		return;
	bool was_done = c->req_done;
	struct evbuffer *in = client_in(c);
	/* A flush that empties the output calls nobody back: go on while
	 * the input holds more and the socket takes it. */
	for (;;) {
		size_t before = evbuffer_get_length(in);
		bool room = proxy_io_pending(c->up->io) < PROXY_HIGH_WATER;
		if (move_body(in, proxy_io_output(c->up->io), c->req_body,
		        &c->req_left, &c->req_chunk, false, &c->req_done,
		        &c->req_bytes) != 0)
			return respond_error(c, 400, NULL);
		uint64_t max = limits(c)->max_body_bytes;
		if (max > 0 && c->req_bytes > max)
			return respond_error(c, 413, NULL);
		flush_up(c);
		if (c->req_done || evbuffer_get_length(in) == 0 ||
		    proxy_io_pending(c->up->io) >= PROXY_HIGH_WATER ||
		    (room && evbuffer_get_length(in) >= before))
			break;
	}
	if (c->req_done && !was_done && !c->resp_head_done) {
		c->t_sent = proxy_now_ms();
		c->deadline = proxy_coarse_ms() +
		    (int64_t)limits(c)->backend_timeout_seconds * 1000;
		schedule(c);
	}
}

/* Whether the connection closes once the response now ending is out. */
static bool
closes_after(const struct proxy_conn *c)
{
	return !c->keep_after || !c->req_done || c->draining;
}

static void
finish_response(struct proxy_conn *c)
{
	record(c, c->status);
	if (c->up != NULL) {
		if (c->up_reusable && c->req_done) {
			struct proxy_upstream *u = c->up;
			c->up = NULL;
			pool_put(c, u);
		} else {
			drop_upstream(c);
		}
	}
	if (closes_after(c))
		return close_after_flush(c);
	wait_request(c, false);
}

/*
 * A small response's head waits for the first bytes of its body, so that
 * both go out in one write (one segment, one TLS record), as nginx's
 * postpone_output does: a backend writes the head and the body
 * separately and the body is usually a moment behind. Only for a body of
 * known length up to HOLD_HEAD_MAX; chunked and larger ones (streams,
 * downloads) get their head at once.
 */
static bool
hold_head(const struct proxy_conn *c)
{
	return c->resp_body == PROXY_BODY_LENGTH && c->resp_bytes == 0 &&
	    c->resp_left > 0 && c->resp_left <= HOLD_HEAD_MAX;
}

static void
pump_response(struct proxy_conn *c)
{
	bool done = c->resp_body == PROXY_BODY_NONE;
	struct evbuffer *in = proxy_io_input(c->up->io);
	/* As in pump_request: on while there is input and the client takes
	 * it. The end of a last response is not flushed here: closing does,
	 * with the TLS close_notify and the FIN in the same write. */
	while (!done) {
		size_t before = evbuffer_get_length(in);
		bool room = proxy_io_pending(c->io) < PROXY_HIGH_WATER;
		if (move_body(in, client_out(c), c->resp_body, &c->resp_left,
		        &c->resp_chunk, c->dechunk, &done,
		        &c->resp_bytes) != 0) {
			proxy_health_fail(c->up->health);
			proxy_conn_free(c);
			return;
		}
		if ((!done || !closes_after(c)) && !hold_head(c))
			flush_client(c);
		if (evbuffer_get_length(in) == 0 ||
		    proxy_io_pending(c->io) >= PROXY_HIGH_WATER ||
		    (room && evbuffer_get_length(in) >= before))
			break;
	}
	if (c->resp_body == PROXY_BODY_NONE && !closes_after(c))
		flush_client(c);
	if (done)
		finish_response(c);
}

/* Copies the end-to-end fields of a response head to the client. */
static void
send_response_head(struct proxy_conn *c, const struct proxy_http_msg *m,
    const char *fields_end, bool final)
{
	struct head_out o = {.b = client_out(c)};
	PUT_LIT(&o, "HTTP/1.1 ");
	put_uint(&o, m->status);
	PUT_LIT(&o, " ");
	put_str(&o, m->reason);
	PUT_LIT(&o, "\r\n");
	struct proxy_http_hops hops;
	proxy_http_hops_init(m, &hops);
	const char *run = NULL;
	for (size_t i = 0; i < m->n_headers; i++) {
		const struct proxy_http_header *h = &m->headers[i];
		if (proxy_http_hops_has(&hops, m, h->name) ||
		    (c->dechunk && proxy_str_ieq(h->name, "content-length")))
			run = put_run(&o, run, h);
		else if (run == NULL)
			run = h->name.p;
	}
	if (run != NULL)
		put(&o, run, (size_t)(fields_end - run));
	if (m->status == 101) {
		const struct proxy_http_header *u =
		    proxy_http_find(m, "upgrade");
		PUT_LIT(&o, "Connection: upgrade\r\n");
		if (u != NULL) {
			PUT_LIT(&o, "Upgrade: ");
			put_str(&o, u->value);
			PUT_LIT(&o, "\r\n");
		}
	} else if (final) {
		if (c->resp_body == PROXY_BODY_CHUNKED && !c->dechunk)
			PUT_LIT(&o, "Transfer-Encoding: chunked\r\n");
		if (!c->keep_after)
			PUT_LIT(&o, "Connection: close\r\n");
		else if (c->http10)
			PUT_LIT(&o, "Connection: keep-alive\r\n");
	}
	PUT_LIT(&o, "\r\n");
	put_end(&o);
}

static void
upstream_failed(struct proxy_conn *c, unsigned status)
{
	if (c->up != NULL)
		proxy_health_fail(c->up->health);
	respond_error(c, status, NULL);
}

/* Reads the response head (and interim 1xx heads) from the upstream. */
static void
handle_response(struct proxy_conn *c)
{
	while (c->state == C_FORWARD && !c->resp_head_done) {
		struct evbuffer *in = proxy_io_input(c->up->io);
		size_t len = evbuffer_get_length(in);
		if (len == 0)
			return;
		size_t n = len < RESP_HEAD_MAX ? len : RESP_HEAD_MAX;
		const char *buf = (const char *)evbuffer_pullup(in, (ssize_t)n);
		struct proxy_http_msg m = {.headers = c->w->hdrs,
		    .cap_headers = c->w->cap_hdrs};
		struct proxy_http_limits pl = {RESP_HEAD_MAX, c->w->cap_hdrs};
		ssize_t r =
		    proxy_http_parse_response(buf, n, &pl, c->is_head, &m);
		if (r == 0)
			return;
		if (r < 0)
			return upstream_failed(c, 502);
		proxy_health_ok(c->up->health);
		if (m.status < 200 && m.status != 101) {
			if (!c->http10)
				send_response_head(c, &m, buf + r - 2, false);
			evbuffer_drain(in, (size_t)r);
			flush_client(c);
			continue;
		}
		if (m.status == 101 && !c->upgrade)
			return upstream_failed(c, 502);
		c->status = m.status;
		c->resp_body = m.body;
		c->resp_left = m.content_length;
		proxy_chunk_init(&c->resp_chunk, RESP_HEAD_MAX);
		c->dechunk = c->http10 && m.body == PROXY_BODY_CHUNKED;
		c->up_reusable = m.keep_alive && m.body != PROXY_BODY_CLOSE;
		c->keep_after = c->client_ka && !c->client_eof &&
		    !c->draining && m.body != PROXY_BODY_CLOSE && !c->dechunk;
		c->deadline = 0;
		struct proxy_stats *s = &c->w->stats;
		c->up_ms = proxy_now_ms() - c->t_sent;
		pthread_mutex_lock(&s->mu);
		metrics_histogram_observe(&s->latency,
		    (double)c->up_ms / 1000.0);
		pthread_mutex_unlock(&s->mu);
		send_response_head(c, &m, buf + r - 2, true);
		evbuffer_drain(in, (size_t)r);
		c->resp_head_done = true;
		if (m.status == 101) {
			record(c, 101);
			return tunnel_start(c);
		}
	}
	if (c->state == C_FORWARD)
		pump_response(c);
}

static void
up_read_cb(struct proxy_io *io, void *arg)
{
	struct proxy_conn *c = arg;
	touch(c);
	if (c->state == C_FORWARD)
		handle_response(c);
	else if (c->state == C_TUNNEL) {
		if (proxy_io_pending(c->io) < PROXY_HIGH_WATER)
			evbuffer_add_buffer(client_out(c), proxy_io_input(io));
		flush_client(c);
	}
}

static void
up_write_cb(struct proxy_io *io, void *arg)
{
	struct proxy_conn *c = arg;
	touch(c);
	if (c->state == C_FORWARD)
		pump_request(c);
	else if (c->state == C_TUNNEL)
		client_read_cb(c->io, c);
}

static void
sent_head(struct proxy_conn *c)
{
	struct evbuffer *out = proxy_io_output(c->up->io);
	size_t n = evbuffer_get_length(c->head);
	evbuffer_add(out, evbuffer_pullup(c->head, -1), n);
	c->state = C_FORWARD;
	c->t_sent = proxy_now_ms();
	touch(c);
	if (c->req_done)
		c->deadline = c->last_io +
		    (int64_t)limits(c)->backend_timeout_seconds * 1000;
	else
		c->deadline = 0;
	schedule(c);
	proxy_io_read(c->up->io, true);
	flush_up(c);
	pump_request(c);
}

static void
connect_failed(struct proxy_conn *c)
{
	if (c->up != NULL)
		proxy_health_fail(c->up->health);
	drop_upstream(c);
	if (!c->retried) {
		c->retried = true;
		int nb = proxy_pick_backend(c->pick, c->backend);
		if (nb >= 0 && nb != c->backend) {
			c->backend = nb;
			return connect_backend(c, true);
		}
	}
	if (c->passthrough)
		return proxy_conn_free(c);
	respond_error(c, 502, NULL);
}

static void
up_event_cb(struct proxy_io *io, int what, void *arg)
{
	struct proxy_conn *c = arg;
	if (what & PROXY_IO_CONNECTED) {
		if (c->passthrough)
			return tunnel_start(c);
		return sent_head(c);
	}
	if (c->state == C_CONNECT)
		return connect_failed(c);
	if (c->state == C_TUNNEL) {
		evbuffer_add_buffer(client_out(c), proxy_io_input(io));
		return close_after_flush(c);
	}
	if (c->state != C_FORWARD)
		return;
	if (!c->resp_head_done) {
		/* A pooled connection the backend had closed: once more. */
		if (c->up->reused && c->req_bytes == 0 && !c->retried &&
		    evbuffer_get_length(proxy_io_input(io)) == 0) {
			drop_upstream(c);
			c->retried = true;
			return connect_backend(c, true);
		}
		return upstream_failed(c, 502);
	}
	if (c->resp_body == PROXY_BODY_CLOSE && (what & PROXY_IO_EOF)) {
		/* Close-delimited: everything left is body. */
		struct evbuffer *in = proxy_io_input(io);
		c->resp_bytes += evbuffer_get_length(in);
		evbuffer_add_buffer(client_out(c), in);
		c->up_reusable = false;
		return finish_response(c);
	}
	proxy_conn_free(c); /* truncated response */
}

static void
connect_backend(struct proxy_conn *c, bool fresh)
{
	struct proxy_worker *w = c->w;
	const struct hearth_endpoint *ep =
	    &c->pick->backends[c->backend].address;
	struct proxy_pool *pool = pool_get(w, ep);
	if (pool == NULL)
		return respond_error(c, 502, NULL);
	if (!fresh && !c->passthrough && (c->up = pool_take(pool, c)) != NULL) {
		c->up->health = c->pick->health[c->backend];
		return sent_head(c);
	}
	struct proxy_upstream *u = calloc(1, sizeof(*u));
	if (u == NULL)
		return respond_error(c, 502, NULL);
	u->pool = c->passthrough ? NULL : pool;
	u->owner = c;
	u->health = c->pick->health[c->backend];
	c->up = u;
	struct sockaddr_storage ss;
	socklen_t sl;
	memset(&ss, 0, sizeof(ss));
	if (ep->addr.family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = ep->addr.v6;
		s6->sin6_port = htons(ep->port);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
		s4->sin_family = AF_INET;
		s4->sin_addr = ep->addr.v4;
		s4->sin_port = htons(ep->port);
		sl = sizeof(*s4);
	}
	c->state = C_CONNECT;
	c->deadline = 0;
	arm(c, limits(c)->connect_timeout_ms);
	u->io = proxy_io_connect(w->base, (struct sockaddr *)&ss, sl);
	if (u->io == NULL)
		return connect_failed(c);
	proxy_io_setcb(u->io, up_read_cb, up_write_cb, up_event_cb, c);
	proxy_io_watermarks(u->io, PROXY_HIGH_WATER, PROXY_HIGH_WATER / 2);
	proxy_io_read(u->io, true);
}

static void
tunnel_start(struct proxy_conn *c)
{
	c->state = C_TUNNEL;
	c->deadline = 0;
	touch(c);
	schedule(c);
	proxy_io_read(c->io, true);
	proxy_io_read(c->up->io, true);
	evbuffer_add_buffer(proxy_io_output(c->up->io), client_in(c));
	evbuffer_add_buffer(client_out(c), proxy_io_input(c->up->io));
	flush_up(c);
	flush_client(c);
}

static void peek(struct proxy_conn *c);

static void
client_read_cb(struct proxy_io *io, void *arg)
{
	struct proxy_conn *c = arg;
	touch(c);
	switch (c->state) {
	case C_PEEK:
		peek(c);
		break;
	case C_HEAD:
		try_head(c);
		break;
	case C_FORWARD:
		pump_request(c);
		break;
	case C_TUNNEL:
		if (proxy_io_pending(c->up->io) < PROXY_HIGH_WATER)
			evbuffer_add_buffer(proxy_io_output(c->up->io),
			    client_in(c));
		flush_up(c);
		break;
	case C_CLOSING:
		evbuffer_drain(client_in(c), evbuffer_get_length(client_in(c)));
		break;
	default:
		break;
	}
}

static void
client_write_cb(struct proxy_io *io, void *arg)
{
	struct proxy_conn *c = arg;
	touch(c);
	if (c->state == C_CLOSING) {
		if (proxy_io_pending(io) == 0)
			linger(c);
	} else if (c->state == C_FORWARD && c->resp_head_done) {
		pump_response(c);
	} else if (c->state == C_TUNNEL) {
		evbuffer_add_buffer(client_out(c), proxy_io_input(c->up->io));
		flush_client(c);
	}
}

static void
client_event_cb(struct proxy_io *io, int what, void *arg)
{
	struct proxy_conn *c = arg;
	if (what & PROXY_IO_CONNECTED) {
		__atomic_add_fetch(&c->w->stats.tls_handshakes, 1,
		    __ATOMIC_RELAXED);
		return;
	}
	if (c->state == C_FORWARD && c->req_done && (what & PROXY_IO_EOF)) {
		/* Half-closed after a whole request: answer, then close. */
		c->client_eof = true;
		c->client_ka = false;
		c->keep_after = false;
		return;
	}
	if (c->state == C_TUNNEL && c->up != NULL)
		evbuffer_add_buffer(proxy_io_output(c->up->io), client_in(c));
	proxy_conn_free(c);
}

static void
timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_conn *c = arg;
	int64_t coarse = proxy_coarse_ms(), now = coarse + COARSE_SLACK_MS;
	int64_t idle = (int64_t)limits(c)->idle_timeout_seconds * 1000;
	c->timer_on = false;
	if (now < c->due)
		return arm(c, c->due - coarse); /* moved out meanwhile */
	switch (c->state) {
	case C_HEAD:
		if (c->in_head) {
			c->t_start = proxy_now_ms();
			snprintf(c->path, sizeof(c->path), "-");
			return respond_error(c, 408, NULL);
		}
		return proxy_conn_free(c);
	case C_CONNECT:
		return connect_failed(c);
	case C_FORWARD:
		if (!c->resp_head_done && c->deadline > 0 && now >= c->deadline)
			return upstream_failed(c, 504);
		/* fall through */
	case C_TUNNEL:
		if (now - c->last_io >= idle)
			return proxy_conn_free(c);
		return schedule(c);
	default:
		return proxy_conn_free(c);
	}
}

/* Passthrough: splice the TLS stream to the route's backend. */
static void
start_passthrough(struct proxy_conn *c, const struct hearth_proxy_route *r)
{
	c->passthrough = true;
	c->up_ms = -1;
	c->route = r->hostnames[0];
	c->pick = &c->conf->route_picks[r - c->conf->p->routes];
	c->backend = proxy_pick_backend(c->pick, -1);
	c->t_start = proxy_now_ms();
	snprintf(c->method, sizeof(c->method), "TLS");
	snprintf(c->host, sizeof(c->host), "%s", r->hostnames[0]);
	if (c->backend < 0)
		return proxy_conn_free(c);
	/* The peeked ClientHello stays in the input for the backend. */
	proxy_io_setcb(c->io, client_read_cb, client_write_cb, client_event_cb,
	    c);
	proxy_io_watermarks(c->io, PROXY_HIGH_WATER, PROXY_HIGH_WATER / 2);
	proxy_io_read(c->io, false); /* until connected */
	record(c, 0);
	connect_backend(c, true);
}

static void
tls_alert_close(struct proxy_conn *c, uint8_t alert)
{
	uint8_t rec[7] = {21, 3, 3, 0, 2, 2, alert}, junk[4096];
	int fd = proxy_io_fd(c->io);
	/* Consume what is unread, or closing would reset the alert away. */
	while (recv(fd, junk, sizeof(junk), MSG_DONTWAIT) > 0)
		;
	ssize_t r = send(fd, rec, sizeof(rec), MSG_NOSIGNAL);
	(void)r;
	shutdown(fd, SHUT_WR);
	proxy_conn_free(c);
}

/* The TLS port's first bytes: a ClientHello, its SNI picks passthrough
 * or termination (and the certificate). */
static void
peek(struct proxy_conn *c)
{
	char name[256];
	struct evbuffer *in = client_in(c);
	size_t n = evbuffer_get_length(in);
	if (n > PEEK_MAX)
		n = PEEK_MAX;
	const uint8_t *buf = evbuffer_pullup(in, (ssize_t)n);
	if (buf == NULL)
		return proxy_conn_free(c);
	int r = proxy_sni_parse(buf, n, name, sizeof(name));
	if (r == PROXY_SNI_MORE && n < PEEK_MAX)
		return;
	if (r == -EBADMSG)
		return tls_alert_close(c, 50); /* decode_error */
	if (r == PROXY_SNI_FOUND) {
		const struct hearth_proxy_route *rt =
		    proxy_router_host(c->conf->router, name, strlen(name),
		        PROXY_ROUTES_ANY);
		if (rt != NULL && rt->passthrough)
			return start_passthrough(c, rt);
	}
	if (c->conf->tls == NULL)
		return tls_alert_close(c, 112); /* unrecognized_name */
	SSL *ssl = SSL_new(proxy_tls_default(c->conf->tls));
	if (ssl == NULL)
		return proxy_conn_free(c);
	if (proxy_io_start_tls(c->io, ssl) != 0) {
		SSL_free(ssl);
		return proxy_conn_free(c);
	}
	client_io_setup(c);
	wait_request(c, true);
}

/* Formats the peer address, IPv4-mapped addresses as IPv4. */
static void
peer_str(const struct sockaddr *sa, char *out, size_t len)
{
	snprintf(out, len, "-");
	if (sa->sa_family == AF_INET) {
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    out, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6) {
		const struct in6_addr *a =
		    &((const struct sockaddr_in6 *)sa)->sin6_addr;
		if (IN6_IS_ADDR_V4MAPPED(a))
			inet_ntop(AF_INET, &a->s6_addr[12], out,
			    (socklen_t)len);
		else
			inet_ntop(AF_INET6, a, out, (socklen_t)len);
	}
}

void
proxy_conn_accept(struct proxy_worker *w, int fd, const struct sockaddr *sa,
    bool tls)
{
	struct proxy_conn *c = calloc(1, sizeof(*c));
	int one = 1;
	if (c == NULL) {
		close(fd);
		__atomic_sub_fetch(&w->mod->active, 1, __ATOMIC_RELAXED);
		return;
	}
	c->w = w;
	c->backend = -1;
	c->tls = tls;
	c->conf = proxy_conf_ref(w->conf);
	TAILQ_INSERT_TAIL(&w->conns, c, link);
	w->n_conns++;
	peer_str(sa, c->peer, sizeof(c->peer));
	/* (The listener's sockets are non-blocking already.) */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->io = proxy_io_new(w->base, fd);
	if (c->io == NULL)
		close(fd);
	c->timer = evtimer_new(w->base, timer_cb, c);
	if (c->io == NULL || c->timer == NULL)
		return proxy_conn_free(c);
	if (tls) {
		c->state = C_PEEK;
		proxy_io_setcb(c->io, client_read_cb, NULL, client_event_cb, c);
		proxy_io_watermarks(c->io, PEEK_MAX, 0);
		proxy_io_read(c->io, true);
		arm(c, limits(c)->header_timeout_ms);
		return;
	}
	client_io_setup(c);
	wait_request(c, true);
}

void
proxy_conn_drain_all(struct proxy_worker *w)
{
	struct proxy_conn *c, *next;
	for (c = TAILQ_FIRST(&w->conns); c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		c->draining = true;
		if ((c->state == C_HEAD && !c->in_head) || c->state == C_PEEK)
			proxy_conn_free(c);
	}
}
