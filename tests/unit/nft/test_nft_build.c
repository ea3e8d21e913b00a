/*
 * The batch builder: a model's changes become one transaction whose
 * messages decode back (with libnftnl's own parsers) into the expected
 * table, sets, chains, rules and elements, every message asking for an
 * ACK, element lists chunked under the netlink attribute limit.
 */
#include <arpa/inet.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>

#include "nfttest.h"

static const char *lab =
    "pools: [{name: p, addresses: [192.168.122.100-192.168.122.150]}]\n"
    "services:\n"
    "  - name: gateway\n"
    "    address: 192.168.122.100\n"
    "    ports: [{port: 80, protocol: tcp, target: proxy}]\n"
    "  - name: db\n"
    "    address: 192.168.122.101\n"
    "    ports:\n"
    "      - {port: 5432, protocol: tcp, backends: [10.244.2.7:5432, "
    "10.244.1.5:5432]}\n"
    "      - {port: 53, protocol: udp}\n"
    "nat:\n"
    "  masquerade: [{source: 192.168.122.0/24, out_interface: eth0}]\n"
    "  port_forwards: [{in_interface: eth0, port: 443, protocol: tcp, to: "
    "192.168.122.100:443}]\n"
    "  allow_input: [22/tcp]\n";

struct built {
	struct hearth_model *m;
	struct nft_desc *d;
	struct nft_changes ch;
	struct nft_batch b;
};

static void
build(struct built *x, const char *yaml, bool poison)
{
	memset(x, 0, sizeof(*x));
	x->m = nfttest_model(yaml);
	x->d = nft_desc_build(x->m);
	assert_non_null(x->d);
	assert_int_equal(nft_diff(NULL, x->d, &x->ch), 0);
	assert_int_equal(nft_batch_init(&x->b, 1000), 0);
	assert_int_equal(nft_build_changes(&x->b, &x->ch, poison), 0);
}

static void
built_free(struct built *x)
{
	nft_batch_free(&x->b);
	nft_changes_free(&x->ch);
	nft_desc_free(x->d);
	hearth_model_unref(x->m);
}

/* Calls fn on each message of the batch, in order. */
static size_t
each_msg(const struct nft_batch *b,
    void (*fn)(const struct nlmsghdr *nlh, void *arg), void *arg)
{
	const struct nlmsghdr *nlh = (const void *)b->buf;
	int len = (int)b->len;
	size_t n = 0;
	for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len), n++)
		if (fn)
			fn(nlh, arg);
	assert_int_equal(len, 0);
	return n;
}

struct rule_find {
	const char *chain;
	int index;
	char text[4096];
	int seen;
};

static void
find_rule(const struct nlmsghdr *nlh, void *arg)
{
	struct rule_find *f = arg;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWRULE)
		return;
	struct nftnl_rule *r = nftnl_rule_alloc();
	assert_int_equal(nftnl_rule_nlmsg_parse(nlh, r), 0);
	if (strcmp(nftnl_rule_get_str(r, NFTNL_RULE_CHAIN), f->chain) == 0 &&
	    f->seen++ == f->index)
		nftnl_rule_snprintf(f->text, sizeof(f->text), r,
		    NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_rule_free(r);
}

/* The libnftnl text of the index-th rule built for chain. */
static const char *
rule_text(struct built *x, const char *chain, int index, struct rule_find *f)
{
	memset(f, 0, sizeof(*f));
	f->chain = chain;
	f->index = index;
	each_msg(&x->b, find_rule, f);
	return f->text;
}

static void
test_pick_rule_draws_a_slot_and_dnats_from_the_endpoint_map(void **state)
{
	struct built x;
	struct rule_find f;
	build(&x, lab, false);
	assert_string_equal(rule_text(&x, "pick4_2", 0, &f),
	    "inet hearth pick4_2\n"
	    "  [ meta load nfproto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000002 ]\n"
	    "  [ payload load 4b @ network header + 16 => reg 8 ]\n"
	    "  [ meta load l4proto => reg 9 ]\n"
	    "  [ payload load 2b @ transport header + 2 => reg 10 ]\n"
	    "  [ numgen reg 11 = random mod 2 ]\n"
	    "  [ lookup reg 8 set ep4 dreg 8 ]\n"
	    "  [ nat dnat ip addr_min reg 8 proto_min reg 9 ]\n");
	built_free(&x);
}

