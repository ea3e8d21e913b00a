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

#include "model.h"

/*
 * A raw packet socket bound to ifindex that receives only what the BPF
 * program prog passes; nonblocking. Returns the fd or -errno.
 */
int l2_packet_open(int ifindex, const struct sock_filter *prog, size_t len);
/* Replaces the socket's BPF program; 0 or -errno. */
int l2_packet_filter(int fd, const struct sock_filter *prog, size_t len);
/* Sends one whole Ethernet frame; 0 or -errno. */
int l2_packet_send(int fd, int ifindex, const uint8_t *frame, size_t len);
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
