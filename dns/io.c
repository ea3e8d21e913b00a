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

#include <netinet/udp.h>
#include <sys/timerfd.h>

#include "gso.h"
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
    const struct hearth_addr *src, const struct dns_result *res)
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
	p->recursion_client = res->recursion_client;
	p->start_ns = dns_now_ns();
	snprintf(p->view, sizeof(p->view), "%s", res->view);
	return p;
}

typedef union {
	char buf[CMSG_SPACE(sizeof(struct in6_pktinfo)) +
	    CMSG_SPACE(sizeof(uint16_t))];
	struct cmsghdr align;
} udp_cmsg;

/*
 * One gather of datagrams and their answers: answer k goes back to the
 * sender of datagram src[k] and is len[k] bytes at ctx->tx + k * MAX.
 */
struct dns_udp_batch {
	struct mmsghdr in[DNS_UDP_BATCH];
	struct iovec iniov[DNS_UDP_BATCH];
	struct sockaddr_storage addrs[DNS_UDP_BATCH];
	udp_cmsg cin[DNS_UDP_BATCH];
	struct in_pktinfo pi4[DNS_UDP_BATCH];
	struct in6_pktinfo pi6[DNS_UDP_BATCH];
	bool has_pi[DNS_UDP_BATCH];
	uint16_t src[DNS_UDP_BATCH];
	uint16_t len[DNS_UDP_BATCH];
	struct dns_gso_key key[DNS_UDP_BATCH];
	uint16_t order[DNS_UDP_BATCH];
	struct dns_gso_group groups[DNS_UDP_BATCH];
	struct mmsghdr out[DNS_UDP_BATCH];
	struct iovec outiov[DNS_UDP_BATCH];
	udp_cmsg cout[DNS_UDP_BATCH];
};

_Static_assert(DNS_UDP_BATCH <= DNS_GSO_MAX_ITEMS,
    "a batch is planned at once");

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

/* Hands query i of a batch to the forwarders. */
static void
udp_forward(struct dns_udp_sock *us, struct dns_udp_batch *b, unsigned i,
    const struct dns_query *q, const struct dns_result *res,
    const struct hearth_addr *src)
{
	struct dns_server *srv = us->ctx->srv;
	struct dns_pending *p = pending_new(srv, q->pkt, q->len, src, res);
	if (p == NULL)
		return;
	p->listener = us->main;
	atomic_fetch_add(&us->main->refs, 1);
	memcpy(&p->sa, &b->addrs[i], sizeof(p->sa));
	p->salen = b->in[i].msg_hdr.msg_namelen;
	p->has_pi = b->has_pi[i];
	p->pi4 = b->pi4[i];
	p->pi6 = b->pi6[i];
	if (us->ctx->worker != NULL)
		dns_forward_handover(srv, p);
	else
		dns_forward_start(srv, p);
}

