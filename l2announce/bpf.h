/*
 * The classic BPF program of the packet socket, built for the VIPs this
 * node owns: ARP frames pass only when their sender or target address is
 * one of them (requests to answer, claims to detect conflicts), and
 * ICMPv6 neighbour solicitations pass for the IPv6 VIPs to check in user
 * space. So with three nodes each request wakes only its owner.
 */
#ifndef HEARTH_L2_BPF_H
#define HEARTH_L2_BPF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>
#include <netinet/in.h>

/* The longest program: BPF_MAXINSNS (4096) allows this many owned VIPs. */
#define L2_BPF_MAX_VIPS 1000
#define L2_BPF_MAX_LEN  (4 * L2_BPF_MAX_VIPS + 16)

/*
 * Writes the program for the n owned IPv4 VIPs (n <= L2_BPF_MAX_VIPS)
 * into out; returns its length in instructions.
 */
size_t l2_bpf_build(struct sock_filter *out, const struct in_addr *owned,
    size_t n);
/* Runs a program over a frame as the kernel would; the bytes to keep. */
uint32_t l2_bpf_run(const struct sock_filter *prog, size_t len,
    const uint8_t *frame, size_t flen);

#endif