static void
test_dispatch_rules_look_up_the_named_verdict_maps(void **state)
{
	struct built x;
	struct rule_find f;
	build(&x, lab, false);
	assert_string_equal(rule_text(&x, "prerouting", 0, &f),
	    "inet hearth prerouting\n"
	    "  [ immediate reg 0 jump -> host_fwd ]\n");
	assert_string_equal(rule_text(&x, "prerouting", 1, &f),
	    "inet hearth prerouting\n"
	    "  [ meta load nfproto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000002 ]\n"
	    "  [ payload load 4b @ network header + 16 => reg 8 ]\n"
	    "  [ meta load l4proto => reg 9 ]\n"
	    "  [ payload load 2b @ transport header + 2 => reg 10 ]\n"
	    "  [ lookup reg 8 set svc4 dreg 0 ]\n");
	assert_string_equal(rule_text(&x, "output", 1, &f),
	    "inet hearth output\n"
	    "  [ meta load nfproto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x0000000a ]\n"
	    "  [ payload load 16b @ network header + 24 => reg 8 ]\n"
	    "  [ meta load l4proto => reg 12 ]\n"
	    "  [ payload load 2b @ transport header + 2 => reg 13 ]\n"
	    "  [ lookup reg 8 set svc6 dreg 0 ]\n");
	built_free(&x);
}

static void
test_masquerade_refuse_and_redirect_rules(void **state)
{
	struct built x;
	struct rule_find f;
	build(&x, lab, false);
	assert_string_equal(rule_text(&x, "postrouting", 0, &f),
	    "inet hearth postrouting\n"
	    "  [ ct load status => reg 8 ]\n"
	    "  [ bitwise reg 8 = ( reg 8 & 0x00000020 ) ^ 0x00000000 ]\n"
	    "  [ cmp neq reg 8 0x00000000 ]\n"
	    "  [ meta load l4proto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000006 ]\n"
	    "  [ ct load dst_ip => reg 8 , dir original ]\n"
	    "  [ meta load l4proto => reg 9 ]\n"
	    "  [ ct load proto_dst => reg 10 , dir original ]\n"
	    "  [ lookup reg 8 set masq4 ]\n"
	    "  [ masq ]\n");
	assert_string_equal(rule_text(&x, "refuse", 0, &f),
	    "inet hearth refuse\n"
	    "  [ meta load l4proto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000006 ]\n"
	    "  [ reject type 1 code 0 ]\n");
	assert_string_equal(rule_text(&x, "refuse", 1, &f),
	    "inet hearth refuse\n"
	    "  [ reject type 2 code 1 ]\n");
	assert_string_equal(rule_text(&x, "proxy_80", 0, &f),
	    "inet hearth proxy_80\n"
	    "  [ meta load l4proto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000006 ]\n"
	    "  [ immediate reg 8 0x00005000 ]\n"
	    "  [ redir proto_min reg 8 flags 0x2 ]\n");
	built_free(&x);
}

