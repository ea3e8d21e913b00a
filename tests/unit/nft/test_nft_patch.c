/*
 * Changes through a model's change hint (nft_patch_*): applying the
 * hinted services alone must leave the table exactly as a full build of
 * the new model would, step after step (services changed, added, removed,
 * keys swapped, backends to zero and back, proxy and local traffic
 * toggled, IPv6); a hint that does not fit (another base, an index out
 * of range, a key of a service it does not name, duplicates, other proxy
 * ports) is refused so that the caller compares whole models. The table
 * is simulated by applying the changes in the builder's order with the
 * kernel's checks (no element added twice or deleted when absent, no
 * jump to a missing chain, no chain deleted while an element uses it).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>

#include "nfttest.h"

/* ---- a simulated table ---- */

struct sim_chain {
	char name[NFT_CHAIN_NAMELEN];
	struct nft_rule_spec *rules;
	size_t n_rules;
};

struct sim {
	struct nft_elem_op *elems;
	size_t n_elems, cap_elems;
	struct sim_chain *chains;
	size_t n_chains, cap_chains;
};

static bool
same_key(const struct nft_elem_op *a, const struct nft_elem_op *b)
{
	return a->set == b->set && a->klen == b->klen &&
	    memcmp(a->key, b->key, a->klen) == 0 &&
	    memcmp(a->key_end, b->key_end, sizeof(a->key_end)) == 0;
}

static ssize_t
sim_find_elem(const struct sim *s, const struct nft_elem_op *op)
{
	for (size_t i = 0; i < s->n_elems; i++)
		if (same_key(&s->elems[i], op))
			return (ssize_t)i;
	return -1;
}

static struct sim_chain *
sim_chain(struct sim *s, const char *name)
{
	for (size_t i = 0; i < s->n_chains; i++)
		if (strcmp(s->chains[i].name, name) == 0)
			return &s->chains[i];
	return NULL;
}

static void
sim_free(struct sim *s)
{
	for (size_t i = 0; i < s->n_chains; i++)
		free(s->chains[i].rules);
	free(s->chains);
	free(s->elems);
	memset(s, 0, sizeof(*s));
}

static void
sim_chain_del(struct sim *s, const char *name)
{
	struct sim_chain *c = sim_chain(s, name);
	assert_non_null(c);
	for (size_t i = 0; i < s->n_elems; i++)
		assert_string_not_equal(s->elems[i].chain, name);
	free(c->rules);
	*c = s->chains[--s->n_chains];
}

static void
sim_chain_add(struct sim *s, const char *name)
{
	assert_null(sim_chain(s, name));
	if (s->n_chains == s->cap_chains) {
		s->cap_chains = s->cap_chains ? s->cap_chains * 2 : 16;
		s->chains =
		    realloc(s->chains, s->cap_chains * sizeof(*s->chains));
		assert_non_null(s->chains);
	}
	struct sim_chain *c = &s->chains[s->n_chains++];
	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", name);
}

static void
sim_elem(struct sim *s, const struct nft_elem_op *op)
{
	ssize_t i = sim_find_elem(s, op);
	if (op->del) {
		assert_true(i >= 0);
		s->elems[i] = s->elems[--s->n_elems];
		return;
	}
	assert_true(i < 0);
	if (op->chain[0])
		assert_non_null(sim_chain(s, op->chain));
	if (s->n_elems == s->cap_elems) {
		s->cap_elems = s->cap_elems ? s->cap_elems * 2 : 256;
		s->elems = realloc(s->elems, s->cap_elems * sizeof(*s->elems));
		assert_non_null(s->elems);
	}
	s->elems[s->n_elems] = *op;
	s->elems[s->n_elems].del = false;
	s->n_elems++;
}

static bool
is_base(const struct nft_chain_op *op)
{
	return op->def->hook != NFT_HOOK_NONE;
}

