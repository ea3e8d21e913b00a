/*
 * The dns module's sockets: UDP listeners read and answer in batches
 * (recvmmsg/sendmmsg), TCP connections carry length-framed, pipelined
 * queries with an idle timeout. Each packet goes through dns_process();
 * what needs the forwarders is handed to forward.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "log.h"
#include "server.h"

uint64_t
dns_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sa_to_addr(const struct sockaddr_storage *ss, struct hearth_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		a->v4 = ((const struct sockaddr_in *)ss)->sin_addr;
	} else {
		const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
		if (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr)) {
			a->family = AF_INET;
			memcpy(&a->v4, &s6->sin6_addr.s6_addr[12], 4);
		} else {
			a->family = AF_INET6;
			a->v6 = s6->sin6_addr;
		}
	}
}

static socklen_t
ep_to_sa(const struct hearth_endpoint *ep, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (ep->addr.family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(ep->port);
		s->sin_addr = ep->addr.v4;
		return sizeof(*s);
	}
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	s6->sin6_family = AF_INET6;
	s6->sin6_port = htons(ep->port);
	s6->sin6_addr = ep->addr.v6;
	return sizeof(*s6);
}

static bool
is_wildcard(const struct hearth_addr *a)
{
	if (a->family == AF_INET)
		return a->v4.s_addr == INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(&a->v6);
}

void
dns_account(struct dns_server *srv, struct dns_stats *st,
    const struct dns_query *q, const struct dns_result *res,
    const struct hearth_addr *src, bool tcp, uint64_t start_ns)
{
	static const uint16_t types[DNS_N_TYPES - 1] = {DNS_T_A, DNS_T_AAAA,
	    DNS_T_CNAME, DNS_T_MX, DNS_T_TXT, DNS_T_NS, DNS_T_SOA, DNS_T_SRV,
	    DNS_T_PTR, DNS_T_CAA, DNS_T_ANY, 65, DNS_T_DS};
	unsigned vi = 0, ti = DNS_N_TYPES - 1, ri;
	if (res->view[0] != '\0') {
		for (vi = 1; vi < st->n_views; vi++)
			if (strcmp(st->views[vi], res->view) == 0)
				break;
		if (vi == st->n_views && vi < DNS_MAX_VIEWS) {
			snprintf(st->views[vi], sizeof(st->views[vi]), "%s",
			    res->view);
			st->n_views++;
		} else if (vi == DNS_MAX_VIEWS) {
			vi = 0;
		}
	}
	for (unsigned i = 0; i < DNS_N_TYPES - 1; i++)
		if (types[i] == q->qtype)
			ti = i;
	ri = res->rcode <= 5 ? res->rcode : (res->rcode == 16 ? 6 : 7);
	st->queries[vi][ti][ri]++;
	if (res->truncated)
		st->truncated++;
	if (srv->qlog != NULL)
		dns_qlog_write(srv->qlog, q, res, src, tcp,
		    (double)(dns_now_ns() - start_ns) / 1e6);
}

void
dns_send_udp(struct dns_server *srv, int fd, const struct sockaddr *sa,
    socklen_t salen, const struct in_pktinfo *pi4,
    const struct in6_pktinfo *pi6, bool has_pi, const uint8_t *buf, size_t len)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cbuf;
	struct iovec iov = {.iov_base = (void *)buf, .iov_len = len};
	struct msghdr mh = {.msg_name = (void *)sa,
	    .msg_namelen = salen,
	    .msg_iov = &iov,
	    .msg_iovlen = 1};
	if (has_pi) {
		memset(&cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf.buf;
		struct cmsghdr *cm = (struct cmsghdr *)cbuf.buf;
		if (sa->sa_family == AF_INET) {
			mh.msg_controllen = CMSG_SPACE(sizeof(*pi4));
			cm->cmsg_level = IPPROTO_IP;
			cm->cmsg_type = IP_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(*pi4));
			memcpy(CMSG_DATA(cm), pi4, sizeof(*pi4));
		} else {
			mh.msg_controllen = CMSG_SPACE(sizeof(*pi6));
			cm->cmsg_level = IPPROTO_IPV6;
			cm->cmsg_type = IPV6_PKTINFO;
			cm->cmsg_len = CMSG_LEN(sizeof(*pi6));
			memcpy(CMSG_DATA(cm), pi6, sizeof(*pi6));
		}
	}
	if (fd < 0 || sendmsg(fd, &mh, MSG_DONTWAIT) < 0)
		srv->stats.dropped++;
}

/* Reads the destination address of a datagram (wildcard listeners). */
static bool
read_pktinfo(struct msghdr *mh, struct in_pktinfo *pi4, struct in6_pktinfo *pi6)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL;
	     cm = CMSG_NXTHDR(mh, cm)) {
		if (cm->cmsg_level == IPPROTO_IP &&
		    cm->cmsg_type == IP_PKTINFO) {
			memcpy(pi4, CMSG_DATA(cm), sizeof(*pi4));
			pi4->ipi_spec_dst = pi4->ipi_addr;
			pi4->ipi_ifindex = 0;
			return true;
		}
		if (cm->cmsg_level == IPPROTO_IPV6 &&
		    cm->cmsg_type == IPV6_PKTINFO) {
			memcpy(pi6, CMSG_DATA(cm), sizeof(*pi6));
			pi6->ipi6_ifindex = 0;
			return true;
		}
	}
	return false;
}

