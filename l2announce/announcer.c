/*
 * The announcer: l2announce's I/O on the daemon's event base. It feeds
 * the election (election.c) with heartbeats from the UDP socket, link
 * state from netlink and time from its timers, and acts on what the
 * election decides: has the responder (responder.c, a thread of its own)
 * answer ARP requests and neighbour solicitations for the VIPs this node
 * owns (from the AF_PACKET socket, whose filter it keeps), announces VIPs it
 * takes (gratuitous ARP / unsolicited NA: all at once, then a burst 1.1 s
 * apart, then every garp_refresh_seconds), re-announces when another MAC
 * claims one of them, and tells its peers when its claims change or it
 * leaves. Nothing here blocks; nothing logs per packet above debug.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <linux/if_packet.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include "announcer.h"
#include "bpf.h"
#include "election.h"
#include "frame.h"
#include "heartbeat.h"
#include "l2_os.h"
#include "log.h"
#include "metrics.h"
#include "peer_key.h"
#include "responder.h"

/* The parts of the configuration that need a new announcer to change. */
struct shape {
	char name[L2_NAME_MAX + 1];
	char ifname[IF_NAMESIZE];
	bool alone;              /* no other member: no heartbeats */
	struct hearth_addr self; /* the member address that is local */
	struct hearth_addr *members;
	size_t n_members;
	uint16_t port;
};

struct vip_io {
	struct hearth_addr addr;
	unsigned sent;           /* announcements since taken */
	int64_t next;            /* next announcement; INT64_MAX none */
	int64_t last_reannounce; /* after a conflict */
};

struct counters {
	uint64_t garps, unsolicited_na, conflicts, taken, released;
	uint64_t hb_sent, hb_received, hb_auth, hb_malformed, hb_replay;
	uint64_t hb_stranger, send_errors;
	uint64_t rx_dropped; /* by the kernel: the packet socket's queue full */
};

struct l2_announcer {
	struct hearth_env *env;
	struct event_base *base;
	struct shape shape;
	struct l2_link link;
	struct l2_key *key;
	struct l2_params params;
	uint32_t garp_refresh_seconds;
	struct l2_election *el;
	struct vip_io *vips;
	size_t n_vips;
	struct l2_change *changes;
	struct l2_heartbeat *hb_tx, *hb_rx;
	uint8_t *wire;
	struct sock_filter *bpf; /* L2_BPF_MAX_LEN */
	struct in_addr *owned4;  /* L2_BPF_MAX_VIPS */
	uint64_t incarnation;
	int pkt_fd, hb_fd, mc_fd;
	struct l2_responder *responder;
	bool realtime; /* the responder asks for real-time priority */
	struct event *hb_ev, *hb_timer, *el_timer, *garp_timer;
	struct event *health_timer;
	struct l2_link_watch *watch;
	int64_t created;
	bool stopped;
	bool ever_served;
	enum hearth_health health;
	struct counters c;
	struct l2_responder_counters rc; /* the responder's */
	struct metrics_histogram takeover;
};

static const double takeover_bounds[] = {0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.75, 1,
    2, 5};

static void run_tick(struct l2_announcer *a);
static void update_answers(struct l2_announcer *a);

static int64_t
now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
arm(struct event *ev, int64_t at)
{
	if (at == INT64_MAX) {
		event_del(ev);
		return;
	}
	int64_t d = at - now_ms();
	if (d < 0)
		d = 0;
	struct timeval tv = {.tv_sec = d / 1000, .tv_usec = (d % 1000) * 1000};
	event_add(ev, &tv);
}

static socklen_t
to_sockaddr(const struct hearth_addr *a, uint16_t port,
    struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof(*ss));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_addr = a->v6;
		s6->sin6_port = htons(port);
		return sizeof(*s6);
	}
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	s4->sin_family = AF_INET;
	s4->sin_addr = a->v4;
	s4->sin_port = htons(port);
	return sizeof(*s4);
}

static bool
from_sockaddr(const struct sockaddr_storage *ss, struct hearth_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (ss->ss_family == AF_INET) {
		a->family = AF_INET;
		a->v4 = ((const struct sockaddr_in *)ss)->sin_addr;
		return true;
	}
	if (ss->ss_family != AF_INET6)
		return false;
	const struct in6_addr *v6 =
	    &((const struct sockaddr_in6 *)ss)->sin6_addr;
	if (IN6_IS_ADDR_V4MAPPED(v6)) {
		a->family = AF_INET;
		memcpy(&a->v4, v6->s6_addr + 12, 4);
	} else {
		a->family = AF_INET6;
		a->v6 = *v6;
	}
	return true;
}

static char *
addr_str(const struct hearth_addr *a, char buf[INET6_ADDRSTRLEN])
{
	return hearth_addr_str(a, buf, INET6_ADDRSTRLEN);
}

/* --- configuration shape --------------------------------------------- */

static void
shape_clear(struct shape *s)
{
	free(s->members);
	memset(s, 0, sizeof(*s));
}

