/*
 * hearth-bench http: closed-loop HTTP/1.1 load on an http:// or https://
 * URL. Each thread owns one libevent loop and its share of the
 * connections; a connection sends a request, reads the whole response
 * (bench_http_parse), records the latency in the thread's histogram and
 * sends the next one, over keep-alive or, with --new-connection, over a
 * fresh TCP (and full TLS) connection each time. Sockets and OpenSSL are
 * driven directly on the loop (no bufferevents) so the generator costs as
 * little as wrk. At the deadline no new request starts; those in flight
 * finish, so the requests counted are exactly those answered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_logic.h"
#include "report.h"

enum http_err { E_CONNECT, E_READ, E_WRITE, E_TIMEOUT, E_STATUS, E_PARSE, E_N };
static const char *const http_err_names[E_N] = {"connect", "read", "write",
    "timeout", "status", "parse"};

enum conn_state { C_IDLE, C_CONNECTING, C_HANDSHAKE, C_WRITING, C_READING };

struct http_stats {
	uint64_t sent;
	uint64_t completed;
	uint64_t bytes;
	uint64_t status_class[6];
	uint64_t errors[E_N];
	struct bench_hist hist;
};

struct http_run {
	const struct bench_http_opts *o;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addrtext[80];
	SSL_CTX *ssl_ctx;
	char *request;
	size_t reqlen;
	bool sni;
};

struct http_thread;

struct conn {
	struct http_thread *t;
	int fd;
	SSL *ssl;
	struct event ev;
	short what;
	enum conn_state state;
	bool reused;
	bool got_bytes;
	bool retired;
	size_t wpos;
	uint64_t start_ns;
	struct bench_http_parser parser;
};

struct http_thread {
	struct http_run *run;
	pthread_t tid;
	struct event_base *base;
	struct event *deadline;
	const struct timeval *timeout;
	struct conn *conns;
	size_t nconns;
	size_t active;
	bool stopping;
	uint64_t end_ns;
	uint64_t last_ns;  /* when the last response completed */
	uint64_t progress; /* completed, read by the main thread */
	struct http_stats st;
	char rbuf[65536];
};

static void conn_cb(evutil_socket_t fd, short what, void *arg);
static void conn_start(struct conn *c);

/* Waits for `what` on the connection's socket (and re-arms the timeout). */
static void
conn_want(struct conn *c, short what)
{
	if (c->what != what) {
		if (c->what)
			event_del(&c->ev);
		event_assign(&c->ev, c->t->base, c->fd, what | EV_PERSIST,
		    conn_cb, c);
		c->what = what;
	}
	event_add(&c->ev, c->t->timeout);
}

static void
conn_close(struct conn *c)
{
	if (c->what) {
		event_del(&c->ev);
		c->what = 0;
	}
	if (c->ssl) {
		SSL_free(c->ssl);
		c->ssl = NULL;
	}
	if (c->fd >= 0) {
		close(c->fd);
		c->fd = -1;
	}
	c->state = C_IDLE;
	c->reused = false;
}

/* A connection stops for good (after the deadline). */
static void
conn_retire(struct conn *c)
{
	struct http_thread *t = c->t;
	conn_close(c);
	if (c->retired)
		return;
	c->retired = true;
	if (--t->active == 0) {
		t->end_ns = bench_now_ns();
		event_base_loopbreak(t->base);
	}
}

static void
conn_fail(struct conn *c, enum http_err kind)
{
	c->t->st.errors[kind]++;
	conn_close(c);
	conn_start(c);
}

static void
response_done(struct conn *c)
{
	struct http_thread *t = c->t;
	int status = c->parser.status;
	t->last_ns = bench_now_ns();
	bench_hist_record(&t->st.hist, t->last_ns - c->start_ns);
	t->st.completed++;
	__atomic_store_n(&t->progress, t->st.completed, __ATOMIC_RELAXED);
	t->st.status_class[status / 100 < 6 ? status / 100 : 0]++;
	if (status >= 500)
		t->st.errors[E_STATUS]++;
	if (!t->run->o->new_connection && c->parser.keep_alive) {
		c->reused = true;
		conn_start(c);
		return;
	}
	conn_close(c);
	conn_start(c);
}