/* Applies ch in nft_build_changes' order. */
static void
sim_apply(struct sim *s, const struct nft_changes *ch)
{
	if (ch->recreate)
		sim_free(s);
	for (size_t i = 0; i < ch->n_chains; i++)
		if (ch->chains[i].op == NFT_CHAIN_DEL &&
		    is_base(&ch->chains[i]))
			sim_chain_del(s, ch->chains[i].def->name);
	for (size_t i = 0; i < ch->n_chains; i++)
		if (ch->chains[i].op == NFT_CHAIN_ADD)
			sim_chain_add(s, ch->chains[i].def->name);
	for (size_t i = 0; i < ch->n_chains; i++) {
		if (ch->chains[i].op != NFT_CHAIN_FLUSH)
			continue;
		struct sim_chain *c = sim_chain(s, ch->chains[i].def->name);
		assert_non_null(c);
		free(c->rules);
		c->rules = NULL;
		c->n_rules = 0;
	}
	for (int del = 1; del >= 0; del--)
		for (size_t i = 0; i < ch->n_elems; i++)
			if (ch->elems[i].del == del)
				sim_elem(s, &ch->elems[i]);
	for (size_t i = 0; i < ch->n_chains; i++) {
		const struct nft_chain_def *d = ch->chains[i].def;
		if (ch->chains[i].op == NFT_CHAIN_DEL || d->n_rules == 0)
			continue;
		struct sim_chain *c = sim_chain(s, d->name);
		assert_non_null(c);
		c->rules = realloc(c->rules,
		    (c->n_rules + d->n_rules) * sizeof(*c->rules));
		assert_non_null(c->rules);
		memcpy(c->rules + c->n_rules, d->rules,
		    d->n_rules * sizeof(*d->rules));
		c->n_rules += d->n_rules;
	}
	for (size_t i = 0; i < ch->n_chains; i++)
		if (ch->chains[i].op == NFT_CHAIN_DEL &&
		    !is_base(&ch->chains[i]))
			sim_chain_del(s, ch->chains[i].def->name);
}

/* Do both tables hold the same chains, rules and elements? */
static void
sim_assert_equal(const struct sim *a, const struct sim *b)
{
	assert_int_equal(a->n_chains, b->n_chains);
	for (size_t i = 0; i < a->n_chains; i++) {
		const struct sim_chain *x = &a->chains[i];
		struct sim_chain *y = sim_chain((struct sim *)b, x->name);
		assert_non_null(y);
		assert_int_equal(x->n_rules, y->n_rules);
		if (x->n_rules)
			assert_memory_equal(x->rules, y->rules,
			    x->n_rules * sizeof(*x->rules));
	}
	assert_int_equal(a->n_elems, b->n_elems);
	for (size_t i = 0; i < a->n_elems; i++) {
		ssize_t j = sim_find_elem(b, &a->elems[i]);
		assert_true(j >= 0);
		const struct nft_elem_op *x = &a->elems[i], *y = &b->elems[j];
		assert_int_equal(x->dlen, y->dlen);
		assert_memory_equal(x->data, y->data, sizeof(x->data));
		assert_string_equal(x->chain, y->chain);
	}
}

/* ---- models from a list of services ---- */

struct tport {
	uint16_t port;
	uint8_t proto;
	bool proxy;
	size_t nb;
	uint32_t be[6];
};

struct tsvc {
	uint32_t id;
	bool v6;
	bool local;
	size_t n_ports;
	struct tport ports[3];
};

struct spec {
	struct tsvc v[400];
	size_t n;
	uint32_t next_id;
	uint16_t http_port;
};

static void
vip(const struct tsvc *t, struct hearth_addr *a)
{
	memset(a, 0, sizeof(*a));
	if (t->v6) {
		a->family = AF_INET6;
		a->v6.s6_addr[0] = 0xfd;
		a->v6.s6_addr[14] = (uint8_t)(t->id >> 8);
		a->v6.s6_addr[15] = (uint8_t)t->id;
	} else {
		a->family = AF_INET;
		a->v4.s_addr = htonl(0x0a010000u + t->id);
	}
}