/* Resolves m into s; logs and returns -errno when it cannot. */
static int
shape_resolve(const struct hearth_model *m, struct shape *s)
{
	memset(s, 0, sizeof(*s));
	const char *name = m->node.name;
	if (name == NULL || strlen(name) == 0 || strlen(name) > L2_NAME_MAX) {
		log_error("l2announce: node.name must be 1 to %d characters",
		    L2_NAME_MAX);
		return -EINVAL;
	}
	strcpy(s->name, name);
	if (m->node.interface != NULL) {
		snprintf(s->ifname, sizeof(s->ifname), "%s", m->node.interface);
	} else {
		char b[INET6_ADDRSTRLEN];
		if (m->n_pools == 0 || m->pools[0].n_ranges == 0) {
			log_error("l2announce: node.interface is not set and "
			          "there is no pool to find it from");
			return -EINVAL;
		}
		const struct hearth_addr *first = &m->pools[0].ranges[0].first;
		if (l2_iface_for(first, s->ifname) != 0) {
			log_error("l2announce: node.interface is not set and "
			          "no interface's subnet holds pool address %s",
			    addr_str(first, b));
			return -ENODEV;
		}
	}
	s->port = m->peers.port;
	bool found = false;
	for (size_t i = 0; i < m->peers.n_members && !found; i++)
		if (l2_addr_is_local(&m->peers.members[i])) {
			s->self = m->peers.members[i];
			found = true;
		}
	if (m->peers.n_members > 0 && !found) {
		log_error("l2announce: none of peers.members is an address "
		          "of this node");
		return -EADDRNOTAVAIL;
	}
	s->alone = true;
	for (size_t i = 0; i < m->peers.n_members; i++)
		s->alone &= hearth_addr_eq(&m->peers.members[i], &s->self);
	if (!s->alone) {
		s->members = calloc(m->peers.n_members, sizeof(*s->members));
		if (s->members == NULL)
			return -ENOMEM;
		memcpy(s->members, m->peers.members,
		    m->peers.n_members * sizeof(*s->members));
		s->n_members = m->peers.n_members;
	}
	return 0;
}

static bool
shape_equal(const struct shape *a, const struct shape *b)
{
	if (strcmp(a->name, b->name) != 0 || strcmp(a->ifname, b->ifname) ||
	    a->alone != b->alone || a->port != b->port ||
	    !hearth_addr_eq(&a->self, &b->self) || a->n_members != b->n_members)
		return false;
	for (size_t i = 0; i < a->n_members; i++)
		if (!hearth_addr_eq(&a->members[i], &b->members[i]))
			return false;
	return true;
}

static void
params_from(const struct hearth_model *m, struct l2_params *p)
{
	p->interval_ms = m->peers.interval_ms;
	p->dead_after_ms = m->peers.dead_after_ms;
	p->quorum = m->peers.quorum;
	p->rebalance = m->peers.rebalance;
}

/* --- sending --------------------------------------------------------- */

static void
send_frame(struct l2_announcer *a, const uint8_t *f, size_t len)
{
	if (l2_packet_send(a->pkt_fd, a->link.ifindex, f, len) != 0)
		a->c.send_errors++;
}

static void
send_heartbeat(struct l2_announcer *a, enum l2_hb_type type)
{
	if (a->hb_fd < 0 || !a->link.up)
		return;
	l2_election_heartbeat(a->el, a->hb_tx, type, a->incarnation);
	int len = l2_heartbeat_encode(a->key, a->hb_tx, a->wire, L2_HB_MAX_LEN);
	if (len < 0) {
		log_debug("l2announce: heartbeat not encoded: %s",
		    strerror(-len));
		return;
	}
	for (size_t i = 0; i < a->shape.n_members; i++) {
		const struct hearth_addr *m = &a->shape.members[i];
		struct sockaddr_storage ss;
		if (hearth_addr_eq(m, &a->shape.self) ||
		    m->family != a->shape.self.family)
			continue;
		socklen_t sl = to_sockaddr(m, a->shape.port, &ss);
		if (sendto(a->hb_fd, a->wire, (size_t)len, 0,
		        (struct sockaddr *)&ss, sl) < 0)
			a->c.send_errors++;
		else
			a->c.hb_sent++;
	}
}

/* Sends the announcement(s) of VIP i now and schedules the next. */
static void
announce(struct l2_announcer *a, size_t i, int64_t now)
{
	struct vip_io *v = &a->vips[i];
	uint8_t f[L2_FRAME_MAX];
	bool v6 = v->addr.family == AF_INET6;
	if (v6) {
		send_frame(a, f,
		    l2_na_unsolicited_build(f, a->link.mac, &v->addr.v6));
		a->c.unsolicited_na++;
	} else {
		send_frame(a, f,
		    l2_garp_build(f, a->link.mac, v->addr.v4, false));
		send_frame(a, f,
		    l2_garp_build(f, a->link.mac, v->addr.v4, true));
		a->c.garps += 2;
	}
	v->sent++;
	uint32_t d = l2_announce_delay_ms(v6, v->sent, a->garp_refresh_seconds);
	v->next = d == 0 ? INT64_MAX : now + d;
}

