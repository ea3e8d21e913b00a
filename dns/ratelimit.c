/*
 * Token buckets per client prefix. A slot taken over by another prefix
 * starts full, which errs on the side of answering.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "wire.h"

#define RL_SLOTS 8192

struct slot {
	uint8_t key[17]; /* family tag + masked address */
	uint64_t last_ms;
	uint64_t tokens_milli; /* tokens * 1000 */
	uint32_t over;
};

struct dns_rl {
	pthread_mutex_t lock;
	uint32_t rate;
	uint32_t slip;
	uint8_t p4, p6;
	struct slot slots[RL_SLOTS];
};

struct dns_rl *
dns_rl_new(const struct hearth_dns_rate_limit *cfg)
{
	if (cfg->responses_per_second == 0)
		return NULL;
	struct dns_rl *rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return NULL;
	pthread_mutex_init(&rl->lock, NULL);
	rl->rate = cfg->responses_per_second;
	rl->slip = cfg->slip;
	rl->p4 = cfg->ipv4_prefix > 32 ? 32 : cfg->ipv4_prefix;
	rl->p6 = cfg->ipv6_prefix > 128 ? 128 : cfg->ipv6_prefix;
	return rl;
}

void
dns_rl_free(struct dns_rl *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	free(rl);
}

static void
make_key(const struct dns_rl *rl, const struct hearth_addr *a, uint8_t *key)
{
	memset(key, 0, 17);
	const uint8_t *src;
	unsigned bits, bytes;
	if (a->family == AF_INET) {
		key[0] = 4;
		src = (const uint8_t *)&a->v4;
		bits = rl->p4;
		bytes = 4;
	} else {
		key[0] = 6;
		src = (const uint8_t *)&a->v6;
		bits = rl->p6;
		bytes = 16;
	}
	for (unsigned i = 0; i < bytes && bits > 0; i++) {
		unsigned b = bits >= 8 ? 8 : bits;
		key[1 + i] = (uint8_t)(src[i] & (0xff00 >> b));
		bits -= b;
	}
}

enum dns_rl_verdict
dns_rl_check(struct dns_rl *rl, const struct hearth_addr *src, uint64_t now_ms)
{
	if (rl == NULL)
		return DNS_RL_PASS;
	uint8_t key[17];
	make_key(rl, src, key);
	uint32_t h = dns_name_hash(key, sizeof(key)) % RL_SLOTS;
	uint64_t cap = (uint64_t)rl->rate * 1000;
	enum dns_rl_verdict v = DNS_RL_PASS;

	pthread_mutex_lock(&rl->lock);
	struct slot *s = &rl->slots[h];
	if (memcmp(s->key, key, sizeof(key)) != 0 || s->last_ms == 0) {
		memcpy(s->key, key, sizeof(key));
		s->tokens_milli = cap;
		s->over = 0;
	} else if (now_ms > s->last_ms) {
		s->tokens_milli += (now_ms - s->last_ms) * rl->rate;
		if (s->tokens_milli > cap)
			s->tokens_milli = cap;
	}
	s->last_ms = now_ms ? now_ms : 1;
	if (s->tokens_milli >= 1000) {
		s->tokens_milli -= 1000;
	} else {
		s->over++;
		v = (rl->slip > 0 && s->over % rl->slip == 0) ? DNS_RL_SLIP :
		                                                DNS_RL_DROP;
	}
	pthread_mutex_unlock(&rl->lock);
	return v;
}