static void
test_host_role_rules(void **state)
{
	struct built x;
	struct rule_find f;
	build(&x, lab, false);
	assert_string_equal(rule_text(&x, "host_fwd", 0, &f),
	    "inet hearth host_fwd\n"
	    "  [ meta load nfproto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000002 ]\n"
	    "  [ meta load iifname => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x30687465 0x00000000 0x00000000 0x00000000 ]\n"
	    "  [ fib daddr type => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000002 ]\n"
	    "  [ meta load l4proto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000006 ]\n"
	    "  [ payload load 2b @ transport header + 2 => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x0000bb01 ]\n"
	    "  [ immediate reg 8 0x647aa8c0 ]\n"
	    "  [ immediate reg 9 0x0000bb01 ]\n"
	    "  [ nat dnat ip addr_min reg 8 proto_min reg 9 ]\n");
	assert_string_equal(rule_text(&x, "host_masq", 0, &f),
	    "inet hearth host_masq\n"
	    "  [ meta load nfproto => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x00000002 ]\n"
	    "  [ payload load 4b @ network header + 12 => reg 8 ]\n"
	    "  [ bitwise reg 8 = ( reg 8 & 0x00ffffff ) ^ 0x00000000 ]\n"
	    "  [ cmp eq reg 8 0x007aa8c0 ]\n"
	    "  [ payload load 4b @ network header + 16 => reg 8 ]\n"
	    "  [ bitwise reg 8 = ( reg 8 & 0x00ffffff ) ^ 0x00000000 ]\n"
	    "  [ cmp neq reg 8 0x007aa8c0 ]\n"
	    "  [ meta load oifname => reg 8 ]\n"
	    "  [ cmp eq reg 8 0x30687465 0x00000000 0x00000000 0x00000000 ]\n"
	    "  [ masq ]\n");
	assert_string_equal(rule_text(&x, "input", 5, &f),
	    "inet hearth input\n"
	    "  [ meta load l4proto => reg 8 ]\n"
	    "  [ payload load 2b @ transport header + 2 => reg 9 ]\n"
	    "  [ lookup reg 8 set allow_in ]\n"
	    "  [ immediate reg 0 accept ]\n");
	built_free(&x);
}

struct seq_check {
	const struct nft_batch *b;
	size_t i;
	uint16_t types[64];
	size_t n_types;
	size_t acked;
};

static void
check_msg(const struct nlmsghdr *nlh, void *arg)
{
	struct seq_check *c = arg;
	const struct nft_batch *b = c->b;
	if (nlh->nlmsg_type == NFNL_MSG_BATCH_BEGIN ||
	    nlh->nlmsg_type == NFNL_MSG_BATCH_END) {
		assert_true(c->i == 0 || nlh->nlmsg_type == NFNL_MSG_BATCH_END);
		c->i++;
		return;
	}
	assert_true(nlh->nlmsg_flags & NLM_F_ACK);
	assert_int_equal(nlh->nlmsg_seq, b->seq_first + c->acked);
	c->acked++;
	uint16_t t = NFNL_MSG_TYPE(nlh->nlmsg_type);
	if (c->n_types == 0 || c->types[c->n_types - 1] != t)
		c->types[c->n_types++] = t;
	c->i++;
}

static void
test_full_build_is_one_transaction_in_kernel_order(void **state)
{
	struct built x;
	build(&x, lab, false);
	struct seq_check c = {.b = &x.b};
	size_t n = each_msg(&x.b, check_msg, &c);
	assert_int_equal(c.acked, x.b.n_msgs);
	assert_int_equal(n, x.b.n_msgs + 2);
	/* add/delete/add table, sets, chains, elements, rules */
	const uint16_t want[] = {NFT_MSG_NEWTABLE, NFT_MSG_DELTABLE,
	    NFT_MSG_NEWTABLE, NFT_MSG_NEWSET, NFT_MSG_NEWCHAIN,
	    NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE};
	assert_int_equal(c.n_types, sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < c.n_types; i++)
		assert_int_equal(c.types[i], want[i]);
	built_free(&x);
}

/*
 * libnftnl numbers the element nests it builds 1, 2, 3... (the kernel
 * ignores nest types) but its own parser accepts only NFTA_LIST_ELEM:
 * parse a copy with the nest types normalised.
 */
