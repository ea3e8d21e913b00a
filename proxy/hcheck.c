/*
 * Active health checks, the pure part (see hcheck.h): a small state
 * machine with hysteresis, the request line and the verdict on the
 * answer, read with the proxy's own response parser.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "hcheck.h"
#include "http.h"

void
proxy_hc_sm_init(struct proxy_hc_sm *sm)
{
	sm->up = true;
	sm->run = 0;
}

bool
proxy_hc_sm_feed(struct proxy_hc_sm *sm, bool passed, uint32_t unhealthy_after,
    uint32_t healthy_after)
{
	if (passed == sm->up) {
		sm->run = 0;
		return false;
	}
	sm->run++;
	if (sm->run < (sm->up ? unhealthy_after : healthy_after))
		return false;
	sm->up = !sm->up;
	sm->run = 0;
	return true;
}

int
proxy_hc_request(char *buf, size_t len, const char *host, const char *path)
{
	int n = snprintf(buf, len,
	    "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: hearth-health-check\r\n"
	    "Accept: */*\r\nConnection: close\r\n\r\n",
	    path, host);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

enum proxy_hc_verdict
proxy_hc_judge(const char *buf, size_t len,
    const struct hearth_proxy_health_check *hc, unsigned *status)
{
	struct proxy_http_header hdrs[128];
	struct proxy_http_msg msg = {.headers = hdrs,
	    .cap_headers = sizeof(hdrs) / sizeof(*hdrs)};
	struct proxy_http_limits lim = {.max_header_bytes = PROXY_HC_MAX_HEAD,
	    .max_headers = msg.cap_headers};
	*status = 0;
	ssize_t r = proxy_http_parse_response(buf, len, &lim, false, &msg);
	if (r == PROXY_HTTP_INCOMPLETE)
		return len >= PROXY_HC_MAX_HEAD ? PROXY_HC_FAIL : PROXY_HC_MORE;
	if (r < 0)
		return PROXY_HC_FAIL;
	*status = msg.status;
	/* An interim 1xx is not the answer, unless 1xx is what is expected. */
	if (msg.status < 200 && hc->expect_min >= 200)
		return PROXY_HC_FAIL;
	return msg.status >= hc->expect_min && msg.status <= hc->expect_max ?
	    PROXY_HC_PASS :
	    PROXY_HC_FAIL;
}

const char *
proxy_hc_route_host(const struct hearth_proxy_route *r)
{
	for (size_t i = 0; i < r->n_hostnames; i++)
		if (r->hostnames[i][0] != '*')
			return r->hostnames[i];
	return NULL;
}
