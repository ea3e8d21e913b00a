/*
 * The ownership state machine (see election.h). Timing rules:
 *  - a peer is live while heard within dead_after_ms (and not leaving);
 *  - for quorum, peers count only while heard within a shorter window
 *    (dead_after_ms minus up to one interval), so a node cut off from the
 *    group gives its VIPs up before the others declare it dead and take
 *    them: never two owners;
 *  - after start, link up, or regaining quorum, a node listens for
 *    dead_after_ms (or until it has heard every member) before it claims.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "election.h"
#include "rendezvous.h"

struct peer {
	struct hearth_addr addr;
	char name[L2_NAME_MAX + 1];
	bool heard;
	bool leaving;
	uint8_t flags;
	uint64_t incarnation;
	uint64_t seq;
	int64_t last_heard;
	struct hearth_addr *claims; /* sorted */
	size_t n_claims;
	size_t cap_claims;
};

struct vip {
	struct hearth_addr addr;
	bool owned;
	int64_t last_claimed; /* when a peer was last heard claiming it */
};

struct l2_election {
	char name[L2_NAME_MAX + 1];
	struct hearth_addr addr;
	struct l2_params p;
	struct peer *peers;
	size_t n_peers;
	struct vip *vips;
	size_t n_vips;
	uint64_t seq;
	bool started;
	bool stopped;
	bool link_up;
	bool quorate;
	bool listening;
	int64_t listen_from;
	int64_t listen_until;
	int64_t now; /* of the last tick */
	bool dirty;  /* changed since the last tick */
};

static int
addr_cmp_q(const void *a, const void *b)
{
	return hearth_addr_cmp(a, b);
}

struct l2_election *
l2_election_new(const char *self_name, const struct hearth_addr *self_addr,
    const struct hearth_addr *members, size_t n_members,
    const struct l2_params *p)
{
	if (self_name == NULL || strlen(self_name) == 0 ||
	    strlen(self_name) > L2_NAME_MAX)
		return NULL;
	struct l2_election *e = calloc(1, sizeof(*e));
	if (e == NULL)
		return NULL;
	strcpy(e->name, self_name);
	if (self_addr != NULL)
		e->addr = *self_addr;
	e->p = *p;
	e->link_up = true;
	e->peers = calloc(n_members ? n_members : 1, sizeof(*e->peers));
	if (e->peers == NULL) {
		free(e);
		return NULL;
	}
	for (size_t i = 0; i < n_members; i++) {
		if (self_addr != NULL && hearth_addr_eq(&members[i], self_addr))
			continue;
		bool dup = false;
		for (size_t j = 0; j < e->n_peers; j++)
			dup |= hearth_addr_eq(&e->peers[j].addr, &members[i]);
		if (!dup)
			e->peers[e->n_peers++].addr = members[i];
	}
	return e;
}

void
l2_election_free(struct l2_election *e)
{
	if (e == NULL)
		return;
	for (size_t i = 0; i < e->n_peers; i++)
		free(e->peers[i].claims);
	free(e->peers);
	free(e->vips);
	free(e);
}

void
l2_election_set_params(struct l2_election *e, const struct l2_params *p)
{
	e->p = *p;
}

long
l2_election_find(const struct l2_election *e, const struct hearth_addr *a)
{
	size_t lo = 0, hi = e->n_vips;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = hearth_addr_cmp(&e->vips[mid].addr, a);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
l2_election_set_vips(struct l2_election *e, const struct hearth_addr *v,
    size_t n)
{
	struct vip *nv = calloc(n ? n : 1, sizeof(*nv));
	if (nv == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		long old = l2_election_find(e, &v[i]);
		if (old >= 0) {
			nv[i] = e->vips[old];
		} else {
			nv[i].addr = v[i];
			nv[i].last_claimed = -1;
		}
	}
	free(e->vips);
	e->vips = nv;
	e->n_vips = n;
	e->dirty = true;
	return 0;
}

static void
begin_listening(struct l2_election *e, int64_t now)
{
	e->listening = true;
	e->listen_from = now;
	e->listen_until = now + e->p.dead_after_ms;
}

void
l2_election_start(struct l2_election *e, int64_t now)
{
	e->started = true;
	e->quorate = false;
	e->dirty = true;
	begin_listening(e, now);
}

void
l2_election_link(struct l2_election *e, bool up, int64_t now)
{
	if (up && !e->link_up)
		begin_listening(e, now);
	e->link_up = up;
	e->dirty = true;
}

void
l2_election_stop(struct l2_election *e)
{
	e->stopped = true;
	e->dirty = true;
}

static struct peer *
peer_by_addr(struct l2_election *e, const struct hearth_addr *a)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (hearth_addr_eq(&e->peers[i].addr, a))
			return &e->peers[i];
	return NULL;
}