/* A copy of the client's packet and address for the forwarding path. */
static struct dns_pending *
pending_new(struct dns_server *srv, const uint8_t *pkt, size_t len,
    const struct hearth_addr *src, const char *view)
{
	/* Bounded: past DNS_MAX_INFLIGHT, new cache misses are shed. */
	if (atomic_fetch_add(&srv->inflight, 1) >= DNS_MAX_INFLIGHT) {
		atomic_fetch_sub(&srv->inflight, 1);
		atomic_fetch_add(&srv->shed, 1);
		return NULL;
	}
	struct dns_pending *p = calloc(1, sizeof(*p) + len);
	if (p == NULL) {
		atomic_fetch_sub(&srv->inflight, 1);
		return NULL;
	}
	p->srv = srv;
	p->snap = dns_snapshot_ref(srv->snap);
	memcpy(p->pkt, pkt, len);
	p->len = len;
	p->src = *src;
	p->start_ns = dns_now_ns();
	snprintf(p->view, sizeof(p->view), "%s", view);
	return p;
}

struct udp_batch {
	struct mmsghdr in[DNS_UDP_BATCH];
	struct iovec iniov[DNS_UDP_BATCH];
	struct sockaddr_storage addrs[DNS_UDP_BATCH];
	union {
		char buf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
		struct cmsghdr align;
	} cin[DNS_UDP_BATCH], cout[DNS_UDP_BATCH];
	struct mmsghdr out[DNS_UDP_BATCH];
	struct iovec outiov[DNS_UDP_BATCH];
};

/* Builds the TC=1 empty answer a rate-limited client gets on a slip. */
static size_t
slip_reply(const struct dns_snapshot *s, const struct dns_query *q,
    uint8_t *buf, size_t cap)
{
	bool t;
	size_t n = dns_reply_rcode(q, DNS_R_NOERROR, buf, cap);
	buf[2] |= DNS_F_TC >> 8;
	return dns_reply_finish(buf, n, cap, q, s->max_udp, cap, false, &t);
}

/* Sets up out[k] to carry reply i back to where query i came from. */
static void
queue_reply(struct dns_udp_sock *l, struct udp_batch *b, unsigned i, unsigned k,
    uint8_t *buf, size_t len)
{
	struct msghdr *mh = &b->out[k].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	b->outiov[k].iov_base = buf;
	b->outiov[k].iov_len = len;
	mh->msg_name = &b->addrs[i];
	mh->msg_namelen = b->in[i].msg_hdr.msg_namelen;
	mh->msg_iov = &b->outiov[k];
	mh->msg_iovlen = 1;
	if (!l->pktinfo)
		return;
	struct in_pktinfo pi4;
	struct in6_pktinfo pi6;
	if (!read_pktinfo(&b->in[i].msg_hdr, &pi4, &pi6))
		return;
	struct cmsghdr *cm = (struct cmsghdr *)b->cout[k].buf;
	memset(b->cout[k].buf, 0, sizeof(b->cout[k].buf));
	mh->msg_control = b->cout[k].buf;
	if (b->addrs[i].ss_family == AF_INET) {
		mh->msg_controllen = CMSG_SPACE(sizeof(pi4));
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi4));
		memcpy(CMSG_DATA(cm), &pi4, sizeof(pi4));
	} else {
		mh->msg_controllen = CMSG_SPACE(sizeof(pi6));
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(pi6));
		memcpy(CMSG_DATA(cm), &pi6, sizeof(pi6));
	}
}

