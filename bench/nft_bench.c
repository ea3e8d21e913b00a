/*
 * hearth-bench nft: how fast the nft module programs nftables. In a
 * network namespace of its own (unshare, so nothing outside is touched
 * and nothing is left behind) it loads N services x M endpoints through
 * the module's engine -- the same code path hearthd uses -- then times
 * --changes single-service changes and reports p50/p99, plus the number
 * of anonymous sets in the table (constant in N).
 *
 * Each change is made the way the Kubernetes watcher makes one (one
 * Service event): a new immutable model derived from the previous one,
 * one endpoint of one service replaced, with a change hint naming that
 * service (hearth_model_delta). Deriving the model (a deep copy here) is
 * the producer's work and is not timed; the time is the engine's apply,
 * send and ACKs. --no-hint times the reload path instead (the new model
 * carries no hint, so the engine compares whole models, as on SIGHUP).
 * Like hearthd it listens to nftables notifications (so the kernel builds
 * them for every change, a real cost of the drift watch); they are read
 * after each timed step, outside the timing.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <sys/resource.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "bench.h"
#include "model.h"
#include "nft_engine.h"
#include "report.h"

struct nft_opts {
	size_t services;
	size_t endpoints;
	size_t changes;
	bool json;
	bool no_hint;
	size_t replaces;
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth-bench nft --services N [--endpoints M] "
	    "[--changes C] [--json]\n"
	    "  --services N   services to program (1 port each, tcp)\n"
	    "  --endpoints M  endpoints per service (default 2)\n"
	    "  --changes C    single-service changes to time (default 1000)\n"
	    "  --no-hint      changes without a change hint (the reload "
	    "path)\n"
	    "  --replaces R   then R full rebuilds replacing the table in one "
	    "transaction\n                 (the restart path; default 0)\n"
	    "  --json         one JSON object on stdout\n"
	    "Runs in a private network namespace (needs root).\n");
}

static int
parse_size(const char *s, size_t max, size_t *out)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || end == s || v == 0 || v > max)
		return -EINVAL;
	*out = (size_t)v;
	return 0;
}

static int
parse_opts(int argc, char **argv, struct nft_opts *o)
{
	static const struct option longs[] = {
	    {"services", required_argument, NULL, 's'},
	    {"endpoints", required_argument, NULL, 'e'},
	    {"changes", required_argument, NULL, 'c'},
	    {"json", no_argument, NULL, 'j'},
	    {"no-hint", no_argument, NULL, 'n'},
	    {"replaces", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct nft_opts){.endpoints = 2, .changes = 1000};
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		int err = 0;
		switch (c) {
		case 's':
			err = parse_size(optarg, 1000000, &o->services);
			break;
		case 'e':
			err = parse_size(optarg, 1000, &o->endpoints);
			break;
		case 'c':
			err = parse_size(optarg, 1000000, &o->changes);
			break;
		case 'j':
			o->json = true;
			break;
		case 'n':
			o->no_hint = true;
			break;
		case 'r':
			err = parse_size(optarg, 100, &o->replaces);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			return -EINVAL;
		}
		if (err) {
			fprintf(stderr,
			    "hearth-bench nft: bad value for --%s: "
			    "'%s'\n",
			    longs[c == 's'   ? 0 :
			            c == 'e' ? 1 :
			            c == 'r' ? 5 :
			                       2]
			        .name,
			    optarg);
			return err;
		}
	}
	if (optind != argc || o->services == 0) {
		usage(stderr);
		return -EINVAL;
	}
	return 0;
}

static void
v4(struct hearth_addr *a, uint32_t host_order)
{
	memset(a, 0, sizeof(*a));
	a->family = AF_INET;
	a->v4.s_addr = htonl(host_order);
}

/* Service i's VIP in 10.0.0.0/9, endpoint j in 10.128.0.0/9. */
static struct hearth_model *
make_model(const struct nft_opts *o)
{
	struct hearth_model *m = hearth_model_new();
	if (m == NULL)
		return NULL;
	m->services = calloc(o->services, sizeof(*m->services));
	if (m->services == NULL)
		goto fail;
	m->n_services = o->services;
	for (size_t i = 0; i < o->services; i++) {
		struct hearth_service *s = &m->services[i];
		char name[32];
		snprintf(name, sizeof(name), "svc%zu", i);
		s->name = strdup(name);
		v4(&s->address, 0x0a000001u + (uint32_t)i);
		s->ports = calloc(1, sizeof(*s->ports));
		if (s->name == NULL || s->ports == NULL)
			goto fail;
		s->n_ports = 1;
		struct hearth_service_port *p = s->ports;
		p->port = 80;
		p->proto = HEARTH_PROTO_TCP;
		p->backends = calloc(o->endpoints, sizeof(*p->backends));
		if (p->backends == NULL)
			goto fail;
		p->n_backends = o->endpoints;
		for (size_t j = 0; j < o->endpoints; j++) {
			v4(&p->backends[j].addr,
			    0x0a800000u + (uint32_t)(i * o->endpoints + j));
			p->backends[j].port = 8080;
		}
	}
	return m;
fail:
	hearth_model_unref(m);
	return NULL;
}

