/*
 * The query log: one JSON object per line, through core's line log (a
 * memory buffer the answer path appends to, written to the file by a
 * writer thread, so a slow disk never delays an answer; past a bound
 * lines are dropped instead of the buffer growing).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "linelog.h"
#include "log.h"
#include "server.h"

struct dns_qlog {
	struct hearth_linelog *ll;
};

struct dns_qlog *
dns_qlog_open(const char *path)
{
	struct dns_qlog *ql = calloc(1, sizeof(*ql));
	if (ql == NULL)
		return NULL;
	ql->ll = hearth_linelog_open(path, 1, dns_thread_drop_caps);
	if (ql->ll == NULL) {
		free(ql);
		return NULL;
	}
	return ql;
}

void
dns_qlog_close(struct dns_qlog *ql)
{
	if (ql == NULL)
		return;
	hearth_linelog_close(ql->ll);
	free(ql);
}

void
dns_qlog_write(struct dns_qlog *ql, const struct dns_query *q,
    const struct dns_result *res, const struct hearth_addr *src, bool tcp,
    double ms)
{
	char name[1024], ename[2100], addr[INET6_ADDRSTRLEN], ts[40],
	    line[2600];
	char view[140];
	hearth_linelog_time(ts, sizeof(ts));
	if (q->qname != NULL)
		dns_name_to_str(q->qname, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", "");
	hearth_json_escape(ename, sizeof(ename), name, strlen(name));
	hearth_json_escape(view, sizeof(view), res->view, strlen(res->view));
	hearth_addr_str(src, addr, sizeof(addr));
	int n = snprintf(line, sizeof(line),
	    "{\"ts\":\"%s\",\"client\":\"%s\",\"proto\":\"%s\","
	    "\"qname\":\"%s\",\"qtype\":%u,\"rcode\":%u,\"view\":\"%s\","
	    "\"cached\":%s,\"truncated\":%s,\"ms\":%.3f}\n",
	    ts, addr, tcp ? "tcp" : "udp", ename, q->qtype, res->rcode, view,
	    res->from_cache ? "true" : "false",
	    res->truncated ? "true" : "false", ms);
	if (n <= 0 || (size_t)n >= sizeof(line))
		return;
	hearth_linelog_write(ql->ll, 0, line, (size_t)n);
}