static void
do_write(struct conn *c)
{
	const struct http_run *r = c->t->run;
	while (c->wpos < r->reqlen) {
		ssize_t n;
		if (c->ssl) {
			int k = SSL_write(c->ssl, r->request + c->wpos,
			    (int)(r->reqlen - c->wpos));
			if (k <= 0) {
				int e = SSL_get_error(c->ssl, k);
				if (e == SSL_ERROR_WANT_READ)
					return conn_want(c, EV_READ);
				if (e == SSL_ERROR_WANT_WRITE)
					return conn_want(c, EV_WRITE);
				ERR_clear_error();
				return conn_fail(c, E_WRITE);
			}
			n = k;
		} else {
			n = send(c->fd, r->request + c->wpos,
			    r->reqlen - c->wpos, MSG_NOSIGNAL);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				return conn_want(c, EV_WRITE);
			if (n < 0)
				return conn_fail(c, E_WRITE);
		}
		c->wpos += (size_t)n;
	}
	c->state = C_READING;
	conn_want(c, EV_READ);
}

/* Starts the next request on an open connection. */
static void
request_begin(struct conn *c)
{
	if (!c->t->run->o->new_connection)
		c->start_ns = bench_now_ns();
	bench_http_parser_reset(&c->parser);
	c->wpos = 0;
	c->got_bytes = false;
	c->t->st.sent++;
	c->state = C_WRITING;
	do_write(c);
}

/* The peer closed the connection (or TLS said close_notify). */
static void
on_eof(struct conn *c)
{
	if (bench_http_parse_eof(&c->parser) == 1)
		return response_done(c);
	/* a keep-alive connection the server closed before answering */
	conn_fail(c, E_READ);
}

/* Reads once into the thread's buffer: >0 bytes, 0 EOF, -EAGAIN, -EIO. */
static ssize_t
conn_read(struct conn *c)
{
	struct http_thread *t = c->t;
	if (c->ssl == NULL) {
		ssize_t n = recv(c->fd, t->rbuf, sizeof(t->rbuf), 0);
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? -EAGAIN :
			                                           -EIO;
		return n;
	}
	int k = SSL_read(c->ssl, t->rbuf, (int)sizeof(t->rbuf));
	if (k > 0)
		return k;
	int e = SSL_get_error(c->ssl, k);
	if (e == SSL_ERROR_WANT_READ) {
		conn_want(c, EV_READ);
		return -EAGAIN;
	}
	if (e == SSL_ERROR_WANT_WRITE) {
		conn_want(c, EV_WRITE);
		return -EAGAIN;
	}
	ERR_clear_error();
	return e == SSL_ERROR_ZERO_RETURN ? 0 : -EIO;
}

static void
do_read(struct conn *c)
{
	struct http_thread *t = c->t;
	for (int i = 0; i < 16; i++) {
		ssize_t n = conn_read(c);
		if (n == -EAGAIN)
			return;
		if (n == 0)
			return on_eof(c);
		if (n < 0)
			return conn_fail(c, E_READ);
		t->st.bytes += (uint64_t)n;
		c->got_bytes = true;
		size_t used = 0;
		int rc =
		    bench_http_parse(&c->parser, t->rbuf, (size_t)n, &used);
		if (rc < 0 || (rc == 1 && used != (size_t)n))
			return conn_fail(c, E_PARSE);
		if (rc == 1)
			return response_done(c);
		if ((size_t)n < sizeof(t->rbuf) &&
		    !(c->ssl && SSL_pending(c->ssl)))
			return;
	}
}

static void
do_handshake(struct conn *c)
{
	int k = SSL_connect(c->ssl);
	if (k == 1)
		return request_begin(c);
	int e = SSL_get_error(c->ssl, k);
	if (e == SSL_ERROR_WANT_READ)
		return conn_want(c, EV_READ);
	if (e == SSL_ERROR_WANT_WRITE)
		return conn_want(c, EV_WRITE);
	ERR_clear_error();
	conn_fail(c, E_CONNECT);
}

/* A new SSL object for a connection: SNI and name checks from the URL. */
static SSL *
ssl_for(const struct http_run *r, int fd)
{
	SSL *ssl = SSL_new(r->ssl_ctx);
	if (ssl == NULL)
		return NULL;
	const char *host = r->o->url.host;
	if (SSL_set_fd(ssl, fd) != 1 ||
	    (r->sni && SSL_set_tlsext_host_name(ssl, host) != 1)) {
		SSL_free(ssl);
		return NULL;
	}
	if (!r->o->insecure) {
		int ok = r->sni ?
		    SSL_set1_host(ssl, host) :
		    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host);
		if (ok != 1) {
			SSL_free(ssl);
			return NULL;
		}
	}
	return ssl;
}

