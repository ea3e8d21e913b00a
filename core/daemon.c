/*
 * The daemon: one event base, the model in force and the modules it wires.
 * Modules start in dependency order (rules, then the services that use
 * them, then the announcement of VIPs) and stop in reverse, so a node first
 * stops answering for its VIPs, then drains, then removes its rules.
 * A reload is applied to every module or to none: a module that refuses
 * the new model makes the daemon roll the others back to the old one.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "daemon.h"
#include "dns.h"
#include "l2announce.h"
#include "log.h"
#include "metrics.h"
#include "nft.h"
#include "proxy.h"

static const struct hearth_module_ops *const module_table[] = {
    &nft_module,
    &proxy_module,
    &dns_module,
    &l2announce_module,
};
#define N_MODULES (sizeof(module_table) / sizeof(module_table[0]))

struct module_slot {
	const struct hearth_module_ops *ops;
	void *state;
	bool running;
	bool draining;
};

struct daemon {
	struct event_base *base;
	struct daemon_options opts;
	struct hearth_env env;
	struct hearth_model *model;
	struct module_slot mods[N_MODULES];
	struct metrics_http *metrics;
	struct hearth_metrics_cfg metrics_cfg;
	struct event *drain_timer;
	struct event *ready_check;
	unsigned draining;
	uint64_t reloads_ok;
	uint64_t reloads_failed;
	time_t started;
	time_t last_reload_ok;
	bool stopping;
	bool ready_sent;
};

static void daemon_check_ready(struct daemon *d);

static struct module_slot *
slot_by_name(struct daemon *d, const char *name)
{
	for (size_t i = 0; i < N_MODULES; i++)
		if (strcmp(d->mods[i].ops->name, name) == 0)
			return &d->mods[i];
	return NULL;
}

bool
daemon_ready(const struct daemon *d)
{
	if (d->stopping)
		return false;
	for (size_t i = 0; i < N_MODULES; i++) {
		const struct module_slot *s = &d->mods[i];
		if (s->running && s->ops->health != NULL &&
		    s->ops->health(s->state) == HEARTH_HEALTH_STARTING)
			return false;
	}
	return true;
}

static void
daemon_check_ready(struct daemon *d)
{
	if (d->ready_sent || !daemon_ready(d))
		return;
	d->ready_sent = true;
	log_info("serving");
	notify_ready();
}

static void
ready_check_cb(evutil_socket_t fd, short what, void *arg)
{
	daemon_check_ready(arg);
}

static void
env_health_changed(struct hearth_env *env, const char *module)
{
	struct daemon *d = env->daemon;
	log_debug("%s: health changed", module);
	daemon_check_ready(d);
}

static void
module_destroy(struct module_slot *s)
{
	if (s->ops->destroy != NULL && s->state != NULL)
		s->ops->destroy(s->state);
	s->state = NULL;
	s->running = false;
	s->draining = false;
}

static void
daemon_finish(struct daemon *d)
{
	for (size_t i = N_MODULES; i-- > 0;)
		if (d->mods[i].running)
			module_destroy(&d->mods[i]);
	log_info("stopped");
	event_base_loopexit(d->base, NULL);
}

static void
env_stopped(struct hearth_env *env, const char *module)
{
	struct daemon *d = env->daemon;
	struct module_slot *s = slot_by_name(d, module);
	if (s == NULL || !s->draining)
		return;
	s->draining = false;
	log_debug("%s: drained", module);
	if (--d->draining == 0 && d->stopping) {
		if (d->drain_timer != NULL)
			event_del(d->drain_timer);
		daemon_finish(d);
	}
}

static void
drain_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct daemon *d = arg;
	log_warnx("drain time over with %u module(s) still draining; stopping",
	    d->draining);
	daemon_finish(d);
}

/* Starts a module with model m; logs nothing itself (create logs). */
static int
module_start(struct daemon *d, struct module_slot *s,
    const struct hearth_model *m)
{
	void *state = NULL;
	int rc = s->ops->create(&d->env, m, &state);
	if (rc < 0) {
		if (state != NULL && s->ops->destroy != NULL)
			s->ops->destroy(state);
		return rc;
	}
	s->state = state;
	s->running = true;
	log_info("%s: started", s->ops->name);
	return 0;
}

/* Stops a module at once (reload: no longer wanted). */
static void
module_stop_now(struct module_slot *s)
{
	if (s->ops->stop != NULL)
		s->ops->stop(s->state, 0);
	module_destroy(s);
	log_info("%s: stopped (no longer configured)", s->ops->name);
}