static int
parse_elems(const struct nlmsghdr *nlh, struct nftnl_set *s)
{
	char *copy = malloc(nlh->nlmsg_len);
	assert_non_null(copy);
	memcpy(copy, nlh, nlh->nlmsg_len);
	struct nlmsghdr *c = (struct nlmsghdr *)copy;
	struct nlattr *a, *el;
	mnl_attr_for_each(a, c,
	    sizeof(struct nfgenmsg)) if (mnl_attr_get_type(a) ==
	    NFTA_SET_ELEM_LIST_ELEMENTS) mnl_attr_for_each_nested(el, a)
	    el->nla_type = (el->nla_type & ~NLA_TYPE_MASK) | NFTA_LIST_ELEM;
	int err = nftnl_set_elems_nlmsg_parse(c, s);
	free(copy);
	return err;
}

struct elems {
	const char *set;
	struct nftnl_set *s;
};

static void
grab_elems(const struct nlmsghdr *nlh, void *arg)
{
	struct elems *e = arg;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return;
	struct nftnl_set *s = nftnl_set_alloc();
	assert_int_equal(parse_elems(nlh, s), 0);
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), e->set) == 0) {
		assert_null(e->s);
		e->s = s;
	} else
		nftnl_set_free(s);
}

static void
test_elements_decode_to_keys_verdicts_and_endpoints(void **state)
{
	struct built x;
	build(&x, lab, false);
	struct elems e = {.set = "svc4"};
	each_msg(&x.b, grab_elems, &e);
	assert_non_null(e.s);
	const uint8_t db[12] = {192, 168, 122, 101, 6, 0, 0, 0, 0x15, 0x38, 0,
	    0};
	int found = 0;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(e.s);
	for (struct nftnl_set_elem *el; (el = nftnl_set_elems_iter_next(it));) {
		uint32_t len;
		const void *key =
		    nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &len);
		assert_int_equal(len, 12);
		if (memcmp(key, db, 12) != 0)
			continue;
		found++;
		assert_int_equal(nftnl_set_elem_get_u32(el,
		                     NFTNL_SET_ELEM_VERDICT),
		    (uint32_t)NFT_GOTO);
		assert_string_equal(nftnl_set_elem_get_str(el,
		                        NFTNL_SET_ELEM_CHAIN),
		    "pick4_2");
	}
	nftnl_set_elems_iter_destroy(it);
	assert_int_equal(found, 1);
	nftnl_set_free(e.s);

	/* Slots 0 and 1 hold the backends, sorted. */
	e = (struct elems){.set = "ep4"};
	each_msg(&x.b, grab_elems, &e);
	assert_non_null(e.s);
	const uint8_t want[2][8] = {{10, 244, 1, 5, 0x15, 0x38, 0, 0},
	    {10, 244, 2, 7, 0x15, 0x38, 0, 0}};
	int slots = 0;
	it = nftnl_set_elems_iter_create(e.s);
	for (struct nftnl_set_elem *el; (el = nftnl_set_elems_iter_next(it));) {
		uint32_t klen, dlen, slot;
		const uint8_t *key =
		    nftnl_set_elem_get(el, NFTNL_SET_ELEM_KEY, &klen);
		const void *data =
		    nftnl_set_elem_get(el, NFTNL_SET_ELEM_DATA, &dlen);
		assert_int_equal(klen, 16);
		assert_memory_equal(key, db, 12);
		memcpy(&slot, key + 12, 4);
		assert_true(slot < 2);
		assert_int_equal(dlen, 8);
		assert_memory_equal(data, want[slot], 8);
		slots |= 1 << slot;
	}
	nftnl_set_elems_iter_destroy(it);
	assert_int_equal(slots, 3);
	nftnl_set_free(e.s);
	built_free(&x);
}

struct set_find {
	const char *name;
	struct nftnl_set *s;
};

static void
grab_set(const struct nlmsghdr *nlh, void *arg)
{
	struct set_find *f = arg;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSET)
		return;
	struct nftnl_set *s = nftnl_set_alloc();
	assert_int_equal(nftnl_set_nlmsg_parse(nlh, s), 0);
	if (strcmp(nftnl_set_get_str(s, NFTNL_SET_NAME), f->name) == 0)
		f->s = s;
	else
		nftnl_set_free(s);
}

