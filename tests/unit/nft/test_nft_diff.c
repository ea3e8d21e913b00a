/*
 * The description and the diff: a model becomes the elements and chains
 * it needs, and two models differ by exactly the elements and chains a
 * user changed -- one slot for one backend, nothing for a reordering,
 * only a service's own elements when it goes away.
 */
#include <netinet/in.h>

#include "nfttest.h"

struct pair {
	struct hearth_model *ma, *mb;
	struct nft_desc *a, *b;
	struct nft_changes ch;
};

static void
pair_diff(struct pair *p, struct hearth_model *ma, struct hearth_model *mb)
{
	memset(p, 0, sizeof(*p));
	p->ma = ma;
	p->mb = mb;
	p->a = nft_desc_build(ma);
	p->b = nft_desc_build(mb);
	assert_non_null(p->a);
	assert_non_null(p->b);
	assert_int_equal(nft_diff(p->a, p->b, &p->ch), 0);
}

static void
pair_free(struct pair *p)
{
	nft_changes_free(&p->ch);
	nft_desc_free(p->a);
	nft_desc_free(p->b);
	hearth_model_unref(p->ma);
	hearth_model_unref(p->mb);
}

static size_t
count_ops(const struct nft_changes *ch, int set, int del)
{
	size_t n = 0;
	for (size_t i = 0; i < ch->n_elems; i++)
		if ((set < 0 || ch->elems[i].set == set) &&
		    (del < 0 || ch->elems[i].del == del))
			n++;
	return n;
}

static const struct nft_chain_op *
chain_op(const struct nft_changes *ch, const char *name, int op)
{
	for (size_t i = 0; i < ch->n_chains; i++)
		if (strcmp(ch->chains[i].def->name, name) == 0 &&
		    ch->chains[i].op == op)
			return &ch->chains[i];
	return NULL;
}

static void
test_same_model_changes_nothing(void **state)
{
	struct pair p;
	pair_diff(&p, nfttest_services(100, -1, NULL),
	    nfttest_services(100, -1, NULL));
	assert_int_equal(p.ch.n_elems, 0);
	assert_int_equal(p.ch.n_chains, 0);
	assert_false(p.ch.recreate);
	pair_free(&p);
}

static void
test_one_backend_change_replaces_one_slot(void **state)
{
	struct pair p;
	pair_diff(&p, nfttest_services(100, -1, NULL),
	    nfttest_services(100, 42, "10.244.99.9:8080"));
	assert_int_equal(p.ch.n_chains, 0);
	assert_int_equal(p.ch.n_elems, 2);
	const struct nft_elem_op *del = &p.ch.elems[0], *add = &p.ch.elems[1];
	assert_int_equal(del->set, NFT_SET_EP4);
	assert_true(del->del);
	assert_int_equal(add->set, NFT_SET_EP4);
	assert_false(add->del);
	/* VIP 10.1.0.43 . tcp . 80 . slot 1 */
	const uint8_t key[16] = {10, 1, 0, 43, 6, 0, 0, 0, 0, 80, 0, 0, 1, 0, 0,
	    0};
	assert_int_equal(del->klen, 16);
	assert_memory_equal(del->key, key, 16);
	assert_memory_equal(add->key, key, 16);
	const uint8_t data[8] = {10, 244, 99, 9, 0x1f, 0x90, 0, 0};
	assert_int_equal(add->dlen, 8);
	assert_memory_equal(add->data, data, 8);
	pair_free(&p);
}

static const char *three =
    "pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
    "services:\n"
    "  - {name: a, address: 10.1.0.1, ports: [{port: 80, protocol: tcp, "
    "backends: [10.2.0.1:80, 10.2.0.2:80]}]}\n"
    "  - {name: b, address: 10.1.0.2, ports: [{port: 80, protocol: tcp, "
    "backends: [10.2.0.3:80, 10.2.0.4:80]}]}\n"
    "  - {name: c, address: 10.1.0.3, ports: [{port: 53, protocol: udp}]}\n";

static void
test_backend_count_change_moves_dispatch_to_new_pick_chain(void **state)
{
	struct pair p;
	pair_diff(&p, nfttest_model(three),
	    nfttest_model(
	        "pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
	        "services:\n"
	        "  - {name: a, address: 10.1.0.1, ports: [{port: 80, protocol: "
	        "tcp, backends: [10.2.0.1:80, 10.2.0.2:80, 10.2.0.9:80]}]}\n"
	        "  - {name: b, address: 10.1.0.2, ports: [{port: 80, protocol: "
	        "tcp, backends: [10.2.0.3:80, 10.2.0.4:80]}]}\n"
	        "  - {name: c, address: 10.1.0.3, ports: [{port: 53, protocol: "
	        "udp}]}\n"));
	assert_non_null(chain_op(&p.ch, "pick4_3", NFT_CHAIN_ADD));
	assert_int_equal(p.ch.n_chains, 1); /* pick4_2 still used by b */
	assert_int_equal(count_ops(&p.ch, NFT_SET_SVC4, 1), 1);
	assert_int_equal(count_ops(&p.ch, NFT_SET_SVC4, 0), 1);
	assert_int_equal(count_ops(&p.ch, NFT_SET_EP4, 0), 1);
	assert_int_equal(count_ops(&p.ch, NFT_SET_EP4, 1), 0);
	assert_int_equal(p.ch.n_elems, 3);
	for (size_t i = 0; i < p.ch.n_elems; i++)
		if (p.ch.elems[i].set == NFT_SET_SVC4 && !p.ch.elems[i].del)
			assert_string_equal(p.ch.elems[i].chain, "pick4_3");
	pair_free(&p);
}