/* Marks every VIP p claims as claimed at now. */
static void
touch_claims(struct l2_election *e, const struct peer *p, int64_t now)
{
	for (size_t i = 0; i < p->n_claims; i++) {
		long v = l2_election_find(e, &p->claims[i]);
		if (v >= 0)
			e->vips[v].last_claimed = now;
	}
}

static int
set_claims(struct peer *p, const struct hearth_addr *v, size_t n)
{
	if (n > p->cap_claims) {
		struct hearth_addr *c = realloc(p->claims, n * sizeof(*c));
		if (c == NULL)
			return -ENOMEM;
		p->claims = c;
		p->cap_claims = n;
	}
	p->n_claims = n;
	if (n > 0) {
		memcpy(p->claims, v, n * sizeof(*v));
		qsort(p->claims, n, sizeof(*p->claims), addr_cmp_q);
	}
	return 0;
}

int
l2_election_heard(struct l2_election *e, const struct hearth_addr *from,
    const struct l2_heartbeat *hb, int64_t now)
{
	struct peer *p = peer_by_addr(e, from);
	if (p == NULL)
		return -ENOENT;
	if (p->heard &&
	    (hb->incarnation < p->incarnation ||
	        (hb->incarnation == p->incarnation && hb->seq <= p->seq)))
		return -ESTALE;
	if (hb->type == L2_HB_LEAVING) {
		touch_claims(e, p, now);
		p->n_claims = 0;
	} else if (set_claims(p, hb->vips, hb->n_vips) != 0) {
		return -ENOMEM;
	}
	p->heard = true;
	p->incarnation = hb->incarnation;
	p->seq = hb->seq;
	p->last_heard = now;
	p->flags = hb->flags;
	p->leaving = hb->type == L2_HB_LEAVING;
	strcpy(p->name, hb->name);
	if (!p->leaving)
		touch_claims(e, p, now);
	e->dirty = true;
	return 0;
}

static bool
peer_live(const struct l2_election *e, const struct peer *p, int64_t now)
{
	return p->heard && !p->leaving &&
	    now - p->last_heard < (int64_t)e->p.dead_after_ms;
}

/* The window within which a peer counts toward quorum (see the top). */
static int64_t
quorum_window(const struct l2_election *e)
{
	uint32_t d = e->p.dead_after_ms, i = e->p.interval_ms;
	uint32_t margin = d > i ? (d - i) / 2 : 0;
	if (margin > i)
		margin = i;
	return (int64_t)(d - margin);
}

static bool
peer_counts(const struct l2_election *e, const struct peer *p, int64_t now)
{
	return p->heard && !p->leaving &&
	    now - p->last_heard < quorum_window(e);
}

static bool
compute_quorum(const struct l2_election *e, int64_t now)
{
	size_t members = e->n_peers + 1;
	if (!e->p.quorum || members < 3)
		return true;
	size_t seen = 1;
	for (size_t i = 0; i < e->n_peers; i++)
		seen += peer_counts(e, &e->peers[i], now);
	return seen >= members / 2 + 1;
}

static bool
claims(const struct peer *p, const struct hearth_addr *v)
{
	return p->n_claims > 0 &&
	    bsearch(v, p->claims, p->n_claims, sizeof(*p->claims),
	        addr_cmp_q) != NULL;
}

/* Does (name, addr) outrank the current best (NULL: nothing yet)? */
static bool
better(const char *name, const struct hearth_addr *addr, const char *bname,
    const struct hearth_addr *baddr, const struct hearth_addr *vip)
{
	return bname == NULL || l2_rank_cmp(name, addr, bname, baddr, vip) < 0;
}

/*
 * The best-ranked live claimant of v, self included when self_holds; its
 * name (e->name for self) or NULL when nobody claims v.
 */
static const char *
best_claimant(const struct l2_election *e, const struct vip *v, int64_t now,
    bool self_holds)
{
	const char *bn = NULL;
	const struct hearth_addr *ba = NULL;
	if (self_holds) {
		bn = e->name;
		ba = &e->addr;
	}
	for (size_t i = 0; i < e->n_peers; i++) {
		const struct peer *p = &e->peers[i];
		if (peer_live(e, p, now) && claims(p, &v->addr) &&
		    better(p->name, &p->addr, bn, ba, &v->addr)) {
			bn = p->name;
			ba = &p->addr;
		}
	}
	return bn;
}

/*
 * The rendezvous owner of v among self and the live peers that serve or
 * are about to (quorate or joining); a peer that lost quorum is passed over.
 */
static const char *
rendezvous_owner(const struct l2_election *e, const struct vip *v, int64_t now)
{
	const char *bn = e->name;
	const struct hearth_addr *ba = &e->addr;
	for (size_t i = 0; i < e->n_peers; i++) {
		const struct peer *p = &e->peers[i];
		if (peer_live(e, p, now) &&
		    (p->flags & (L2_HB_QUORATE | L2_HB_JOINING)) &&
		    better(p->name, &p->addr, bn, ba, &v->addr)) {
			bn = p->name;
			ba = &p->addr;
		}
	}
	return bn;
}

