/*
 * The nft module: hearth's table `inet hearth` kept equal to the model.
 * create() rebuilds the table in one transaction (so a restart after a
 * crash finds it whole, without duplicates and without a window without
 * rules), apply() sends only the differences, a watch on nftables
 * notifications rebuilds the table within a second when someone else
 * changes or deletes it, and stop() removes it unless nat.keep_on_exit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "log.h"
#include "metrics.h"
#include "nft.h"
#include "nft_engine.h"

#define REBUILD_DELAY_MS 50 /* coalesces a burst of foreign changes */
#define RETRY_MAX_S      30

struct nft_mod {
	struct hearth_env *env;
	struct nft_engine *eng;
	struct hearth_model *model; /* the model in force (a reference) */
	struct event *watch_ev;
	struct event *rebuild_ev;
	enum hearth_health health;
	unsigned retry_s;
	bool poison_apply; /* test hook: reconciles are refused */
	bool poison_all;   /* test hook: every batch is refused */
};

static bool
nft_wanted(const struct hearth_model *m)
{
	return m->n_services > 0 || m->has_nat;
}

static void
set_health(struct nft_mod *s, enum hearth_health h)
{
	if (s->health == h)
		return;
	s->health = h;
	if (s->env && s->env->health_changed)
		s->env->health_changed(s->env, "nft");
}

static void
schedule_rebuild(struct nft_mod *s, unsigned ms)
{
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	if (!evtimer_pending(s->rebuild_ev, NULL))
		evtimer_add(s->rebuild_ev, &tv);
}

/*
 * After a large batch sent with notifications off, someone else may have
 * committed unseen (the engine then reports out of sync): rebuild, as on
 * drift.
 */
static void
check_unseen(struct nft_mod *s)
{
	if (nft_engine_in_sync(s->eng))
		return;
	log_warnx("nft: the ruleset changed while a large batch was sent "
	          "without notifications; rebuilding table inet hearth");
	schedule_rebuild(s, REBUILD_DELAY_MS);
}

/* A full rebuild from the model in force; retried with backoff. */
static void
rebuild(struct nft_mod *s, const char *why)
{
	int err = nft_engine_rebuild(s->eng, s->model);
	if (err == 0) {
		log_info("nft: table inet hearth rebuilt (%s)", why);
		s->retry_s = 0;
		set_health(s, HEARTH_HEALTH_OK);
		check_unseen(s);
		return;
	}
	s->retry_s = s->retry_s ? s->retry_s * 2 : 1;
	if (s->retry_s > RETRY_MAX_S)
		s->retry_s = RETRY_MAX_S;
	log_error("nft: %s; ruleset left as it was, retrying in %us",
	    nft_engine_error(s->eng), s->retry_s);
	set_health(s, HEARTH_HEALTH_DEGRADED);
	schedule_rebuild(s, s->retry_s * 1000);
}

static void
on_rebuild(evutil_socket_t fd, short what, void *arg)
{
	struct nft_mod *s = arg;
	rebuild(s, nft_engine_in_sync(s->eng) ? "retry" : "drift");
}

static void
on_watch(evutil_socket_t fd, short what, void *arg)
{
	struct nft_mod *s = arg;
	bool drift = false;
	int err = nft_engine_watch_read(s->eng, &drift);
	if (err < 0)
		log_debug("nft: reading notifications: %s", strerror(-err));
	if (drift) {
		log_warnx("nft: table inet hearth was changed by someone "
		          "else; rebuilding it");
		schedule_rebuild(s, REBUILD_DELAY_MS);
	}
}

static void
warn_forwarding(const struct hearth_model *m)
{
	bool dnat = false;
	for (size_t i = 0; i < m->n_services && !dnat; i++)
		for (size_t j = 0; j < m->services[i].n_ports; j++)
			dnat |= m->services[i].ports[j].n_backends > 0;
	if (!dnat)
		return;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_forward", "r");
	if (f == NULL)
		return;
	int c = fgetc(f);
	fclose(f);
	if (c == '0')
		log_warnx("nft: net.ipv4.ip_forward is 0: connections DNATed "
		          "to backends on other hosts will not be forwarded");
}

static void nft_destroy(void *state);

static void
arm_fault(struct nft_mod *s)
{
#ifdef HEARTH_NFT_TEST_HOOKS
	const char *f = getenv("HEARTH_NFT_FAULT");
	if (f == NULL || *f == '\0')
		return;
	log_warnx("nft: fault injection armed (HEARTH_NFT_FAULT=%s)", f);
	if (strcmp(f, "all") == 0) {
		s->poison_all = true;
		nft_engine_set_poison(s->eng, true);
	} else
		s->poison_apply = true;
#else
	(void)s;
#endif
}

