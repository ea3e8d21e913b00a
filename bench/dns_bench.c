/*
 * hearth-bench dns: DNS query load in the manner of dnsperf. Queries from
 * a dnsperf-format file are sent round-robin over one connected UDP socket
 * (or one TCP connection with --tcp), keeping --in-flight of them
 * outstanding; each answer frees its slot and sends the next query. IDs
 * are handed out in sequence so a late answer cannot be taken for a new
 * query, queries unanswered after --timeout count as timeouts, and the
 * rcode of every answer is tallied. One libevent loop; UDP uses
 * sendmmsg/recvmmsg batches so the generator is not the bottleneck.
 * With --rate the queries are paced instead: query k leaves at k/rate
 * seconds (a precise timer, one query at a time unless behind), so a
 * server can be measured at a fixed load.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "bench_logic.h"
#include "report.h"

#define DNS_BATCH 64
#define DNS_RBUF  1024

enum dns_err { D_TIMEOUT, D_PARSE, D_SEND, D_CLOSED, D_UNEXPECTED, D_N };
static const char *const dns_err_names[D_N] = {"timeout", "parse", "send",
    "closed", "unexpected"};

struct dns_slot {
	uint64_t sent_ns;
	bool busy;
	TAILQ_ENTRY(dns_slot) link;
};
TAILQ_HEAD(dns_slot_list, dns_slot);

struct dns_run {
	const struct bench_dns_opts *o;
	struct bench_dns_query *queries;
	size_t nqueries;
	size_t next_query;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	char addrtext[80];

	struct event_base *base;
	int fd; /* UDP */
	struct event *rev, *wev;
	struct bufferevent *bev; /* TCP */
	struct event *tick, *deadline;
	struct event *pace; /* --rate: fires when the next query is due */
	bool pace_armed;

	struct dns_slot slots[65536];
	struct dns_slot_list outstanding;
	uint16_t next_id;
	size_t in_flight;
	bool stopping;
	bool blocked; /* UDP send would block: wait for writability */
	int fatal;    /* errno that ended the run early, or -1 */
	uint64_t start_ns, last_answer_ns;

	uint64_t sent, answered, errors[D_N], rcodes[16];
	struct bench_hist hist;
};

static void dns_fill(struct dns_run *r);

static void
dns_finish_if_drained(struct dns_run *r)
{
	if (r->stopping && r->in_flight == 0)
		event_base_loopbreak(r->base);
}

static void
slot_release(struct dns_run *r, struct dns_slot *s)
{
	TAILQ_REMOVE(&r->outstanding, s, link);
	s->busy = false;
	r->in_flight--;
}

/* Takes the next free ID in sequence and marks it outstanding. */
static uint16_t
slot_take(struct dns_run *r, uint64_t now)
{
	while (r->slots[r->next_id].busy)
		r->next_id++;
	uint16_t id = r->next_id++;
	struct dns_slot *s = &r->slots[id];
	s->busy = true;
	s->sent_ns = now;
	TAILQ_INSERT_TAIL(&r->outstanding, s, link);
	r->in_flight++;
	r->sent++;
	return id;
}

static void
on_answer(struct dns_run *r, const uint8_t *buf, size_t len, uint64_t now)
{
	struct bench_dns_reply rep;
	if (bench_dns_reply_parse(buf, len, &rep)) {
		r->errors[D_PARSE]++;
		return;
	}
	struct dns_slot *s = &r->slots[rep.id];
	if (!s->busy) {
		r->errors[D_UNEXPECTED]++;
		return;
	}
	bench_hist_record(&r->hist, now - s->sent_ns);
	slot_release(r, s);
	r->answered++;
	r->rcodes[rep.rcode]++;
	r->last_answer_ns = now;
}

static void
udp_fail(struct dns_run *r, int err)
{
	if (r->answered == 0 && err == ECONNREFUSED) {
		r->fatal = err;
		event_base_loopbreak(r->base);
	}
}

