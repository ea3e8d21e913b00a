/*
 * Heartbeats on the wire: a round trip keeps every field, and anything a
 * forger or a broken network could produce (a flipped bit, a truncated
 * datagram, the wrong key, a replay, an older incarnation) is refused.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "election.h"
#include "heartbeat.h"

static const uint8_t keybytes[] = "0123456789abcdef0123456789abcdef";

static struct hearth_addr
addr(const char *s)
{
	struct hearth_addr a;
	assert_int_equal(hearth_addr_parse(s, &a), 0);
	return a;
}

/* A heartbeat from node2 claiming two IPv4 VIPs and one IPv6 VIP. */
static void
sample(struct l2_heartbeat *hb)
{
	memset(hb, 0, sizeof(*hb));
	hb->type = L2_HB_ALIVE;
	hb->flags = L2_HB_QUORATE;
	strcpy(hb->name, "node2");
	hb->incarnation = 1763900000123456789ULL;
	hb->seq = 42;
	hb->n_vips = 3;
	hb->vips[0] = addr("192.168.122.100");
	hb->vips[1] = addr("192.168.122.150");
	hb->vips[2] = addr("fd00::100");
}

struct fx {
	struct l2_key *key;
	struct l2_heartbeat hb, out;
	uint8_t buf[L2_HB_MAX_LEN];
	int len;
};

static int
setup(void **st)
{
	struct fx *f = calloc(1, sizeof(*f));
	f->key = l2_key_new(keybytes, 32);
	sample(&f->hb);
	f->len = l2_heartbeat_encode(f->key, &f->hb, f->buf, sizeof(f->buf));
	*st = f;
	return f->key != NULL && f->len > 0 ? 0 : -1;
}

static int
teardown(void **st)
{
	struct fx *f = *st;
	l2_key_free(f->key);
	free(f);
	return 0;
}

static void
test_round_trip_keeps_every_field(void **st)
{
	struct fx *f = *st;
	assert_int_equal(f->len, 28 + 5 + 5 + 5 + 17 + 32);
	assert_int_equal(l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
	                     &f->out),
	    0);
	assert_int_equal(f->out.type, L2_HB_ALIVE);
	assert_int_equal(f->out.flags, L2_HB_QUORATE);
	assert_string_equal(f->out.name, "node2");
	assert_true(f->out.incarnation == f->hb.incarnation);
	assert_true(f->out.seq == 42);
	assert_int_equal(f->out.n_vips, 3);
	for (int i = 0; i < 3; i++)
		assert_true(hearth_addr_eq(&f->out.vips[i], &f->hb.vips[i]));
}

static void
test_every_bit_flip_is_rejected(void **st)
{
	struct fx *f = *st;
	for (int i = 0; i < f->len * 8; i++) {
		f->buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		int rc = l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
		    &f->out);
		f->buf[i / 8] ^= (uint8_t)(1 << (i % 8));
		assert_int_equal(rc, -EACCES);
	}
}

static void
test_every_truncation_is_rejected(void **st)
{
	struct fx *f = *st;
	for (int n = 0; n < f->len; n++)
		assert_true(l2_heartbeat_decode(f->key, f->buf, (size_t)n,
		                &f->out) < 0);
}

static void
test_wrong_key_is_rejected(void **st)
{
	struct fx *f = *st;
	uint8_t other[32];
	memcpy(other, keybytes, 32);
	other[31] ^= 1;
	struct l2_key *k = l2_key_new(other, 32);
	assert_int_equal(l2_heartbeat_decode(k, f->buf, (size_t)f->len,
	                     &f->out),
	    -EACCES);
	assert_false(l2_key_equal(k, f->key));
	l2_key_free(k);
}

/* Authenticated but malformed: the parse still refuses it. */
static void
test_signed_garbage_is_malformed(void **st)
{
	struct fx *f = *st;
	size_t body = (size_t)f->len - L2_TAG_LEN;
	f->buf[24] = 0;
	f->buf[25] = 4; /* one VIP more than present */
	l2_key_sign(f->key, f->buf, body, f->buf + body);
	assert_int_equal(l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
	                     &f->out),
	    -EBADMSG);
	f->buf[25] = 3;
	f->buf[28] = ' '; /* a space in the name */
	l2_key_sign(f->key, f->buf, body, f->buf + body);
	assert_int_equal(l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
	                     &f->out),
	    -EBADMSG);
	f->buf[28] = 'n';
	f->buf[28 + 5] = 5; /* unknown address family */
	l2_key_sign(f->key, f->buf, body, f->buf + body);
	assert_int_equal(l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
	                     &f->out),
	    -EBADMSG);
}

static void
test_encode_refuses_what_it_cannot_send(void **st)
{
	struct fx *f = *st;
	f->hb.name[0] = '\0';
	assert_int_equal(l2_heartbeat_encode(f->key, &f->hb, f->buf,
	                     sizeof(f->buf)),
	    -EINVAL);
	strcpy(f->hb.name, "node2");
	assert_int_equal(l2_heartbeat_encode(f->key, &f->hb, f->buf, 40),
	    -EMSGSIZE);
}

static void
test_replayed_and_older_heartbeats_are_refused(void **st)
{
	struct fx *f = *st;
	struct hearth_addr members[2] = {addr("192.168.122.10"),
	    addr("192.168.122.11")};
	struct l2_params p = {100, 400, true, false};
	struct l2_election *e =
	    l2_election_new("node1", &members[0], members, 2, &p);
	assert_int_equal(l2_heartbeat_decode(f->key, f->buf, (size_t)f->len,
	                     &f->out),
	    0);
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 0), 0);
	/* The same datagram again. */
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 10),
	    -ESTALE);
	f->out.seq = 41;
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 20),
	    -ESTALE);
	f->out.seq = 43;
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 30), 0);
	/* An older incarnation with a higher sequence. */
	f->out.incarnation--;
	f->out.seq = 1000;
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 40),
	    -ESTALE);
	/* A restart: new incarnation, sequence from 1. */
	f->out.incarnation += 2;
	f->out.seq = 1;
	assert_int_equal(l2_election_heard(e, &members[1], &f->out, 50), 0);
	/* Not a member, or this node itself. */
	struct hearth_addr stranger = addr("192.168.122.50");
	f->out.seq = 2;
	assert_int_equal(l2_election_heard(e, &stranger, &f->out, 60), -ENOENT);
	assert_int_equal(l2_election_heard(e, &members[0], &f->out, 60),
	    -ENOENT);
	l2_election_free(e);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_round_trip_keeps_every_field,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_bit_flip_is_rejected,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_truncation_is_rejected,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(test_wrong_key_is_rejected, setup,
	        teardown),
	    cmocka_unit_test_setup_teardown(test_signed_garbage_is_malformed,
	        setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_encode_refuses_what_it_cannot_send, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_replayed_and_older_heartbeats_are_refused, setup,
	        teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