/* Reads what is queued into the batch from slot have on. */
static unsigned
udp_gather(struct dns_udp_sock *l, struct dns_udp_batch *b, unsigned have)
{
	struct dns_udp_ctx *ctx = l->ctx;
	for (unsigned i = have; i < DNS_UDP_BATCH; i++) {
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
	/*
	 * One call: recvmmsg stops early only when the queue is empty, so
	 * reading again would cost an EAGAIN round trip.
	 */
	int n = recvmmsg(l->fd, b->in + have, DNS_UDP_BATCH - have,
	    MSG_DONTWAIT, NULL);
	unsigned got = n > 0 ? (unsigned)n : 0;
	for (unsigned i = have; i < have + got; i++)
		b->has_pi[i] = l->pktinfo &&
		    read_pktinfo(&b->in[i].msg_hdr, &b->pi4[i], &b->pi6[i]);
	return have + got;
}

/* Answers the n datagrams of a batch; returns how many answers to send. */
static unsigned
udp_answer(struct dns_udp_sock *l, struct dns_udp_batch *b, unsigned n)
{
	struct dns_udp_ctx *ctx = l->ctx;
	struct dns_server *srv = ctx->srv;
	struct dns_stats *st = ctx->stats;
	uint64_t now_ns = dns_now_ns();
	uint64_t now = now_ns / 1000000000u;
	unsigned k = 0;
	for (unsigned i = 0; i < n; i++) {
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
		/*
		 * An outsider's answer is charged before it is made, forwarded
		 * ones included (a public view must not amplify either).
		 */
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
				res.verdict = DNS_V_REPLY;
				res.from_cache = false;
			}
		}
		if (res.verdict == DNS_V_FORWARD) {
			st->cache_misses++;
			udp_forward(l, b, i, &q, &res, &src);
			continue;
		}
		if (res.from_cache)
			st->cache_hits++;
		dns_account(srv, st, &q, &res, &src, false, now_ns);
		b->src[k] = (uint16_t)i;
		b->len[k] = (uint16_t)outlen;
		dns_gso_key_make(&b->key[k], (struct sockaddr *)&b->addrs[i],
		    !b->has_pi[i] ? NULL :
		        b->addrs[i].ss_family == AF_INET ?
		                    (void *)&b->pi4[i].ipi_spec_dst :
		                    (void *)&b->pi6[i].ipi6_addr);
		k++;
	}
	return k;
}

/*
 * Sets up out[g] for group g: its answers, the source address when the
 * socket is a wildcard, and the segment size when there are several.
 */
static void
udp_message(struct dns_udp_batch *b, unsigned g, bool segment)
{
	const struct dns_gso_group *gr = &b->groups[g];
	unsigned i = b->src[b->order[gr->start]];
	struct msghdr *mh = &b->out[g].msg_hdr;
	memset(mh, 0, sizeof(*mh));
	mh->msg_name = &b->addrs[i];
	mh->msg_namelen = b->in[i].msg_hdr.msg_namelen;
	mh->msg_iov = &b->outiov[gr->start];
	mh->msg_iovlen = gr->count;
	if (!b->has_pi[i] && !segment)
		return;
	char *c = b->cout[g].buf;
	memset(c, 0, sizeof(b->cout[g].buf));
	mh->msg_control = c;
	struct cmsghdr *cm = (struct cmsghdr *)c;
	if (b->has_pi[i] && b->addrs[i].ss_family == AF_INET) {
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(b->pi4[i]));
		memcpy(CMSG_DATA(cm), &b->pi4[i], sizeof(b->pi4[i]));
		mh->msg_controllen = CMSG_SPACE(sizeof(b->pi4[i]));
	} else if (b->has_pi[i]) {
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof(b->pi6[i]));
		memcpy(CMSG_DATA(cm), &b->pi6[i], sizeof(b->pi6[i]));
		mh->msg_controllen = CMSG_SPACE(sizeof(b->pi6[i]));
	}
	if (!segment)
		return;
	cm = (struct cmsghdr *)(c + mh->msg_controllen);
	uint16_t size = b->len[b->order[gr->start]];
	cm->cmsg_level = SOL_UDP;
	cm->cmsg_type = UDP_SEGMENT;
	cm->cmsg_len = CMSG_LEN(sizeof(size));
	memcpy(CMSG_DATA(cm), &size, sizeof(size));
	mh->msg_controllen += CMSG_SPACE(sizeof(size));
}

/* Sends group g's answers one by one (segmentation refused). */
static unsigned
udp_send_apart(struct dns_udp_sock *l, struct dns_udp_batch *b, unsigned g)
{
	const struct dns_gso_group *gr = &b->groups[g];
	unsigned failed = 0;
	udp_message(b, g, false);
	struct msghdr *mh = &b->out[g].msg_hdr;
	mh->msg_iovlen = 1;
	for (unsigned m = 0; m < gr->count; m++) {
		mh->msg_iov = &b->outiov[gr->start + m];
		if (sendmsg(l->fd, mh, MSG_DONTWAIT) < 0)
			failed++;
	}
	return failed;
}