static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	static uint8_t bufs[DNS_BATCH][DNS_RBUF];
	struct mmsghdr msgs[DNS_BATCH];
	struct iovec iov[DNS_BATCH];
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < DNS_BATCH; i++) {
			iov[i] = (struct iovec){bufs[i], DNS_RBUF};
			msgs[i] = (struct mmsghdr){
			    .msg_hdr = {.msg_iov = &iov[i], .msg_iovlen = 1}};
		}
		int n = recvmmsg(fd, msgs, DNS_BATCH, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				udp_fail(r, errno);
			break;
		}
		uint64_t now = bench_now_ns();
		for (int i = 0; i < n; i++)
			on_answer(r, bufs[i], msgs[i].msg_len, now);
		dns_fill(r); /* keep the server busy while we read on */
		if (n < DNS_BATCH)
			break;
	}
	dns_fill(r);
	dns_finish_if_drained(r);
}

static void
udp_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	r->blocked = false;
	dns_fill(r);
}

/* Returns the next query of the file, round-robin. */
static const struct bench_dns_query *
next_query(struct dns_run *r)
{
	const struct bench_dns_query *q = &r->queries[r->next_query++];
	if (r->next_query == r->nqueries)
		r->next_query = 0;
	return q;
}

/* Gives back the slots of queries that were never sent. */
static void
unsend(struct dns_run *r, const uint8_t (*wire)[BENCH_DNS_MAX_QUERY + 2],
    int from, int to)
{
	for (int i = from; i < to; i++) {
		uint16_t id = (uint16_t)(wire[i][0] << 8 | wire[i][1]);
		slot_release(r, &r->slots[id]);
		r->sent--;
	}
}

/*
 * With --rate: may another query leave now? If not, arms the timer for
 * when it is due.
 */
static bool
pace_allows(struct dns_run *r, uint64_t now)
{
	if (r->o->rate == 0)
		return true;
	uint64_t due_ns = r->start_ns + r->sent * 1000000000u / r->o->rate;
	if (now >= due_ns)
		return true;
	if (!r->pace_armed) {
		uint64_t us = (due_ns - now + 999) / 1000;
		struct timeval tv = {(time_t)(us / 1000000),
		    (suseconds_t)(us % 1000000)};
		r->pace_armed = true;
		evtimer_add(r->pace, &tv);
	}
	return false;
}

static void
pace_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	r->pace_armed = false;
	dns_fill(r);
}

static void
udp_fill(struct dns_run *r)
{
	static uint8_t wire[DNS_BATCH][BENCH_DNS_MAX_QUERY + 2];
	struct mmsghdr msgs[DNS_BATCH];
	struct iovec iov[DNS_BATCH];
	while (!r->blocked && !r->stopping && r->in_flight < r->o->in_flight) {
		int n = 0;
		uint64_t now = bench_now_ns();
		while (n < DNS_BATCH && r->in_flight < r->o->in_flight &&
		    pace_allows(r, now)) {
			const struct bench_dns_query *q = next_query(r);
			uint16_t id = slot_take(r, now);
			memcpy(wire[n], q->wire, q->len);
			wire[n][0] = (uint8_t)(id >> 8);
			wire[n][1] = (uint8_t)id;
			iov[n] = (struct iovec){wire[n], q->len};
			msgs[n] = (struct mmsghdr){
			    .msg_hdr = {.msg_iov = &iov[n], .msg_iovlen = 1}};
			n++;
		}
		if (n == 0)
			return; /* paced: the timer sends the next one */
		int k = sendmmsg(r->fd, msgs, (unsigned)n, MSG_DONTWAIT);
		if (k < 0) {
			int e = errno;
			unsend(r, wire, 0, n);
			if (e == EAGAIN || e == ENOBUFS || e == EINTR) {
				r->blocked = true;
				event_add(r->wev, NULL);
				return;
			}
			r->errors[D_SEND]++;
			udp_fail(r, e);
			return;
		}
		if (k < n) {
			unsend(r, wire, k, n);
			r->blocked = true;
			event_add(r->wev, NULL);
			return;
		}
	}
}

static void
tcp_fill(struct dns_run *r)
{
	struct evbuffer *out = bufferevent_get_output(r->bev);
	uint64_t now = bench_now_ns();
	while (!r->stopping && r->in_flight < r->o->in_flight &&
	    pace_allows(r, now)) {
		const struct bench_dns_query *q = next_query(r);
		uint16_t id = slot_take(r, now);
		uint8_t hdr[4] = {(uint8_t)(q->len >> 8), (uint8_t)q->len,
		    (uint8_t)(id >> 8), (uint8_t)id};
		evbuffer_add(out, hdr, sizeof(hdr));
		evbuffer_add(out, q->wire + 2, q->len - 2u);
	}
}

