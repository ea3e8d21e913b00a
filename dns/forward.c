/*
 * Forwarding through c-ares: the query goes upstream as raw bytes with
 * ares_send (c-ares 1.18 picks the id, retries, fails over between the
 * forwarders and retries truncated answers over TCP); c-ares's sockets
 * are watched by libevent events through its socket-state callback and a
 * timer. Answers are cached, then rendered for the client; when every
 * forwarder fails a stale cached answer is served (RFC 8767), else
 * SERVFAIL, which is cached briefly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define FWD_TIMEOUT_MS 1000
#define FWD_TRIES      2

static void arm_timer(struct dns_server *srv);

static void
ares_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_server *srv = arg;
	ares_process_fd(srv->channel, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	arm_timer(srv);
}

static void
ares_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_server *srv = arg;
	ares_process_fd(srv->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(srv);
}

static void
arm_timer(struct dns_server *srv)
{
	struct timeval tv, *t;
	if (!srv->have_channel)
		return;
	t = ares_timeout(srv->channel, NULL, &tv);
	if (t != NULL)
		evtimer_add(srv->ares_timer, t);
	else
		evtimer_del(srv->ares_timer);
}

/* c-ares tells which of its sockets to watch for what. */
static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_server *srv = data;
	struct dns_ares_sock *s;
	TAILQ_FOREACH(s, &srv->asocks, link)
	if (s->fd == fd)
		break;
	if (!readable && !writable) {
		if (s != NULL) {
			TAILQ_REMOVE(&srv->asocks, s, link);
			event_free(s->ev);
			free(s);
		}
		return;
	}
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return;
		s->fd = fd;
		TAILQ_INSERT_TAIL(&srv->asocks, s, link);
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(srv->base, fd,
	    (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) |
	        EV_PERSIST),
	    ares_io_cb, srv);
	if (s->ev != NULL)
		event_add(s->ev, NULL);
}

int
dns_forward_init(struct dns_server *srv, const struct hearth_dns *cfg)
{
	static bool lib_ready;
	if (!lib_ready) {
		if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS)
			return -ENOMEM;
		lib_ready = true;
	}
	if (srv->ares_timer == NULL) {
		srv->ares_timer = evtimer_new(srv->base, ares_timer_cb, srv);
		if (srv->ares_timer == NULL)
			return -ENOMEM;
	}
	if (cfg->n_forwarders == 0)
		return 0;
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = FWD_TIMEOUT_MS;
	o.tries = FWD_TRIES;
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = srv;
	o.lookups = (char *)"b";
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_NOROTATE;
	if (ares_init_options(&srv->channel, &o, mask) != ARES_SUCCESS)
		return -ENOMEM;
	srv->have_channel = true;
	struct ares_addr_port_node *nodes =
	    calloc(cfg->n_forwarders, sizeof(*nodes));
	if (nodes == NULL) {
		dns_forward_fini(srv);
		return -ENOMEM;
	}
	for (size_t i = 0; i < cfg->n_forwarders; i++) {
		const struct hearth_endpoint *e = &cfg->forwarders[i];
		nodes[i].next =
		    i + 1 < cfg->n_forwarders ? &nodes[i + 1] : NULL;
		nodes[i].family = e->addr.family;
		if (e->addr.family == AF_INET)
			nodes[i].addr.addr4 = e->addr.v4;
		else
			memcpy(&nodes[i].addr.addr6, &e->addr.v6, 16);
		nodes[i].udp_port = e->port ? e->port : 53;
		nodes[i].tcp_port = nodes[i].udp_port;
	}
	int r = ares_set_servers_ports(srv->channel, nodes);
	free(nodes);
	if (r != ARES_SUCCESS) {
		dns_forward_fini(srv);
		return -EINVAL;
	}
	return 0;
}

void
dns_forward_fini(struct dns_server *srv)
{
	if (srv->have_channel) {
		/* Pending queries are called back with ARES_EDESTRUCTION. */
		srv->have_channel = false;
		ares_destroy(srv->channel);
	}
	struct dns_ares_sock *s;
	while ((s = TAILQ_FIRST(&srv->asocks)) != NULL) {
		TAILQ_REMOVE(&srv->asocks, s, link);
		event_free(s->ev);
		free(s);
	}
	if (srv->ares_timer != NULL)
		evtimer_del(srv->ares_timer);
}

void
dns_pending_free(struct dns_pending *p)
{
	if (p == NULL)
		return;
	if (p->tcp != NULL) {
		TAILQ_REMOVE(&p->tcp->pending, p, tlink);
		p->tcp->n_pending--;
	}
	dns_listener_unref(p->listener);
	dns_snapshot_unref(p->snap);
	free(p);
}

/* Sends the finished response of len bytes in buf to p's client. */
static void
reply(struct dns_pending *p, const struct dns_query *q, uint8_t *buf,
    size_t len, struct dns_result *res)
{
	struct dns_server *srv = p->srv;
	size_t limit = dns_reply_limit(q, p->snap->max_udp, p->was_tcp);
	len = dns_reply_finish(buf, len, 65535 + 64, q, p->snap->max_udp, limit,
	    res->recursion_client, &res->truncated);
	res->rcode = buf[3] & 0xf;
	dns_account(srv, &srv->stats, q, res, &p->src, p->was_tcp, p->start_ns);
	if (p->was_tcp) {
		if (p->tcp != NULL) {
			struct dns_tcp *c = p->tcp;
			dns_tcp_send(c, buf, len);
		}
		return;
	}
	dns_send_udp(srv, p->listener ? p->listener->udp.fd : -1,
	    (struct sockaddr *)&p->sa, p->salen, &p->pi4, &p->pi6, p->has_pi,
	    buf, len);
}

