/*
 * One running announcer: the sockets, timers and election for one shape
 * of configuration (node name, interface, members, port). The module
 * keeps one and replaces it when the shape changes; anything else (VIPs,
 * key, timers, quorum, rebalance) is updated in place. Internal.
 */
#ifndef HEARTH_L2_ANNOUNCER_H
#define HEARTH_L2_ANNOUNCER_H

#include <event2/buffer.h>

#include "module.h"

struct l2_announcer;

/* Opens everything for model m; logs one line naming the failure. */
struct l2_announcer *l2_announcer_new(struct hearth_env *env,
    const struct hearth_model *m);
/* True when m can be applied in place (same shape). */
bool l2_announcer_same_shape(const struct l2_announcer *a,
    const struct hearth_model *m);
/* Applies m in place, whole or not at all; 0 or -errno. */
int l2_announcer_update(struct l2_announcer *a, const struct hearth_model *m);
/* Stops answering and tells the peers it leaves. */
void l2_announcer_stop(struct l2_announcer *a);
void l2_announcer_free(struct l2_announcer *a);
enum hearth_health l2_announcer_health(struct l2_announcer *a);
void l2_announcer_metrics(struct l2_announcer *a, struct evbuffer *out);

#endif