static void
test_removed_service_deletes_only_its_elements(void **state)
{
	struct pair p;
	pair_diff(&p, nfttest_model(three),
	    nfttest_model(
	        "pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
	        "services:\n"
	        "  - {name: a, address: 10.1.0.1, ports: [{port: 80, protocol: "
	        "tcp, backends: [10.2.0.1:80, 10.2.0.2:80]}]}\n"
	        "  - {name: c, address: 10.1.0.3, ports: [{port: 53, protocol: "
	        "udp}]}\n"));
	assert_int_equal(p.ch.n_chains, 0);
	assert_int_equal(p.ch.n_elems, 4); /* svc4, 2 x ep4, masq4 */
	assert_int_equal(count_ops(&p.ch, -1, 1), 4);
	for (size_t i = 0; i < p.ch.n_elems; i++)
		assert_int_equal(p.ch.elems[i].key[3], 2); /* 10.1.0.2 */
	pair_free(&p);
}

static void
test_reordered_services_change_nothing(void **state)
{
	struct pair p;
	pair_diff(&p, nfttest_model(three),
	    nfttest_model(
	        "pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
	        "services:\n"
	        "  - {name: c, address: 10.1.0.3, ports: [{port: 53, protocol: "
	        "udp}]}\n"
	        "  - {name: b, address: 10.1.0.2, ports: [{port: 80, protocol: "
	        "tcp, backends: [10.2.0.4:80, 10.2.0.3:80]}]}\n"
	        "  - {name: a, address: 10.1.0.1, ports: [{port: 80, protocol: "
	        "tcp, backends: [10.2.0.1:80, 10.2.0.2:80]}]}\n"));
	assert_int_equal(p.ch.n_elems, 0);
	assert_int_equal(p.ch.n_chains, 0);
	pair_free(&p);
}

static void
test_local_traffic_only_leaves_the_masquerade_set(void **state)
{
	struct hearth_model *mb = nfttest_model(three);
	mb->services[1].local_traffic = true;
	struct pair p;
	pair_diff(&p, nfttest_model(three), mb);
	assert_int_equal(p.ch.n_elems, 1);
	assert_int_equal(p.ch.elems[0].set, NFT_SET_MASQ4);
	assert_true(p.ch.elems[0].del);
	assert_int_equal(p.b->n_elems[NFT_SET_MASQ4], 1);
	pair_free(&p);
}

static void
test_full_build_counts_every_element(void **state)
{
	struct hearth_model *m = nfttest_model(three);
	struct nft_desc *d = nft_desc_build(m);
	struct nft_changes ch = {0};
	assert_int_equal(nft_diff(NULL, d, &ch), 0);
	assert_true(ch.recreate);
	assert_int_equal(d->n_elems[NFT_SET_SVC4], 3);
	assert_int_equal(d->n_elems[NFT_SET_EP4], 4);
	assert_int_equal(d->n_elems[NFT_SET_MASQ4], 2);
	assert_int_equal(ch.n_elems, 9);
	assert_int_equal(count_ops(&ch, -1, 1), 0);
	assert_int_equal(ch.n_chains, d->n_chains);
	assert_non_null(nft_desc_chain(d, "refuse"));
	assert_non_null(nft_desc_chain(d, "pick4_2"));
	assert_null(nft_desc_chain(d, "input")); /* no allow_input */
	nft_changes_free(&ch);
	nft_desc_free(d);
	hearth_model_unref(m);
}

static void
test_duplicate_key_first_wins(void **state)
{
	struct hearth_model *m = nfttest_model(three);
	m->services[1].address = m->services[0].address;
	struct nft_desc *d = nft_desc_build(m);
	struct nft_changes ch = {0};
	assert_int_equal(nft_diff(NULL, d, &ch), 0);
	assert_int_equal(d->n_dups, 1);
	assert_int_equal(d->n_elems[NFT_SET_SVC4], 2);
	assert_int_equal(count_ops(&ch, NFT_SET_SVC4, 0), 2);
	const uint8_t backend[4] = {10, 2, 0, 1};
	for (size_t i = 0; i < ch.n_elems; i++)
		if (ch.elems[i].set == NFT_SET_EP4 && ch.elems[i].key[12] == 0)
			assert_memory_equal(ch.elems[i].data, backend, 4);
	nft_changes_free(&ch);
	nft_desc_free(d);
	hearth_model_unref(m);
}

