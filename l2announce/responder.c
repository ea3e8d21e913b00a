/*
 * The responder (see responder.h): one thread per packet socket that
 * waits in poll(), reads what arrived in batches, answers from the
 * published snapshot in one sendmmsg, and charges its CPU time against
 * the flood guard's budget (spent, it drops to normal priority until the
 * window ends). The snapshot is swapped under a mutex that
 * the thread holds only while it builds a batch's replies; claims by
 * other MACs go back to the event loop through an eventfd. Should the
 * thread not start, the same batch code runs on the event loop instead.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <poll.h>
#include <sys/eventfd.h>

#include "budget.h"
#include "frame.h"
#include "l2_os.h"
#include "log.h"
#include "responder.h"

#define CLAIMS_MAX 64 /* claims waiting for the loop; more are dropped */

struct snapshot {
	int ifindex;
	uint8_t mac[6];
	size_t n;
	struct l2_answer_vip vip[]; /* sorted by address */
};

struct claim {
	struct hearth_addr vip;
	uint8_t mac[6];
};

struct l2_responder {
	struct event_base *base;
	int fd;
	bool want_rt;
	atomic_bool realtime;
	struct l2_responder_counters *c;
	l2_claim_cb cb;
	void *cb_arg;
	pthread_mutex_t lock; /* guards snap and claims */
	struct snapshot *snap;
	struct claim claims[CLAIMS_MAX];
	size_t n_claims;
	int wake_fd; /* thread -> loop: claims waiting */
	int quit_fd; /* loop -> thread: stop */
	struct event *start_ev, *claim_ev, *read_ev;
	pthread_t thread;
	bool running;
	struct l2_budget budget;
	struct l2_rx_batch rx;
	struct l2_tx_batch tx;
};

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;
	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
vip_cmp(const void *x, const void *y)
{
	const struct l2_answer_vip *a = x, *b = y;
	return hearth_addr_cmp(&a->addr, &b->addr);
}

static const struct l2_answer_vip *
find(const struct snapshot *s, int family, const void *addr)
{
	struct l2_answer_vip key;
	memset(&key, 0, sizeof(key));
	key.addr.family = family;
	if (family == AF_INET)
		memcpy(&key.addr.v4, addr, sizeof(key.addr.v4));
	else
		memcpy(&key.addr.v6, addr, sizeof(key.addr.v6));
	return bsearch(&key, s->vip, s->n, sizeof(s->vip[0]), vip_cmp);
}

/* Notes a claim for the loop; true when the loop must be woken. */
static bool
claim(struct l2_responder *r, const struct hearth_addr *vip, const uint8_t *mac)
{
	if (r->n_claims == CLAIMS_MAX)
		return false;
	r->claims[r->n_claims].vip = *vip;
	memcpy(r->claims[r->n_claims].mac, mac, 6);
	return r->n_claims++ == 0;
}

static void
reply(struct l2_responder *r, size_t len)
{
	r->tx.len[r->tx.n++] = len;
}

/* An ARP frame: a claim to pass on, a request to answer, or neither. */
static bool
arp_in(struct l2_responder *r, const struct snapshot *s, const struct l2_rx *rx)
{
	if (memcmp(rx->arp.sha, s->mac, 6) == 0)
		return false;
	bool wake = false;
	const struct l2_answer_vip *v = find(s, AF_INET, &rx->arp.spa);
	if (v != NULL && v->owned)
		wake = claim(r, &v->addr, rx->arp.sha);
	if (rx->kind != L2_RX_ARP_REQUEST ||
	    rx->arp.spa.s_addr == rx->arp.tpa.s_addr)
		return wake;
	const struct l2_answer_vip *t = find(s, AF_INET, &rx->arp.tpa);
	if (t == NULL)
		return wake;
	atomic_fetch_add_explicit(&r->c->arp_requests, 1, memory_order_relaxed);
	if (!t->owned || r->tx.n == L2_TX_BATCH)
		return wake;
	reply(r,
	    l2_arp_reply_build(r->tx.frame[r->tx.n], s->mac, rx->arp.tpa,
	        &rx->arp));
	atomic_fetch_add_explicit(&r->c->arp_replies, 1, memory_order_relaxed);
	return wake;
}

static void
ns_in(struct l2_responder *r, const struct snapshot *s, const struct l2_rx *rx)
{
	if (memcmp(rx->ns.eth_src, s->mac, 6) == 0)
		return;
	const struct l2_answer_vip *t = find(s, AF_INET6, &rx->ns.target);
	if (t == NULL)
		return;
	atomic_fetch_add_explicit(&r->c->ns_received, 1, memory_order_relaxed);
	if (!t->owned || r->tx.n == L2_TX_BATCH)
		return;
	reply(r, l2_na_reply_build(r->tx.frame[r->tx.n], s->mac, &rx->ns));
	atomic_fetch_add_explicit(&r->c->na_sent, 1, memory_order_relaxed);
}

