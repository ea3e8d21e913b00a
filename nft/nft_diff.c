/*
 * Two descriptions -> the changes between them: chains to add, flush or
 * delete, and elements to add or delete. A service port that did not
 * change contributes nothing; one that did contributes only the elements
 * that differ (its dispatch verdict, the endpoint slots that moved, its
 * masquerade membership). Pure; nft_build.c orders and encodes the result.
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter/nf_tables.h>

#include "nft_logic.h"

size_t
nft_key_bytes(const struct nft_key *k, uint8_t *out)
{
	size_t alen = k->family == AF_INET ? 4 : 16;
	memcpy(out, k->addr, alen);
	memset(out + alen, 0, 8);
	out[alen] = k->proto;
	out[alen + 4] = (uint8_t)(k->port >> 8);
	out[alen + 5] = (uint8_t)(k->port & 0xff);
	return alen + 8;
}

static struct nft_elem_op *
op_push(struct nft_changes *ch)
{
	if (ch->n_elems == ch->cap_elems) {
		size_t cap = ch->cap_elems ? ch->cap_elems * 2 : 64;
		struct nft_elem_op *v = realloc(ch->elems, cap * sizeof(*v));
		if (v == NULL)
			return NULL;
		ch->elems = v;
		ch->cap_elems = cap;
	}
	struct nft_elem_op *op = &ch->elems[ch->n_elems++];
	memset(op, 0, sizeof(*op));
	return op;
}

static int
chain_push(struct nft_changes *ch, uint8_t op, const struct nft_chain_def *d)
{
	if (ch->n_chains == ch->cap_chains) {
		size_t cap = ch->cap_chains ? ch->cap_chains * 2 : 32;
		struct nft_chain_op *v = realloc(ch->chains, cap * sizeof(*v));
		if (v == NULL)
			return -ENOMEM;
		ch->chains = v;
		ch->cap_chains = cap;
	}
	ch->chains[ch->n_chains++] = (struct nft_chain_op){op, d};
	return 0;
}

/* The chain a service port's dispatch element jumps to. */
static void
svc_target(const struct nft_svc *s, char out[NFT_CHAIN_NAMELEN])
{
	switch (s->kind) {
	case NFT_SVC_DNAT: {
		/* "pick4_K" without snprintf: once per service port */
		char digits[12];
		size_t n = 0;
		uint32_t k = s->n_backends;
		do
			digits[n++] = (char)('0' + k % 10);
		while ((k /= 10) != 0);
		memcpy(out, s->key.family == AF_INET ? "pick4_" : "pick6_", 6);
		for (size_t i = 0; i < n; i++)
			out[6 + i] = digits[n - 1 - i];
		out[6 + n] = '\0';
		break;
	}
	case NFT_SVC_PROXY:
		snprintf(out, NFT_CHAIN_NAMELEN, "proxy_%u", s->proxy_port);
		break;
	default:
		snprintf(out, NFT_CHAIN_NAMELEN, "refuse");
		break;
	}
}

static void
op_dispatch(struct nft_elem_op *op, const struct nft_svc *s, bool del)
{
	op->set = s->key.family == AF_INET ? NFT_SET_SVC4 : NFT_SET_SVC6;
	op->del = del;
	op->klen = (uint8_t)nft_key_bytes(&s->key, op->key);
	svc_target(s, op->chain);
}

static void
op_masq(struct nft_elem_op *op, const struct nft_svc *s, bool del)
{
	op->set = s->key.family == AF_INET ? NFT_SET_MASQ4 : NFT_SET_MASQ6;
	op->del = del;
	op->klen = (uint8_t)nft_key_bytes(&s->key, op->key);
}

static void
op_slot(struct nft_elem_op *op, const struct nft_svc *s,
    const struct nft_backend *be, uint32_t slot, bool del)
{
	bool v4 = s->key.family == AF_INET;
	size_t alen = v4 ? 4 : 16;
	op->set = v4 ? NFT_SET_EP4 : NFT_SET_EP6;
	op->del = del;
	size_t k = nft_key_bytes(&s->key, op->key);
	memcpy(op->key + k, &slot, 4); /* numgen: host byte order */
	op->klen = (uint8_t)(k + 4);
	memcpy(op->data, be->addr, alen);
	memset(op->data + alen, 0, 4);
	op->data[alen] = (uint8_t)(be->port >> 8);
	op->data[alen + 1] = (uint8_t)(be->port & 0xff);
	op->dlen = (uint8_t)(alen + 4);
}

size_t
nft_svc_elems(const struct nft_desc *d, const struct nft_svc *s, bool del,
    struct nft_elem_op *ops)
{
	size_t n = 0;
	memset(&ops[n], 0, sizeof(ops[n]));
	op_dispatch(&ops[n++], s, del);
	for (uint32_t i = 0; s->kind == NFT_SVC_DNAT && i < s->n_backends;
	     i++) {
		memset(&ops[n], 0, sizeof(ops[n]));
		op_slot(&ops[n++], s, &d->backends[s->first_backend + i], i,
		    del);
	}
	if (s->masq) {
		memset(&ops[n], 0, sizeof(ops[n]));
		op_masq(&ops[n++], s, del);
	}
	return n;
}