static void
backend(const struct tsvc *t, uint32_t b, struct hearth_endpoint *e)
{
	memset(e, 0, sizeof(*e));
	if (t->v6) {
		e->addr.family = AF_INET6;
		e->addr.v6.s6_addr[0] = 0xfd;
		e->addr.v6.s6_addr[1] = 0x01;
		e->addr.v6.s6_addr[14] = (uint8_t)(b >> 8);
		e->addr.v6.s6_addr[15] = (uint8_t)b;
	} else {
		e->addr.family = AF_INET;
		e->addr.v4.s_addr = htonl(0x0af40000u + b);
	}
	e->port = (uint16_t)(8000 + b % 3);
}

static struct hearth_model *
spec_model(const struct spec *sp)
{
	struct hearth_model *m = hearth_model_new();
	assert_non_null(m);
	if (sp->http_port)
		m->proxy.http_port = sp->http_port;
	m->services = calloc(sp->n ? sp->n : 1, sizeof(*m->services));
	assert_non_null(m->services);
	m->n_services = sp->n;
	for (size_t i = 0; i < sp->n; i++) {
		const struct tsvc *t = &sp->v[i];
		struct hearth_service *s = &m->services[i];
		s->name = malloc(16);
		assert_non_null(s->name);
		snprintf(s->name, 16, "s%u", t->id);
		vip(t, &s->address);
		s->local_traffic = t->local;
		s->ports = calloc(t->n_ports + 1, sizeof(*s->ports));
		assert_non_null(s->ports);
		s->n_ports = t->n_ports;
		for (size_t j = 0; j < t->n_ports; j++) {
			const struct tport *tp = &t->ports[j];
			struct hearth_service_port *p = &s->ports[j];
			p->port = tp->port;
			p->proto = tp->proto;
			p->to_proxy = tp->proxy;
			p->backends = calloc(tp->nb + 1, sizeof(*p->backends));
			assert_non_null(p->backends);
			p->n_backends = tp->proxy ? 0 : tp->nb;
			for (size_t k = 0; k < p->n_backends; k++)
				backend(t, tp->be[k], &p->backends[k]);
		}
	}
	return m;
}

/* Attaches a hint: base, then (old index, new index) pairs. */
static void
hint(struct hearth_model *m, const struct hearth_model *base, size_t n, ...)
{
	m->delta.base_generation = base->generation;
	m->delta.services = calloc(n + 1, sizeof(*m->delta.services));
	assert_non_null(m->delta.services);
	m->delta.n_services = n;
	va_list ap;
	va_start(ap, n);
	for (size_t i = 0; i < n; i++) {
		m->delta.services[i].old_index = va_arg(ap, size_t);
		m->delta.services[i].new_index = va_arg(ap, size_t);
	}
	va_end(ap);
}

static uint32_t rng_state;

static uint32_t
rnd(uint32_t n)
{
	rng_state = rng_state * 1103515245u + 12345u;
	return (rng_state >> 8) % n;
}

static void
random_service(struct spec *sp, struct tsvc *t)
{
	memset(t, 0, sizeof(*t));
	t->id = sp->next_id++;
	t->v6 = rnd(4) == 0;
	t->local = rnd(5) == 0;
	t->n_ports = 1 + rnd(2);
	for (size_t j = 0; j < t->n_ports; j++) {
		struct tport *p = &t->ports[j];
		p->port = (uint16_t)(80 + j);
		p->proto = rnd(3) == 0 ? HEARTH_PROTO_UDP : HEARTH_PROTO_TCP;
		p->proxy = rnd(8) == 0;
		p->nb = rnd(5);
		for (size_t k = 0; k < p->nb; k++)
			p->be[k] = rnd(3000);
	}
}

static void
spec_init(struct spec *sp, size_t n, uint32_t seed)
{
	memset(sp, 0, sizeof(*sp));
	rng_state = seed;
	for (size_t i = 0; i < n; i++)
		random_service(sp, &sp->v[sp->n++]);
}