/* A deep copy of service s (the model owns every allocation). */
static int
copy_service(const struct hearth_service *s, struct hearth_service *out)
{
	*out = *s;
	out->name = strdup(s->name);
	out->ports = calloc(s->n_ports, sizeof(*out->ports));
	if (out->name == NULL || out->ports == NULL)
		return -ENOMEM;
	for (size_t j = 0; j < s->n_ports; j++) {
		const struct hearth_service_port *p = &s->ports[j];
		out->ports[j] = *p;
		out->ports[j].backends = malloc(
		    (p->n_backends ? p->n_backends : 1) * sizeof(*p->backends));
		if (out->ports[j].backends == NULL)
			return -ENOMEM;
		memcpy(out->ports[j].backends, p->backends,
		    p->n_backends * sizeof(*p->backends));
	}
	return 0;
}

/*
 * The next model, as the Kubernetes watcher derives it from one Service
 * event: a copy of base in which service k's first endpoint is replaced,
 * with a hint naming service k (unless no_hint).
 */
static struct hearth_model *
derive_model(const struct hearth_model *base, size_t k, uint32_t endpoint,
    bool no_hint)
{
	struct hearth_model *m = hearth_model_new();
	if (m == NULL)
		return NULL;
	m->services = calloc(base->n_services, sizeof(*m->services));
	if (m->services == NULL)
		goto fail;
	for (size_t i = 0; i < base->n_services; i++) {
		if (copy_service(&base->services[i], &m->services[i]) < 0) {
			m->n_services = i + 1;
			goto fail;
		}
	}
	m->n_services = base->n_services;
	m->services[k].ports[0].backends[0].addr.v4.s_addr = htonl(endpoint);
	if (no_hint)
		return m;
	m->delta.services = malloc(sizeof(*m->delta.services));
	if (m->delta.services == NULL)
		goto fail;
	m->delta.services[0] = (struct hearth_service_change){k, k};
	m->delta.n_services = 1;
	m->delta.base_generation = base->generation;
	return m;
fail:
	hearth_model_unref(m);
	return NULL;
}