static void
on_connected(struct conn *c)
{
	int err = 0;
	socklen_t len = sizeof(err);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
		return conn_fail(c, E_CONNECT);
	if (c->t->run->ssl_ctx == NULL)
		return request_begin(c);
	c->ssl = ssl_for(c->t->run, c->fd);
	if (c->ssl == NULL)
		return conn_fail(c, E_CONNECT);
	c->state = C_HANDSHAKE;
	do_handshake(c);
}

static void
conn_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	if (what & EV_TIMEOUT) {
		bool connecting =
		    c->state == C_CONNECTING || c->state == C_HANDSHAKE;
		if (c->t->stopping && connecting)
			return conn_retire(c);
		return conn_fail(c, connecting ? E_CONNECT : E_TIMEOUT);
	}
	switch (c->state) {
	case C_CONNECTING:
		return on_connected(c);
	case C_HANDSHAKE:
		return do_handshake(c);
	case C_WRITING:
		return do_write(c);
	case C_READING:
		return do_read(c);
	case C_IDLE:
		return;
	}
}

static int
open_socket(const struct http_run *r)
{
	int fd = socket(r->addr.ss_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

/* Opens a connection, or starts the next request on a kept-alive one;
 * after the deadline the connection retires instead. */
static void
conn_start(struct conn *c)
{
	struct http_thread *t = c->t;
	if (t->stopping)
		return conn_retire(c);
	if (c->fd >= 0)
		return request_begin(c);
	c->start_ns = bench_now_ns();
	c->fd = open_socket(t->run);
	if (c->fd < 0) {
		t->st.errors[E_CONNECT]++;
		return conn_retire(c);
	}
	if (connect(c->fd, (const struct sockaddr *)&t->run->addr,
	        t->run->addrlen) == 0 ||
	    errno == EINPROGRESS) {
		c->state = C_CONNECTING;
		return conn_want(c, EV_WRITE);
	}
	conn_fail(c, E_CONNECT);
}

/* The deadline: no new request starts; idle and connecting ones retire. */
static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_thread *t = arg;
	t->stopping = true;
	for (size_t i = 0; i < t->nconns; i++) {
		struct conn *c = &t->conns[i];
		if (c->state == C_IDLE || c->state == C_CONNECTING ||
		    c->state == C_HANDSHAKE)
			conn_retire(c);
	}
}

static void *
thread_main(void *arg)
{
	struct http_thread *t = arg;
	t->active = t->nconns;
	for (size_t i = 0; i < t->nconns; i++)
		conn_start(&t->conns[i]);
	event_base_dispatch(t->base);
	if (t->end_ns == 0)
		t->end_ns = bench_now_ns();
	return NULL;
}

static int
thread_init(struct http_thread *t, struct http_run *r, size_t nconns)
{
	t->run = r;
	bench_hist_reset(&t->st.hist);
	t->base = event_base_new();
	t->conns = calloc(nconns, sizeof(*t->conns));
	if (t->base == NULL || t->conns == NULL)
		return -ENOMEM;
	t->nconns = nconns;
	for (size_t i = 0; i < nconns; i++) {
		t->conns[i].t = t;
		t->conns[i].fd = -1;
	}
	uint64_t to = r->o->timeout_ms;
	struct timeval tv = {(time_t)(to / 1000),
	    (suseconds_t)(to % 1000) * 1000};
	t->timeout = event_base_init_common_timeout(t->base, &tv);
	uint64_t d = r->o->duration_ms;
	struct timeval dv = {(time_t)(d / 1000),
	    (suseconds_t)(d % 1000) * 1000};
	t->deadline = evtimer_new(t->base, deadline_cb, t);
	if (t->timeout == NULL || t->deadline == NULL ||
	    evtimer_add(t->deadline, &dv))
		return -ENOMEM;
	return 0;
}

static void
thread_free(struct http_thread *t)
{
	for (size_t i = 0; t->conns && i < t->nconns; i++)
		conn_close(&t->conns[i]);
	free(t->conns);
	if (t->deadline)
		event_free(t->deadline);
	if (t->base)
		event_base_free(t->base);
}

/* The request every connection sends: GET, Host, the user's headers. */
static char *
build_request(const struct bench_http_opts *o, size_t *len)
{
	bool user_host = false, user_conn = false;
	for (size_t i = 0; i < o->nheaders; i++) {
		user_host |= !strncasecmp(o->headers[i], "host:", 5);
		user_conn |= !strncasecmp(o->headers[i], "connection:", 11);
	}
	char *buf = NULL;
	size_t sz = 0;
	FILE *f = open_memstream(&buf, &sz);
	if (f == NULL)
		return NULL;
	fprintf(f, "GET %s HTTP/1.1\r\n", o->url.path);
	if (!user_host) {
		bool v6 = strchr(o->url.host, ':') != NULL;
		fprintf(f, "Host: %s%s%s", v6 ? "[" : "", o->url.host,
		    v6 ? "]" : "");
		if (o->url.port_explicit)
			fprintf(f, ":%u", o->url.port);
		fputs("\r\n", f);
	}
	for (size_t i = 0; i < o->nheaders; i++)
		fprintf(f, "%s\r\n", o->headers[i]);
	if (o->new_connection && !user_conn)
		fputs("Connection: close\r\n", f);
	fputs("\r\n", f);
	if (fclose(f)) {
		free(buf);
		return NULL;
	}
	*len = sz;
	return buf;
}

static SSL_CTX *
make_ssl_ctx(const struct bench_http_opts *o)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (ctx == NULL)
		return NULL;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	if (!o->insecure) {
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_default_verify_paths(ctx);
	}
	return ctx;
}