static int
nft_create(struct hearth_env *env, const struct hearth_model *m, void **state)
{
	struct nft_mod *s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->env = env;
	s->health = HEARTH_HEALTH_STARTING;
	s->model = hearth_model_ref((struct hearth_model *)m);
	s->eng = nft_engine_new();
	if (s->eng == NULL) {
		int err = -errno;
		log_error("nft: cannot open a netfilter netlink socket: %s",
		    strerror(errno));
		nft_destroy(s);
		return err;
	}
	arm_fault(s);
	int fd = nft_engine_watch(s->eng);
	if (fd < 0) {
		log_error("nft: cannot subscribe to nftables notifications: %s",
		    strerror(-fd));
		nft_destroy(s);
		return fd;
	}
	s->watch_ev =
	    event_new(env->base, fd, EV_READ | EV_PERSIST, on_watch, s);
	s->rebuild_ev = evtimer_new(env->base, on_rebuild, s);
	if (s->watch_ev == NULL || s->rebuild_ev == NULL ||
	    event_add(s->watch_ev, NULL) < 0) {
		nft_destroy(s);
		return -ENOMEM;
	}
	warn_forwarding(m);
	int err = nft_engine_rebuild(s->eng, m);
	if (err == -EPERM || err == -EACCES || err == -EPROTONOSUPPORT ||
	    err == -EAFNOSUPPORT) {
		log_error("nft: cannot program nftables: %s",
		    nft_engine_error(s->eng));
		nft_destroy(s);
		return err;
	}
	if (err < 0) {
		s->retry_s = 1;
		log_error("nft: %s; retrying in 1s", nft_engine_error(s->eng));
		s->health = HEARTH_HEALTH_DEGRADED;
		schedule_rebuild(s, 1000);
	} else {
		const struct nft_engine_stats *st = nft_engine_stats(s->eng);
		log_info("nft: table inet hearth built: %zu service ports, "
		         "%zu endpoints",
		    st->elems[NFT_SET_SVC4] + st->elems[NFT_SET_SVC6],
		    st->elems[NFT_SET_EP4] + st->elems[NFT_SET_EP6]);
		s->health = HEARTH_HEALTH_OK;
		check_unseen(s);
	}
	*state = s;
	return 0;
}

static int
nft_apply(void *state, const struct hearth_model *old,
    const struct hearth_model *new)
{
	struct nft_mod *s = state;
	uint64_t before = nft_engine_stats(s->eng)->batches_applied;
	nft_engine_set_poison(s->eng, s->poison_apply || s->poison_all);
	int err = nft_engine_apply(s->eng, new);
	nft_engine_set_poison(s->eng, s->poison_all);
	if (err < 0) {
		log_error("nft: %s; keeping the previous ruleset",
		    nft_engine_error(s->eng));
		set_health(s, HEARTH_HEALTH_DEGRADED);
		/* Not knowing what the kernel holds, make it known again. */
		if (!nft_engine_in_sync(s->eng))
			schedule_rebuild(s, REBUILD_DELAY_MS);
		return err;
	}
	hearth_model_unref(s->model);
	s->model = hearth_model_ref((struct hearth_model *)new);
	evtimer_del(s->rebuild_ev);
	s->retry_s = 0;
	if (nft_engine_stats(s->eng)->batches_applied != before)
		log_info("nft: table inet hearth updated");
	set_health(s, HEARTH_HEALTH_OK);
	check_unseen(s);
	return 0;
}

static enum hearth_health
nft_health(void *state)
{
	return ((struct nft_mod *)state)->health;
}

static void
nft_metrics(void *state, struct evbuffer *out)
{
	struct nft_mod *s = state;
	const struct nft_engine_stats *st = nft_engine_stats(s->eng);
	metrics_counter(out, "hearth_nft_batches_applied_total",
	    "Netlink batches the kernel accepted", st->batches_applied);
	metrics_counter(out, "hearth_nft_batches_failed_total",
	    "Netlink batches the kernel refused", st->batches_failed);
	metrics_counter(out, "hearth_nft_rebuilds_total",
	    "Full rebuilds of table inet hearth", st->rebuilds);
	metrics_counter(out, "hearth_nft_drift_total",
	    "Changes to table inet hearth made by someone else", st->drifts);
	metrics_counter(out, "hearth_nft_hinted_applies_total",
	    "Reconciles that compared only the services a model's change "
	    "hint named",
	    st->hints_used);
	metrics_counter(out, "hearth_nft_quiet_batches_total",
	    "Large batches sent with the notification watch paused",
	    st->quiet_batches);
	metrics_gauge(out, "hearth_nft_last_batch_seconds",
	    "Latency of the last accepted batch", st->last_batch_seconds);
	metrics_histogram_write(out, "hearth_nft_batch_latency_seconds",
	    "Latency of accepted batches, send to last ACK", &st->latency);
	metrics_header(out, "hearth_nft_elements", "gauge",
	    "Elements per named set or map of table inet hearth");
	for (int i = 0; i < NFT_SET_COUNT; i++) {
		char labels[64];
		snprintf(labels, sizeof(labels), "map=\"%s\"",
		    nft_sets[i].name);
		metrics_sample(out, "hearth_nft_elements", labels,
		    (double)st->elems[i]);
	}
}

static int
nft_stop(void *state, unsigned drain_seconds)
{
	struct nft_mod *s = state;
	if (s->watch_ev)
		event_del(s->watch_ev);
	if (s->rebuild_ev)
		evtimer_del(s->rebuild_ev);
	if (s->model && s->model->has_nat && s->model->nat.keep_on_exit) {
		log_info("nft: keeping table inet hearth (nat.keep_on_exit)");
		return 0;
	}
	nft_engine_set_poison(s->eng, false);
	int err = nft_engine_remove(s->eng);
	if (err < 0)
		log_error("nft: removing table inet hearth: %s",
		    nft_engine_error(s->eng));
	else
		log_info("nft: table inet hearth removed");
	return 0;
}

static void
nft_destroy(void *state)
{
	struct nft_mod *s = state;
	if (s == NULL)
		return;
	if (s->watch_ev)
		event_free(s->watch_ev);
	if (s->rebuild_ev)
		event_free(s->rebuild_ev);
	nft_engine_free(s->eng);
	hearth_model_unref(s->model);
	free(s);
}

const struct hearth_module_ops nft_module = {
    .name = "nft",
    .wanted = nft_wanted,
    .create = nft_create,
    .apply = nft_apply,
    .health = nft_health,
    .metrics = nft_metrics,
    .stop = nft_stop,
    .destroy = nft_destroy,
};
