/*
 * Changes -> one netlink transaction of libnftnl objects in a growable
 * buffer: batch begin, the messages in an order the kernel accepts
 * (table, sets, chains, flushes, element deletions then additions, rules,
 * chain deletions), batch end. Every message asks for an ACK. Nothing is
 * sent here; nft_engine.c sends the buffer and checks the ACKs.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#include "nft_logic.h"

#define R0            NFT_REG32_00
#define MSG_ROOM      (128 * 1024) /* the largest message we build, and more */
#define ELEMS_PER_MSG 256          /* keeps a message under the 64 KiB nest */
#define CT_EST_REL    0x06         /* NF_CT_STATE_BIT(ESTABLISHED | RELATED) */
#define CT_INVALID    0x01

int
nft_batch_init(struct nft_batch *b, uint32_t seq)
{
	memset(b, 0, sizeof(*b));
	b->cap = MSG_ROOM * 2;
	b->buf = malloc(b->cap);
	if (b->buf == NULL)
		return -ENOMEM;
	b->seq_begin = seq;
	b->seq_next = seq;
	return 0;
}

void
nft_batch_free(struct nft_batch *b)
{
	if (b == NULL)
		return;
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

static int
reserve(struct nft_batch *b)
{
	if (b->cap - b->len >= MSG_ROOM)
		return 0;
	size_t cap = b->cap * 2;
	char *buf = realloc(b->buf, cap);
	if (buf == NULL)
		return -ENOMEM;
	memset(buf + b->len, 0, cap - b->len);
	b->buf = buf;
	b->cap = cap;
	return 0;
}

/* Starts a message asking for an ACK; NULL on allocation failure. */
static struct nlmsghdr *
msg_begin(struct nft_batch *b, uint16_t type, uint16_t flags)
{
	if (reserve(b) < 0)
		return NULL;
	if (b->n_msgs == 0)
		b->seq_first = b->seq_next;
	b->n_msgs++;
	return nftnl_nlmsg_build_hdr(b->buf + b->len, type, NFPROTO_INET,
	    flags | NLM_F_ACK, b->seq_next++);
}

static void
msg_end(struct nft_batch *b, struct nlmsghdr *nlh)
{
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

static int
batch_begin(struct nft_batch *b)
{
	if (reserve(b) < 0)
		return -ENOMEM;
	b->len = 0;
	b->n_msgs = 0;
	struct nlmsghdr *nlh = nftnl_batch_begin(b->buf, b->seq_next++);
	b->seq_begin = nlh->nlmsg_seq;
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

static int
batch_end(struct nft_batch *b)
{
	if (reserve(b) < 0)
		return -ENOMEM;
	struct nlmsghdr *nlh = nftnl_batch_end(b->buf + b->len, b->seq_next++);
	b->len += NLMSG_ALIGN(nlh->nlmsg_len);
	return 0;
}

static int
table_msg(struct nft_batch *b, uint16_t type)
{
	struct nftnl_table *t = nftnl_table_alloc();
	if (t == NULL)
		return -ENOMEM;
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, NFT_TABLE_NAME);
	struct nlmsghdr *nlh =
	    msg_begin(b, type, type == NFT_MSG_NEWTABLE ? NLM_F_CREATE : 0);
	if (nlh == NULL) {
		nftnl_table_free(t);
		return -ENOMEM;
	}
	nftnl_table_nlmsg_build_payload(nlh, t);
	msg_end(b, nlh);
	nftnl_table_free(t);
	return 0;
}

static int
set_add_msg(struct nft_batch *b, enum nft_set_id id, uint32_t size)
{
	const struct nft_set_def *d = &nft_sets[id];
	struct nftnl_set *s = nftnl_set_alloc();
	if (s == NULL)
		return -ENOMEM;
	nftnl_set_set_str(s, NFTNL_SET_TABLE, NFT_TABLE_NAME);
	nftnl_set_set_str(s, NFTNL_SET_NAME, d->name);
	nftnl_set_set_u32(s, NFTNL_SET_FAMILY, NFPROTO_INET);
	nftnl_set_set_u32(s, NFTNL_SET_ID, (uint32_t)id + 1);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, d->flags);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, d->key_type);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, d->key_len);
	if (d->flags & NFT_SET_MAP) {
		nftnl_set_set_u32(s, NFTNL_SET_DATA_TYPE, d->data_type);
		nftnl_set_set_u32(s, NFTNL_SET_DATA_LEN, d->data_len);
	}
	if (d->concat[0]) {
		uint8_t f[NFT_REG32_COUNT] = {0};
		size_t n = 0;
		while (n < sizeof(d->concat) && d->concat[n]) {
			f[n] = d->concat[n];
			n++;
		}
		nftnl_set_set_data(s, NFTNL_SET_DESC_CONCAT, f, (uint32_t)n);
	}
	if (size != 0)
		nftnl_set_set_u32(s, NFTNL_SET_DESC_SIZE, size);
	struct nlmsghdr *nlh = msg_begin(b, NFT_MSG_NEWSET, NLM_F_CREATE);
	if (nlh == NULL) {
		nftnl_set_free(s);
		return -ENOMEM;
	}
	nftnl_set_nlmsg_build_payload(nlh, s);
	msg_end(b, nlh);
	nftnl_set_free(s);
	return 0;
}