static void
dns_fill(struct dns_run *r)
{
	if (r->bev)
		tcp_fill(r);
	else if (r->fd >= 0)
		udp_fill(r);
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct dns_run *r = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	uint64_t now = bench_now_ns();
	for (;;) {
		uint8_t lenb[2];
		if (evbuffer_copyout(in, lenb, 2) < 2)
			break;
		size_t len = (size_t)lenb[0] << 8 | lenb[1];
		if (evbuffer_get_length(in) < len + 2)
			break;
		const uint8_t *msg = evbuffer_pullup(in, (ssize_t)len + 2);
		on_answer(r, msg + 2, len, now);
		evbuffer_drain(in, len + 2);
	}
	dns_fill(r);
	dns_finish_if_drained(r);
}

static void tcp_event_cb(struct bufferevent *bev, short what, void *arg);

static int
tcp_connect(struct dns_run *r)
{
	r->bev = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	if (r->bev == NULL)
		return -ENOMEM;
	bufferevent_setcb(r->bev, tcp_read_cb, NULL, tcp_event_cb, r);
	bufferevent_enable(r->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(r->bev, (struct sockaddr *)&r->addr,
	        (int)r->addrlen))
		return -errno;
	return 0;
}

/* The TCP connection closed or failed: its queries are lost. */
static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dns_run *r = arg;
	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		return;
	}
	int err = EVUTIL_SOCKET_ERROR();
	bufferevent_free(r->bev);
	r->bev = NULL;
	struct dns_slot *s;
	while ((s = TAILQ_FIRST(&r->outstanding)) != NULL) {
		slot_release(r, s);
		r->errors[D_CLOSED]++;
	}
	if (r->answered == 0) {
		r->fatal = err ? err : ECONNRESET;
		event_base_loopbreak(r->base);
		return;
	}
	if (r->stopping || tcp_connect(r)) {
		event_base_loopbreak(r->base);
		return;
	}
	dns_fill(r);
}

/* Every 50 ms: queries older than the timeout are given up. */
static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	uint64_t now = bench_now_ns();
	uint64_t limit = r->o->timeout_ms * 1000000;
	struct dns_slot *s;
	while ((s = TAILQ_FIRST(&r->outstanding)) != NULL &&
	    now - s->sent_ns >= limit) {
		slot_release(r, s);
		r->errors[D_TIMEOUT]++;
	}
	if (r->answered == 0 && r->errors[D_TIMEOUT] > 0) {
		r->fatal = ETIMEDOUT;
		event_base_loopbreak(r->base);
		return;
	}
	dns_fill(r);
	dns_finish_if_drained(r);
}

static void
deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	r->stopping = true;
	dns_finish_if_drained(r);
}

static void
progress_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_run *r = arg;
	static uint64_t last, last_t;
	uint64_t now = bench_now_ns();
	if (last_t == 0)
		last_t = r->start_ns;
	bench_progress("%5.1f s  %llu answers  %.0f queries/s",
	    (double)(now - r->start_ns) / 1e9, (unsigned long long)r->answered,
	    (double)(r->answered - last) * 1e9 / (double)(now - last_t));
	last = r->answered;
	last_t = now;
}

static int
load_queries(struct dns_run *r, const char *path, char *why, size_t whylen)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(why, whylen, "cannot open %s: %s", path,
		    strerror(errno));
		return -errno;
	}
	char *line = NULL;
	size_t cap = 0, lineno = 0, n = 0, alloc = 0;
	int rc = 0;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		line[strcspn(line, "\r\n")] = '\0';
		if (n == alloc) {
			alloc = alloc ? alloc * 2 : 256;
			void *q =
			    realloc(r->queries, alloc * sizeof(*r->queries));
			if (q == NULL) {
				rc = -ENOMEM;
				break;
			}
			r->queries = q;
		}
		int k = bench_dns_line_parse(line, &r->queries[n]);
		if (k < 0) {
			snprintf(why, whylen, "%s:%zu: not 'name type': %.60s",
			    path, lineno, line);
			rc = -EINVAL;
			break;
		}
		n += (size_t)k;
	}
	free(line);
	fclose(f);
	if (rc == 0 && n == 0) {
		snprintf(why, whylen, "%s: no queries", path);
		rc = -EINVAL;
	}
	r->nqueries = n;
	return rc;
}