/* ---- the installed table: its description and its simulation ---- */

struct table {
	struct hearth_model *model;
	struct nft_desc *installed;
	struct sim sim;
	struct nft_changes ch;
	struct nft_patch patch;
};

static void
table_build(struct table *t, struct hearth_model *m)
{
	memset(t, 0, sizeof(*t));
	t->model = m;
	t->installed = nft_desc_build(m);
	assert_non_null(t->installed);
	assert_int_equal(nft_diff(NULL, t->installed, &t->ch), 0);
	sim_apply(&t->sim, &t->ch);
}

static void
table_free(struct table *t)
{
	nft_patch_free(&t->patch);
	nft_changes_free(&t->ch);
	nft_desc_free(t->installed);
	sim_free(&t->sim);
	hearth_model_unref(t->model);
}

/* The table a full build of m gives. */
static void
full_sim(const struct hearth_model *m, struct sim *out)
{
	struct nft_desc *d = nft_desc_build(m);
	struct nft_changes ch = {0};
	assert_non_null(d);
	assert_int_equal(nft_diff(NULL, d, &ch), 0);
	memset(out, 0, sizeof(*out));
	sim_apply(out, &ch);
	nft_changes_free(&ch);
	nft_desc_free(d);
}

/* Moves t to m through m's hint; checks the table against a full build. */
static void
table_patch(struct table *t, struct hearth_model *m)
{
	assert_int_equal(nft_patch_prepare(&t->patch, t->installed, t->model,
	                     m),
	    0);
	assert_int_equal(nft_diff_patch(t->installed, &t->patch, &t->ch), 0);
	sim_apply(&t->sim, &t->ch);
	nft_patch_apply(t->installed, &t->patch);
	hearth_model_unref(t->model);
	t->model = m;

	struct sim want;
	full_sim(m, &want);
	sim_assert_equal(&t->sim, &want);
	sim_free(&want);

	/* The patched description is m's: a full diff finds nothing. */
	struct nft_desc *d = nft_desc_build(m);
	struct nft_changes ch = {0};
	assert_non_null(d);
	assert_int_equal(nft_diff(t->installed, d, &ch), 0);
	assert_int_equal(ch.n_elems, 0);
	assert_int_equal(ch.n_chains, 0);
	assert_memory_equal(t->installed->n_elems, d->n_elems,
	    sizeof(d->n_elems));
	nft_changes_free(&ch);
	nft_desc_free(d);
}

/* One random change of sp; fills the hint pairs; returns their number. */
static size_t
random_step(struct spec *sp, size_t *pairs)
{
	size_t i = rnd((uint32_t)sp->n);
	struct tsvc *t = &sp->v[i];
	struct tport *p = &t->ports[rnd((uint32_t)t->n_ports)];
	switch (rnd(9)) {
	case 0: /* one backend replaced */
		if (p->nb)
			p->be[rnd((uint32_t)p->nb)] = 3000 + rnd(3000);
		break;
	case 1: /* backend count changed (to zero, too) */
		p->nb = rnd(6);
		for (size_t k = 0; k < p->nb; k++)
			p->be[k] = rnd(6000);
		break;
	case 2:
		p->proxy = !p->proxy;
		break;
	case 3:
		t->local = !t->local;
		break;
	case 4: /* a port moved */
		p->port = (uint16_t)(p->port + 100);
		break;
	case 5: /* added in the middle */
		if (sp->n < sizeof(sp->v) / sizeof(sp->v[0])) {
			memmove(&sp->v[i + 1], &sp->v[i],
			    (sp->n - i) * sizeof(sp->v[0]));
			random_service(sp, &sp->v[i]);
			sp->n++;
			pairs[0] = HEARTH_MODEL_NO_INDEX;
			pairs[1] = i;
			return 1;
		}
		break;
	case 6: /* removed from the middle */
		if (sp->n > 2) {
			memmove(&sp->v[i], &sp->v[i + 1],
			    (sp->n - i - 1) * sizeof(sp->v[0]));
			sp->n--;
			pairs[0] = i;
			pairs[1] = HEARTH_MODEL_NO_INDEX;
			return 1;
		}
		break;
	case 7: { /* two services swap their addresses (keys move) */
		size_t j = rnd((uint32_t)sp->n);
		uint32_t id = t->id;
		bool v6 = t->v6;
		t->id = sp->v[j].id;
		t->v6 = sp->v[j].v6;
		sp->v[j].id = id;
		sp->v[j].v6 = v6;
		pairs[0] = i;
		pairs[1] = i;
		pairs[2] = j;
		pairs[3] = j;
		return i == j ? 1 : 2;
	}
	default: /* unchanged but named: nothing to do */
		break;
	}
	pairs[0] = i;
	pairs[1] = i;
	return 1;
}