static const uint32_t hooknum[] = {
    [NFT_HOOK_PREROUTING] = NF_INET_PRE_ROUTING,
    [NFT_HOOK_INPUT] = NF_INET_LOCAL_IN,
    [NFT_HOOK_FORWARD] = NF_INET_FORWARD,
    [NFT_HOOK_OUTPUT] = NF_INET_LOCAL_OUT,
    [NFT_HOOK_POSTROUTING] = NF_INET_POST_ROUTING,
};

static int
chain_msg(struct nft_batch *b, const struct nft_chain_def *d, uint16_t type)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	if (c == NULL)
		return -ENOMEM;
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, NFT_TABLE_NAME);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, d->name);
	if (type == NFT_MSG_NEWCHAIN && d->hook != NFT_HOOK_NONE) {
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, hooknum[d->hook]);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, d->prio);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE,
		    d->nat ? "nat" : "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY,
		    d->policy_drop ? NF_DROP : NF_ACCEPT);
	}
	struct nlmsghdr *nlh =
	    msg_begin(b, type, type == NFT_MSG_NEWCHAIN ? NLM_F_CREATE : 0);
	if (nlh == NULL) {
		nftnl_chain_free(c);
		return -ENOMEM;
	}
	nftnl_chain_nlmsg_build_payload(nlh, c);
	msg_end(b, nlh);
	nftnl_chain_free(c);
	return 0;
}

/* Deletes every rule of a chain. */
static int
flush_msg(struct nft_batch *b, const char *chain)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (r == NULL)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	struct nlmsghdr *nlh = msg_begin(b, NFT_MSG_DELRULE, 0);
	if (nlh == NULL) {
		nftnl_rule_free(r);
		return -ENOMEM;
	}
	nftnl_rule_nlmsg_build_payload(nlh, r);
	msg_end(b, nlh);
	nftnl_rule_free(r);
	return 0;
}

/* Expression helpers: each appends one expression to r (0 or -ENOMEM). */
static struct nftnl_expr *
ex(struct nftnl_rule *r, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);
	if (e != NULL)
		nftnl_rule_add_expr(r, e);
	return e;
}

static int
e_meta(struct nftnl_rule *r, uint32_t key, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "meta");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, dreg);
	return 0;
}

static int
e_cmp(struct nftnl_rule *r, uint32_t sreg, uint32_t op, const void *data,
    uint32_t len)
{
	struct nftnl_expr *e = ex(r, "cmp");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, sreg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	return 0;
}

static int
e_cmp8(struct nftnl_rule *r, uint32_t sreg, uint8_t v)
{
	return e_cmp(r, sreg, NFT_CMP_EQ, &v, 1);
}

static int
e_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
    uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "payload");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, dreg);
	return 0;
}

static int
e_bitwise(struct nftnl_rule *r, uint32_t reg, const void *mask, uint32_t len)
{
	uint8_t xor [16] = {0};
	struct nftnl_expr *e = ex(r, "bitwise");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, reg);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, xor, len);
	return 0;
}

static int
e_imm(struct nftnl_rule *r, uint32_t dreg, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(r, "immediate");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, dreg);
	nftnl_expr_set(e, NFTNL_EXPR_IMM_DATA, data, len);
	return 0;
}