/* Hands query i of a batch to the forwarders. */
static void
udp_forward(struct dns_udp_sock *us, struct udp_batch *b, unsigned i,
    const struct dns_query *q, const struct dns_result *res,
    const struct hearth_addr *src)
{
	struct dns_server *srv = us->ctx->srv;
	struct dns_pending *p =
	    pending_new(srv, q->pkt, q->len, src, res->view);
	if (p == NULL)
		return;
	p->listener = us->main;
	atomic_fetch_add(&us->main->refs, 1);
	memcpy(&p->sa, &b->addrs[i], sizeof(p->sa));
	p->salen = b->in[i].msg_hdr.msg_namelen;
	if (us->pktinfo)
		p->has_pi = read_pktinfo(&b->in[i].msg_hdr, &p->pi4, &p->pi6);
	if (us->ctx->worker != NULL)
		dns_forward_handover(srv, p);
	else
		dns_forward_start(srv, p);
}

/* Answers one batch of datagrams; returns how many were read. */
static int
udp_batch(struct dns_udp_sock *l, struct udp_batch *b)
{
	struct dns_udp_ctx *ctx = l->ctx;
	struct dns_server *srv = ctx->srv;
	struct dns_stats *st = ctx->stats;
	for (unsigned i = 0; i < DNS_UDP_BATCH; i++) {
		struct msghdr *mh = &b->in[i].msg_hdr;
		b->iniov[i].iov_base = ctx->rx + (size_t)i * DNS_UDP_MAX;
		b->iniov[i].iov_len = DNS_UDP_MAX;
		mh->msg_name = &b->addrs[i];
		mh->msg_namelen = sizeof(b->addrs[i]);
		mh->msg_iov = &b->iniov[i];
		mh->msg_iovlen = 1;
		mh->msg_control = l->pktinfo ? b->cin[i].buf : NULL;
		mh->msg_controllen = l->pktinfo ? sizeof(b->cin[i].buf) : 0;
		mh->msg_flags = 0;
	}
	int n = recvmmsg(l->fd, b->in, DNS_UDP_BATCH, MSG_DONTWAIT, NULL);
	if (n <= 0)
		return n;
	uint64_t now_ns = dns_now_ns();
	uint64_t now = now_ns / 1000000000u;
	unsigned k = 0;
	for (unsigned i = 0; i < (unsigned)n; i++) {
		struct dns_query q;
		struct dns_result res;
		struct hearth_addr src;
		size_t outlen;
		uint8_t *out = ctx->tx + (size_t)k * DNS_UDP_MAX;
		sa_to_addr(&b->addrs[i], &src);
		dns_process(srv->snap, srv->cache, &src, false,
		    b->iniov[i].iov_base, b->in[i].msg_len, &q, now, out,
		    DNS_UDP_MAX, &outlen, &res);
		if (res.verdict == DNS_V_DROP) {
			st->dropped++;
			continue;
		}
		if (res.verdict == DNS_V_FORWARD) {
			st->cache_misses++;
			udp_forward(l, b, i, &q, &res, &src);
			continue;
		}
		if (res.from_cache)
			st->cache_hits++;
		if (!res.recursion_client && srv->rl != NULL) {
			enum dns_rl_verdict v =
			    dns_rl_check(srv->rl, &src, now_ns / 1000000u);
			if (v == DNS_RL_DROP) {
				st->rl_dropped++;
				continue;
			}
			if (v == DNS_RL_SLIP) {
				st->rl_slipped++;
				outlen =
				    slip_reply(srv->snap, &q, out, DNS_UDP_MAX);
			}
		}
		dns_account(srv, st, &q, &res, &src, false, now_ns);
		queue_reply(l, b, i, k, out, outlen);
		k++;
	}
	for (unsigned s = 0; s < k;) {
		int r = sendmmsg(l->fd, b->out + s, k - s, MSG_DONTWAIT);
		if (r <= 0) {
			st->dropped += k - s;
			break;
		}
		s += (unsigned)r;
	}
	return n;
}

void
dns_udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_udp_sock *l = arg;
	struct udp_batch b;
	/*
	 * Reads again after each batch while packets keep coming (what
	 * arrived while answering is read without another epoll_wait), a
	 * few batches per wakeup, then lets other events run.
	 */
	for (int round = 0; round < 8; round++)
		if (udp_batch(l, &b) <= 0)
			break;
}

