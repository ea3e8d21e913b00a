/*
 * l2announce's OS glue (Linux): the AF_PACKET socket with its BPF filter
 * and multicast memberships, the interface's identity and state through
 * libnl-route (and its change notifications), and the local addresses
 * used to find this node among the members and the default interface.
 * Internal to the module.
 */
#ifndef HEARTH_L2_OS_H
#define HEARTH_L2_OS_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>
#include <linux/filter.h>

#include "frame.h"
#include "model.h"

#define L2_RX_BATCH 16   /* frames read per call */
#define L2_RX_FRAME 1514 /* what the BPF program keeps of a frame */
#define L2_TX_BATCH 16   /* frames sent per call */

/* Frames read by one l2_packet_recv. */
struct l2_rx_batch {
	uint8_t frame[L2_RX_BATCH][L2_RX_FRAME];
	size_t len[L2_RX_BATCH];
	bool outgoing[L2_RX_BATCH]; /* sent from this host */
};

/* Frames queued for one l2_packet_send_batch. */
struct l2_tx_batch {
	uint8_t frame[L2_TX_BATCH][L2_FRAME_MAX];
	size_t len[L2_TX_BATCH];
	size_t n;
};

/*
 * A raw packet socket bound to ifindex that receives only what the BPF
 * program prog passes; nonblocking. Returns the fd or -errno.
 */
int l2_packet_open(int ifindex, const struct sock_filter *prog, size_t len);
/* Replaces the socket's BPF program; 0 or -errno. */
int l2_packet_filter(int fd, const struct sock_filter *prog, size_t len);
/* Sends one whole Ethernet frame; 0 or -errno. */
int l2_packet_send(int fd, int ifindex, const uint8_t *frame, size_t len);
/*
 * Reads the frames waiting on fd, up to L2_RX_BATCH, in one system call
 * (never blocks); their number (0 when none) or -errno.
 */
int l2_packet_recv(int fd, struct l2_rx_batch *b);
/*
 * Sends the frames queued in b (in one system call when the kernel takes
 * them all) and empties it; the number of frames the kernel refused.
 */
size_t l2_packet_send_batch(int fd, int ifindex, struct l2_tx_batch *b);
/*
 * Frames the kernel dropped for want of room in fd's queue since the
 * last call (the kernel resets its count on each read); 0 on error.
 */
uint64_t l2_packet_drops(int fd);
/* Adds (or drops) the multicast MAC to the socket's device filter. */
int l2_packet_mcast(int fd, int ifindex, const uint8_t mac[6], bool add);
/*
 * Joins (or leaves) IPv6 group on ifindex through fd (an AF_INET6
 * datagram socket), so the kernel reports it by MLD; 0 or -errno.
 */
int l2_ipv6_group(int fd, int ifindex, const struct in6_addr *group, bool join);

struct l2_link {
	int ifindex;
	char name[IF_NAMESIZE];
	uint8_t mac[6];
	bool up;   /* administratively up and carrier (running) */
	bool gone; /* deleted */
};

/* Reads the link called name (ifindex 0) or with ifindex; 0 or -errno. */
int l2_link_get(const char *name, int ifindex, struct l2_link *out);

struct l2_link_watch;
typedef void (*l2_link_cb)(const struct l2_link *l, void *arg);
/* Calls cb on base for every change notified for a link; NULL on error. */
struct l2_link_watch *l2_link_watch_new(struct event_base *base, l2_link_cb cb,
    void *arg);
void l2_link_watch_free(struct l2_link_watch *w);

/* True when a is configured on a local interface. */
bool l2_addr_is_local(const struct hearth_addr *a);
/* The interface whose subnet holds a (same family); 0 or -ENOENT. */
int l2_iface_for(const struct hearth_addr *a, char name[IF_NAMESIZE]);

#endif
