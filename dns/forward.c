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
	dns_account(srv, q, res, &p->src, p->was_tcp, p->start_ns);
	if (p->was_tcp) {
		if (p->tcp != NULL) {
			struct dns_tcp *c = p->tcp;
			dns_tcp_send(c, buf, len);
		}
		return;
	}
	dns_send_udp(srv, p->ufd, (struct sockaddr *)&p->sa, p->salen, &p->pi4,
	    &p->pi6, p->has_pi, buf, len);
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
		n = dns_upstream_render(
		    abuf, (size_t)alen, &q, buf, sizeof(srv->tcpbuf));
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
dns_forward_start(struct dns_server *srv, struct dns_pending *p,
    const struct dns_query *q, bool stale_cached)
{
	uint8_t qb[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	int n = dns_upstream_query(q, qb, sizeof(qb));
	if (n < 0 || !srv->have_channel) {
		forward_done(p, ARES_ECONNREFUSED, 0, NULL, 0);
		return;
	}
	srv->stats.forwarded++;
	ares_send(srv->channel, qb, n, forward_done, p);
	arm_timer(srv);
}