static int
e_verdict(struct nftnl_rule *r, int verdict, const char *chain)
{
	struct nftnl_expr *e = ex(r, "immediate");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	if (chain != NULL)
		nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, chain);
	return 0;
}

static int
e_lookup(struct nftnl_rule *r, enum nft_set_id set, uint32_t sreg, int dreg)
{
	struct nftnl_expr *e = ex(r, "lookup");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, nft_sets[set].name);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, (uint32_t)set + 1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, sreg);
	if (dreg >= 0)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_DREG, (uint32_t)dreg);
	return 0;
}

static int
e_ct(struct nftnl_rule *r, uint32_t key, int dir, uint32_t dreg)
{
	struct nftnl_expr *e = ex(r, "ct");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, key);
	if (dir >= 0)
		nftnl_expr_set_u8(e, NFTNL_EXPR_CT_DIR, (uint8_t)dir);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, dreg);
	return 0;
}

/* ct KEY & bits != 0 */
static int
e_ct_bits(struct nftnl_rule *r, uint32_t key, uint32_t bits)
{
	uint32_t zero = 0;
	if (e_ct(r, key, -1, R0) < 0 || e_bitwise(r, R0, &bits, 4) < 0)
		return -ENOMEM;
	return e_cmp(r, R0, NFT_CMP_NEQ, &zero, 4);
}

static int
e_nat(struct nftnl_rule *r, int family, uint32_t reg_addr, uint32_t reg_port)
{
	struct nftnl_expr *e = ex(r, "nat");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_TYPE, NFT_NAT_DNAT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_FAMILY,
	    family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_ADDR_MIN, reg_addr);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NAT_REG_PROTO_MIN, reg_port);
	return 0;
}

static int
e_simple(struct nftnl_rule *r, const char *name)
{
	return ex(r, name) == NULL ? -ENOMEM : 0;
}

static int
e_reject(struct nftnl_rule *r, uint32_t type, uint8_t code)
{
	struct nftnl_expr *e = ex(r, "reject");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, type);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, code);
	return 0;
}

static int
e_nfproto(struct nftnl_rule *r, int family)
{
	if (e_meta(r, NFT_META_NFPROTO, R0) < 0)
		return -ENOMEM;
	return e_cmp8(r, R0, family == AF_INET ? NFPROTO_IPV4 : NFPROTO_IPV6);
}

/* daddr . l4proto . th dport into R0...; returns the next free register. */
static int
e_svc_key(struct nftnl_rule *r, int family)
{
	bool v4 = family == AF_INET;
	uint32_t alen = v4 ? 4 : 16, off = v4 ? 16 : 24, w = alen / 4;
	if (e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen, R0) < 0 ||
	    e_meta(r, NFT_META_L4PROTO, R0 + w) < 0 ||
	    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R0 + w + 1) < 0)
		return -ENOMEM;
	return (int)(R0 + w + 2);
}

static int
e_ifname(struct nftnl_rule *r, uint32_t key, const char *name)
{
	char buf[IFNAMSIZ] = {0};
	strncpy(buf, name, IFNAMSIZ - 1);
	if (e_meta(r, key, R0) < 0)
		return -ENOMEM;
	return e_cmp(r, R0, NFT_CMP_EQ, buf, IFNAMSIZ);
}

/* (saddr or daddr) & mask OP net */
static int
e_cidr(struct nftnl_rule *r, const struct nft_rule_spec *s, bool daddr,
    uint32_t op)
{
	bool v4 = s->family == AF_INET;
	uint32_t alen = v4 ? 4 : 16;
	uint32_t off = v4 ? (daddr ? 16 : 12) : (daddr ? 24 : 8);
	uint8_t mask[16] = {0};
	for (unsigned i = 0; i < s->prefix && i < alen * 8; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	if (e_payload(r, NFT_PAYLOAD_NETWORK_HEADER, off, alen, R0) < 0)
		return -ENOMEM;
	if (s->prefix < alen * 8 && e_bitwise(r, R0, mask, alen) < 0)
		return -ENOMEM;
	return e_cmp(r, R0, op, s->addr, alen);
}

static int
rule_pick(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	bool v4 = s->family == AF_INET;
	int next;
	if (e_nfproto(r, s->family) < 0 || (next = e_svc_key(r, s->family)) < 0)
		return -ENOMEM;
	struct nftnl_expr *e = ex(r, "numgen");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_DREG, (uint32_t)next);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_MODULUS, s->n);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_TYPE, NFT_NG_RANDOM);
	nftnl_expr_set_u32(e, NFTNL_EXPR_NG_OFFSET, 0);
	if (e_lookup(r, v4 ? NFT_SET_EP4 : NFT_SET_EP6, R0, R0) < 0)
		return -ENOMEM;
	return e_nat(r, s->family, R0, v4 ? R0 + 1 : R0 + 4);
}