/* Announces every owned VIP that is due; arms the timer for the next. */
static void
announce_due(struct l2_announcer *a)
{
	int64_t now = now_ms(), next = INT64_MAX;
	for (size_t i = 0; i < a->n_vips; i++) {
		struct vip_io *v = &a->vips[i];
		if (!l2_election_owns(a->el, i)) {
			v->next = INT64_MAX;
			continue;
		}
		if (v->next <= now)
			announce(a, i, now);
		if (v->next < next)
			next = v->next;
	}
	arm(a->garp_timer, next);
}

/* Restarts the announcement burst of every owned VIP (new MAC, rejoin). */
static void
reannounce_all(struct l2_announcer *a)
{
	for (size_t i = 0; i < a->n_vips; i++) {
		a->vips[i].sent = 0;
		a->vips[i].next = 0;
	}
	announce_due(a);
}

/* --- the election ---------------------------------------------------- */

static enum hearth_health
compute_health(struct l2_announcer *a)
{
	if (l2_election_serving(a->el)) {
		a->ever_served = true;
		return HEARTH_HEALTH_OK;
	}
	if (!a->ever_served && !a->stopped &&
	    now_ms() < a->created + a->params.dead_after_ms)
		return HEARTH_HEALTH_STARTING;
	return HEARTH_HEALTH_DEGRADED;
}

static void
log_changes(struct l2_announcer *a, size_t n)
{
	char b[INET6_ADDRSTRLEN];
	for (size_t i = 0; i < n; i++) {
		const struct l2_change *c = &a->changes[i];
		const struct hearth_addr *v = &a->vips[c->vip].addr;
		if (c->taken && c->takeover_ms >= 0)
			log_info("l2announce: took %s over (%lld ms after its "
			         "owner was last heard)",
			    addr_str(v, b), (long long)c->takeover_ms);
		else if (c->taken)
			log_info("l2announce: took %s", addr_str(v, b));
		else
			log_info("l2announce: released %s", addr_str(v, b));
	}
}

static void
run_tick(struct l2_announcer *a)
{
	size_t n = l2_election_tick(a->el, now_ms(), a->changes);
	size_t taken = 0;
	for (size_t i = 0; i < n; i++) {
		struct vip_io *v = &a->vips[a->changes[i].vip];
		if (a->changes[i].taken) {
			v->sent = 0;
			v->next = 0;
			taken++;
		} else {
			v->next = INT64_MAX;
		}
	}
	if (n > 0)
		update_answers(a);
	if (taken > 0)
		announce_due(a); /* every first announcement at once */
	if (n > 0 && !a->stopped)
		send_heartbeat(a, L2_HB_ALIVE);
	for (size_t i = 0; i < n; i++) {
		const struct l2_change *c = &a->changes[i];
		if (c->taken) {
			a->c.taken++;
			if (c->takeover_ms >= 0)
				metrics_histogram_observe(&a->takeover,
				    (double)c->takeover_ms / 1000.0);
		} else {
			a->c.released++;
		}
	}
	log_changes(a, n);
	if (!a->stopped)
		arm(a->el_timer, l2_election_next_deadline(a->el));
	enum hearth_health h = compute_health(a);
	if (h != a->health) {
		a->health = h;
		if (h == HEARTH_HEALTH_OK)
			log_info("l2announce: serving as %s on %s, owning "
			         "%zu of %zu VIPs",
			    a->shape.name, a->link.name,
			    l2_election_n_owned(a->el), a->n_vips);
		else if (h == HEARTH_HEALTH_DEGRADED)
			log_warnx("l2announce: not announcing (%s)",
			    !a->link.up                     ? "link down" :
			        !l2_election_quorate(a->el) ? "no quorum" :
			                                      "stopped");
		a->env->health_changed(a->env, "l2announce");
	}
}

static void
el_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	run_tick(arg);
}

static void
garp_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	announce_due(arg);
}

static void
hb_timer_cb(evutil_socket_t fd, short what, void *arg)
{
	send_heartbeat(arg, L2_HB_ALIVE);
}

/* --- receiving ------------------------------------------------------- */

static bool
is_member(const struct l2_announcer *a, const struct hearth_addr *from)
{
	for (size_t i = 0; i < a->shape.n_members; i++)
		if (hearth_addr_eq(&a->shape.members[i], from))
			return !hearth_addr_eq(from, &a->shape.self);
	return false;
}

/* One datagram: dropped and counted unless a member's authentic news. */
static bool
heartbeat_in(struct l2_announcer *a, const uint8_t *buf, size_t len,
    const struct hearth_addr *from)
{
	if (!is_member(a, from)) {
		a->c.hb_stranger++;
		return false;
	}
	int rc = l2_heartbeat_decode(a->key, buf, len, a->hb_rx);
	if (rc == -EACCES) {
		a->c.hb_auth++;
		return false;
	}
	if (rc < 0) {
		a->c.hb_malformed++;
		return false;
	}
	rc = l2_election_heard(a->el, from, a->hb_rx, now_ms());
	if (rc == -ESTALE) {
		a->c.hb_replay++;
		return false;
	}
	if (rc < 0)
		return false;
	a->c.hb_received++;
	return true;
}

