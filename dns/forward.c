/*
 * Forwarding through c-ares: the query goes upstream as raw bytes with
 * ares_send (c-ares 1.18 picks the id, retries, fails over between the
 * forwarders and retries truncated answers over TCP); c-ares's sockets
 * are watched by libevent events through its socket-state callback and a
 * timer. c-ares 1.18 keeps one UDP socket (one source port) per server
 * for a channel's life, so new queries move to a fresh channel every
 * FWD_CHAN_QUERIES queries or FWD_CHAN_SECONDS: the source port changes
 * and a spoofer must guess it as well as the id. Answers are cached, then
 * rendered for the client; when every forwarder fails a stale cached
 * answer is served (RFC 8767), else SERVFAIL, which is cached briefly.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define FWD_TIMEOUT_MS   1000
#define FWD_TRIES        2
#define FWD_CHAN_QUERIES 200
#define FWD_CHAN_SECONDS 10

/* One c-ares channel, its sockets' events and its timer. */
struct dns_chan {
	TAILQ_ENTRY(dns_chan) link;
	struct dns_server *srv;
	ares_channel ch;
	bool ready;
	unsigned pending;
	unsigned sent;
	uint64_t born_ns;
	TAILQ_HEAD(, dns_ares_sock) socks;
	struct event *timer;
};

static void arm_timer(struct dns_chan *c);

static void
ares_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;
	ares_process_fd(c->ch, (what & EV_READ) ? fd : ARES_SOCKET_BAD,
	    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
	arm_timer(c);
}

static void
ares_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_chan *c = arg;
	ares_process_fd(c->ch, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	arm_timer(c);
}

static void
arm_timer(struct dns_chan *c)
{
	struct timeval tv, *t;
	if (!c->ready)
		return;
	t = ares_timeout(c->ch, NULL, &tv);
	if (t != NULL)
		evtimer_add(c->timer, t);
	else
		evtimer_del(c->timer);
}

/* c-ares tells which of its sockets to watch for what. */
static void
sock_state_cb(void *data, ares_socket_t fd, int readable, int writable)
{
	struct dns_chan *c = data;
	struct dns_ares_sock *s;
	TAILQ_FOREACH(s, &c->socks, link)
	if (s->fd == fd)
		break;
	if (!readable && !writable) {
		if (s != NULL) {
			TAILQ_REMOVE(&c->socks, s, link);
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
		TAILQ_INSERT_TAIL(&c->socks, s, link);
	} else {
		event_free(s->ev);
	}
	s->ev = event_new(c->srv->base, fd,
	    (short)((readable ? EV_READ : 0) | (writable ? EV_WRITE : 0) |
	        EV_PERSIST),
	    ares_io_cb, c);
	if (s->ev != NULL)
		event_add(s->ev, NULL);
}

/* Destroys a channel; its pending queries are called back first. */
static void
chan_free(struct dns_chan *c)
{
	if (c == NULL)
		return;
	if (c->ready) {
		c->ready = false;
		ares_destroy(c->ch); /* ARES_EDESTRUCTION callbacks */
	}
	struct dns_ares_sock *s;
	while ((s = TAILQ_FIRST(&c->socks)) != NULL) {
		TAILQ_REMOVE(&c->socks, s, link);
		event_free(s->ev);
		free(s);
	}
	if (c->timer != NULL)
		event_free(c->timer);
	free(c);
}

/* A channel to the configured forwarders, or NULL. */
static struct dns_chan *
chan_new(struct dns_server *srv)
{
	struct dns_chan *c = calloc(1, sizeof(*c));
	if (c == NULL)
		return NULL;
	c->srv = srv;
	c->born_ns = dns_now_ns();
	TAILQ_INIT(&c->socks);
	c->timer = evtimer_new(srv->base, ares_timer_cb, c);
	struct ares_options o;
	memset(&o, 0, sizeof(o));
	o.flags = ARES_FLAG_NOSEARCH | ARES_FLAG_NOALIASES;
	o.timeout = FWD_TIMEOUT_MS;
	o.tries = FWD_TRIES;
	o.sock_state_cb = sock_state_cb;
	o.sock_state_cb_data = c;
	o.lookups = (char *)"b";
	int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES |
	    ARES_OPT_SOCK_STATE_CB | ARES_OPT_LOOKUPS | ARES_OPT_NOROTATE;
	if (c->timer == NULL ||
	    ares_init_options(&c->ch, &o, mask) != ARES_SUCCESS) {
		chan_free(c);
		return NULL;
	}
	c->ready = true;
	if (ares_set_servers_ports(c->ch, srv->fwd_nodes) != ARES_SUCCESS) {
		chan_free(c);
		return NULL;
	}
	return c;
}

/* Destroys retired channels that have nothing pending. */
static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_server *srv = arg;
	struct dns_chan *c = TAILQ_FIRST(&srv->retired), *next;
	for (; c != NULL; c = next) {
		next = TAILQ_NEXT(c, link);
		if (c->pending > 0)
			continue;
		TAILQ_REMOVE(&srv->retired, c, link);
		chan_free(c);
	}
}