static void
test_backend_of_other_family_is_skipped(void **state)
{
	struct hearth_model *m =
	    nfttest_model("pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
	                  "services:\n"
	                  "  - {name: a, address: 10.1.0.1, ports: [{port: 80, "
	                  "protocol: tcp, backends: ['[fd00::1]:80']}]}\n");
	struct nft_desc *d = nft_desc_build(m);
	assert_int_equal(d->n_skipped, 1);
	assert_int_equal(d->svcs[0].kind, NFT_SVC_REFUSE);
	assert_int_equal(d->n_elems[NFT_SET_EP4], 0);
	nft_desc_free(d);
	hearth_model_unref(m);
}

static void
test_allow_input_merged_with_hearths_own_ports(void **state)
{
	struct hearth_model *m = nfttest_model(
	    "nat: {allow_input: [22/tcp, 20-30/tcp, 53/udp, 31/tcp]}\n"
	    "dns: {listen: [127.0.0.1:53]}\n"
	    "proxy: {http_port: 8080, https_port: 8443}\n"
	    "metrics: {listen: 127.0.0.1:9477}\n");
	struct nft_desc *d = nft_desc_build(m);
	const struct nft_allow want[] = {
	    {IPPROTO_TCP, 20, 31},
	    {IPPROTO_TCP, 53, 53},
	    {IPPROTO_TCP, 8080, 8080},
	    {IPPROTO_TCP, 8443, 8443},
	    {IPPROTO_TCP, 9477, 9477},
	    {IPPROTO_UDP, 53, 53},
	};
	assert_int_equal(d->n_allow, 6);
	for (size_t i = 0; i < 6; i++) {
		assert_int_equal(d->allow[i].proto, want[i].proto);
		assert_int_equal(d->allow[i].first, want[i].first);
		assert_int_equal(d->allow[i].last, want[i].last);
	}
	const struct nft_chain_def *in = nft_desc_chain(d, "input");
	assert_non_null(in);
	assert_true(in->policy_drop);
	nft_desc_free(d);
	hearth_model_unref(m);
}

static void
test_masquerade_change_flushes_only_host_chains(void **state)
{
	struct pair p;
	pair_diff(&p,
	    nfttest_model("nat: {masquerade: [{source: 192.168.122.0/24, "
	                  "out_interface: eth0}]}\n"),
	    nfttest_model("nat: {masquerade: [{source: 192.168.123.0/24, "
	                  "out_interface: eth0}]}\n"));
	assert_int_equal(p.ch.n_elems, 0);
	assert_non_null(chain_op(&p.ch, "host_masq", NFT_CHAIN_FLUSH));
	assert_non_null(chain_op(&p.ch, "forward", NFT_CHAIN_FLUSH));
	assert_int_equal(p.ch.n_chains, 2);
	pair_free(&p);
}

static void
test_proxy_ports_redirect_to_the_proxy_listeners(void **state)
{
	struct hearth_model *m =
	    nfttest_model("pools: [{name: p, addresses: [10.1.0.0/16]}]\n"
	                  "proxy: {http_port: 8080, https_port: 8443}\n"
	                  "services:\n"
	                  "  - {name: g, address: 10.1.0.1, ports: [{port: 80, "
	                  "protocol: tcp, target: proxy}, {port: 443, "
	                  "protocol: tcp, target: proxy}]}\n");
	struct nft_desc *d = nft_desc_build(m);
	const struct nft_chain_def *c = nft_desc_chain(d, "proxy_8080");
	assert_non_null(c);
	assert_int_equal(c->rules[0].kind, NFT_R_REDIRECT);
	assert_int_equal(c->rules[0].port, 8080);
	assert_non_null(nft_desc_chain(d, "proxy_8443"));
	assert_int_equal(d->svcs[1].proxy_port, 8443);
	nft_desc_free(d);
	hearth_model_unref(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_same_model_changes_nothing),
	    cmocka_unit_test(test_one_backend_change_replaces_one_slot),
	    cmocka_unit_test(
	        test_backend_count_change_moves_dispatch_to_new_pick_chain),
	    cmocka_unit_test(test_removed_service_deletes_only_its_elements),
	    cmocka_unit_test(test_reordered_services_change_nothing),
	    cmocka_unit_test(test_local_traffic_only_leaves_the_masquerade_set),
	    cmocka_unit_test(test_full_build_counts_every_element),
	    cmocka_unit_test(test_duplicate_key_first_wins),
	    cmocka_unit_test(test_backend_of_other_family_is_skipped),
	    cmocka_unit_test(test_allow_input_merged_with_hearths_own_ports),
	    cmocka_unit_test(test_masquerade_change_flushes_only_host_chains),
	    cmocka_unit_test(test_proxy_ports_redirect_to_the_proxy_listeners),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