static void
test_sets_are_sized_with_room_to_double(void **state)
{
	assert_int_equal(nft_set_size(0), 1024);
	assert_int_equal(nft_set_size(512), 1024);
	assert_int_equal(nft_set_size(513), 2048);
	assert_int_equal(nft_set_size(20000), 65536);
	struct built x;
	build(&x, lab, false);
	struct set_find f = {.name = "ep4"};
	each_msg(&x.b, grab_set, &f);
	assert_int_equal(nftnl_set_get_u32(f.s, NFTNL_SET_DESC_SIZE), 1024);
	nftnl_set_free(f.s);
	f = (struct set_find){.name = "allow_in"};
	each_msg(&x.b, grab_set, &f);
	assert_false(nftnl_set_is_set(f.s, NFTNL_SET_DESC_SIZE));
	nftnl_set_free(f.s);
	/* 600 services x 2 endpoints no longer fit a table sized for 2. */
	struct hearth_model *big = nfttest_services(600, -1, NULL);
	struct nft_desc *d = nft_desc_build(big);
	assert_false(nft_diff_fits(x.ch.set_size, d));
	assert_true(nft_diff_fits(x.ch.set_size, x.d));
	nft_desc_free(d);
	hearth_model_unref(big);
	built_free(&x);
}

static void
test_sets_are_named_maps_never_anonymous(void **state)
{
	struct built x;
	build(&x, lab, false);
	for (int i = 0; i < NFT_SET_COUNT; i++) {
		struct set_find f = {.name = nft_sets[i].name};
		each_msg(&x.b, grab_set, &f);
		assert_non_null(f.s);
		uint32_t flags = nftnl_set_get_u32(f.s, NFTNL_SET_FLAGS);
		assert_false(flags & NFT_SET_ANONYMOUS);
		assert_int_equal(nftnl_set_get_u32(f.s, NFTNL_SET_KEY_LEN),
		    nft_sets[i].key_len);
		nftnl_set_free(f.s);
	}
	struct set_find f = {.name = "ep6"};
	each_msg(&x.b, grab_set, &f);
	assert_true(nftnl_set_get_u32(f.s, NFTNL_SET_FLAGS) & NFT_SET_MAP);
	assert_int_equal(nftnl_set_get_u32(f.s, NFTNL_SET_KEY_LEN), 28);
	assert_int_equal(nftnl_set_get_u32(f.s, NFTNL_SET_DATA_LEN), 20);
	nftnl_set_free(f.s);
	built_free(&x);
}

struct sizes {
	size_t msgs, max_elems, max_len, total;
};

static void
elem_sizes(const struct nlmsghdr *nlh, void *arg)
{
	struct sizes *z = arg;
	if (NFNL_MSG_TYPE(nlh->nlmsg_type) != NFT_MSG_NEWSETELEM)
		return;
	struct nftnl_set *s = nftnl_set_alloc();
	assert_int_equal(parse_elems(nlh, s), 0);
	size_t n = 0;
	struct nftnl_set_elems_iter *it = nftnl_set_elems_iter_create(s);
	for (struct nftnl_set_elem *el; (el = nftnl_set_elems_iter_next(it));)
		n++;
	nftnl_set_elems_iter_destroy(it);
	nftnl_set_free(s);
	z->msgs++;
	z->total += n;
	if (n > z->max_elems)
		z->max_elems = n;
	if (nlh->nlmsg_len > z->max_len)
		z->max_len = nlh->nlmsg_len;
}