/* Waits for fd to become ready for `events` within the timeout. */
static int
wait_fd(int fd, short events, uint64_t deadline_ns)
{
	uint64_t now = bench_now_ns();
	if (now >= deadline_ns)
		return -ETIMEDOUT;
	struct pollfd p = {.fd = fd, .events = events};
	int n = poll(&p, 1, (int)((deadline_ns - now) / 1000000 + 1));
	return n > 0 ? 0 : n == 0 ? -ETIMEDOUT : -errno;
}

/* Opens one TCP (and TLS) connection to check the target before the
 * load starts; on failure writes why. */
static int
preflight(struct http_run *r, char *why, size_t whylen)
{
	uint64_t deadline = bench_now_ns() + r->o->timeout_ms * 1000000;
	int fd = open_socket(r);
	if (fd < 0)
		return snprintf(why, whylen, "socket: %s", strerror(-fd)), fd;
	int rc = 0, err = 0;
	socklen_t len = sizeof(err);
	if (connect(fd, (struct sockaddr *)&r->addr, r->addrlen) &&
	    errno != EINPROGRESS)
		err = errno;
	else if ((rc = wait_fd(fd, POLLOUT, deadline)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		err = errno;
	if (rc || err) {
		snprintf(why, whylen, "cannot connect to %s: %s", r->addrtext,
		    strerror(rc ? -rc : err));
		close(fd);
		return -ECONNREFUSED;
	}
	if (r->ssl_ctx == NULL) {
		close(fd);
		return 0;
	}
	SSL *ssl = ssl_for(r, fd);
	rc = ssl ? 0 : -ENOMEM;
	while (rc == 0) {
		int k = SSL_connect(ssl);
		if (k == 1)
			break;
		int e = SSL_get_error(ssl, k);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			rc = wait_fd(fd,
			    e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT,
			    deadline);
			continue;
		}
		long v = SSL_get_verify_result(ssl);
		char ebuf[256];
		ERR_error_string_n(ERR_get_error(), ebuf, sizeof(ebuf));
		snprintf(why, whylen, "TLS handshake with %s failed: %s",
		    r->addrtext,
		    v != X509_V_OK ? X509_verify_cert_error_string(v) : ebuf);
		rc = -EPROTO;
	}
	if (rc == -ETIMEDOUT)
		snprintf(why, whylen, "TLS handshake with %s timed out",
		    r->addrtext);
	ERR_clear_error();
	SSL_free(ssl);
	close(fd);
	return rc;
}

static void
set_addrtext(struct http_run *r)
{
	char host[INET6_ADDRSTRLEN] = "?", port[8] = "?";
	getnameinfo((struct sockaddr *)&r->addr, r->addrlen, host, sizeof(host),
	    port, sizeof(port), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(r->addrtext, sizeof(r->addrtext),
	    r->addr.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
}

/* Resolves the URL's host (or takes its --resolve address) and keeps the
 * first address that passes the preflight connection. */
static int
resolve_target(struct http_run *r, char *why, size_t whylen)
{
	const struct bench_http_opts *o = r->o;
	const char *node = o->url.host;
	for (size_t i = 0; i < o->nresolve; i++)
		if (!strcasecmp(o->resolve[i].host, o->url.host) &&
		    o->resolve[i].port == o->url.port)
			node = o->resolve[i].addr;
	char port[8];
	snprintf(port, sizeof(port), "%u", o->url.port);
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
	                    .ai_flags = AI_NUMERICSERV},
	                *res;
	int g = getaddrinfo(node, port, &hints, &res);
	if (g) {
		snprintf(why, whylen, "cannot resolve %s: %s", node,
		    gai_strerror(g));
		return -ENOENT;
	}
	int rc = -ENOENT;
	for (struct addrinfo *a = res; a && rc; a = a->ai_next) {
		memcpy(&r->addr, a->ai_addr, a->ai_addrlen);
		r->addrlen = a->ai_addrlen;
		set_addrtext(r);
		rc = preflight(r, why, whylen);
	}
	freeaddrinfo(res);
	return rc;
}

static void
stats_merge(struct http_stats *dst, const struct http_stats *src)
{
	dst->sent += src->sent;
	dst->completed += src->completed;
	dst->bytes += src->bytes;
	for (int i = 0; i < 6; i++)
		dst->status_class[i] += src->status_class[i];
	for (int i = 0; i < E_N; i++)
		dst->errors[i] += src->errors[i];
	bench_hist_merge(&dst->hist, &src->hist);
}

static json_t *
http_json(const char *url, const struct http_run *r, const struct http_stats *s,
    double secs)
{
	const struct bench_http_opts *o = r->o;
	json_t *errors = json_object(), *status = json_object();
	for (int i = 0; i < E_N; i++)
		json_object_set_new(errors, http_err_names[i],
		    json_integer((json_int_t)s->errors[i]));
	for (int i = 1; i < 6; i++) {
		char k[4] = {(char)('0' + i), 'x', 'x', 0};
		json_object_set_new(status, k,
		    json_integer((json_int_t)s->status_class[i]));
	}
	return json_pack("{s:s, s:s, s:I, s:I, s:b, s:f, s:I, s:I, s:f, s:I, "
	                 "s:f, s:o, s:o, s:o}",
	    "url", url, "address", r->addrtext, "connections",
	    (json_int_t)o->connections, "threads", (json_int_t)o->threads,
	    "new_connection", o->new_connection, "duration_s", secs, "requests",
	    (json_int_t)s->completed, "requests_sent", (json_int_t)s->sent,
	    "requests_per_second", secs > 0 ? (double)s->completed / secs : 0.0,
	    "bytes", (json_int_t)s->bytes, "bytes_per_second",
	    secs > 0 ? (double)s->bytes / secs : 0.0, "latency_ms",
	    bench_latency_json(&s->hist), "status", status, "errors", errors);
}

static void
http_text(const char *url, const struct http_run *r, const struct http_stats *s,
    double secs)
{
	const struct bench_http_opts *o = r->o;
	char rate[32];
	printf("hearth-bench http %s (%s)\n", url, r->addrtext);
	printf("  %llu connection(s), %llu thread(s), %s, %.2f s\n",
	    (unsigned long long)o->connections, (unsigned long long)o->threads,
	    o->new_connection ? "new connection per request" : "keep-alive",
	    secs);
	printf("  requests    %llu answered of %llu sent, %.1f requests/s, "
	       "%s\n",
	    (unsigned long long)s->completed, (unsigned long long)s->sent,
	    secs > 0 ? (double)s->completed / secs : 0.0,
	    bench_fmt_rate(secs > 0 ? (double)s->bytes / secs : 0, rate,
	        sizeof(rate)));
	bench_latency_print(stdout, &s->hist);
	printf("  status      2xx %llu  3xx %llu  4xx %llu  5xx %llu\n",
	    (unsigned long long)s->status_class[2],
	    (unsigned long long)s->status_class[3],
	    (unsigned long long)s->status_class[4],
	    (unsigned long long)s->status_class[5]);
	printf("  errors     ");
	for (int i = 0; i < E_N; i++)
		printf(" %s %llu", http_err_names[i],
		    (unsigned long long)s->errors[i]);
	printf("\n");
}

static void
progress_loop(struct http_thread *th, size_t n, uint64_t start, uint64_t dur_ns)
{
	uint64_t last = 0, last_t = start;
	for (;;) {
		usleep(250000);
		uint64_t now = bench_now_ns(), done = 0;
		for (size_t i = 0; i < n; i++)
			done +=
			    __atomic_load_n(&th[i].progress, __ATOMIC_RELAXED);
		if (now - last_t >= 1000000000u || now >= start + dur_ns) {
			double rate = (double)(done - last) * 1e9 /
			    (double)(now - last_t);
			bench_progress("%5.1f s  %llu requests  %.0f "
			               "requests/s",
			    (double)(now - start) / 1e9,
			    (unsigned long long)done, rate);
			last = done;
			last_t = now;
		}
		if (now >= start + dur_ns)
			break;
	}
}

static int
http_run_threads(struct http_run *r, struct http_stats *total, double *secs)
{
	const struct bench_http_opts *o = r->o;
	size_t n = o->threads;
	struct http_thread *th = calloc(n, sizeof(*th));
	if (th == NULL)
		return -ENOMEM;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = thread_init(&th[i], r,
		    o->connections / n + (i < o->connections % n));
	uint64_t start = bench_now_ns();
	size_t started = 0;
	for (; rc == 0 && started < n; started++)
		rc = -pthread_create(&th[started].tid, NULL, thread_main,
		    &th[started]);
	if (rc == 0 && bench_progress_wanted(o->json)) {
		progress_loop(th, n, start, o->duration_ms * 1000000);
		bench_progress_clear();
	}
	uint64_t end = start;
	for (size_t i = 0; i < started; i++) {
		pthread_join(th[i].tid, NULL);
		stats_merge(total, &th[i].st);
		if (th[i].last_ns > end)
			end = th[i].last_ns;
	}
	if (end == start)
		end = bench_now_ns();
	for (size_t i = 0; i < n; i++)
		thread_free(&th[i]);
	free(th);
	*secs = (double)(end - start) / 1e9;
	return rc;
}

/* Raises the open-file limit towards the hard limit when the connections
 * need it. */
static void
raise_fd_limit(uint64_t connections)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= connections + 64)
		return;
	rl.rlim_cur =
	    rl.rlim_max == RLIM_INFINITY || rl.rlim_max > connections + 64 ?
	    connections + 64 :
	    rl.rlim_max;
	setrlimit(RLIMIT_NOFILE, &rl);
}