/* The channel for a new query: a fresh one when the current is used up. */
static struct dns_chan *
chan_current(struct dns_server *srv)
{
	struct dns_chan *c = srv->chan;
	if (c != NULL && c->sent < FWD_CHAN_QUERIES &&
	    dns_now_ns() - c->born_ns < FWD_CHAN_SECONDS * 1000000000ull)
		return c;
	struct dns_chan *n = chan_new(srv);
	if (n == NULL)
		return c; /* keep using the old one */
	if (c != NULL) {
		TAILQ_INSERT_TAIL(&srv->retired, c, link);
		if (c->pending == 0)
			event_active(srv->reap_ev, EV_TIMEOUT, 0);
	}
	srv->chan = n;
	return n;
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
	if (srv->reap_ev == NULL) {
		TAILQ_INIT(&srv->retired);
		srv->reap_ev = evtimer_new(srv->base, reap_cb, srv);
		if (srv->reap_ev == NULL)
			return -ENOMEM;
	}
	if (cfg->n_forwarders == 0)
		return 0;
	srv->fwd_nodes = calloc(cfg->n_forwarders, sizeof(*srv->fwd_nodes));
	if (srv->fwd_nodes == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_forwarders; i++) {
		const struct hearth_endpoint *e = &cfg->forwarders[i];
		struct ares_addr_port_node *n = &srv->fwd_nodes[i];
		n->next = i + 1 < cfg->n_forwarders ? n + 1 : NULL;
		n->family = e->addr.family;
		if (e->addr.family == AF_INET)
			n->addr.addr4 = e->addr.v4;
		else
			memcpy(&n->addr.addr6, &e->addr.v6, 16);
		n->udp_port = e->port ? e->port : 53;
		n->tcp_port = n->udp_port;
	}
	srv->chan = chan_new(srv);
	if (srv->chan == NULL) {
		dns_forward_fini(srv);
		return -ENOMEM;
	}
	return 0;
}

bool
dns_forward_same(const struct dns_server *srv, const struct hearth_dns *cfg)
{
	const struct ares_addr_port_node *n = srv->fwd_nodes;
	for (size_t i = 0; i < cfg->n_forwarders; i++, n = n->next) {
		const struct hearth_endpoint *e = &cfg->forwarders[i];
		uint16_t port = e->port ? e->port : 53;
		if (n == NULL || n->family != e->addr.family ||
		    n->udp_port != port ||
		    memcmp(&n->addr, &e->addr.v6,
		        e->addr.family == AF_INET ? 4 : 16) != 0)
			return false;
	}
	return n == NULL && (cfg->n_forwarders == 0) == (srv->chan == NULL);
}

void
dns_forward_fini(struct dns_server *srv)
{
	struct dns_chan *c;
	chan_free(srv->chan);
	srv->chan = NULL;
	if (srv->reap_ev != NULL) {
		while ((c = TAILQ_FIRST(&srv->retired)) != NULL) {
			TAILQ_REMOVE(&srv->retired, c, link);
			chan_free(c);
		}
	}
	free(srv->fwd_nodes);
	srv->fwd_nodes = NULL;
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
	atomic_fetch_sub(&p->srv->inflight, 1);
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

/*
 * Finishes one client's query with the upstream outcome: the answer
 * (cached when store is set), else a stale cached answer, else SERVFAIL.
 */
static void
finish_one(struct dns_pending *p, int status, const unsigned char *abuf,
    int alen, bool store)
{
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
	res.recursion_client = p->recursion_client;
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
		if (store && srv->cache != NULL)
			dns_cache_store(srv->cache, abuf, (size_t)alen,
			    dns_cache_flags(&q), now);
		reply(p, &q, buf, (size_t)n, &res);
		dns_pending_free(p);
		return;
	}
	if (store)
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
	if (store && srv->cache != NULL) {
		uint8_t sf[DNS_HDR_LEN + DNS_NAME_MAX + 4];
		size_t sl = DNS_HDR_LEN + q.qname_len + 4u;
		memcpy(sf, buf, sl);
		memcpy(sf + DNS_HDR_LEN, q.lname, q.qname_len);
		dns_cache_store(srv->cache, sf, sl, dns_cache_flags(&q), now);
	}
	reply(p, &q, buf, len, &res);
	dns_pending_free(p);
}

