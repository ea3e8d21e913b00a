/*
 * Active health checks, the pure part: the up/down state machine of one
 * checked backend (down after unhealthy_after failed checks in a row, up
 * again after healthy_after passed ones), the check request, the verdict
 * on a response head, and the Host a route's backends are checked with.
 * The I/O (timers, sockets, shared state) is in health.c.
 */
#ifndef HEARTH_PROXY_HCHECK_H
#define HEARTH_PROXY_HCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

/* One backend's verdict; a backend starts up. */
struct proxy_hc_sm {
	bool up;
	uint32_t run; /* results in a row that disagree with up */
};

void proxy_hc_sm_init(struct proxy_hc_sm *sm);

/* Feeds one check result; returns true when up flipped. */
bool proxy_hc_sm_feed(struct proxy_hc_sm *sm, bool passed,
    uint32_t unhealthy_after, uint32_t healthy_after);

/*
 * Writes the check request (GET path, Host host, Connection: close) into
 * buf; returns its length, or -ENOSPC when it does not fit.
 */
int proxy_hc_request(char *buf, size_t len, const char *host, const char *path);

/* The verdict on a response head. */
enum proxy_hc_verdict {
	PROXY_HC_MORE = 0, /* incomplete: read more */
	PROXY_HC_PASS,     /* status within [expect_min, expect_max] */
	PROXY_HC_FAIL,     /* another status, or not HTTP */
};

#define PROXY_HC_MAX_HEAD 16384 /* a longer head fails the check */

/*
 * Judges the bytes a backend answered so far; *status gets the code
 * (0 when there is none).
 */
enum proxy_hc_verdict proxy_hc_judge(const char *buf, size_t len,
    const struct hearth_proxy_health_check *hc, unsigned *status);

/* The Host for checks of route r: its first exact name, or NULL. */
const char *proxy_hc_route_host(const struct hearth_proxy_route *r);

#endif