static int
rule_masq_svc(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	bool v4 = s->family == AF_INET;
	uint32_t w = v4 ? 1 : 4;
	if (e_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT) < 0 ||
	    e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
	    e_cmp8(r, R0, s->proto) < 0 ||
	    e_ct(r, v4 ? NFT_CT_DST_IP : NFT_CT_DST_IP6, IP_CT_DIR_ORIGINAL,
	        R0) < 0 ||
	    e_meta(r, NFT_META_L4PROTO, R0 + w) < 0 ||
	    e_ct(r, NFT_CT_PROTO_DST, IP_CT_DIR_ORIGINAL, R0 + w + 1) < 0 ||
	    e_lookup(r, v4 ? NFT_SET_MASQ4 : NFT_SET_MASQ6, R0, -1) < 0)
		return -ENOMEM;
	return e_simple(r, "masq");
}

static int
rule_redirect(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	uint16_t port = htons(s->port);
	if (e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
	    e_cmp8(r, R0, s->proto) < 0 || e_imm(r, R0, &port, 2) < 0)
		return -ENOMEM;
	struct nftnl_expr *e = ex(r, "redir");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_REG_PROTO_MIN, R0);
	nftnl_expr_set_u32(e, NFTNL_EXPR_REDIR_FLAGS,
	    NF_NAT_RANGE_PROTO_SPECIFIED);
	return 0;
}

static int
rule_host_masq(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	if (e_nfproto(r, s->family) < 0 ||
	    e_cidr(r, s, false, NFT_CMP_EQ) < 0 ||
	    e_cidr(r, s, true, NFT_CMP_NEQ) < 0)
		return -ENOMEM;
	if (s->ifname[0] && e_ifname(r, NFT_META_OIFNAME, s->ifname) < 0)
		return -ENOMEM;
	return e_simple(r, "masq");
}

static int
rule_port_fwd(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	bool v4 = s->family == AF_INET;
	uint32_t local = RTN_LOCAL;
	uint16_t port = htons(s->port), port2 = htons(s->port2);
	if (e_nfproto(r, s->family) < 0)
		return -ENOMEM;
	if (s->ifname[0] && e_ifname(r, NFT_META_IIFNAME, s->ifname) < 0)
		return -ENOMEM;
	struct nftnl_expr *e = ex(r, "fib");
	if (e == NULL)
		return -ENOMEM;
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE);
	nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, R0);
	if (e_cmp(r, R0, NFT_CMP_EQ, &local, 4) < 0 ||
	    e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
	    e_cmp8(r, R0, s->proto) < 0 ||
	    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R0) < 0 ||
	    e_cmp(r, R0, NFT_CMP_EQ, &port, 2) < 0 ||
	    e_imm(r, R0, s->addr, v4 ? 4 : 16) < 0 ||
	    e_imm(r, v4 ? R0 + 1 : R0 + 4, &port2, 2) < 0)
		return -ENOMEM;
	return e_nat(r, s->family, R0, v4 ? R0 + 1 : R0 + 4);
}

