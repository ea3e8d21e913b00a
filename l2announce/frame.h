/*
 * Ethernet frames l2announce reads and writes: ARP requests and replies,
 * gratuitous ARP (request and reply forms), IPv6 neighbour solicitations
 * and advertisements (solicited and unsolicited). Pure functions over
 * buffers; every parser takes untrusted input of any length.
 */
#ifndef HEARTH_L2_FRAME_H
#define HEARTH_L2_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#define L2_ETH_ALEN  6
#define L2_FRAME_MAX 128 /* the largest frame built here */
#define L2_ETH_MIN   60  /* frames are padded to this (no FCS) */

enum l2_rx_kind {
	L2_RX_NONE, /* not for us: other types, malformed */
	L2_RX_ARP_REQUEST,
	L2_RX_ARP_REPLY,
	L2_RX_NS,
};

struct l2_arp {
	uint8_t eth_src[L2_ETH_ALEN];
	uint8_t sha[L2_ETH_ALEN];
	uint8_t tha[L2_ETH_ALEN];
	struct in_addr spa;
	struct in_addr tpa;
};

struct l2_ns {
	uint8_t eth_src[L2_ETH_ALEN];
	struct in6_addr src;
	struct in6_addr dst;
	struct in6_addr target;
	bool has_slla; /* source link-layer address option */
	uint8_t slla[L2_ETH_ALEN];
};

struct l2_rx {
	enum l2_rx_kind kind;
	union {
		struct l2_arp arp;
		struct l2_ns ns;
	};
};

/*
 * Classifies and parses one received frame. Returns the kind (also in
 * out->kind); L2_RX_NONE for anything malformed or irrelevant, including
 * an NS that fails RFC 4861 validation (hop limit, checksum, options).
 */
enum l2_rx_kind l2_frame_parse(const uint8_t *f, size_t len, struct l2_rx *out);

/* The ARP reply from mac for vip to the requester of req; returns length. */
size_t l2_arp_reply_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    struct in_addr vip, const struct l2_arp *req);
/* A broadcast gratuitous ARP for vip from mac, request or reply form. */
size_t l2_garp_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    struct in_addr vip, bool reply);
/*
 * A neighbour advertisement for target with mac as its link-layer address,
 * from target to dst_ip at dst_mac, override set, solicited as given.
 */
size_t l2_na_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct in6_addr *target, const uint8_t dst_mac[L2_ETH_ALEN],
    const struct in6_addr *dst_ip, bool solicited);
/* The solicited NA answering ns (to ff02::1 for a DAD probe from ::). */
size_t l2_na_reply_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct l2_ns *ns);
/* The unsolicited NA for target to all nodes (ff02::1), override set. */
size_t l2_na_unsolicited_build(uint8_t *buf, const uint8_t mac[L2_ETH_ALEN],
    const struct in6_addr *target);
/* The solicited-node multicast group of a (ff02::1:ffXX:XXXX). */
void l2_solicited_node(const struct in6_addr *a, struct in6_addr *group);
/* The Ethernet multicast address of an IPv6 group (33:33:...). */
void l2_ipv6_mcast_mac(const struct in6_addr *group, uint8_t mac[L2_ETH_ALEN]);

/*
 * Delay in ms before the next announcement of a VIP taken over, after
 * sent announcements so far: 4 more 1.1 s apart for IPv4 (2 for IPv6),
 * then every refresh_seconds; 0 means no further announcement.
 */
uint32_t l2_announce_delay_ms(bool ipv6, unsigned sent,
    uint32_t refresh_seconds);

#endif