static bool
wants(const struct l2_election *e, const struct vip *v, int64_t now)
{
	const char *rv = rendezvous_owner(e, v, now);
	if (e->p.rebalance) {
		if (rv != e->name)
			return false;
		return v->owned || best_claimant(e, v, now, false) == NULL;
	}
	const char *c = best_claimant(e, v, now, v->owned);
	if (c != NULL)
		return c == e->name;
	return rv == e->name;
}

static bool
heard_everyone_since(const struct l2_election *e, int64_t t)
{
	for (size_t i = 0; i < e->n_peers; i++)
		if (!e->peers[i].heard || e->peers[i].last_heard < t)
			return false;
	return true;
}

static void
update_state(struct l2_election *e, int64_t now)
{
	bool q = e->link_up && compute_quorum(e, now);
	if (q && !e->quorate)
		begin_listening(e, now);
	e->quorate = q;
	if (e->listening &&
	    (now >= e->listen_until || heard_everyone_since(e, e->listen_from)))
		e->listening = false;
}

size_t
l2_election_tick(struct l2_election *e, int64_t now, struct l2_change *out)
{
	size_t n = 0;
	e->now = now;
	e->dirty = false;
	update_state(e, now);
	bool serving = l2_election_serving(e);
	for (size_t i = 0; i < e->n_vips; i++) {
		struct vip *v = &e->vips[i];
		bool want = serving && wants(e, v, now);
		if (want == v->owned)
			continue;
		v->owned = want;
		out[n].vip = i;
		out[n].taken = want;
		out[n].takeover_ms =
		    want && v->last_claimed >= 0 ? now - v->last_claimed : -1;
		n++;
	}
	return n;
}

int64_t
l2_election_next_deadline(const struct l2_election *e)
{
	int64_t t = INT64_MAX;
	if (e->dirty)
		return e->now;
	if (!e->started || e->stopped)
		return t;
	if (e->listening && e->listen_until < t)
		t = e->listen_until;
	for (size_t i = 0; i < e->n_peers; i++) {
		const struct peer *p = &e->peers[i];
		if (!p->heard || p->leaving)
			continue;
		int64_t q = p->last_heard + quorum_window(e);
		int64_t d = p->last_heard + e->p.dead_after_ms;
		if (q < t && q > e->now)
			t = q;
		if (d < t && d > e->now)
			t = d;
	}
	return t;
}

void
l2_election_heartbeat(struct l2_election *e, struct l2_heartbeat *hb,
    enum l2_hb_type type, uint64_t incarnation)
{
	hb->type = (uint8_t)type;
	hb->flags = (uint8_t)((e->quorate ? L2_HB_QUORATE : 0) |
	    (e->listening ? L2_HB_JOINING : 0));
	strcpy(hb->name, e->name);
	hb->incarnation = incarnation;
	hb->seq = ++e->seq;
	hb->n_vips = 0;
	if (type != L2_HB_ALIVE)
		return;
	for (size_t i = 0; i < e->n_vips && hb->n_vips < L2_HB_MAX_VIPS; i++)
		if (e->vips[i].owned)
			hb->vips[hb->n_vips++] = e->vips[i].addr;
}

size_t
l2_election_n_vips(const struct l2_election *e)
{
	return e->n_vips;
}

const struct hearth_addr *
l2_election_vip(const struct l2_election *e, size_t i)
{
	return &e->vips[i].addr;
}

bool
l2_election_owns(const struct l2_election *e, size_t i)
{
	return e->vips[i].owned;
}

const char *
l2_election_owner(const struct l2_election *e, size_t i)
{
	if (e->vips[i].owned)
		return e->name;
	return best_claimant(e, &e->vips[i], e->now, false);
}

size_t
l2_election_n_owned(const struct l2_election *e)
{
	size_t n = 0;
	for (size_t i = 0; i < e->n_vips; i++)
		n += e->vips[i].owned;
	return n;
}

bool
l2_election_quorate(const struct l2_election *e)
{
	return e->quorate;
}

bool
l2_election_serving(const struct l2_election *e)
{
	return e->started && !e->stopped && e->link_up && e->quorate &&
	    !e->listening;
}

size_t
l2_election_n_peers(const struct l2_election *e)
{
	return e->n_peers;
}

void
l2_election_peer(const struct l2_election *e, size_t i,
    struct l2_peer_info *out)
{
	const struct peer *p = &e->peers[i];
	out->addr = &p->addr;
	out->name = p->name;
	out->live = peer_live(e, p, e->now);
	out->joining = (p->flags & L2_HB_JOINING) != 0;
}