/* Encodes the expressions of one rule spec. */
static int
rule_exprs(struct nftnl_rule *r, const struct nft_rule_spec *s)
{
	switch (s->kind) {
	case NFT_R_DISPATCH:
		if (e_nfproto(r, s->family) < 0 || e_svc_key(r, s->family) < 0)
			return -ENOMEM;
		return e_lookup(r,
		    s->family == AF_INET ? NFT_SET_SVC4 : NFT_SET_SVC6, R0,
		    NFT_REG_VERDICT);
	case NFT_R_JUMP:
		return e_verdict(r, NFT_JUMP, s->target);
	case NFT_R_MASQ_SVC:
		return rule_masq_svc(r, s);
	case NFT_R_PICK:
		return rule_pick(r, s);
	case NFT_R_REFUSE_TCP:
		if (e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
		    e_cmp8(r, R0, IPPROTO_TCP) < 0)
			return -ENOMEM;
		return e_reject(r, NFT_REJECT_TCP_RST, 0);
	case NFT_R_REFUSE_ANY:
		return e_reject(r, NFT_REJECT_ICMPX_UNREACH,
		    NFT_REJECT_ICMPX_PORT_UNREACH);
	case NFT_R_REDIRECT:
		return rule_redirect(r, s);
	case NFT_R_HOST_MASQ:
		return rule_host_masq(r, s);
	case NFT_R_PORT_FWD:
		return rule_port_fwd(r, s);
	case NFT_R_CT_ACCEPT:
		if (e_ct_bits(r, NFT_CT_STATE, CT_EST_REL) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	case NFT_R_CT_INVALID_DROP:
		if (e_ct_bits(r, NFT_CT_STATE, CT_INVALID) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_DROP, NULL);
	case NFT_R_DNAT_ACCEPT:
		if (e_ct_bits(r, NFT_CT_STATUS, IPS_DST_NAT) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	case NFT_R_SADDR_ACCEPT:
		if (e_nfproto(r, s->family) < 0 ||
		    e_cidr(r, s, false, NFT_CMP_EQ) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	case NFT_R_LO_ACCEPT:
		if (e_ifname(r, NFT_META_IIFNAME, "lo") < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	case NFT_R_PROTO_ACCEPT:
		if (e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
		    e_cmp8(r, R0, s->proto) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	case NFT_R_ALLOW_SET:
		if (e_meta(r, NFT_META_L4PROTO, R0) < 0 ||
		    e_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, R0 + 1) <
		        0 ||
		    e_lookup(r, NFT_SET_ALLOW, R0, -1) < 0)
			return -ENOMEM;
		return e_verdict(r, NF_ACCEPT, NULL);
	}
	return -EINVAL;
}

static int
rule_msg(struct nft_batch *b, const char *chain, const struct nft_rule_spec *s)
{
	struct nftnl_rule *r = nftnl_rule_alloc();
	if (r == NULL)
		return -ENOMEM;
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, NFT_TABLE_NAME);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chain);
	int err = s ? rule_exprs(r, s) : e_verdict(r, NF_ACCEPT, NULL);
	struct nlmsghdr *nlh = NULL;
	if (err == 0 &&
	    (nlh = msg_begin(b, NFT_MSG_NEWRULE,
	         NLM_F_CREATE | NLM_F_APPEND)) == NULL)
		err = -ENOMEM;
	if (err == 0) {
		nftnl_rule_nlmsg_build_payload(nlh, r);
		msg_end(b, nlh);
	}
	nftnl_rule_free(r);
	return err;
}

/* Appends one element, laid out as libnftnl lays it out (written
 * directly: tens of thousands of elements need no allocation each). */
static void
elem_put(struct nlmsghdr *nlh, const struct nft_elem_op *op, uint16_t idx)
{
	struct nlattr *e = mnl_attr_nest_start(nlh, idx);
	struct nlattr *n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, op->klen, op->key);
	mnl_attr_nest_end(nlh, n);
	if (op->set == NFT_SET_ALLOW) {
		n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY_END);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, op->klen, op->key_end);
		mnl_attr_nest_end(nlh, n);
	}
	if (!op->del && op->chain[0]) {
		n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		struct nlattr *v = mnl_attr_nest_start(nlh, NFTA_DATA_VERDICT);
		mnl_attr_put_u32(nlh, NFTA_VERDICT_CODE,
		    htonl((uint32_t)NFT_GOTO));
		mnl_attr_put_strz(nlh, NFTA_VERDICT_CHAIN, op->chain);
		mnl_attr_nest_end(nlh, v);
		mnl_attr_nest_end(nlh, n);
	} else if (!op->del && op->dlen) {
		n = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_DATA);
		mnl_attr_put(nlh, NFTA_DATA_VALUE, op->dlen, op->data);
		mnl_attr_nest_end(nlh, n);
	}
	mnl_attr_nest_end(nlh, e);
}