/* All elements of s, added or deleted. */
static int
svc_all(struct nft_changes *ch, const struct nft_desc *d,
    const struct nft_svc *s, bool del)
{
	struct nft_elem_op *op;
	if ((op = op_push(ch)) == NULL)
		return -ENOMEM;
	op_dispatch(op, s, del);
	for (uint32_t i = 0; s->kind == NFT_SVC_DNAT && i < s->n_backends;
	     i++) {
		if ((op = op_push(ch)) == NULL)
			return -ENOMEM;
		op_slot(op, s, &d->backends[s->first_backend + i], i, del);
	}
	if (s->masq) {
		if ((op = op_push(ch)) == NULL)
			return -ENOMEM;
		op_masq(op, s, del);
	}
	return 0;
}

/* Only the elements that differ between a (in old) and b (in new). */
static int
svc_pair(struct nft_changes *ch, const struct nft_desc *old,
    const struct nft_svc *a, const struct nft_desc *new,
    const struct nft_svc *b)
{
	struct nft_elem_op *op;
	uint32_t na = a->kind == NFT_SVC_DNAT ? a->n_backends : 0;
	uint32_t nb = b->kind == NFT_SVC_DNAT ? b->n_backends : 0;
	if (a->kind != b->kind || na != nb ||
	    (a->kind == NFT_SVC_PROXY && a->proxy_port != b->proxy_port)) {
		if ((op = op_push(ch)) == NULL)
			return -ENOMEM;
		op_dispatch(op, a, true);
		if ((op = op_push(ch)) == NULL)
			return -ENOMEM;
		op_dispatch(op, b, false);
	}
	uint32_t n = na > nb ? na : nb;
	for (uint32_t i = 0; i < n; i++) {
		const struct nft_backend *x =
		    i < na ? &old->backends[a->first_backend + i] : NULL;
		const struct nft_backend *y =
		    i < nb ? &new->backends[b->first_backend + i] : NULL;
		if (x && y && memcmp(x, y, sizeof(*x)) == 0)
			continue;
		if (x) {
			if ((op = op_push(ch)) == NULL)
				return -ENOMEM;
			op_slot(op, a, x, i, true);
		}
		if (y) {
			if ((op = op_push(ch)) == NULL)
				return -ENOMEM;
			op_slot(op, b, y, i, false);
		}
	}
	if (a->masq != b->masq) {
		if ((op = op_push(ch)) == NULL)
			return -ENOMEM;
		op_masq(op, a->masq ? a : b, a->masq);
	}
	return 0;
}

static bool
svc_same(const struct nft_desc *old, const struct nft_svc *a,
    const struct nft_desc *new, const struct nft_svc *b)
{
	if (a->kind != b->kind || a->masq != b->masq ||
	    a->proxy_port != b->proxy_port || a->n_backends != b->n_backends)
		return false;
	return a->n_backends == 0 ||
	    memcmp(&old->backends[a->first_backend],
	        &new->backends[b->first_backend],
	        a->n_backends * sizeof(struct nft_backend)) == 0;
}