static void
hb_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct l2_announcer *a = arg;
	bool news = false;
	for (int i = 0; i < 64; i++) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct hearth_addr from;
		ssize_t n = recvfrom(fd, a->wire, L2_HB_MAX_LEN, MSG_TRUNC,
		    (struct sockaddr *)&ss, &sl);
		if (n < 0)
			break;
		if (n > L2_HB_MAX_LEN || !from_sockaddr(&ss, &from)) {
			a->c.hb_malformed++;
			continue;
		}
		news |= heartbeat_in(a, a->wire, (size_t)n, &from);
	}
	if (news && !a->stopped)
		run_tick(a);
}

static void
conflict(struct l2_announcer *a, long i, const uint8_t *mac)
{
	struct vip_io *v = &a->vips[i];
	int64_t now = now_ms();
	char b[INET6_ADDRSTRLEN];
	a->c.conflicts++;
	if (now - v->last_reannounce < 1000)
		return;
	v->last_reannounce = now;
	log_warnx("l2announce: %s claimed by %02x:%02x:%02x:%02x:%02x:%02x; "
	          "re-announcing",
	    addr_str(&v->addr, b), mac[0], mac[1], mac[2], mac[3], mac[4],
	    mac[5]);
	v->sent = 0;
	v->next = 0;
	announce_due(a);
}

/* The responder heard mac claim vip: re-announce if it is still ours. */
static void
claim_cb(const struct hearth_addr *vip, const uint8_t mac[6], void *arg)
{
	struct l2_announcer *a = arg;
	long i = l2_election_find(a->el, vip);
	if (i >= 0 && l2_election_owns(a->el, (size_t)i) && !a->stopped)
		conflict(a, i, mac);
}

/* --- IPv6 solicited-node groups -------------------------------------- */

static bool
same_group(const struct hearth_addr *x, const struct hearth_addr *y)
{
	return x->family == AF_INET6 && y->family == AF_INET6 &&
	    memcmp(x->v6.s6_addr + 13, y->v6.s6_addr + 13, 3) == 0;
}

static bool
group_in(const struct vip_io *v, size_t n, const struct hearth_addr *x,
    size_t upto)
{
	for (size_t i = 0; i < n && i < upto; i++)
		if (same_group(&v[i].addr, x))
			return true;
	return false;
}

/* Joins or leaves the group of x on the packet socket and for MLD. */
static void
group_set(struct l2_announcer *a, const struct hearth_addr *x, bool join)
{
	struct in6_addr g;
	uint8_t mac[6];
	l2_solicited_node(&x->v6, &g);
	l2_ipv6_mcast_mac(&g, mac);
	if (l2_packet_mcast(a->pkt_fd, a->link.ifindex, mac, join) != 0)
		log_debug("l2announce: packet membership: %s", strerror(errno));
	if (a->mc_fd < 0)
		a->mc_fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (a->mc_fd >= 0 &&
	    l2_ipv6_group(a->mc_fd, a->link.ifindex, &g, join) != 0)
		log_debug("l2announce: IPv6 group: %s", strerror(errno));
}

/* Moves group memberships from the VIPs in old to those in new. */
static void
groups_update(struct l2_announcer *a, const struct vip_io *old, size_t n_old,
    const struct vip_io *new, size_t n_new)
{
	for (size_t i = 0; i < n_old; i++)
		if (old[i].addr.family == AF_INET6 &&
		    !group_in(old, n_old, &old[i].addr, i) &&
		    !group_in(new, n_new, &old[i].addr, n_new))
			group_set(a, &old[i].addr, false);
	for (size_t i = 0; i < n_new; i++)
		if (new[i].addr.family == AF_INET6 &&
		    !group_in(new, n_new, &new[i].addr, i) &&
		    !group_in(old, n_old, &new[i].addr, n_old))
			group_set(a, &new[i].addr, true);
}

/* --- the link -------------------------------------------------------- */

/* The BPF program for the IPv4 VIPs owned now; returns its length. */
static size_t
build_filter(struct l2_announcer *a)
{
	size_t n = 0;
	for (size_t i = 0; a->el != NULL && i < a->n_vips; i++)
		if (n < L2_BPF_MAX_VIPS && l2_election_owns(a->el, i) &&
		    a->vips[i].addr.family == AF_INET)
			a->owned4[n++] = a->vips[i].addr.v4;
	return l2_bpf_build(a->bpf, a->owned4, n);
}

/* Hands the responder what to answer now: the link and the VIPs owned. */
static void
publish(struct l2_announcer *a)
{
	struct l2_answer_vip *v = calloc(a->n_vips ? a->n_vips : 1, sizeof(*v));
	if (v == NULL) {
		log_warnx("l2announce: answers not updated: out of memory");
		return;
	}
	for (size_t i = 0; i < a->n_vips; i++) {
		v[i].addr = a->vips[i].addr;
		v[i].owned = a->el != NULL && l2_election_owns(a->el, i);
	}
	if (l2_responder_publish(a->responder, a->link.ifindex, a->link.mac, v,
	        a->n_vips) != 0)
		log_warnx("l2announce: answers not updated: out of memory");
	free(v);
}

/*
 * Lets the kernel pass exactly the ARP frames about owned VIPs and the
 * responder answer for them.
 */
static void
update_answers(struct l2_announcer *a)
{
	int rc = l2_packet_filter(a->pkt_fd, a->bpf, build_filter(a));
	if (rc != 0)
		log_warnx("l2announce: packet filter not updated: %s",
		    strerror(-rc));
	publish(a);
}