/* Builds the replies to the n frames read; true when claims are new. */
static bool
answer(struct l2_responder *r, int n, int *ifindex)
{
	bool wake = false;
	pthread_mutex_lock(&r->lock);
	const struct snapshot *s = r->snap;
	for (int i = 0; s != NULL && i < n; i++) {
		struct l2_rx rx;
		if (r->rx.outgoing[i])
			continue;
		switch (l2_frame_parse(r->rx.frame[i], r->rx.len[i], &rx)) {
		case L2_RX_ARP_REQUEST:
		case L2_RX_ARP_REPLY:
			wake |= arp_in(r, s, &rx);
			break;
		case L2_RX_NS:
			ns_in(r, s, &rx);
			break;
		default:
			break;
		}
	}
	*ifindex = s != NULL ? s->ifindex : 0;
	pthread_mutex_unlock(&r->lock);
	return wake;
}

/*
 * Reads and answers what is waiting, a batch (one recvmmsg, one
 * sendmmsg) at a time, at most 16 batches; 0 or the socket's -errno.
 */
static int
serve(struct l2_responder *r)
{
	for (int round = 0; round < 16; round++) {
		int n = l2_packet_recv(r->fd, &r->rx), ifindex;
		if (n < 0)
			return n;
		if (answer(r, n, &ifindex))
			(void)eventfd_write(r->wake_fd, 1);
		if (r->tx.n > 0) {
			size_t bad =
			    l2_packet_send_batch(r->fd, ifindex, &r->tx);
			atomic_fetch_add_explicit(&r->c->send_errors, bad,
			    memory_order_relaxed);
		}
		if (n < L2_RX_BATCH)
			break;
	}
	return 0;
}

/* Sleeps up to ns unless told to stop; true when told to stop. */
static bool
pause_or_quit(struct l2_responder *r, int64_t ns)
{
	struct pollfd q = {.fd = r->quit_fd, .events = POLLIN};
	int ms = (int)((ns + 999999) / 1000000);
	return poll(&q, 1, ms) > 0;
}

/* Moves the calling thread to SCHED_FIFO 1 or back; true on success. */
static bool
set_realtime(bool on)
{
	struct sched_param sp = {.sched_priority = on ? 1 : 0};
	return pthread_setschedparam(pthread_self(),
	           on ? SCHED_FIFO : SCHED_OTHER, &sp) == 0;
}

/*
 * The flood guard: at real-time priority, charges the CPU used; once the
 * window's budget is spent, goes on at normal priority (like any other
 * process) until the window ends, then asks for real time again.
 */
static void
guard(struct l2_responder *r, int64_t *normal_until)
{
	int64_t now = clock_ns(CLOCK_MONOTONIC);
	if (!atomic_load_explicit(&r->realtime, memory_order_relaxed)) {
		if (*normal_until != 0 && now >= *normal_until) {
			*normal_until = 0;
			if (set_realtime(true)) {
				atomic_store(&r->realtime, true);
				l2_budget_init(&r->budget, L2_BUDGET_WINDOW_NS,
				    L2_BUDGET_CPU_NS, now,
				    clock_ns(CLOCK_THREAD_CPUTIME_ID));
			}
		}
		return;
	}
	int64_t wait = l2_budget_charge(&r->budget, now,
	    clock_ns(CLOCK_THREAD_CPUTIME_ID));
	if (wait > 0 && set_realtime(false)) {
		atomic_store(&r->realtime, false);
		atomic_fetch_add_explicit(&r->c->throttled, 1,
		    memory_order_relaxed);
		*normal_until = now + wait;
	}
}

static void *
run(void *arg)
{
	struct l2_responder *r = arg;
	struct pollfd p[2] = {{.fd = r->fd, .events = POLLIN},
	    {.fd = r->quit_fd, .events = POLLIN}};
	int64_t normal_until = 0;
	int policy;
	struct sched_param sp;
	if (pthread_getschedparam(pthread_self(), &policy, &sp) == 0)
		atomic_store(&r->realtime, policy == SCHED_FIFO);
	l2_budget_init(&r->budget, L2_BUDGET_WINDOW_NS, L2_BUDGET_CPU_NS,
	    clock_ns(CLOCK_MONOTONIC), clock_ns(CLOCK_THREAD_CPUTIME_ID));
	for (;;) {
		if (poll(p, 2, normal_until != 0 ? 100 : -1) < 0 &&
		    errno != EINTR)
			break;
		if (p[1].revents != 0 || (p[0].revents & POLLNVAL))
			break;
		/* A socket error (link gone): read it, then back off. */
		if (p[0].revents != 0 && serve(r) != 0 &&
		    pause_or_quit(r, 10000000))
			break;
		guard(r, &normal_until);
	}
	return NULL;
}