static int
set_target(struct dns_run *r)
{
	char port[8];
	snprintf(port, sizeof(port), "%u", r->o->port);
	struct addrinfo hints = {.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV},
	                *res;
	if (getaddrinfo(r->o->server, port, &hints, &res))
		return -EINVAL;
	memcpy(&r->addr, res->ai_addr, res->ai_addrlen);
	r->addrlen = res->ai_addrlen;
	freeaddrinfo(res);
	snprintf(r->addrtext, sizeof(r->addrtext),
	    r->addr.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", r->o->server,
	    r->o->port);
	return 0;
}

static int
udp_open(struct dns_run *r)
{
	r->fd = socket(r->addr.ss_family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (r->fd < 0)
		return -errno;
	int sz = 4 << 20;
	setsockopt(r->fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(r->fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	if (connect(r->fd, (struct sockaddr *)&r->addr, r->addrlen))
		return -errno;
	r->rev =
	    event_new(r->base, r->fd, EV_READ | EV_PERSIST, udp_read_cb, r);
	r->wev = event_new(r->base, r->fd, EV_WRITE, udp_write_cb, r);
	if (r->rev == NULL || r->wev == NULL || event_add(r->rev, NULL))
		return -ENOMEM;
	return 0;
}

static struct timeval
tv_ms(uint64_t ms)
{
	return (struct timeval){(time_t)(ms / 1000),
	    (suseconds_t)(ms % 1000) * 1000};
}

/* Runs the loop until the deadline and the drain of outstanding queries. */
static int
dns_run_loop(struct dns_run *r)
{
	struct timeval tick = tv_ms(50), dl = tv_ms(r->o->duration_ms),
	               sec = tv_ms(1000);
	struct event *prog = NULL;
	r->tick = event_new(r->base, -1, EV_PERSIST, tick_cb, r);
	r->deadline = evtimer_new(r->base, deadline_cb, r);
	r->pace = evtimer_new(r->base, pace_cb, r);
	if (r->tick == NULL || r->deadline == NULL || r->pace == NULL)
		return -ENOMEM;
	event_add(r->tick, &tick);
	event_add(r->deadline, &dl);
	if (bench_progress_wanted(r->o->json)) {
		prog = event_new(r->base, -1, EV_PERSIST, progress_cb, r);
		if (prog)
			event_add(prog, &sec);
	}
	r->start_ns = bench_now_ns();
	int rc = r->o->tcp ? tcp_connect(r) : udp_open(r);
	if (rc == 0) {
		dns_fill(r);
		event_base_dispatch(r->base);
	}
	if (prog) {
		event_free(prog);
		bench_progress_clear();
	}
	return rc;
}

static json_t *
dns_json(const struct dns_run *r, double secs)
{
	json_t *errors = json_object(), *rcodes = json_object();
	for (int i = 0; i < D_N; i++)
		json_object_set_new(errors, dns_err_names[i],
		    json_integer((json_int_t)r->errors[i]));
	for (unsigned i = 0; i < 16; i++) {
		char b[16];
		if (r->rcodes[i] || i == 0 || i == 2 || i == 3 || i == 5)
			json_object_set_new(rcodes,
			    bench_dns_rcode_name(i, b, sizeof(b)),
			    json_integer((json_int_t)r->rcodes[i]));
	}
	json_t *j = json_pack("{s:s, s:s, s:I, s:f, s:I, s:I, s:I, s:f, s:o, "
	                      "s:o, s:o}",
	    "server", r->addrtext, "transport", r->o->tcp ? "tcp" : "udp",
	    "in_flight", (json_int_t)r->o->in_flight, "duration_s", secs,
	    "queries_sent", (json_int_t)r->sent, "queries_completed",
	    (json_int_t)r->answered, "timeouts",
	    (json_int_t)r->errors[D_TIMEOUT], "queries_per_second",
	    secs > 0 ? (double)r->answered / secs : 0.0, "latency_ms",
	    bench_latency_json(&r->hist), "rcodes", rcodes, "errors", errors);
	if (j != NULL && r->o->rate > 0)
		json_object_set_new(j, "rate",
		    json_integer((json_int_t)r->o->rate));
	return j;
}

static void
dns_text(const struct dns_run *r, double secs)
{
	printf("hearth-bench dns %s over %s, %llu in flight, %zu distinct "
	       "queries, %.2f s\n",
	    r->addrtext, r->o->tcp ? "TCP" : "UDP",
	    (unsigned long long)r->o->in_flight, r->nqueries, secs);
	printf("  queries     %llu answered of %llu sent, %.1f queries/s\n",
	    (unsigned long long)r->answered, (unsigned long long)r->sent,
	    secs > 0 ? (double)r->answered / secs : 0.0);
	bench_latency_print(stdout, &r->hist);
	printf("  rcodes     ");
	for (unsigned i = 0; i < 16; i++) {
		char b[16];
		if (r->rcodes[i] || i == 0 || i == 3)
			printf(" %s %llu",
			    bench_dns_rcode_name(i, b, sizeof(b)),
			    (unsigned long long)r->rcodes[i]);
	}
	printf("\n  errors     ");
	for (int i = 0; i < D_N; i++)
		printf(" %s %llu", dns_err_names[i],
		    (unsigned long long)r->errors[i]);
	printf("\n");
}

static void
dns_free(struct dns_run *r)
{
	if (r->bev)
		bufferevent_free(r->bev);
	if (r->rev)
		event_free(r->rev);
	if (r->wev)
		event_free(r->wev);
	if (r->tick)
		event_free(r->tick);
	if (r->deadline)
		event_free(r->deadline);
	if (r->pace)
		event_free(r->pace);
	if (r->fd >= 0)
		close(r->fd);
	if (r->base)
		event_base_free(r->base);
	free(r->queries);
	free(r);
}

static void
dns_usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth-bench dns --server ADDR[:PORT] --queries FILE "
	    "[--duration S]\n"
	    "         [--in-flight N] [--rate Q] [--timeout S] [--tcp] "
	    "[--json]\n"
	    "Sends the queries of FILE (dnsperf's format: 'name type' per "
	    "line, # comments)\nround-robin, keeping N outstanding (default "
	    "100); with --rate, Q queries per second\nevenly spaced (at most "
	    "N outstanding). Defaults: 10 s, timeout 5 s.\n");
}

/* Reports the run; returns the exit code. */
static int
dns_report(struct dns_run *r)
{
	uint64_t end = r->last_answer_ns ? r->last_answer_ns : bench_now_ns();
	double secs = (double)(end - r->start_ns) / 1e9;
	if (r->fatal > 0 || r->answered == 0) {
		int e = r->fatal > 0 ? r->fatal : ETIMEDOUT;
		fprintf(stderr, "hearth-bench dns: no answers from %s: %s\n",
		    r->addrtext,
		    e == ETIMEDOUT ? "all queries timed out" : strerror(e));
		return 1;
	}
	if (r->o->json)
		return bench_json_emit(dns_json(r, secs)) ? 1 : 0;
	dns_text(r, secs);
	return 0;
}

/* The event base; a precise (timerfd) timer when queries are paced. */
static struct event_base *
dns_base_new(bool precise)
{
	if (!precise)
		return event_base_new();
	struct event_config *cfg = event_config_new();
	if (cfg == NULL)
		return NULL;
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	struct event_base *b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

int
bench_dns_main(int argc, char **argv)
{
	struct bench_dns_opts o;
	char why[512];
	if (bench_dns_opts_parse(argc, argv, &o, why, sizeof(why))) {
		fprintf(stderr, "hearth-bench dns: %s\n", why);
		return 2;
	}
	if (o.help) {
		dns_usage(stdout);
		return 0;
	}
	struct dns_run *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return 1;
	r->o = &o;
	r->fd = -1;
	TAILQ_INIT(&r->outstanding);
	bench_hist_reset(&r->hist);
	if (load_queries(r, o.queries, why, sizeof(why))) {
		fprintf(stderr, "hearth-bench dns: %s\n", why);
		dns_free(r);
		return 2;
	}
	int rc = set_target(r);
	if (rc == 0 && (r->base = dns_base_new(o.rate > 0)) == NULL)
		rc = -ENOMEM;
	if (rc == 0)
		rc = dns_run_loop(r);
	if (rc) {
		fprintf(stderr, "hearth-bench dns: cannot query %s: %s\n",
		    r->addrtext, strerror(-rc));
		dns_free(r);
		return 1;
	}
	rc = dns_report(r);
	dns_free(r);
	return rc;
}