void
dns_tcp_send(struct dns_tcp *c, const uint8_t *buf, size_t len)
{
	uint8_t hdr[2];
	dns_put16(hdr, (uint16_t)len);
	struct evbuffer *o = bufferevent_get_output(c->bev);
	evbuffer_add(o, hdr, 2);
	evbuffer_add(o, buf, len);
}

void
dns_tcp_close(struct dns_tcp *c)
{
	struct dns_pending *p;
	while ((p = TAILQ_FIRST(&c->pending)) != NULL) {
		TAILQ_REMOVE(&c->pending, p, tlink);
		p->tcp = NULL; /* its answer will be dropped */
	}
	TAILQ_REMOVE(&c->srv->conns, c, link);
	c->srv->n_conns--;
	bufferevent_free(c->bev);
	free(c);
}

/* Handles one framed query; false when the connection must close. */
static bool
tcp_query(struct dns_tcp *c, const uint8_t *pkt, size_t len)
{
	struct dns_server *srv = c->srv;
	struct dns_query q;
	struct dns_result res;
	size_t outlen;
	uint64_t now_ns = dns_now_ns();
	dns_process(srv->snap, srv->cache, &c->peer, true, pkt, len, &q,
	    now_ns / 1000000000u, srv->tcpbuf, sizeof(srv->tcpbuf), &outlen,
	    &res);
	if (res.verdict == DNS_V_DROP) {
		srv->stats.dropped++;
		return false;
	}
	if (res.verdict == DNS_V_FORWARD) {
		srv->stats.cache_misses++;
		struct dns_pending *p =
		    pending_new(srv, pkt, len, &c->peer, res.view);
		if (p == NULL) {
			size_t n = dns_reply_rcode(&q, DNS_R_SERVFAIL,
			    srv->tcpbuf, sizeof(srv->tcpbuf));
			dns_tcp_send(c, srv->tcpbuf, n);
			return true;
		}
		p->tcp = c;
		p->was_tcp = true;
		TAILQ_INSERT_TAIL(&c->pending, p, tlink);
		c->n_pending++;
		dns_forward_start(srv, p);
		return true;
	}
	if (res.from_cache)
		srv->stats.cache_hits++;
	dns_account(srv, &srv->stats, &q, &res, &c->peer, true, now_ns);
	dns_tcp_send(c, srv->tcpbuf, outlen);
	return true;
}

static void
tcp_read_cb(struct bufferevent *bev, void *arg)
{
	struct dns_tcp *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	for (;;) {
		if (c->n_pending >= DNS_TCP_MAX_PENDING ||
		    evbuffer_get_length(bufferevent_get_output(bev)) >
		        1024 * 1024) {
			bufferevent_disable(bev, EV_READ);
			c->reading = false;
			return;
		}
		uint8_t hdr[2];
		if (evbuffer_copyout(in, hdr, 2) < 2)
			return;
		size_t len = dns_get16(hdr);
		if (len < DNS_HDR_LEN) {
			dns_tcp_close(c); /* a malformed frame */
			return;
		}
		if (evbuffer_get_length(in) < len + 2)
			return;
		uint8_t *pkt = evbuffer_pullup(in, (ssize_t)len + 2);
		bool keep = tcp_query(c, pkt + 2, len);
		evbuffer_drain(in, len + 2);
		if (!keep) {
			dns_tcp_close(c);
			return;
		}
	}
}

static void
tcp_write_cb(struct bufferevent *bev, void *arg)
{
	struct dns_tcp *c = arg;
	if (!c->reading && c->n_pending < DNS_TCP_MAX_PENDING) {
		c->reading = true;
		bufferevent_enable(bev, EV_READ);
		tcp_read_cb(bev, c);
	}
}

static void
tcp_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct dns_tcp *c = arg;
	if (what & BEV_EVENT_TIMEOUT && c->n_pending > 0) {
		bufferevent_enable(bev, EV_READ); /* still answering */
		return;
	}
	dns_tcp_close(c);
}