static int
open_packet(struct l2_announcer *a)
{
	int fd = l2_packet_open(a->link.ifindex, a->bpf, build_filter(a));
	if (fd < 0)
		return fd;
	struct l2_responder *r =
	    l2_responder_new(a->base, fd, a->realtime, &a->rc, claim_cb, a);
	if (r == NULL) {
		close(fd);
		return -ENOMEM;
	}
	l2_responder_free(a->responder); /* its thread is gone after this */
	if (a->pkt_fd >= 0) {
		a->c.rx_dropped += l2_packet_drops(a->pkt_fd);
		close(a->pkt_fd);
	}
	a->pkt_fd = fd;
	a->responder = r;
	publish(a);
	return 0;
}

/* The interface came back under its configured name with a new index. */
static void
link_recreated(struct l2_announcer *a, const struct l2_link *l)
{
	struct l2_link old = a->link;
	a->link = *l;
	int rc = open_packet(a);
	if (rc != 0) {
		log_warnx("l2announce: %s is back but its packet socket "
		          "cannot be opened: %s",
		    l->name, strerror(-rc));
		a->link = old;
		return;
	}
	log_info("l2announce: %s is back (index %d)", l->name, l->ifindex);
	groups_update(a, NULL, 0, a->vips, a->n_vips);
	l2_election_link(a->el, l->up, now_ms());
}

static void
link_cb(const struct l2_link *l, void *arg)
{
	struct l2_announcer *a = arg;
	if (a->stopped)
		return;
	if (l->ifindex != a->link.ifindex) {
		if (a->link.gone && !l->gone &&
		    strcmp(l->name, a->shape.ifname) == 0)
			link_recreated(a, l);
		run_tick(a);
		return;
	}
	if (!l->gone && strcmp(l->name, a->link.name) != 0) {
		log_info("l2announce: interface %s is now called %s",
		    a->link.name, l->name);
		snprintf(a->link.name, sizeof(a->link.name), "%s", l->name);
	}
	bool mac_changed = !l->gone && memcmp(l->mac, a->link.mac, 6) != 0;
	if (mac_changed) {
		memcpy(a->link.mac, l->mac, 6);
		publish(a);
	}
	if (l->up != a->link.up) {
		log_info("l2announce: %s is %s", a->link.name,
		    l->up ? "up: rejoining" : "down: leaving");
		a->link.up = l->up;
		l2_election_link(a->el, l->up, now_ms());
	}
	a->link.gone = l->gone;
	run_tick(a);
	if (mac_changed) {
		log_info("l2announce: %s has a new MAC: re-announcing",
		    a->link.name);
		reannounce_all(a);
	}
	if (l->up)
		send_heartbeat(a, L2_HB_ALIVE);
}

/* --- life cycle ------------------------------------------------------ */