/* Sends the k answers of a batch, grouped for segmentation. */
static void
udp_send(struct dns_udp_sock *l, struct dns_udp_batch *b, unsigned k)
{
	struct dns_udp_ctx *ctx = l->ctx;
	size_t ng = dns_gso_plan(b->key, b->len, k,
	    l->no_gso ? 0 : DNS_GSO_MAX_LEN, b->order, b->groups);
	for (unsigned j = 0; j < k; j++) {
		b->outiov[j].iov_base =
		    ctx->tx + (size_t)b->order[j] * DNS_UDP_MAX;
		b->outiov[j].iov_len = b->len[b->order[j]];
	}
	for (unsigned g = 0; g < ng; g++)
		udp_message(b, g, b->groups[g].count > 1);
	for (unsigned s = 0; s < ng;) {
		int r = sendmmsg(l->fd, b->out + s, (unsigned)(ng - s),
		    MSG_DONTWAIT);
		if (r > 0) {
			s += (unsigned)r;
			continue;
		}
		int e = errno;
		if (e == EAGAIN || e == ENOBUFS || e == EINTR) {
			/* The socket is full: the rest is lost. */
			for (; s < ng; s++)
				ctx->stats->dropped += b->groups[s].count;
			break;
		}
		if (b->groups[s].count > 1) {
			/* This path or kernel does not segment: stop trying. */
			if (!l->no_gso)
				log_debug("dns: UDP segmentation refused (%s); "
				          "sending answers one by one",
				    strerror(e));
			l->no_gso = true;
			ctx->stats->dropped += udp_send_apart(l, b, s);
		} else {
			ctx->stats->dropped++; /* one unreachable client */
		}
		s++;
	}
}

/* Gathers, answers and sends one batch; returns how many were read. */
static unsigned
udp_batch(struct dns_udp_sock *l)
{
	struct dns_udp_batch *b = l->ctx->batch;
	unsigned n = udp_gather(l, b, 0);
	if (n == 0)
		return 0;
	unsigned k = udp_answer(l, b, n);
	if (k > 0)
		udp_send(l, b, k);
	return n;
}

/*
 * Answers what is queued: a batch, and while batches come back full a few
 * more before other events get their turn. Returns how many were read.
 */
static unsigned
udp_drain(struct dns_udp_sock *l)
{
	unsigned total = 0;
	for (int round = 0; round < 8; round++) {
		unsigned n = udp_batch(l);
		total += n;
		if (n < DNS_UDP_BATCH)
			break;
	}
	return total;
}

/*
 * Interrupt moderation without waiting. At low rates every datagram wakes
 * the loop and is answered at once. Under load (queries less than
 * DNS_UDP_TICK_US / 2 apart on average, i.e. above 10k/s at 200 us) the
 * socket stops waking the loop and is read on a timer instead, as a NIC
 * moderates its interrupts: one wakeup, one recvmmsg and one sendmmsg
 * (answers to one client in one train) for all that arrived in between,
 * where each query would cost a wakeup of its own. A tick lasts about
 * DNS_UDP_TICK_QUERIES mean gaps between queries, between half of
 * DNS_UDP_TICK_US and DNS_UDP_TICK_US: long enough to share a wakeup at
 * moderate rates, shorter when queries pour in (then each tick finds
 * plenty anyway, and a client that waits for its answers is not kept
 * waiting long). Not shorter than half: a wakeup costs as much as answering
 * about a dozen queries, and a client that keeps a window of queries in
 * flight needs about that long to send the next window, so shorter ticks
 * would wake more often for fewer queries each.
 * The loop never blocks (other events run between ticks); a query waits
 * at most a tick (timerfd expiries have no timer slack). The first tick
 * that finds nothing hands the socket back to its read event.
 */
static const uint64_t tick_ns = DNS_UDP_TICK_US * 1000ull;