static void
forward_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_pending *p = arg;
	struct dns_server *srv = p->srv;
	struct dns_query q;
	struct dns_result res;
	memset(&res, 0, sizeof(res));
	res.view = p->view;
	if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED ||
	    dns_query_parse(p->pkt, p->len, &q) != DNS_PARSE_OK) {
		dns_pending_free(p);
		return;
	}
	res.recursion_client = true;
	uint64_t now_ns = dns_now_ns();
	uint64_t now = now_ns / 1000000000u;
	uint8_t *buf = srv->tcpbuf;
	int n = -1;
	if (status == ARES_SUCCESS || (abuf != NULL && alen >= DNS_HDR_LEN)) {
		metrics_histogram_observe(&srv->stats.fwd_latency,
		    (double)(now_ns - p->start_ns) / 1e9);
		n = dns_upstream_render(abuf, (size_t)alen, &q, buf,
		    sizeof(srv->tcpbuf));
	}
	if (n >= 0 && (buf[3] & 0xf) != DNS_R_SERVFAIL &&
	    (buf[3] & 0xf) != DNS_R_REFUSED) {
		if (srv->cache != NULL)
			dns_cache_store(srv->cache, abuf, (size_t)alen,
			    dns_cache_flags(&q), now);
		reply(p, &q, buf, (size_t)n, &res);
		dns_pending_free(p);
		return;
	}
	srv->stats.forward_failures++;
	size_t len;
	if (srv->cache != NULL &&
	    dns_cache_lookup(srv->cache, &q, now, true, buf,
	        sizeof(srv->tcpbuf), &len) != DNS_CACHE_MISS) {
		srv->stats.stale_served++;
		res.from_cache = true;
		reply(p, &q, buf, len, &res);
		dns_pending_free(p);
		return;
	}
	len = dns_reply_rcode(&q, DNS_R_SERVFAIL, buf, sizeof(srv->tcpbuf));
	if (srv->cache != NULL) {
		uint8_t sf[DNS_HDR_LEN + DNS_NAME_MAX + 4];
		size_t sl = DNS_HDR_LEN + q.qname_len + 4u;
		memcpy(sf, buf, sl);
		memcpy(sf + DNS_HDR_LEN, q.lname, q.qname_len);
		dns_cache_store(srv->cache, sf, sl, dns_cache_flags(&q), now);
	}
	reply(p, &q, buf, len, &res);
	dns_pending_free(p);
}

void
dns_forward_start(struct dns_server *srv, struct dns_pending *p)
{
	uint8_t qb[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	struct dns_query q;
	int n = -1;
	if (dns_query_parse(p->pkt, p->len, &q) == DNS_PARSE_OK)
		n = dns_upstream_query(&q, qb, sizeof(qb));
	if (n < 0 || !srv->have_channel || srv->stopping) {
		forward_done(p, ARES_ECONNREFUSED, 0, NULL, 0);
		return;
	}
	srv->stats.forwarded++;
	ares_send(srv->channel, qb, n, forward_done, p);
	arm_timer(srv);
}

static void
fwdq_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_server *srv = arg;
	uint64_t v;
	if (read(fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return;
	TAILQ_HEAD(, dns_pending) batch = TAILQ_HEAD_INITIALIZER(batch);
	pthread_mutex_lock(&srv->fwdq_lock);
	TAILQ_CONCAT(&batch, &srv->fwdq, qlink);
	pthread_mutex_unlock(&srv->fwdq_lock);
	struct dns_pending *p;
	while ((p = TAILQ_FIRST(&batch)) != NULL) {
		TAILQ_REMOVE(&batch, p, qlink);
		dns_forward_start(srv, p);
	}
}

void
dns_forward_handover(struct dns_server *srv, struct dns_pending *p)
{
	uint64_t one = 1;
	pthread_mutex_lock(&srv->fwdq_lock);
	bool was_empty = TAILQ_EMPTY(&srv->fwdq);
	TAILQ_INSERT_TAIL(&srv->fwdq, p, qlink);
	pthread_mutex_unlock(&srv->fwdq_lock);
	if (was_empty && write(srv->fwdq_fd, &one, sizeof(one)) < 0)
		return; /* already signalled: the counter is full */
}

int
dns_fwdq_init(struct dns_server *srv)
{
	pthread_mutex_init(&srv->fwdq_lock, NULL);
	TAILQ_INIT(&srv->fwdq);
	srv->fwdq_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv->fwdq_fd < 0)
		return -errno;
	srv->fwdq_ev = event_new(srv->base, srv->fwdq_fd, EV_READ | EV_PERSIST,
	    fwdq_cb, srv);
	if (srv->fwdq_ev == NULL || event_add(srv->fwdq_ev, NULL) < 0)
		return -ENOMEM;
	return 0;
}

void
dns_fwdq_fini(struct dns_server *srv)
{
	struct dns_pending *p;
	if (srv->fwdq_ev != NULL)
		event_free(srv->fwdq_ev);
	srv->fwdq_ev = NULL;
	if (srv->fwdq_fd > 0)
		close(srv->fwdq_fd);
	srv->fwdq_fd = -1;
	while ((p = TAILQ_FIRST(&srv->fwdq)) != NULL) {
		TAILQ_REMOVE(&srv->fwdq, p, qlink);
		dns_pending_free(p);
	}
	pthread_mutex_destroy(&srv->fwdq_lock);
}
