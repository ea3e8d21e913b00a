/*
 * Response rate limiting per client prefix (amplification protection): a
 * token bucket per /ipv4_prefix or /ipv6_prefix in a fixed direct-mapped
 * table, so memory is bounded whatever the number of sources. Over the
 * limit every slip-th response is sent truncated (TC=1), the rest dropped.
 */
#ifndef HEARTH_DNS_RATELIMIT_H
#define HEARTH_DNS_RATELIMIT_H

#include <stdint.h>

#include "model.h"

enum dns_rl_verdict {
	DNS_RL_PASS,
	DNS_RL_SLIP, /* answer with TC=1 and no records */
	DNS_RL_DROP,
};

struct dns_rl;

/* NULL when cfg->responses_per_second is 0 (off) or on ENOMEM. */
struct dns_rl *dns_rl_new(const struct hearth_dns_rate_limit *cfg);
void dns_rl_free(struct dns_rl *rl);
/* Charges one response to src's prefix at now_ms (monotonic). */
enum dns_rl_verdict dns_rl_check(struct dns_rl *rl,
    const struct hearth_addr *src, uint64_t now_ms);

#endif