static void
http_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth-bench http --url URL [--connections N] "
	    "[--duration S] [--threads T]\n"
	    "         [--new-connection] [--header 'K: V']... [--insecure] "
	    "[--resolve HOST:PORT:ADDR]\n"
	    "         [--timeout S] [--json]\n"
	    "Closed-loop HTTP/1.1 load: each of N connections sends a "
	    "request, waits for\nthe whole response and sends the next "
	    "(keep-alive, or a new TCP/TLS connection\nper request with "
	    "--new-connection). Defaults: 10 connections, 2 threads, 10 s,\n"
	    "timeout 2 s (connect, or a response making no progress).\n");
}

int
bench_http_main(int argc, char **argv)
{
	struct bench_http_opts o;
	char why[512];
	if (bench_http_opts_parse(argc, argv, &o, why, sizeof(why))) {
		fprintf(stderr, "hearth-bench http: %s\n", why);
		return 2;
	}
	if (o.help) {
		http_usage(stdout);
		return 0;
	}
	const char *url = NULL;
	for (int i = 1; i < argc; i++)
		if (!strncmp(argv[i], "--url=", 6))
			url = argv[i] + 6;
		else if ((!strcmp(argv[i], "--url") ||
		             !strcmp(argv[i], "-u")) &&
		    i + 1 < argc)
			url = argv[i + 1];
	raise_fd_limit(o.connections);
	struct http_run r = {.o = &o};
	r.sni = !bench_host_is_literal(o.url.host);
	if (o.url.tls && (r.ssl_ctx = make_ssl_ctx(&o)) == NULL) {
		fprintf(stderr, "hearth-bench http: cannot set up TLS\n");
		return 1;
	}
	r.request = build_request(&o, &r.reqlen);
	int rc = r.request ? resolve_target(&r, why, sizeof(why)) : -ENOMEM;
	struct http_stats total = {0};
	bench_hist_reset(&total.hist);
	double secs = 0;
	if (rc == 0)
		rc = http_run_threads(&r, &total, &secs);
	else
		fprintf(stderr, "hearth-bench http: %s\n", why);
	if (rc == 0) {
		if (o.json) {
			bench_json_emit(http_json(url, &r, &total, secs));
		} else {
			http_text(url, &r, &total, secs);
		}
		if (total.completed == 0) {
			fprintf(stderr,
			    "hearth-bench http: no responses from "
			    "%s (%s)\n",
			    url, r.addrtext);
			rc = -EIO;
		}
	}
	free(r.request);
	SSL_CTX_free(r.ssl_ctx);
	return rc ? 1 : 0;
}
