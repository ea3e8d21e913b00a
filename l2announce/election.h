/*
 * VIP ownership among the failover group, as a pure state machine driven
 * by explicit time (milliseconds on any monotonic clock). It records the
 * heartbeats heard from peers, decides liveness, quorum and, per VIP, who
 * owns it: a VIP a live member claims stays with it (stickiness; among
 * several claimants the best-ranked keeps it), an unclaimed VIP goes to its
 * rendezvous owner among the live members; with rebalance the rendezvous
 * owner always wins. The caller feeds heartbeats and ticks, and acts on
 * the VIPs the tick reports taken or released.
 */
#ifndef HEARTH_L2_ELECTION_H
#define HEARTH_L2_ELECTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "heartbeat.h"
#include "model.h"

struct l2_params {
	uint32_t interval_ms;
	uint32_t dead_after_ms;
	bool quorum;    /* majority needed with 3+ members */
	bool rebalance; /* VIPs move back to their rendezvous owner */
};

/* One VIP taken or released by a tick. */
struct l2_change {
	size_t vip; /* index in the VIP list */
	bool taken;
	int64_t takeover_ms; /* taken from a peer: ms since it was last
	                        heard claiming it; else -1 */
};

/* What the election tells about one peer (for metrics and logs). */
struct l2_peer_info {
	const struct hearth_addr *addr;
	const char *name; /* "" until heard */
	bool live;
	bool joining;
};

struct l2_election;

/*
 * A new election for self_name at self_addr (one of members; NULL when
 * this node is alone) among members (self included or not). NULL on error.
 */
struct l2_election *l2_election_new(const char *self_name,
    const struct hearth_addr *self_addr, const struct hearth_addr *members,
    size_t n_members, const struct l2_params *p);
void l2_election_free(struct l2_election *e);
void l2_election_set_params(struct l2_election *e, const struct l2_params *p);
/*
 * Replaces the VIP list (sorted, no duplicates): unchanged VIPs keep their
 * state, removed ones are forgotten (the caller stops announcing them),
 * new ones are decided by the next tick. 0 or -ENOMEM.
 */
int l2_election_set_vips(struct l2_election *e, const struct hearth_addr *v,
    size_t n);
/* Begins at now: it listens before it claims anything. */
void l2_election_start(struct l2_election *e, int64_t now);
/* Link state of the interface: down = leave (own nothing), up = rejoin. */
void l2_election_link(struct l2_election *e, bool up, int64_t now);
/* Graceful stop: the next tick releases everything, for good. */
void l2_election_stop(struct l2_election *e);
/*
 * Records an authenticated heartbeat from address from. Returns 0, -ENOENT
 * when from is not a member (or is this node), -ESTALE when it replays or
 * precedes one already heard (incarnation, then sequence).
 */
int l2_election_heard(struct l2_election *e, const struct hearth_addr *from,
    const struct l2_heartbeat *hb, int64_t now);
/*
 * Re-decides everything at now. Writes the VIPs taken or released into
 * out (room for the VIP count) and returns how many.
 */
size_t l2_election_tick(struct l2_election *e, int64_t now,
    struct l2_change *out);
/*
 * The earliest time a tick could change anything: the last tick's time
 * when something was recorded since, INT64_MAX when nothing is pending.
 */
int64_t l2_election_next_deadline(const struct l2_election *e);
/* Fills hb's sender fields, flags, next sequence and current claims. */
void l2_election_heartbeat(struct l2_election *e, struct l2_heartbeat *hb,
    enum l2_hb_type type, uint64_t incarnation);

size_t l2_election_n_vips(const struct l2_election *e);
const struct hearth_addr *l2_election_vip(const struct l2_election *e,
    size_t i);
/* Index of VIP a, or -1. */
long l2_election_find(const struct l2_election *e, const struct hearth_addr *a);
bool l2_election_owns(const struct l2_election *e, size_t i);
/* The name of VIP i's owner as this node knows it, or NULL. */
const char *l2_election_owner(const struct l2_election *e, size_t i);
size_t l2_election_n_owned(const struct l2_election *e);
bool l2_election_quorate(const struct l2_election *e);
/* Past its listening period, link up, quorate: it may own VIPs. */
bool l2_election_serving(const struct l2_election *e);
size_t l2_election_n_peers(const struct l2_election *e);
void l2_election_peer(const struct l2_election *e, size_t i,
    struct l2_peer_info *out);

#endif