/* Every element op of ch for one set and one direction, chunked. */
static int
elems_msgs(struct nft_batch *b, const struct nft_changes *ch,
    enum nft_set_id id, bool del)
{
	struct nlmsghdr *nlh = NULL;
	struct nlattr *list = NULL;
	uint16_t in_msg = 0;
	for (size_t i = 0; i < ch->n_elems; i++) {
		const struct nft_elem_op *op = &ch->elems[i];
		if (op->set != id || op->del != del)
			continue;
		if (nlh == NULL) {
			nlh = msg_begin(b,
			    del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
			    del ? 0 : NLM_F_CREATE);
			if (nlh == NULL)
				return -ENOMEM;
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET,
			    nft_sets[id].name);
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_LIST_SET_ID,
			    htonl((uint32_t)id + 1));
			mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE,
			    NFT_TABLE_NAME);
			list = mnl_attr_nest_start(nlh,
			    NFTA_SET_ELEM_LIST_ELEMENTS);
			in_msg = 0;
		}
		elem_put(nlh, op, ++in_msg);
		if (in_msg == ELEMS_PER_MSG) {
			mnl_attr_nest_end(nlh, list);
			msg_end(b, nlh);
			nlh = NULL;
		}
	}
	if (nlh != NULL) {
		mnl_attr_nest_end(nlh, list);
		msg_end(b, nlh);
	}
	return 0;
}

static bool
chain_is(const struct nft_chain_op *op, uint8_t kind, bool base)
{
	return op->op == kind && (op->def->hook != NFT_HOOK_NONE) == base;
}

static int
build_body(struct nft_batch *b, const struct nft_changes *ch)
{
	int err = 0;
	if (ch->recreate) {
		if (table_msg(b, NFT_MSG_NEWTABLE) < 0 ||
		    table_msg(b, NFT_MSG_DELTABLE) < 0 ||
		    table_msg(b, NFT_MSG_NEWTABLE) < 0)
			return -ENOMEM;
		for (int i = 0; i < NFT_SET_COUNT && err == 0; i++)
			err =
			    set_add_msg(b, (enum nft_set_id)i, ch->set_size[i]);
	}
	for (size_t i = 0; i < ch->n_chains && err == 0; i++)
		if (chain_is(&ch->chains[i], NFT_CHAIN_DEL, true))
			err = chain_msg(b, ch->chains[i].def, NFT_MSG_DELCHAIN);
	for (size_t i = 0; i < ch->n_chains && err == 0; i++)
		if (ch->chains[i].op == NFT_CHAIN_ADD)
			err = chain_msg(b, ch->chains[i].def, NFT_MSG_NEWCHAIN);
	for (size_t i = 0; i < ch->n_chains && err == 0; i++)
		if (ch->chains[i].op == NFT_CHAIN_FLUSH)
			err = flush_msg(b, ch->chains[i].def->name);
	for (int d = 1; d >= 0 && err == 0; d--)
		for (int i = 0; i < NFT_SET_COUNT && err == 0; i++)
			err = elems_msgs(b, ch, (enum nft_set_id)i, d);
	for (size_t i = 0; i < ch->n_chains && err == 0; i++) {
		const struct nft_chain_op *op = &ch->chains[i];
		if (op->op == NFT_CHAIN_DEL)
			continue;
		for (size_t j = 0; j < op->def->n_rules && err == 0; j++)
			err = rule_msg(b, op->def->name, &op->def->rules[j]);
	}
	for (size_t i = 0; i < ch->n_chains && err == 0; i++)
		if (chain_is(&ch->chains[i], NFT_CHAIN_DEL, false))
			err = chain_msg(b, ch->chains[i].def, NFT_MSG_DELCHAIN);
	return err;
}

int
nft_build_changes(struct nft_batch *b, const struct nft_changes *ch,
    bool poison)
{
	int err = batch_begin(b);
	if (err == 0)
		err = build_body(b, ch);
	if (err == 0 && poison)
		err = rule_msg(b, "hearth-fault-injected", NULL);
	if (err == 0)
		err = batch_end(b);
	return err;
}

int
nft_build_delete_table(struct nft_batch *b)
{
	int err = batch_begin(b);
	if (err == 0)
		err = table_msg(b, NFT_MSG_DELTABLE);
	if (err == 0)
		err = batch_end(b);
	return err;
}