static void
test_hinted_steps_match_full_builds(void **state)
{
	(void)state;
	for (uint32_t seed = 1; seed <= 4; seed++) {
		struct spec *sp = calloc(1, sizeof(*sp));
		assert_non_null(sp);
		spec_init(sp, seed == 1 ? 3 : 30 * (seed - 1), seed);
		struct table t;
		table_build(&t, spec_model(sp));
		for (int step = 0; step < 250; step++) {
			size_t pairs[4] = {0};
			size_t n = random_step(sp, pairs);
			struct hearth_model *m = spec_model(sp);
			hint(m, t.model, n, pairs[0], pairs[1], pairs[2],
			    pairs[3]);
			table_patch(&t, m);
		}
		table_free(&t);
		free(sp);
	}
}

static void
test_many_changes_in_one_hint(void **state)
{
	(void)state;
	struct spec *sp = calloc(1, sizeof(*sp));
	struct spec *rev = calloc(1, sizeof(*rev));
	assert_non_null(sp);
	assert_non_null(rev);
	spec_init(sp, 100, 42);
	struct table t;
	table_build(&t, spec_model(sp));
	/* Every service gets new backends and the order is reversed: one
	 * hint names them all, old index i at new index n - 1 - i. */
	*rev = *sp;
	for (size_t i = 0; i < sp->n; i++) {
		struct tsvc *v = &rev->v[sp->n - 1 - i];
		*v = sp->v[i];
		for (size_t j = 0; j < v->n_ports; j++)
			for (size_t k = 0; k < v->ports[j].nb; k++)
				v->ports[j].be[k] += 7;
	}
	struct hearth_model *m = spec_model(rev);
	m->delta.base_generation = t.model->generation;
	m->delta.services = calloc(sp->n, sizeof(*m->delta.services));
	assert_non_null(m->delta.services);
	m->delta.n_services = sp->n;
	for (size_t i = 0; i < sp->n; i++)
		m->delta.services[i] =
		    (struct hearth_service_change){i, sp->n - 1 - i};
	table_patch(&t, m);
	table_free(&t);
	free(rev);
	free(sp);
}

/* A hint that prepare must refuse. */
static void
assert_refused(struct table *t, struct hearth_model *m)
{
	assert_int_equal(nft_patch_prepare(&t->patch, t->installed, t->model,
	                     m),
	    -EAGAIN);
}

static void
test_hint_of_another_base_is_refused(void **state)
{
	(void)state;
	struct spec *sp = calloc(1, sizeof(*sp));
	assert_non_null(sp);
	spec_init(sp, 20, 7);
	struct table t;
	table_build(&t, spec_model(sp));
	struct hearth_model *other = spec_model(sp); /* same content */
	sp->v[3].ports[0].nb = 0;
	struct hearth_model *m = spec_model(sp);
	hint(m, other, 1, (size_t)3, (size_t)3);
	assert_refused(&t, m);
	/* No hint at all. */
	struct hearth_model *plain = spec_model(sp);
	assert_refused(&t, plain);
	/* Indices out of range. */
	struct hearth_model *bad = spec_model(sp);
	hint(bad, t.model, 1, (size_t)3, (size_t)20);
	assert_refused(&t, bad);
	hearth_model_unref(bad);
	bad = spec_model(sp);
	hint(bad, t.model, 1, (size_t)99, (size_t)3);
	assert_refused(&t, bad);
	hearth_model_unref(bad);
	hearth_model_unref(plain);
	hearth_model_unref(m);
	hearth_model_unref(other);
	table_free(&t);
	free(sp);
}