static int
diff_svcs_aligned(struct nft_changes *ch, struct nft_desc *old,
    struct nft_desc *new)
{
	for (size_t i = 0; i < new->n_svcs; i++) {
		struct nft_svc *a = &old->svcs[i], *b = &new->svcs[i];
		if (a->dup) {
			nft_desc_mark_dup(new, b);
			continue;
		}
		if (!svc_same(old, a, new, b) &&
		    svc_pair(ch, old, a, new, b) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int
diff_svcs_indexed(struct nft_changes *ch, struct nft_desc *old,
    struct nft_desc *new)
{
	if (nft_desc_index(old) < 0 || nft_desc_index(new) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < old->n_svcs; i++) {
		const struct nft_svc *a = &old->svcs[i];
		if (a->dup || a->dead || nft_desc_lookup(new, &a->key) != NULL)
			continue;
		if (svc_all(ch, old, a, true) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < new->n_svcs; i++) {
		const struct nft_svc *b = &new->svcs[i];
		if (b->dup)
			continue;
		const struct nft_svc *a = nft_desc_lookup(old, &b->key);
		int err = 0;
		if (a == NULL)
			err = svc_all(ch, new, b, false);
		else if (!svc_same(old, a, new, b))
			err = svc_pair(ch, old, a, new, b);
		if (err < 0)
			return err;
	}
	return 0;
}

static bool
keys_aligned(const struct nft_desc *old, const struct nft_desc *new)
{
	if (old->scattered || old->n_dead || new->scattered ||
	    old->n_svcs != new->n_svcs)
		return false;
	for (size_t i = 0; i < new->n_svcs; i++)
		if (memcmp(&old->svcs[i].key, &new->svcs[i].key,
		        sizeof(struct nft_key)) != 0)
			return false;
	return true;
}

static void
op_allow(struct nft_elem_op *op, const struct nft_allow *a, bool del)
{
	op->set = NFT_SET_ALLOW;
	op->del = del;
	op->klen = 8;
	op->key[0] = a->proto;
	op->key[4] = (uint8_t)(a->first >> 8);
	op->key[5] = (uint8_t)(a->first & 0xff);
	op->key_end[0] = a->proto;
	op->key_end[4] = (uint8_t)(a->last >> 8);
	op->key_end[5] = (uint8_t)(a->last & 0xff);
}

static int
diff_allow(struct nft_changes *ch, const struct nft_desc *old,
    const struct nft_desc *new)
{
	for (int pass = 0; pass < 2; pass++) {
		const struct nft_desc *x = pass ? new : old;
		const struct nft_desc *y = pass ? old : new;
		for (size_t i = 0; x && i < x->n_allow; i++) {
			bool found = false;
			for (size_t j = 0; y && j < y->n_allow && !found; j++)
				found = memcmp(&x->allow[i], &y->allow[j],
				            sizeof(struct nft_allow)) == 0;
			if (found)
				continue;
			struct nft_elem_op *op = op_push(ch);
			if (op == NULL)
				return -ENOMEM;
			op_allow(op, &x->allow[i], pass == 0);
		}
	}
	return 0;
}

static bool
chain_def_same(const struct nft_chain_def *a, const struct nft_chain_def *b)
{
	return a->hook == b->hook && a->nat == b->nat && a->prio == b->prio &&
	    a->policy_drop == b->policy_drop;
}

static bool
chain_rules_same(const struct nft_chain_def *a, const struct nft_chain_def *b)
{
	return a->n_rules == b->n_rules &&
	    (a->n_rules == 0 ||
	        memcmp(a->rules, b->rules, a->n_rules * sizeof(*a->rules)) ==
	            0);
}

static int
diff_chains(struct nft_changes *ch, const struct nft_desc *old,
    const struct nft_desc *new)
{
	for (size_t i = 0; i < new->n_chains; i++) {
		const struct nft_chain_def *b = &new->chains[i];
		const struct nft_chain_def *a =
		    old ? nft_desc_chain(old, b->name) : NULL;
		int err = 0;
		if (a == NULL)
			err = chain_push(ch, NFT_CHAIN_ADD, b);
		else if (!chain_def_same(a, b)) {
			err = chain_push(ch, NFT_CHAIN_DEL, a);
			if (err == 0)
				err = chain_push(ch, NFT_CHAIN_ADD, b);
		} else if (!chain_rules_same(a, b))
			err = chain_push(ch, NFT_CHAIN_FLUSH, b);
		if (err < 0)
			return err;
	}
	for (size_t i = 0; old && i < old->n_chains; i++)
		if (nft_desc_chain(new, old->chains[i].name) == NULL &&
		    chain_push(ch, NFT_CHAIN_DEL, &old->chains[i]) < 0)
			return -ENOMEM;
	return 0;
}

uint32_t
nft_set_size(size_t n)
{
	uint32_t size = 1024;
	while (size < 2 * n && size < (1U << 30))
		size <<= 1;
	return size;
}

bool
nft_diff_fits(const uint32_t set_size[NFT_SET_COUNT],
    const struct nft_desc *new)
{
	for (int i = 0; i < NFT_SET_COUNT; i++)
		if (set_size[i] != 0 && new->n_elems[i] > set_size[i])
			return false;
	return true;
}

int
nft_diff(struct nft_desc *old, struct nft_desc *new, struct nft_changes *ch)
{
	nft_changes_reset(ch);
	ch->recreate = old == NULL;
	for (int i = 0; ch->recreate && i < NFT_SET_COUNT; i++)
		if (!(nft_sets[i].flags & NFT_SET_INTERVAL))
			ch->set_size[i] = nft_set_size(new->n_elems[i]);
	int err = diff_chains(ch, old, new);
	if (err == 0)
		err = diff_allow(ch, old, new);
	if (err < 0)
		return err;
	if (old == NULL) {
		if (nft_desc_index(new) < 0)
			return -ENOMEM;
		for (size_t i = 0; i < new->n_svcs; i++)
			if (!new->svcs[i].dup &&
			    svc_all(ch, new, &new->svcs[i], false) < 0)
				return -ENOMEM;
		return 0;
	}
	if (keys_aligned(old, new))
		return diff_svcs_aligned(ch, old, new);
	return diff_svcs_indexed(ch, old, new);
}

int
nft_diff_patch(struct nft_desc *installed, struct nft_patch *p,
    struct nft_changes *ch)
{
	nft_changes_reset(ch);
	int err = diff_chains(ch, installed, p->news);
	if (err == 0)
		err = diff_allow(ch, installed, p->news);
	if (err == 0)
		err = diff_svcs_indexed(ch, p->olds, p->news);
	return err;
}

void
nft_changes_reset(struct nft_changes *ch)
{
	ch->recreate = false;
	memset(ch->set_size, 0, sizeof(ch->set_size));
	ch->n_chains = 0;
	ch->n_elems = 0;
}

void
nft_changes_free(struct nft_changes *ch)
{
	if (ch == NULL)
		return;
	free(ch->chains);
	free(ch->elems);
	memset(ch, 0, sizeof(*ch));
}