static void
read_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)serve(arg);
}

static void
claim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l2_responder *r = arg;
	struct claim c[CLAIMS_MAX];
	eventfd_t v;
	(void)eventfd_read(r->wake_fd, &v);
	pthread_mutex_lock(&r->lock);
	size_t n = r->n_claims;
	memcpy(c, r->claims, n * sizeof(c[0]));
	r->n_claims = 0;
	pthread_mutex_unlock(&r->lock);
	for (size_t i = 0; i < n; i++)
		r->cb(&c[i].vip, c[i].mac, r->cb_arg);
}

/* Creates the thread with every signal blocked (they are the loop's). */
static int
spawn(struct l2_responder *r, bool realtime)
{
	pthread_attr_t at;
	sigset_t all, old;
	if (pthread_attr_init(&at) != 0)
		return -ENOMEM;
	if (realtime) {
		struct sched_param sp = {.sched_priority = 1};
		pthread_attr_setinheritsched(&at, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&at, SCHED_FIFO);
		pthread_attr_setschedparam(&at, &sp);
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	int rc = pthread_create(&r->thread, &at, run, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&at);
	return -rc;
}

/* On the loop's first turn (privileges dropped): start the thread. */
static void
start_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l2_responder *r = arg;
	int rc = -EPERM;
	if (r->want_rt && (rc = spawn(r, true)) == 0) {
		log_info("l2announce: answering ARP/NDP on a thread at "
		         "real-time priority");
	} else if (spawn(r, false) == 0) {
		if (r->want_rt)
			log_info("l2announce: answering ARP/NDP on a thread at "
			         "normal priority (real-time: %s)",
			    strerror(-rc));
	} else {
		log_warnx("l2announce: no answering thread; answering on the "
		          "event loop");
		r->read_ev =
		    event_new(r->base, r->fd, EV_READ | EV_PERSIST, read_cb, r);
		if (r->read_ev == NULL || event_add(r->read_ev, NULL) != 0)
			log_error("l2announce: cannot answer ARP/NDP: out of "
			          "memory");
		return;
	}
	r->running = true;
}

struct l2_responder *
l2_responder_new(struct event_base *base, int fd, bool realtime,
    struct l2_responder_counters *c, l2_claim_cb cb, void *arg)
{
	struct l2_responder *r = calloc(1, sizeof(*r));
	if (r == NULL)
		return NULL;
	r->base = base;
	r->fd = fd;
	r->want_rt = realtime;
	r->c = c;
	r->cb = cb;
	r->cb_arg = arg;
	pthread_mutex_init(&r->lock, NULL);
	r->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	r->quit_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake_fd < 0 || r->quit_fd < 0)
		goto fail;
	r->start_ev = event_new(base, -1, 0, start_cb, r);
	r->claim_ev =
	    event_new(base, r->wake_fd, EV_READ | EV_PERSIST, claim_cb, r);
	if (r->start_ev == NULL || r->claim_ev == NULL ||
	    event_add(r->claim_ev, NULL) != 0)
		goto fail;
	event_active(r->start_ev, EV_TIMEOUT, 0);
	return r;
fail:
	l2_responder_free(r);
	return NULL;
}

int
l2_responder_publish(struct l2_responder *r, int ifindex, const uint8_t mac[6],
    const struct l2_answer_vip *vips, size_t n)
{
	struct snapshot *s = malloc(sizeof(*s) + n * sizeof(s->vip[0]));
	if (s == NULL)
		return -ENOMEM;
	s->ifindex = ifindex;
	memcpy(s->mac, mac, 6);
	s->n = n;
	if (n > 0) {
		memcpy(s->vip, vips, n * sizeof(s->vip[0]));
		qsort(s->vip, n, sizeof(s->vip[0]), vip_cmp);
	}
	pthread_mutex_lock(&r->lock);
	struct snapshot *old = r->snap;
	r->snap = s;
	pthread_mutex_unlock(&r->lock);
	free(old);
	return 0;
}

bool
l2_responder_realtime(const struct l2_responder *r)
{
	return atomic_load(&r->realtime);
}

void
l2_responder_free(struct l2_responder *r)
{
	if (r == NULL)
		return;
	if (r->running) {
		(void)eventfd_write(r->quit_fd, 1);
		pthread_join(r->thread, NULL);
	}
	struct event *evs[] = {r->start_ev, r->claim_ev, r->read_ev};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	if (r->quit_fd >= 0)
		close(r->quit_fd);
	pthread_mutex_destroy(&r->lock);
	free(r->snap);
	free(r);
}
