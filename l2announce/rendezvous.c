/*
 * Rendezvous hashing for VIP ownership. The weight is FNV-1a over the
 * member name, a separator and the VIP's family and bytes, finished by
 * the splitmix64 mixer so that similar names and consecutive addresses
 * give unrelated weights. Deterministic across hosts and byte orders.
 */
#include <string.h>

#include "rendezvous.h"

static uint64_t
fnv1a(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

uint64_t
l2_rank_score(const char *name, const struct hearth_addr *vip)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	uint8_t sep[2] = {0, vip->family == AF_INET6 ? 6 : 4};
	h = fnv1a(h, name, strlen(name));
	h = fnv1a(h, sep, sizeof(sep));
	if (vip->family == AF_INET6)
		h = fnv1a(h, &vip->v6, 16);
	else
		h = fnv1a(h, &vip->v4, 4);
	return mix64(h);
}

int
l2_rank_cmp(const char *name_a, const struct hearth_addr *addr_a,
    const char *name_b, const struct hearth_addr *addr_b,
    const struct hearth_addr *vip)
{
	uint64_t a = l2_rank_score(name_a, vip), b = l2_rank_score(name_b, vip);
	if (a != b)
		return a > b ? -1 : 1;
	int c = strcmp(name_a, name_b);
	if (c != 0)
		return c < 0 ? -1 : 1;
	return hearth_addr_cmp(addr_a, addr_b);
}

size_t
l2_rank_owner(const char *const *names, size_t n, const struct hearth_addr *vip)
{
	static const struct hearth_addr none = {.family = AF_INET};
	size_t best = 0;
	for (size_t i = 1; i < n; i++)
		if (l2_rank_cmp(names[i], &none, names[best], &none, vip) < 0)
			best = i;
	return best;
}