/*
 * One upstream question and the clients waiting for its answer: identical
 * cache misses in flight at once share one upstream query.
 */
struct dns_inflight {
	struct dns_inflight *next; /* hash chain */
	bool in_table;
	uint32_t hash;
	struct dns_server *srv;
	struct dns_chan *chan;
	unsigned n;
	TAILQ_HEAD(, dns_pending) waiters;
	size_t keylen;
	uint8_t key[DNS_NAME_MAX + 5];
};

#define FWD_MAX_WAITERS 64

static struct dns_inflight **
inflight_slot(struct dns_server *srv, uint32_t hash)
{
	return &srv->fwd_tab[hash % DNS_FWD_TAB];
}

static void
forward_done(void *arg, int status, int timeouts, unsigned char *abuf, int alen)
{
	struct dns_inflight *f = arg;
	struct dns_server *srv = f->srv;
	if (f->in_table) {
		struct dns_inflight **pp = inflight_slot(srv, f->hash);
		while (*pp != f)
			pp = &(*pp)->next;
		*pp = f->next;
	}
	bool first = true;
	struct dns_pending *p;
	while ((p = TAILQ_FIRST(&f->waiters)) != NULL) {
		TAILQ_REMOVE(&f->waiters, p, qlink);
		finish_one(p, status, abuf, alen, first);
		first = false;
	}
	struct dns_chan *c = f->chan;
	if (c != NULL && --c->pending == 0 && c != srv->chan &&
	    srv->reap_ev != NULL)
		event_active(srv->reap_ev, EV_TIMEOUT, 0);
	free(f);
}

void
dns_forward_start(struct dns_server *srv, struct dns_pending *p)
{
	uint8_t qb[DNS_HDR_LEN + DNS_NAME_MAX + 4 + 11];
	struct dns_query q;
	int n = -1;
	if (dns_query_parse(p->pkt, p->len, &q) == DNS_PARSE_OK)
		n = dns_upstream_query(&q, qb, sizeof(qb));
	if (n < 0) {
		finish_one(p, ARES_ECONNREFUSED, NULL, 0, false);
		return;
	}
	/* The key: name, type, class and the DO/CD bits. */
	uint8_t key[DNS_NAME_MAX + 5];
	size_t kl = q.qname_len;
	memcpy(key, q.lname, kl);
	dns_put16(key + kl, q.qtype);
	dns_put16(key + kl + 2, q.qclass);
	key[kl + 4] = dns_cache_flags(&q);
	kl += 5;
	uint32_t h = dns_name_hash(key, kl);
	struct dns_inflight *f = *inflight_slot(srv, h);
	for (; f != NULL; f = f->next)
		if (f->hash == h && f->keylen == kl &&
		    memcmp(f->key, key, kl) == 0)
			break;
	if (f != NULL && f->n < FWD_MAX_WAITERS) {
		TAILQ_INSERT_TAIL(&f->waiters, p, qlink);
		f->n++;
		srv->stats.coalesced++;
		return;
	}
	struct dns_chan *c = srv->stopping ? NULL : chan_current(srv);
	bool in_table = f == NULL;
	f = c ? calloc(1, sizeof(*f)) : NULL;
	if (f == NULL) {
		finish_one(p, ARES_ECONNREFUSED, NULL, 0, false);
		return;
	}
	f->srv = srv;
	f->chan = c;
	f->hash = h;
	f->keylen = kl;
	memcpy(f->key, key, kl);
	TAILQ_INIT(&f->waiters);
	TAILQ_INSERT_TAIL(&f->waiters, p, qlink);
	f->n = 1;
	if (in_table) {
		struct dns_inflight **slot = inflight_slot(srv, h);
		f->next = *slot;
		*slot = f;
		f->in_table = true;
	}
	srv->stats.forwarded++;
	c->pending++;
	c->sent++;
	ares_send(c->ch, qb, n, forward_done, f);
	arm_timer(c);
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