static int
open_heartbeats(struct l2_announcer *a)
{
	struct sockaddr_storage ss;
	socklen_t sl = to_sockaddr(&a->shape.self, a->shape.port, &ss);
	int one = 1;
	a->hb_fd = socket(a->shape.self.family,
	    SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->hb_fd < 0)
		return -errno;
	(void)setsockopt(a->hb_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	(void)setsockopt(a->hb_fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	if (bind(a->hb_fd, (struct sockaddr *)&ss, sl) != 0)
		return -errno;
	a->hb_ev =
	    event_new(a->base, a->hb_fd, EV_READ | EV_PERSIST, hb_read_cb, a);
	a->hb_timer = event_new(a->base, -1, EV_PERSIST, hb_timer_cb, a);
	if (a->hb_ev == NULL || a->hb_timer == NULL ||
	    event_add(a->hb_ev, NULL) != 0)
		return -ENOMEM;
	struct timeval tv = {.tv_sec = a->params.interval_ms / 1000,
	    .tv_usec = (a->params.interval_ms % 1000) * 1000};
	return event_add(a->hb_timer, &tv) == 0 ? 0 : -ENOMEM;
}

/* Builds a's VIP table and the election's list from m; 0 or -errno. */
static int
set_vips(struct l2_announcer *a, const struct hearth_model *m)
{
	struct hearth_addr *v = NULL;
	int n = hearth_model_vips(m, &v);
	if (n < 0)
		return n;
	struct vip_io *nv = calloc(n ? (size_t)n : 1, sizeof(*nv));
	struct l2_change *ch = calloc(n ? (size_t)n : 1, sizeof(*ch));
	if (nv == NULL || ch == NULL ||
	    l2_election_set_vips(a->el, v, (size_t)n) != 0) {
		free(nv);
		free(ch);
		free(v);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++) {
		nv[i].addr = v[i];
		nv[i].next = INT64_MAX;
		nv[i].last_reannounce = INT64_MIN / 2;
		for (size_t j = 0; j < a->n_vips; j++)
			if (hearth_addr_eq(&a->vips[j].addr, &v[i]))
				nv[i] = a->vips[j];
	}
	groups_update(a, a->vips, a->n_vips, nv, (size_t)n);
	free(a->vips);
	free(a->changes);
	free(v);
	a->vips = nv;
	a->changes = ch;
	a->n_vips = (size_t)n;
	publish(a);
	return 0;
}

static uint64_t
incarnation_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Everything that can fail, in order; logs what failed. */
static int
open_all(struct l2_announcer *a, const struct hearth_model *m)
{
	a->bpf = calloc(L2_BPF_MAX_LEN, sizeof(*a->bpf));
	a->owned4 = calloc(L2_BPF_MAX_VIPS, sizeof(*a->owned4));
	if (a->bpf == NULL || a->owned4 == NULL) {
		log_error("l2announce: out of memory");
		return -ENOMEM;
	}
	int rc = l2_link_get(a->shape.ifname, 0, &a->link);
	if (rc != 0) {
		log_error("l2announce: interface %s: %s", a->shape.ifname,
		    strerror(-rc));
		return rc;
	}
	if ((rc = open_packet(a)) != 0) {
		log_error("l2announce: packet socket on %s: %s",
		    a->shape.ifname, strerror(-rc));
		return rc;
	}
	if (!a->shape.alone) {
		if (m->peers.key == NULL ||
		    (a->key = l2_key_new(m->peers.key, m->peers.key_len)) ==
		        NULL) {
			log_error("l2announce: peers.key_file is needed for "
			          "heartbeats");
			return -EINVAL;
		}
		if ((rc = open_heartbeats(a)) != 0) {
			char b[INET6_ADDRSTRLEN];
			log_error("l2announce: heartbeat socket %s port %u: %s",
			    addr_str(&a->shape.self, b), a->shape.port,
			    strerror(-rc));
			return rc;
		}
	}
	a->el = l2_election_new(a->shape.name,
	    a->shape.alone ? NULL : &a->shape.self, a->shape.members,
	    a->shape.n_members, &a->params);
	a->hb_tx = calloc(1, sizeof(*a->hb_tx));
	a->hb_rx = calloc(1, sizeof(*a->hb_rx));
	a->wire = malloc(L2_HB_MAX_LEN);
	a->el_timer = evtimer_new(a->base, el_timer_cb, a);
	a->garp_timer = evtimer_new(a->base, garp_timer_cb, a);
	a->health_timer = evtimer_new(a->base, el_timer_cb, a);
	a->watch = l2_link_watch_new(a->base, link_cb, a);
	if (a->el == NULL || a->hb_tx == NULL || a->hb_rx == NULL ||
	    a->wire == NULL || a->el_timer == NULL || a->garp_timer == NULL ||
	    a->health_timer == NULL || a->watch == NULL ||
	    set_vips(a, m) != 0) {
		log_error("l2announce: out of memory or netlink unavailable");
		return -ENOMEM;
	}
	return 0;
}

/*
 * Whether the responder may ask for real-time priority (unless
 * HEARTH_L2_REALTIME=0). While still privileged, lets this process use
 * priority 1 after the drop (RLIMIT_RTPRIO), so no capability is kept.
 */
static bool
realtime_allowed(void)
{
	const char *e = getenv("HEARTH_L2_REALTIME");
	if (e != NULL && strcmp(e, "0") == 0)
		return false;
	struct rlimit rl;
	if (getrlimit(RLIMIT_RTPRIO, &rl) == 0 && rl.rlim_cur < 1) {
		rl.rlim_cur = 1;
		if (rl.rlim_max < 1)
			rl.rlim_max = 1;
		(void)setrlimit(RLIMIT_RTPRIO, &rl);
	}
	return true;
}

struct l2_announcer *
l2_announcer_new(struct hearth_env *env, const struct hearth_model *m)
{
	struct l2_announcer *a = calloc(1, sizeof(*a));
	if (a == NULL) {
		log_error("l2announce: out of memory");
		return NULL;
	}
	a->env = env;
	a->base = env->base;
	a->pkt_fd = a->hb_fd = a->mc_fd = -1;
	a->health = HEARTH_HEALTH_STARTING;
	a->takeover.bounds = takeover_bounds;
	a->takeover.n_bounds =
	    sizeof(takeover_bounds) / sizeof(takeover_bounds[0]);
	params_from(m, &a->params);
	a->garp_refresh_seconds = m->peers.garp_refresh_seconds;
	a->realtime = realtime_allowed();
	if (shape_resolve(m, &a->shape) != 0 || open_all(a, m) != 0) {
		l2_announcer_free(a);
		return NULL;
	}
	a->created = now_ms();
	a->incarnation = incarnation_now();
	l2_election_link(a->el, a->link.up, a->created);
	l2_election_start(a->el, a->created);
	struct timeval tv = {.tv_sec = a->params.dead_after_ms / 1000,
	    .tv_usec = (a->params.dead_after_ms % 1000) * 1000 + 1000};
	evtimer_add(a->health_timer, &tv);
	char b[INET6_ADDRSTRLEN];
	log_info("l2announce: %s on %s (%02x:%02x:%02x:%02x:%02x:%02x), %s, "
	         "%zu VIPs; listening %u ms before claiming",
	    a->shape.name, a->link.name, a->link.mac[0], a->link.mac[1],
	    a->link.mac[2], a->link.mac[3], a->link.mac[4], a->link.mac[5],
	    a->shape.alone ? "alone" : addr_str(&a->shape.self, b), a->n_vips,
	    a->shape.alone ? 0 : a->params.dead_after_ms);
	send_heartbeat(a, L2_HB_ALIVE);
	run_tick(a);
	return a;
}

bool
l2_announcer_same_shape(const struct l2_announcer *a,
    const struct hearth_model *m)
{
	struct shape s;
	if (shape_resolve(m, &s) != 0)
		return false;
	bool same = shape_equal(&a->shape, &s);
	shape_clear(&s);
	return same;
}

int
l2_announcer_update(struct l2_announcer *a, const struct hearth_model *m)
{
	struct l2_key *key = NULL;
	if (!a->shape.alone) {
		if (m->peers.key == NULL)
			return -EINVAL;
		key = l2_key_new(m->peers.key, m->peers.key_len);
		if (key == NULL)
			return -ENOMEM;
	}
	int rc = set_vips(a, m);
	if (rc != 0) {
		l2_key_free(key);
		return rc;
	}
	l2_key_free(a->key);
	a->key = key;
	uint32_t old_interval = a->params.interval_ms;
	params_from(m, &a->params);
	l2_election_set_params(a->el, &a->params);
	a->garp_refresh_seconds = m->peers.garp_refresh_seconds;
	if (a->hb_timer != NULL && old_interval != a->params.interval_ms) {
		struct timeval tv = {.tv_sec = a->params.interval_ms / 1000,
		    .tv_usec = (a->params.interval_ms % 1000) * 1000};
		event_add(a->hb_timer, &tv);
	}
	run_tick(a);
	return 0;
}

void
l2_announcer_stop(struct l2_announcer *a)
{
	if (a == NULL || a->stopped)
		return;
	a->stopped = true;
	l2_election_stop(a->el);
	run_tick(a);
	send_heartbeat(a, L2_HB_LEAVING);
	log_info("l2announce: stopped; told the peers");
	event_del(a->el_timer);
	event_del(a->garp_timer);
	event_del(a->health_timer);
	if (a->hb_timer != NULL)
		event_del(a->hb_timer);
}

void
l2_announcer_free(struct l2_announcer *a)
{
	if (a == NULL)
		return;
	l2_responder_free(a->responder); /* before its socket is closed */
	struct event *evs[] = {a->hb_ev, a->hb_timer, a->el_timer,
	    a->garp_timer, a->health_timer};
	for (size_t i = 0; i < sizeof(evs) / sizeof(evs[0]); i++)
		if (evs[i] != NULL)
			event_free(evs[i]);
	l2_link_watch_free(a->watch);
	if (a->pkt_fd >= 0)
		close(a->pkt_fd);
	if (a->hb_fd >= 0)
		close(a->hb_fd);
	if (a->mc_fd >= 0)
		close(a->mc_fd);
	l2_election_free(a->el);
	l2_key_free(a->key);
	free(a->vips);
	free(a->changes);
	free(a->hb_tx);
	free(a->hb_rx);
	free(a->wire);
	free(a->bpf);
	free(a->owned4);
	shape_clear(&a->shape);
	free(a);
}

enum hearth_health
l2_announcer_health(struct l2_announcer *a)
{
	return a->health;
}

/* --- metrics --------------------------------------------------------- */

/* Copies s into buf with Prometheus label escaping. */
static const char *
label_escape(const char *s, char *buf, size_t len)
{
	size_t o = 0;
	for (; *s != '\0' && o + 3 < len; s++) {
		if (*s == '"' || *s == '\\')
			buf[o++] = '\\';
		buf[o++] = *s;
	}
	buf[o] = '\0';
	return buf;
}

static void
counter(struct evbuffer *out, const char *name, const char *help,
    const char *labels, uint64_t v)
{
	metrics_header(out, name, "counter", help);
	metrics_sample(out, name, labels, (double)v);
}

static void
vip_metrics(struct l2_announcer *a, struct evbuffer *out)
{
	char b[INET6_ADDRSTRLEN], n[2 * L2_NAME_MAX + 2], l[256];
	metrics_header(out, "hearth_l2announce_vip_owned", "gauge",
	    "1 when this node owns and announces the VIP");
	for (size_t i = 0; i < a->n_vips; i++) {
		snprintf(l, sizeof(l), "vip=\"%s\"",
		    addr_str(&a->vips[i].addr, b));
		metrics_sample(out, "hearth_l2announce_vip_owned", l,
		    l2_election_owns(a->el, i));
	}
	metrics_header(out, "hearth_l2announce_vip_owner", "gauge",
	    "The VIP's owner as this node knows it (1 per VIP with an owner)");
	for (size_t i = 0; i < a->n_vips; i++) {
		const char *o = l2_election_owner(a->el, i);
		if (o == NULL)
			continue;
		snprintf(l, sizeof(l), "vip=\"%s\",owner=\"%s\"",
		    addr_str(&a->vips[i].addr, b),
		    label_escape(o, n, sizeof(n)));
		metrics_sample(out, "hearth_l2announce_vip_owner", l, 1);
	}
}

static void
peer_metrics(struct l2_announcer *a, struct evbuffer *out)
{
	char b[INET6_ADDRSTRLEN], n[2 * L2_NAME_MAX + 2], l[256];
	metrics_header(out, "hearth_l2announce_peer_up", "gauge",
	    "1 while the peer's heartbeats are heard");
	for (size_t i = 0; i < l2_election_n_peers(a->el); i++) {
		struct l2_peer_info p;
		l2_election_peer(a->el, i, &p);
		snprintf(l, sizeof(l), "peer=\"%s\",address=\"%s\"",
		    label_escape(p.name, n, sizeof(n)), addr_str(p.addr, b));
		metrics_sample(out, "hearth_l2announce_peer_up", l, p.live);
	}
}

void
l2_announcer_metrics(struct l2_announcer *a, struct evbuffer *out)
{
	if (a->pkt_fd >= 0)
		a->c.rx_dropped += l2_packet_drops(a->pkt_fd);
	const struct counters *c = &a->c;
	struct l2_responder_counters *rc = &a->rc;
	vip_metrics(a, out);
	metrics_gauge(out, "hearth_l2announce_vips_owned",
	    "VIPs this node announces", (double)l2_election_n_owned(a->el));
	metrics_gauge(out, "hearth_l2announce_quorum",
	    "1 while this node sees a majority of the members (or needs none)",
	    l2_election_quorate(a->el));
	metrics_gauge(out, "hearth_l2announce_link_up",
	    "1 while node.interface is up with carrier", a->link.up);
	peer_metrics(a, out);
	metrics_counter(out, "hearth_l2announce_arp_requests_total",
	    "ARP requests received for a VIP this node owns (the kernel drops "
	    "the others)",
	    atomic_load(&rc->arp_requests));
	metrics_counter(out, "hearth_l2announce_arp_replies_total",
	    "ARP replies sent for owned VIPs", atomic_load(&rc->arp_replies));
	metrics_counter(out, "hearth_l2announce_frames_dropped_total",
	    "ARP/NDP frames the kernel dropped because the packet socket's "
	    "queue was full",
	    c->rx_dropped);
	metrics_counter(out, "hearth_l2announce_ndp_solicitations_total",
	    "Neighbour solicitations received for a VIP",
	    atomic_load(&rc->ns_received));
	metrics_counter(out, "hearth_l2announce_ndp_advertisements_total",
	    "Solicited neighbour advertisements sent",
	    atomic_load(&rc->na_sent));
	metrics_counter(out, "hearth_l2announce_garp_sent_total",
	    "Gratuitous ARP frames sent (request and reply forms)", c->garps);
	metrics_counter(out, "hearth_l2announce_unsolicited_na_sent_total",
	    "Unsolicited neighbour advertisements sent", c->unsolicited_na);
	metrics_counter(out, "hearth_l2announce_conflicts_total",
	    "Another MAC claimed a VIP this node owns", c->conflicts);
	metrics_header(out, "hearth_l2announce_ownership_changes_total",
	    "counter", "VIPs taken or released by this node");
	metrics_sample(out, "hearth_l2announce_ownership_changes_total",
	    "change=\"taken\"", (double)c->taken);
	metrics_sample(out, "hearth_l2announce_ownership_changes_total",
	    "change=\"released\"", (double)c->released);
	metrics_counter(out, "hearth_l2announce_heartbeats_sent_total",
	    "Heartbeats sent", c->hb_sent);
	metrics_counter(out, "hearth_l2announce_heartbeats_received_total",
	    "Authentic heartbeats accepted", c->hb_received);
	metrics_counter(out, "hearth_l2announce_heartbeat_auth_failures_total",
	    "Heartbeats whose HMAC did not verify", c->hb_auth);
	metrics_header(out, "hearth_l2announce_heartbeats_dropped_total",
	    "counter", "Heartbeats dropped, by reason");
	metrics_sample(out, "hearth_l2announce_heartbeats_dropped_total",
	    "reason=\"auth\"", (double)c->hb_auth);
	metrics_sample(out, "hearth_l2announce_heartbeats_dropped_total",
	    "reason=\"malformed\"", (double)c->hb_malformed);
	metrics_sample(out, "hearth_l2announce_heartbeats_dropped_total",
	    "reason=\"replay\"", (double)c->hb_replay);
	metrics_sample(out, "hearth_l2announce_heartbeats_dropped_total",
	    "reason=\"not_a_member\"", (double)c->hb_stranger);
	counter(out, "hearth_l2announce_send_errors_total",
	    "Frames or heartbeats the kernel refused to send", NULL,
	    c->send_errors + atomic_load(&rc->send_errors));
	metrics_gauge(out, "hearth_l2announce_responder_realtime",
	    "1 while ARP/NDP are answered by a thread at real-time priority",
	    a->responder != NULL && l2_responder_realtime(a->responder));
	metrics_counter(out, "hearth_l2announce_responder_throttled_total",
	    "Times the answering thread used its real-time CPU budget (50 ms "
	    "per 100 ms) and went on at normal priority: a flood of ARP/NDP",
	    atomic_load(&rc->throttled));
	metrics_histogram_write(out, "hearth_l2announce_takeover_seconds",
	    "From the old owner's last heartbeat to this node taking a VIP",
	    &a->takeover);
}
