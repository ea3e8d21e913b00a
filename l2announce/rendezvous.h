/*
 * Rendezvous (highest random weight) hashing of (member name, VIP): every
 * node computes the same ranking from the same names, VIPs spread evenly,
 * and removing a member moves only the VIPs it ranked first for.
 */
#ifndef HEARTH_L2_RENDEZVOUS_H
#define HEARTH_L2_RENDEZVOUS_H

#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* The weight of member name for vip; higher ranks first. */
uint64_t l2_rank_score(const char *name, const struct hearth_addr *vip);
/*
 * Negative when (name_a, addr_a) outranks (name_b, addr_b) for vip, positive
 * when it ranks below, 0 when equal: higher score first, then the smaller
 * name, then the smaller address (a total order).
 */
int l2_rank_cmp(const char *name_a, const struct hearth_addr *addr_a,
    const char *name_b, const struct hearth_addr *addr_b,
    const struct hearth_addr *vip);
/* Index of the highest-ranking name among n for vip; 0 when n == 0. */
size_t l2_rank_owner(const char *const *names, size_t n,
    const struct hearth_addr *vip);

#endif
