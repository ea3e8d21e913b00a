/*
 * The daemon: owns the event base, the model in force and the modules.
 * The model in force is built from sources: today the configuration file;
 * in Kubernetes mode also the API server's objects (kube/), merged by
 * daemon_model_compose() into one immutable model that every module gets.
 */
#ifndef HEARTH_DAEMON_H
#define HEARTH_DAEMON_H

#include <stdbool.h>

#include <event2/buffer.h>
#include <event2/event.h>

#include "model.h"

struct daemon;

struct daemon_options {
	const char *config_path;
	bool foreground;
};

/*
 * Creates the daemon on base with model m (borrowed reference taken):
 * creates every wanted module and the metrics endpoint. Returns NULL
 * after logging the resource that could not be had.
 */
struct daemon *daemon_new(struct event_base *base,
    const struct daemon_options *opts, struct hearth_model *m);
/* Reloads the configuration file; the running model stays on any error. */
int daemon_reload(struct daemon *d);
/* Begins the graceful stop; the event loop exits when it has finished. */
void daemon_stop(struct daemon *d);
/* True once every module reports it is serving. */
bool daemon_ready(const struct daemon *d);
void daemon_free(struct daemon *d);

/* OS glue: systemd notification (no-op without NOTIFY_SOCKET). */
void notify_ready(void);
void notify_reloading(void);
void notify_stopping(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * OS glue, in two steps around the modules' creation. First, before any
 * module starts a thread: narrow the bounding set to CAP_NET_ADMIN,
 * CAP_NET_RAW, CAP_NET_BIND_SERVICE and set no_new_privs; both are per
 * thread, so every thread created afterwards inherits them.
 */
int privdrop_prepare(void);
/* Then: become user keeping just those three (every thread changes user). */
int privdrop_run_as(const char *user);

/* The metrics endpoint: GET /metrics (Prometheus text) and /healthz. */
struct metrics_http;
typedef void (*metrics_http_fill_cb)(struct evbuffer *out, void *arg);
typedef bool (*metrics_http_health_cb)(void *arg);
struct metrics_http *metrics_http_new(struct event_base *base,
    const struct hearth_endpoint *listen, metrics_http_fill_cb fill,
    metrics_http_health_cb health, void *arg);
void metrics_http_free(struct metrics_http *h);

#endif