static void
metrics_fill(struct evbuffer *out, void *arg)
{
	struct daemon *d = arg;
	metrics_header(out, "hearth_build_info", "gauge",
	    "hearthd version and build");
	evbuffer_add_printf(out, "hearth_build_info{version=\"%s\"} 1\n",
	    HEARTH_VERSION);
	metrics_header(out, "hearth_config_reloads_total", "counter",
	    "Configuration reloads by result");
	evbuffer_add_printf(out,
	    "hearth_config_reloads_total{result=\"ok\"} %llu\n"
	    "hearth_config_reloads_total{result=\"failed\"} %llu\n",
	    (unsigned long long)d->reloads_ok,
	    (unsigned long long)d->reloads_failed);
	metrics_gauge(out,
	    "hearth_config_last_reload_success_timestamp_seconds",
	    "When the configuration in force was loaded",
	    (double)d->last_reload_ok);
	metrics_gauge(out, "hearth_start_time_seconds", "When hearthd started",
	    (double)d->started);
	metrics_header(out, "hearth_module_up", "gauge",
	    "1 when the module runs and serves, 0.5 degraded, 0 starting");
	for (size_t i = 0; i < N_MODULES; i++) {
		const struct module_slot *s = &d->mods[i];
		if (!s->running)
			continue;
		enum hearth_health h = s->ops->health ?
		    s->ops->health(s->state) :
		    HEARTH_HEALTH_OK;
		evbuffer_add_printf(out, "hearth_module_up{module=\"%s\"} %s\n",
		    s->ops->name,
		    h == HEARTH_HEALTH_OK           ? "1" :
		        h == HEARTH_HEALTH_DEGRADED ? "0.5" :
		                                      "0");
	}
	for (size_t i = 0; i < N_MODULES; i++) {
		const struct module_slot *s = &d->mods[i];
		if (s->running && s->ops->metrics != NULL)
			s->ops->metrics(s->state, out);
	}
}

static bool
metrics_health(void *arg)
{
	struct daemon *d = arg;
	if (!daemon_ready(d))
		return false;
	for (size_t i = 0; i < N_MODULES; i++) {
		const struct module_slot *s = &d->mods[i];
		if (s->running && s->ops->health != NULL &&
		    s->ops->health(s->state) != HEARTH_HEALTH_OK)
			return false;
	}
	return true;
}

static bool
metrics_cfg_equal(const struct hearth_metrics_cfg *a,
    const struct hearth_metrics_cfg *b)
{
	if (a->enabled != b->enabled)
		return false;
	return !a->enabled ||
	    (a->listen.port == b->listen.port &&
	        hearth_addr_eq(&a->listen.addr, &b->listen.addr));
}

/* Opens the metrics endpoint of m, or NULL with errno when it fails. */
static struct metrics_http *
metrics_open(struct daemon *d, const struct hearth_model *m)
{
	char ep[HEARTH_ENDPOINT_STRLEN];
	struct metrics_http *h = metrics_http_new(d->base, &m->metrics.listen,
	    metrics_fill, metrics_health, d);
	if (h == NULL)
		log_warn("metrics: cannot listen on %s",
		    hearth_endpoint_str(&m->metrics.listen, ep, sizeof(ep)));
	return h;
}

struct daemon *
daemon_new(struct event_base *base, const struct daemon_options *opts,
    struct hearth_model *m)
{
	struct daemon *d = calloc(1, sizeof(*d));
	if (d == NULL)
		return NULL;
	d->base = base;
	d->opts = *opts;
	d->started = d->last_reload_ok = time(NULL);
	d->env = (struct hearth_env){
	    .base = base,
	    .node_name = m->node.name,
	    .stopped = env_stopped,
	    .health_changed = env_health_changed,
	    .daemon = d,
	};
	for (size_t i = 0; i < N_MODULES; i++)
		d->mods[i].ops = module_table[i];
	d->model = hearth_model_ref(m);
	d->ready_check = event_new(base, -1, 0, ready_check_cb, d);
	d->drain_timer = event_new(base, -1, 0, drain_timeout_cb, d);
	if (d->ready_check == NULL || d->drain_timer == NULL)
		goto fail;
	if (m->metrics.enabled) {
		d->metrics = metrics_open(d, m);
		if (d->metrics == NULL)
			goto fail;
		d->metrics_cfg = m->metrics;
	}
	if (m->kubernetes.enabled)
		log_warnx("kubernetes.enabled: this build has no Kubernetes "
		          "source yet; serving the static configuration only");
	for (size_t i = 0; i < N_MODULES; i++) {
		struct module_slot *s = &d->mods[i];
		if (s->ops->wanted == NULL || !s->ops->wanted(m))
			continue;
		if (module_start(d, s, m) < 0)
			goto fail;
	}
	event_active(d->ready_check, 0, 0);
	return d;
fail:
	/* Undo what started (e.g. remove the nft table) before freeing. */
	for (size_t i = N_MODULES; i-- > 0;)
		if (d->mods[i].running && d->mods[i].ops->stop != NULL)
			d->mods[i].ops->stop(d->mods[i].state, 0);
	daemon_free(d);
	return NULL;
}

/* Undoes the first n module changes of a reload that failed. */
static void
reload_rollback(struct daemon *d, const struct hearth_model *old,
    const struct hearth_model *new, const bool *created, size_t n)
{
	for (size_t i = n; i-- > 0;) {
		struct module_slot *s = &d->mods[i];
		if (!s->running)
			continue;
		if (created[i])
			module_stop_now(s);
		else if (s->ops->wanted(old) && s->ops->wanted(new) &&
		    s->ops->apply(s->state, new, old) < 0)
			log_warnx("%s: could not return to the previous "
			          "configuration",
			    s->ops->name);
	}
}

