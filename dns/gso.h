/*
 * Planning UDP generic segmentation offload (UDP_SEGMENT) for a batch of
 * answers: answers of the same length to the same destination (client
 * address and port, and the local address they leave from) are sent as
 * one datagram train, so the kernel walks its send path once per group
 * instead of once per answer. Pure: the caller builds the keys, sends.
 */
#ifndef HEARTH_DNS_GSO_H
#define HEARTH_DNS_GSO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <netinet/in.h>

/* Answers planned at once. */
#define DNS_GSO_MAX_ITEMS 256
/* Segments in one train: the kernel's UDP_MAX_SEGMENTS, or less. */
#define DNS_GSO_MAX_SEGS 64
/* Bytes in one train: it stays under 64 KiB with its headers. */
#define DNS_GSO_MAX_BYTES 60000
/* Longer answers go alone: 1232 bytes fit any path of MTU >= 1280. */
#define DNS_GSO_MAX_LEN 1232

/* Where an answer goes: compared bytewise, so zero it before filling. */
struct dns_gso_key {
	uint16_t family;
	uint16_t port;
	uint32_t scope;
	uint8_t addr[16];
	uint8_t
	    local[16]; /* the address answered from, when chosen per packet */
};

/* One group of a plan: count answers listed from order[start]. */
struct dns_gso_group {
	uint16_t start;
	uint16_t count;
};

/*
 * The destination of a datagram from peer (sockaddr_in or _in6) answered
 * from local (an in_addr or in6_addr of the peer's family, or NULL).
 */
void dns_gso_key_make(struct dns_gso_key *k, const struct sockaddr *peer,
    const void *local);

/*
 * Groups n (<= DNS_GSO_MAX_ITEMS) answers with keys key[] and lengths
 * len[]: answers in one group share key and length (at most max_len, else
 * they go alone) and number at most DNS_GSO_MAX_SEGS, DNS_GSO_MAX_BYTES in
 * all. order[] receives the answer indexes group after group, groups[] the
 * groups in the order of their first answer; answers keep their order
 * within a group. Returns the number of groups.
 */
size_t dns_gso_plan(const struct dns_gso_key *key, const uint16_t *len,
    size_t n, size_t max_len, uint16_t *order, struct dns_gso_group *groups);

#endif