static void
tcp_accept_cb(struct evconnlistener *tl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	struct dns_listener *l = arg;
	struct dns_server *srv = l->srv;
	if (srv->n_conns >= DNS_TCP_MAX_CONNS || srv->stopping) {
		srv->stats.tcp_refused++;
		close(fd);
		return;
	}
	struct dns_tcp *c = calloc(1, sizeof(*c));
	if (c == NULL) {
		close(fd);
		return;
	}
	c->srv = srv;
	TAILQ_INIT(&c->pending);
	sa_to_addr((struct sockaddr_storage *)sa, &c->peer);
	c->bev = bufferevent_socket_new(srv->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (c->bev == NULL) {
		close(fd);
		free(c);
		return;
	}
	TAILQ_INSERT_TAIL(&srv->conns, c, link);
	srv->n_conns++;
	srv->stats.tcp_conns++;
	struct timeval idle = {DNS_TCP_IDLE_SECONDS, 0};
	bufferevent_set_timeouts(c->bev, &idle, &idle);
	bufferevent_setcb(c->bev, tcp_read_cb, tcp_write_cb, tcp_event_cb, c);
	bufferevent_setwatermark(c->bev, EV_READ, 0, 256 * 1024);
	c->reading = true;
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
}

int
dns_udp_socket(const struct hearth_endpoint *ep, bool *pktinfo)
{
	struct sockaddr_storage ss;
	socklen_t sl = ep_to_sa(ep, &ss);
	int one = 1, rcv = 4 << 20;
	int fd =
	    socket(ss.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* Worker threads bind their own sockets beside this one. */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	*pktinfo = is_wildcard(&ep->addr);
	if (*pktinfo && ss.ss_family == AF_INET)
		setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one));
	else if (*pktinfo)
		setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

static int
tcp_socket(const struct hearth_endpoint *ep)
{
	struct sockaddr_storage ss;
	socklen_t sl = ep_to_sa(ep, &ss);
	int one = 1;
	int fd =
	    socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0 || listen(fd, 1024) < 0) {
		int e = -errno;
		close(fd);
		return e;
	}
	return fd;
}

struct dns_listener *
dns_listener_open(struct dns_server *srv, const struct hearth_endpoint *ep)
{
	char name[HEARTH_ENDPOINT_STRLEN];
	hearth_endpoint_str(ep, name, sizeof(name));
	struct dns_listener *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	atomic_init(&l->refs, 1);
	l->srv = srv;
	l->ep = *ep;
	l->udp.ctx = &srv->main_ctx;
	l->udp.main = l;
	l->udp.fd = dns_udp_socket(ep, &l->udp.pktinfo);
	if (l->udp.fd < 0) {
		errno = -l->udp.fd;
		log_warn("dns: cannot listen on udp %s", name);
		free(l);
		return NULL;
	}
	int tfd = tcp_socket(ep);
	if (tfd < 0) {
		errno = -tfd;
		log_warn("dns: cannot listen on tcp %s", name);
		close(l->udp.fd);
		free(l);
		return NULL;
	}
	l->tl = evconnlistener_new(srv->base, tcp_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE, -1, tfd);
	l->udp.ev = event_new(srv->base, l->udp.fd, EV_READ | EV_PERSIST,
	    dns_udp_read_cb, &l->udp);
	if (l->tl == NULL || l->udp.ev == NULL ||
	    event_add(l->udp.ev, NULL) < 0) {
		if (l->tl == NULL)
			close(tfd);
		dns_listener_close(l);
		log_warnx("dns: cannot watch %s", name);
		return NULL;
	}
	return l;
}

void
dns_listener_close(struct dns_listener *l)
{
	if (l == NULL)
		return;
	if (l->udp.ev != NULL)
		event_free(l->udp.ev);
	l->udp.ev = NULL;
	if (l->tl != NULL)
		evconnlistener_free(l->tl);
	l->tl = NULL;
	if (l->udp.fd >= 0)
		close(l->udp.fd);
	l->udp.fd = -1;
	dns_listener_unref(l);
}

void
dns_listener_unref(struct dns_listener *l)
{
	if (l != NULL && atomic_fetch_sub(&l->refs, 1) == 1)
		free(l);
}

int
dns_ctx_init(struct dns_udp_ctx *ctx, struct dns_server *srv,
    struct dns_stats *st, struct dns_worker *w)
{
	ctx->srv = srv;
	ctx->worker = w;
	ctx->stats = st;
	ctx->rx = malloc((size_t)DNS_UDP_BATCH * DNS_UDP_MAX);
	ctx->tx = malloc((size_t)DNS_UDP_BATCH * DNS_UDP_MAX);
	if (ctx->rx == NULL || ctx->tx == NULL) {
		dns_ctx_fini(ctx);
		return -ENOMEM;
	}
	return 0;
}

void
dns_ctx_fini(struct dns_udp_ctx *ctx)
{
	free(ctx->rx);
	free(ctx->tx);
	ctx->rx = ctx->tx = NULL;
}