/* Reopens the listener of the model in force after a refused reload. */
static void
metrics_restore(struct daemon *d, const struct hearth_model *old)
{
	if (old->metrics.enabled)
		d->metrics = metrics_open(d, old);
}

/* Applies new to every module, or to none. Takes a reference on success. */
static int
daemon_apply(struct daemon *d, struct hearth_model *new)
{
	struct hearth_model *old = d->model;
	struct metrics_http *metrics = NULL;
	bool created[N_MODULES] = {0};
	bool metrics_changed =
	    !metrics_cfg_equal(&d->metrics_cfg, &new->metrics);
	/* The old listener is closed first when the address may be reused. */
	bool reopen = metrics_changed && new->metrics.enabled;

	if (reopen) {
		metrics_http_free(d->metrics);
		d->metrics = NULL;
		metrics = metrics_open(d, new);
		if (metrics == NULL) {
			metrics_restore(d, old);
			return -EADDRINUSE;
		}
	}
	for (size_t i = 0; i < N_MODULES; i++) {
		struct module_slot *s = &d->mods[i];
		bool want = s->ops->wanted(new);
		int rc = 0;
		if (s->running && want)
			rc = s->ops->apply(s->state, old, new);
		else if (!s->running && want) {
			rc = module_start(d, s, new);
			created[i] = rc == 0;
		}
		if (rc < 0) {
			log_warnx("%s: refused the new configuration (%s); "
			          "keeping the running one",
			    s->ops->name, strerror(-rc));
			reload_rollback(d, old, new, created, i);
			if (reopen) {
				metrics_http_free(metrics);
				metrics_restore(d, old);
			}
			return rc;
		}
	}
	for (size_t i = N_MODULES; i-- > 0;) {
		struct module_slot *s = &d->mods[i];
		if (s->running && !s->ops->wanted(new))
			module_stop_now(s);
	}
	if (metrics_changed) {
		metrics_http_free(d->metrics);
		d->metrics = metrics;
		d->metrics_cfg = new->metrics;
	}
	d->model = hearth_model_ref(new);
	d->env.node_name = new->node.name;
	hearth_model_unref(old);
	return 0;
}

int
daemon_reload(struct daemon *d)
{
	struct hearth_config_errors errs = {0};
	int rc;

	if (d->stopping)
		return -ECANCELED;
	notify_reloading();
	log_info("reloading %s", d->opts.config_path);
	struct hearth_model *new =
	    hearth_config_load(d->opts.config_path, &errs);
	if (new == NULL) {
		for (size_t i = 0; i < errs.n; i++)
			log_warnx("%s:%d:%d: %s", errs.file, errs.v[i].pos.line,
			    errs.v[i].pos.col, errs.v[i].message);
		log_warnx("reload refused: %zu error(s) in %s; the running "
		          "configuration stays in force",
		    errs.n, d->opts.config_path);
		hearth_config_errors_free(&errs);
		d->reloads_failed++;
		notify_ready();
		return -EINVAL;
	}
	rc = daemon_apply(d, new);
	hearth_model_unref(new);
	if (rc < 0) {
		d->reloads_failed++;
		log_warnx("reload refused; the running configuration stays in "
		          "force");
	} else {
		d->reloads_ok++;
		d->last_reload_ok = time(NULL);
		log_info("configuration reloaded");
	}
	notify_ready();
	return rc;
}

void
daemon_stop(struct daemon *d)
{
	if (d->stopping) {
		log_warnx("second stop request: stopping now");
		event_del(d->drain_timer);
		daemon_finish(d);
		return;
	}
	d->stopping = true;
	notify_stopping();
	log_info("stopping");
	metrics_http_free(d->metrics);
	d->metrics = NULL;
	unsigned drain = d->model->proxy.drain_seconds;
	for (size_t i = N_MODULES; i-- > 0;) {
		struct module_slot *s = &d->mods[i];
		if (!s->running || s->ops->stop == NULL)
			continue;
		if (s->ops->stop(s->state, drain) == 1) {
			s->draining = true;
			d->draining++;
		}
	}
	if (d->draining == 0) {
		daemon_finish(d);
		return;
	}
	struct timeval tv = {.tv_sec = drain + 1};
	event_add(d->drain_timer, &tv);
}

void
daemon_free(struct daemon *d)
{
	if (d == NULL)
		return;
	for (size_t i = N_MODULES; i-- > 0;)
		if (d->mods[i].running)
			module_destroy(&d->mods[i]);
	metrics_http_free(d->metrics);
	if (d->ready_check != NULL)
		event_free(d->ready_check);
	if (d->drain_timer != NULL)
		event_free(d->drain_timer);
	hearth_model_unref(d->model);
	free(d);
}