/* This thread's CPU time (user + system), in ns. */
static uint64_t
thread_cpu_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* User plus system CPU time of this process, in ms. */
static double
cpu_ms(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
	    (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double
pct_ms(const uint64_t *sorted, size_t n, double p)
{
	size_t i = (size_t)(p * (double)(n - 1) + 0.5);
	return (double)sorted[i] / 1e6;
}

struct nft_result {
	double load_ms;
	double load_kernel_ms;
	double p50_ms, p99_ms, max_ms;
	double cpu_p50_ms, cpu_p99_ms; /* this thread's CPU time per change */
	int anonymous_sets;
	size_t elements;
	double kernel_sum_ms;
	double load_cpu_ms;
	double change_cpu_ms;   /* mean */
	uint64_t hinted;        /* changes applied through the hint */
	bool load_quiet;        /* the load was sent with the watch paused */
	double replace_ms[100]; /* --replaces, in order */
	double replace_cpu_ms[100];
};

/* Times the full load and the changes; 0 or the engine's -errno. */
static int
measure(struct nft_engine *e, struct hearth_model **mp,
    const struct nft_opts *o, struct nft_result *r)
{
	struct hearth_model *m = *mp;
	bool drift;
	if (nft_engine_watch(e) < 0)
		return -errno;
	double c = cpu_ms();
	uint64_t t0 = bench_now_ns();
	int err = nft_engine_rebuild(e, m);
	r->load_ms = (double)(bench_now_ns() - t0) / 1e6;
	r->load_cpu_ms = cpu_ms() - c;
	if (err < 0)
		return err;
	nft_engine_watch_read(e, &drift);
	const struct nft_engine_stats *st = nft_engine_stats(e);
	r->load_kernel_ms = st->last_batch_seconds * 1e3;
	r->load_quiet = st->quiet_batches > 0;
	for (size_t i = 0; i < o->replaces; i++) {
		c = cpu_ms();
		t0 = bench_now_ns();
		err = nft_engine_rebuild(e, m);
		r->replace_ms[i] = (double)(bench_now_ns() - t0) / 1e6;
		r->replace_cpu_ms[i] = cpu_ms() - c;
		if (err < 0)
			return err;
		nft_engine_watch_read(e, &drift);
	}
	for (int i = 0; i < NFT_SET_COUNT; i++)
		r->elements += st->elems[i];
	uint64_t *t = calloc(o->changes, sizeof(*t));
	uint64_t *tc = calloc(o->changes, sizeof(*tc));
	if (t == NULL || tc == NULL) {
		free(t);
		free(tc);
		return -ENOMEM;
	}
	double cpu_sum = 0;
	uint64_t hinted0 = nft_engine_stats(e)->hints_used;
	for (size_t i = 0; i < o->changes; i++) {
		/* Spread the changes; each replaces one endpoint. */
		size_t k = (i * 7919) % o->services;
		struct hearth_model *next =
		    derive_model(m, k, 0x0b000000u + (uint32_t)i, o->no_hint);
		if (next == NULL) {
			free(t);
			free(tc);
			return -ENOMEM;
		}
		c = cpu_ms();
		uint64_t u0 = thread_cpu_ns();
		uint64_t c0 = bench_now_ns();
		err = nft_engine_apply(e, next);
		t[i] = bench_now_ns() - c0;
		tc[i] = thread_cpu_ns() - u0;
		cpu_sum += cpu_ms() - c;
		r->kernel_sum_ms +=
		    nft_engine_stats(e)->last_batch_seconds * 1e3;
		hearth_model_unref(m);
		*mp = m = next;
		nft_engine_watch_read(e, &drift);
		if (err < 0) {
			free(t);
			free(tc);
			return err;
		}
	}
	r->hinted = nft_engine_stats(e)->hints_used - hinted0;
	r->change_cpu_ms = cpu_sum / (double)o->changes;
	qsort(t, o->changes, sizeof(*t), cmp_u64);
	r->p50_ms = pct_ms(t, o->changes, 0.50);
	r->p99_ms = pct_ms(t, o->changes, 0.99);
	r->max_ms = (double)t[o->changes - 1] / 1e6;
	qsort(tc, o->changes, sizeof(*tc), cmp_u64);
	r->cpu_p50_ms = pct_ms(tc, o->changes, 0.50);
	r->cpu_p99_ms = pct_ms(tc, o->changes, 0.99);
	free(t);
	free(tc);
	r->anonymous_sets = nft_engine_count_anonymous_sets(e);
	return r->anonymous_sets < 0 ? r->anonymous_sets : 0;
}

static int
report(const struct nft_opts *o, const struct nft_result *r)
{
	if (!o->json) {
		printf("services %zu x %zu endpoints, %zu elements\n",
		    o->services, o->endpoints, r->elements);
		printf("full load        %.2f ms (kernel batch %.2f ms, CPU "
		       "%.2f ms%s)\n",
		    r->load_ms, r->load_kernel_ms, r->load_cpu_ms,
		    r->load_quiet ? ", notifications paused" : "");
		printf("one change       p50 %.3f ms  p99 %.3f ms  max %.3f ms "
		       "(%zu changes, %llu through the change hint)\n",
		    r->p50_ms, r->p99_ms, r->max_ms, o->changes,
		    (unsigned long long)r->hinted);
		printf("anonymous sets   %d\n", r->anonymous_sets);
		for (size_t i = 0; i < o->replaces; i++)
			printf("replace load %zu   %.2f ms (CPU %.2f ms)\n",
			    i + 1, r->replace_ms[i], r->replace_cpu_ms[i]);
		printf("per change       kernel batch %.3f ms, CPU %.3f ms "
		       "(means); CPU p50 %.3f ms  p99 %.3f ms\n",
		    r->kernel_sum_ms / (double)o->changes, r->change_cpu_ms,
		    r->cpu_p50_ms, r->cpu_p99_ms);
		return 0;
	}
	json_t *j =
	    json_pack("{s:I, s:I, s:I, s:f, s:f, s:f, "
	              "s:{s:f, s:f, s:f, s:f, s:f, s:f, s:f}, s:I, s:I, "
	              "s:i, s:b}",
	        "services", (json_int_t)o->services, "endpoints",
	        (json_int_t)o->endpoints, "elements", (json_int_t)r->elements,
	        "load_ms", r->load_ms, "load_kernel_ms", r->load_kernel_ms,
	        "load_cpu_ms", r->load_cpu_ms, "change_ms", "p50", r->p50_ms,
	        "p99", r->p99_ms, "max", r->max_ms, "kernel_mean",
	        r->kernel_sum_ms / (double)o->changes, "cpu_mean",
	        r->change_cpu_ms, "cpu_p50", r->cpu_p50_ms, "cpu_p99",
	        r->cpu_p99_ms, "changes", (json_int_t)o->changes, "hinted",
	        (json_int_t)r->hinted, "anonymous_sets", r->anonymous_sets,
	        "load_quiet", r->load_quiet);
	return j ? bench_json_emit(j) : -ENOMEM;
}

int
bench_nft_main(int argc, char **argv)
{
	struct nft_opts o;
	if (parse_opts(argc, argv, &o) < 0)
		return 2;
	if (unshare(CLONE_NEWNET) < 0) {
		fprintf(stderr,
		    "hearth-bench nft: cannot create a network "
		    "namespace: %s (needs root)\n",
		    strerror(errno));
		return 1;
	}
	struct hearth_model *m = make_model(&o);
	struct nft_engine *e = nft_engine_new();
	if (m == NULL || e == NULL) {
		fprintf(stderr, "hearth-bench nft: %s\n",
		    m == NULL ? "out of memory" :
		                "cannot open a netfilter netlink socket");
		hearth_model_unref(m);
		nft_engine_free(e);
		return 1;
	}
	struct nft_result r = {0};
	int err = measure(e, &m, &o, &r);
	if (err < 0)
		fprintf(stderr, "hearth-bench nft: %s\n",
		    nft_engine_error(e)[0] ? nft_engine_error(e) :
		                             strerror(-err));
	else
		err = report(&o, &r);
	nft_engine_free(e);
	hearth_model_unref(m);
	return err < 0 ? 1 : 0;
}
