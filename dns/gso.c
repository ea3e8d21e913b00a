/*
 * UDP segmentation planning: which answers of a batch can leave as one
 * train (same destination, same length). See gso.h.
 */
#include <string.h>

#include "gso.h"

/* Groups searched for a match: recent ones, so the plan stays linear. */
#define GSO_LOOKBACK 16

void
dns_gso_key_make(struct dns_gso_key *k, const struct sockaddr *peer,
    const void *local)
{
	memset(k, 0, sizeof(*k));
	k->family = peer->sa_family;
	if (peer->sa_family == AF_INET) {
		const struct sockaddr_in *s = (const struct sockaddr_in *)peer;
		k->port = s->sin_port;
		memcpy(k->addr, &s->sin_addr, 4);
		if (local != NULL)
			memcpy(k->local, local, 4);
	} else {
		const struct sockaddr_in6 *s =
		    (const struct sockaddr_in6 *)peer;
		k->port = s->sin6_port;
		k->scope = s->sin6_scope_id;
		memcpy(k->addr, &s->sin6_addr, 16);
		if (local != NULL)
			memcpy(k->local, local, 16);
	}
}

size_t
dns_gso_plan(const struct dns_gso_key *key, const uint16_t *len, size_t n,
    size_t max_len, uint16_t *order, struct dns_gso_group *groups)
{
	uint16_t gid[DNS_GSO_MAX_ITEMS], first[DNS_GSO_MAX_ITEMS];
	size_t ng = 0;
	if (n > DNS_GSO_MAX_ITEMS)
		n = DNS_GSO_MAX_ITEMS;
	if (max_len > DNS_GSO_MAX_LEN)
		max_len = DNS_GSO_MAX_LEN;
	for (size_t i = 0; i < n; i++) {
		size_t g = ng;
		if (len[i] <= max_len && len[i] > 0) {
			size_t stop = ng > GSO_LOOKBACK ? ng - GSO_LOOKBACK : 0;
			for (size_t j = ng; j-- > stop;) {
				size_t f = first[j];
				if (len[f] == len[i] &&
				    groups[j].count < DNS_GSO_MAX_SEGS &&
				    (size_t)(groups[j].count + 1) * len[i] <=
				        DNS_GSO_MAX_BYTES &&
				    memcmp(&key[f], &key[i], sizeof(key[i])) ==
				        0) {
					g = j;
					break;
				}
			}
		}
		if (g == ng) {
			first[ng] = (uint16_t)i;
			groups[ng].count = 0;
			ng++;
		}
		groups[g].count++;
		gid[i] = (uint16_t)g;
	}
	/* Lays the groups out one after the other. */
	size_t at = 0;
	for (size_t g = 0; g < ng; g++) {
		groups[g].start = (uint16_t)at;
		at += groups[g].count;
		groups[g].count = 0;
	}
	for (size_t i = 0; i < n; i++) {
		struct dns_gso_group *gr = &groups[gid[i]];
		order[gr->start + gr->count++] = (uint16_t)i;
	}
	return ng;
}
