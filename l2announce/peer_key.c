/*
 * The one place that holds the peers' HMAC key. Everything that signs or
 * checks a heartbeat goes through l2_key_sign/l2_key_verify; the key's
 * bytes never leave this file, tags are compared with CRYPTO_memcmp and
 * the copy is cleansed before it is freed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "peer_key.h"

struct l2_key {
	uint8_t *bytes;
	size_t len;
};

struct l2_key *
l2_key_new(const uint8_t *bytes, size_t len)
{
	if (bytes == NULL || len == 0 || len > 4096)
		return NULL;
	struct l2_key *k = calloc(1, sizeof(*k));
	if (k == NULL)
		return NULL;
	k->bytes = OPENSSL_secure_malloc(len);
	if (k->bytes == NULL) {
		free(k);
		return NULL;
	}
	memcpy(k->bytes, bytes, len);
	k->len = len;
	return k;
}

void
l2_key_free(struct l2_key *k)
{
	if (k == NULL)
		return;
	if (k->bytes != NULL)
		OPENSSL_secure_clear_free(k->bytes, k->len);
	free(k);
}

int
l2_key_sign(const struct l2_key *k, const uint8_t *msg, size_t len,
    uint8_t tag[L2_TAG_LEN])
{
	unsigned out = 0;
	if (HMAC(EVP_sha256(), k->bytes, (int)k->len, msg, len, tag, &out) ==
	        NULL ||
	    out != L2_TAG_LEN)
		return -EIO;
	return 0;
}

bool
l2_key_verify(const struct l2_key *k, const uint8_t *msg, size_t len,
    const uint8_t tag[L2_TAG_LEN])
{
	uint8_t want[L2_TAG_LEN];
	if (l2_key_sign(k, msg, len, want) != 0)
		return false;
	bool ok = CRYPTO_memcmp(want, tag, L2_TAG_LEN) == 0;
	OPENSSL_cleanse(want, sizeof(want));
	return ok;
}

bool
l2_key_equal(const struct l2_key *a, const struct l2_key *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	if (a->len != b->len)
		return false;
	return CRYPTO_memcmp(a->bytes, b->bytes, a->len) == 0;
}
