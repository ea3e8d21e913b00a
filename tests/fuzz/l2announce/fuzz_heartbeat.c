/*
 * Fuzzes the heartbeat decoder. The first byte picks the path: 0 feeds
 * the rest as a datagram (the HMAC check, as a forger meets it); any other
 * value signs the rest with the target's key first, so the parser behind
 * the check is explored too, and a heartbeat that decodes is fed to an
 * election (heard, tick, owner queries) as a peer's would be.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "election.h"
#include "heartbeat.h"

static const uint8_t keybytes[] = "fuzzing-key-0123456789abcdef";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct l2_heartbeat hb;
	static struct l2_change changes[L2_HB_MAX_VIPS];
	if (size == 0 || size > L2_HB_MAX_LEN)
		return 0;
	struct l2_key *k = l2_key_new(keybytes, sizeof(keybytes) - 1);
	uint8_t *buf = malloc(size + L2_TAG_LEN);
	size_t len = size - 1;
	memcpy(buf, data + 1, len);
	if (data[0] != 0) {
		l2_key_sign(k, buf, len, buf + len);
		len += L2_TAG_LEN;
	}
	if (l2_heartbeat_decode(k, buf, len, &hb) == 0) {
		struct hearth_addr m[2] = {{.family = AF_INET},
		    {.family = AF_INET}};
		m[1].v4.s_addr = 1;
		struct l2_params p = {100, 400, true, data[0] & 1};
		struct l2_election *e =
		    l2_election_new("self", &m[0], m, 2, &p);
		l2_election_set_vips(e, hb.vips, hb.n_vips > 8 ? 8 : hb.n_vips);
		l2_election_start(e, 0);
		l2_election_heard(e, &m[1], &hb, 1);
		l2_election_tick(e, 2, changes);
		l2_election_tick(e, 500, changes);
		for (size_t i = 0; i < l2_election_n_vips(e); i++)
			(void)l2_election_owner(e, i);
		l2_election_free(e);
	}
	free(buf);
	l2_key_free(k);
	return 0;
}