static void
test_hint_colliding_with_an_unnamed_service_is_refused(void **state)
{
	(void)state;
	struct spec *sp = calloc(1, sizeof(*sp));
	assert_non_null(sp);
	spec_init(sp, 10, 9);
	struct table t;
	table_build(&t, spec_model(sp));
	/* Service 2 takes service 5's address: both would own a key. */
	sp->v[2].id = sp->v[5].id;
	sp->v[2].v6 = sp->v[5].v6;
	sp->v[2].ports[0] = sp->v[5].ports[0];
	sp->v[2].ports[0].be[0] = 5999;
	struct hearth_model *m = spec_model(sp);
	hint(m, t.model, 1, (size_t)2, (size_t)2);
	assert_refused(&t, m);
	/* A hinted service with the same port twice is a duplicate too. */
	spec_init(sp, 10, 9);
	sp->v[4].n_ports = 2;
	sp->v[4].ports[1] = sp->v[4].ports[0];
	struct hearth_model *m2 = spec_model(sp);
	hint(m2, t.model, 1, (size_t)4, (size_t)4);
	assert_refused(&t, m2);
	hearth_model_unref(m2);
	hearth_model_unref(m);
	table_free(&t);
	free(sp);
}

static void
test_hint_over_duplicates_or_new_proxy_ports_is_refused(void **state)
{
	(void)state;
	struct spec *sp = calloc(1, sizeof(*sp));
	assert_non_null(sp);
	spec_init(sp, 10, 11);
	sp->v[7] = sp->v[1]; /* the same service twice: a duplicate key */
	struct table t;
	table_build(&t, spec_model(sp));
	assert_int_equal(nft_desc_index(t.installed), 0);
	sp->v[3].local = !sp->v[3].local;
	struct hearth_model *m = spec_model(sp);
	hint(m, t.model, 1, (size_t)3, (size_t)3);
	assert_refused(&t, m);
	hearth_model_unref(m);
	table_free(&t);

	spec_init(sp, 10, 11);
	table_build(&t, spec_model(sp));
	sp->http_port = 8080;
	m = spec_model(sp);
	hint(m, t.model, 1, (size_t)0, (size_t)0);
	assert_refused(&t, m);
	hearth_model_unref(m);
	table_free(&t);
	free(sp);
}

static void
test_patch_work_does_not_grow_with_the_table(void **state)
{
	(void)state;
	/* The patch holds the named services only, at any table size. */
	struct spec *sp = calloc(1, sizeof(*sp));
	assert_non_null(sp);
	spec_init(sp, 400, 5);
	struct table t;
	table_build(&t, spec_model(sp));
	sp->v[200].ports[0].nb = 3;
	struct hearth_model *m = spec_model(sp);
	hint(m, t.model, 1, (size_t)200, (size_t)200);
	table_patch(&t, m);
	assert_int_equal(t.patch.olds->n_svcs, sp->v[200].n_ports);
	assert_int_equal(t.patch.news->n_svcs, sp->v[200].n_ports);
	assert_true(t.ch.n_elems <= 2 * (2 + 2 * 6));
	table_free(&t);
	free(sp);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hinted_steps_match_full_builds),
	    cmocka_unit_test(test_many_changes_in_one_hint),
	    cmocka_unit_test(test_hint_of_another_base_is_refused),
	    cmocka_unit_test(
	        test_hint_colliding_with_an_unnamed_service_is_refused),
	    cmocka_unit_test(
	        test_hint_over_duplicates_or_new_proxy_ports_is_refused),
	    cmocka_unit_test(test_patch_work_does_not_grow_with_the_table),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