static void
test_large_element_lists_are_chunked(void **state)
{
	struct hearth_model *m = nfttest_services(2000, -1, NULL);
	struct nft_desc *d = nft_desc_build(m);
	struct nft_changes ch = {0};
	struct nft_batch b;
	assert_int_equal(nft_diff(NULL, d, &ch), 0);
	assert_int_equal(nft_batch_init(&b, 1), 0);
	assert_int_equal(nft_build_changes(&b, &ch, false), 0);
	struct sizes z = {0};
	each_msg(&b, elem_sizes, &z);
	assert_int_equal(z.total, 2000 * 4); /* svc4, 2 x ep4, masq4 */
	assert_true(z.max_elems <= 256);
	assert_true(z.max_len < 65535);
	assert_true(z.msgs >= 8000 / 256);
	nft_batch_free(&b);
	nft_changes_free(&ch);
	nft_desc_free(d);
	hearth_model_unref(m);
}

static void
count_types(const struct nlmsghdr *nlh, void *arg)
{
	size_t *n = arg;
	n[NFNL_MSG_TYPE(nlh->nlmsg_type) < 64 ? NFNL_MSG_TYPE(nlh->nlmsg_type) :
	                                        63]++;
}

static void
test_one_change_is_one_small_batch(void **state)
{
	struct hearth_model *ma = nfttest_services(1000, -1, NULL);
	struct hearth_model *mb = nfttest_services(1000, 7, "10.244.9.9:8080");
	struct nft_desc *a = nft_desc_build(ma), *bd = nft_desc_build(mb);
	struct nft_changes ch = {0};
	struct nft_batch b;
	assert_int_equal(nft_diff(a, bd, &ch), 0);
	assert_int_equal(nft_batch_init(&b, 1), 0);
	assert_int_equal(nft_build_changes(&b, &ch, false), 0);
	size_t n[64] = {0};
	each_msg(&b, count_types, n);
	assert_int_equal(b.n_msgs, 2);
	assert_int_equal(n[NFT_MSG_DELSETELEM], 1);
	assert_int_equal(n[NFT_MSG_NEWSETELEM], 1);
	assert_int_equal(n[NFT_MSG_NEWTABLE], 0);
	assert_int_equal(n[NFT_MSG_NEWRULE], 0);
	assert_true(b.len < 1024);
	nft_batch_free(&b);
	nft_changes_free(&ch);
	nft_desc_free(a);
	nft_desc_free(bd);
	hearth_model_unref(ma);
	hearth_model_unref(mb);
}

static void
test_poison_adds_a_rule_in_a_missing_chain(void **state)
{
	struct built x;
	struct rule_find f;
	build(&x, lab, true);
	assert_string_equal(rule_text(&x, "hearth-fault-injected", 0, &f),
	    "inet hearth hearth-fault-injected\n"
	    "  [ immediate reg 0 accept ]\n");
	built_free(&x);
}

static void
test_delete_table_batch(void **state)
{
	struct nft_batch b;
	assert_int_equal(nft_batch_init(&b, 5), 0);
	assert_int_equal(nft_build_delete_table(&b), 0);
	size_t n[64] = {0};
	assert_int_equal(each_msg(&b, count_types, n), 3);
	assert_int_equal(b.n_msgs, 1);
	assert_int_equal(n[NFT_MSG_DELTABLE], 1);
	nft_batch_free(&b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(
	        test_pick_rule_draws_a_slot_and_dnats_from_the_endpoint_map),
	    cmocka_unit_test(
	        test_dispatch_rules_look_up_the_named_verdict_maps),
	    cmocka_unit_test(test_masquerade_refuse_and_redirect_rules),
	    cmocka_unit_test(test_host_role_rules),
	    cmocka_unit_test(
	        test_full_build_is_one_transaction_in_kernel_order),
	    cmocka_unit_test(
	        test_elements_decode_to_keys_verdicts_and_endpoints),
	    cmocka_unit_test(test_sets_are_named_maps_never_anonymous),
	    cmocka_unit_test(test_sets_are_sized_with_room_to_double),
	    cmocka_unit_test(test_large_element_lists_are_chunked),
	    cmocka_unit_test(test_one_change_is_one_small_batch),
	    cmocka_unit_test(test_poison_adds_a_rule_in_a_missing_chain),
	    cmocka_unit_test(test_delete_table_batch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
