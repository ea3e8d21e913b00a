/*
 * The responder: the thread that answers ARP requests and neighbour
 * solicitations for the VIPs this node owns, so that an answer never
 * waits behind the event loop or, at real-time priority, behind other
 * processes. It reads the packet socket, answers from an immutable
 * snapshot the announcer publishes whenever ownership or the link
 * changes, counts, and hands claims of owned VIPs by other MACs back to
 * the announcer on the event loop. Its CPU is capped (budget.h).
 * Internal to the module.
 */
#ifndef HEARTH_L2_RESPONDER_H
#define HEARTH_L2_RESPONDER_H
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <event2/event.h>
#include "model.h"

/* What the responder counts; outlives a responder (the announcer's). */
struct l2_responder_counters {
	_Atomic uint64_t arp_requests, arp_replies, ns_received, na_sent;
	_Atomic uint64_t send_errors, throttled;
};

/* One VIP the snapshot knows: answered when owned. */
struct l2_answer_vip {
	struct hearth_addr addr;
	bool owned;
};

/* Another MAC claimed an owned VIP: called on the event loop. */
typedef void (*l2_claim_cb)(const struct hearth_addr *vip, const uint8_t mac[6],
    void *arg);

struct l2_responder;

/*
 * A responder for the packet socket fd (borrowed; it must outlive the
 * responder) counting into c. The thread starts on base's next loop
 * iteration, so after the daemon has dropped its privileges; it asks
 * for real-time priority when realtime is true. NULL on error.
 */
struct l2_responder *l2_responder_new(struct event_base *base, int fd,
    bool realtime, struct l2_responder_counters *c, l2_claim_cb cb, void *arg);

/*
 * Publishes what to answer: the link's index and MAC and the VIPs (n,
 * any order). The thread uses it from its next frame on; 0 or -ENOMEM
 * (the previous snapshot stays).
 */
int l2_responder_publish(struct l2_responder *r, int ifindex,
    const uint8_t mac[6], const struct l2_answer_vip *vips, size_t n);

/* True while the thread runs at real-time priority. */
bool l2_responder_realtime(const struct l2_responder *r);

/* Stops and joins the thread; frees everything but the socket. */
void l2_responder_free(struct l2_responder *r);
#endif