/* Takes n queries read now into the mean gap; true when under load. */
static bool
udp_busy(struct dns_udp_sock *l, unsigned n)
{
	uint64_t now = dns_now_ns();
	uint64_t gap = (now - l->last_ns) / (n ? n : 1);
	l->last_ns = now;
	if (gap > 1000000)
		gap = 1000000;
	l->gap_ns = (l->gap_ns * 7 + gap) / 8;
	return l->gap_ns < tick_ns / 2;
}

/* The next tick's length, from the mean gap between queries. */
static uint64_t
udp_tick_len(const struct dns_udp_sock *l)
{
	uint64_t t = l->gap_ns * DNS_UDP_TICK_QUERIES;
	return t > tick_ns ? tick_ns : (t < tick_ns / 2 ? tick_ns / 2 : t);
}

/* Arms (or with 0, disarms) the tick; either resets its readability. */
static void
udp_tick_arm(struct dns_udp_sock *l, uint64_t ns)
{
	struct itimerspec its = {
	    .it_value = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)}};
	if (timerfd_settime(l->tfd, 0, &its, NULL) < 0)
		log_debug("dns: timerfd_settime: %s", strerror(errno));
}

static void
udp_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_udp_sock *l = arg;
	if (!l->polling) {
		udp_tick_arm(l, 0); /* a stale expiry */
		return;
	}
	unsigned n = udp_drain(l);
	udp_busy(l, n);
	l->ctx->stats->udp_polled += n;
	if (n > 0) {
		udp_tick_arm(l, udp_tick_len(l));
		return;
	}
	/* Quiet for a whole tick: wake on the next datagram again. */
	udp_tick_arm(l, 0);
	if (event_add(l->ev, NULL) < 0) {
		log_warnx("dns: cannot watch a UDP socket; polling it");
		udp_tick_arm(l, tick_ns);
		return;
	}
	l->polling = false;
}

/* The socket woke the loop: answers, then polls it if under load. */
static void
udp_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct dns_udp_sock *l = arg;
	unsigned n = udp_drain(l);
	if (l->tev == NULL || !udp_busy(l, n))
		return;
	if (event_del(l->ev) < 0)
		return;
	l->polling = true;
	udp_tick_arm(l, udp_tick_len(l));
}

int
dns_udp_watch(struct dns_udp_sock *us, struct event_base *base)
{
	us->polling = false;
	us->tev = NULL;
	us->tfd = -1;
	us->ev = event_new(base, us->fd, EV_READ | EV_PERSIST, udp_read_cb, us);
	if (us->ev == NULL || event_add(us->ev, NULL) < 0)
		return -ENOMEM;
	if (tick_ns == 0)
		return 0;
	/* Without the timer the socket is simply never polled. */
	us->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (us->tfd < 0)
		return 0;
	us->tev =
	    event_new(base, us->tfd, EV_READ | EV_PERSIST, udp_tick_cb, us);
	if (us->tev == NULL || event_add(us->tev, NULL) < 0) {
		if (us->tev != NULL)
			event_free(us->tev);
		us->tev = NULL;
		close(us->tfd);
		us->tfd = -1;
	}
	return 0;
}

void
dns_udp_unwatch(struct dns_udp_sock *us)
{
	if (us->tev != NULL) {
		event_free(us->tev);
		close(us->tfd);
	}
	us->tev = NULL;
	us->tfd = -1;
	us->polling = false;
	if (us->ev != NULL)
		event_free(us->ev);
	us->ev = NULL;
	if (us->fd >= 0)
		close(us->fd);
	us->fd = -1;
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
		    pending_new(srv, pkt, len, &c->peer, &res);
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
	if (l->tl == NULL || dns_udp_watch(&l->udp, srv->base) < 0) {
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
	dns_udp_unwatch(&l->udp);
	if (l->tl != NULL)
		evconnlistener_free(l->tl);
	l->tl = NULL;
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
	ctx->batch = calloc(1, sizeof(*ctx->batch));
	if (ctx->rx == NULL || ctx->tx == NULL || ctx->batch == NULL) {
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
	free(ctx->batch);
	ctx->rx = ctx->tx = NULL;
	ctx->batch = NULL;
}
