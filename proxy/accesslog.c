/*
 * The access log (proxy.access_log, an extension; see README.md): one
 * line per answered request, JSON (the default) or text, handed to
 * core's line log, whose writer thread writes the file; a worker only
 * formats the line and appends it to its own buffer, never waits.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "linelog.h"
#include "proxy_int.h"

#define LINE_MAX_BYTES 4096

/* s as text-log content: quote, backslash, space and bytes outside
 * printable ASCII as \xHH; "-" when empty. */
static void
text_escape(char *out, size_t cap, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (s == NULL || *s == '\0')
		s = "-";
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;
		bool esc = c <= 0x20 || c >= 0x7f || c == '"' || c == '\\';
		if (o + (esc ? 4 : 1) >= cap)
			break;
		if (esc) {
			memcpy(out + o, "\\x", 2);
			out[o + 2] = hex[c >> 4];
			out[o + 3] = hex[c & 15];
			o += 4;
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

/* s as a JSON value: a quoted string, or null when NULL or empty. */
static void
json_value(char *out, size_t cap, const char *s)
{
	if (s == NULL || *s == '\0') {
		snprintf(out, cap, "null");
		return;
	}
	out[0] = '"';
	size_t n = hearth_json_escape(out + 1, cap - 2, s, strlen(s));
	out[n + 1] = '"';
	out[n + 2] = '\0';
}

static int
format_json(char *line, size_t cap, const char *ts,
    const struct proxy_access *a, const char *be)
{
	char method[40], host[400], path[800], route[400], backend[80],
	    up[24] = "null";
	json_value(method, sizeof(method), a->method);
	json_value(host, sizeof(host), a->host);
	json_value(path, sizeof(path), a->path);
	json_value(route, sizeof(route), a->route);
	json_value(backend, sizeof(backend), be);
	if (a->upstream_ms >= 0)
		snprintf(up, sizeof(up), "%" PRId64, a->upstream_ms);
	return snprintf(line, cap,
	    "{\"ts\":\"%s\",\"client\":\"%s\",\"tls\":%s,\"method\":%s,"
	    "\"host\":%s,\"path\":%s,\"status\":%u,\"bytes\":%" PRIu64 ","
	    "\"route\":%s,\"backend\":%s,\"upstream_ms\":%s,\"ms\":%" PRId64
	    "}\n",
	    ts, a->client, a->tls ? "true" : "false", method, host, path,
	    a->status, a->bytes, route, backend, up, a->ms);
}

static int
format_text(char *line, size_t cap, const char *ts,
    const struct proxy_access *a, const char *be)
{
	char method[64], host[512], path[1024], route[512], up[24] = "-";
	text_escape(method, sizeof(method), a->method);
	text_escape(host, sizeof(host), a->host);
	text_escape(path, sizeof(path), a->path);
	text_escape(route, sizeof(route), a->route);
	if (a->upstream_ms >= 0)
		snprintf(up, sizeof(up), "%" PRId64, a->upstream_ms);
	return snprintf(line, cap,
	    "%s %s \"%s %s\" %u %" PRIu64 " host=%s route=%s backend=%s "
	    "upstream_ms=%s ms=%" PRId64 " tls=%s\n",
	    ts, a->client, method, path, a->status, a->bytes, host, route,
	    be != NULL && *be != '\0' ? be : "-", up, a->ms,
	    a->tls ? "yes" : "no");
}

void
proxy_access_log(struct proxy_worker *w, const struct proxy_conf *conf,
    const struct proxy_access *a)
{
	struct hearth_linelog *l =
	    __atomic_load_n(&w->mod->access_log, __ATOMIC_ACQUIRE);
	if (l == NULL || conf->p->access_log == NULL)
		return;
	char ts[40], be[HEARTH_ENDPOINT_STRLEN] = "", line[LINE_MAX_BYTES];
	hearth_linelog_time(ts, sizeof(ts));
	if (a->backend != NULL)
		hearth_endpoint_str(a->backend, be, sizeof(be));
	int n = conf->p->access_log_format == HEARTH_ACCESS_LOG_TEXT ?
	    format_text(line, sizeof(line), ts, a, be) :
	    format_json(line, sizeof(line), ts, a, be);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(line)) { /* cut: still one whole line */
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	hearth_linelog_write(l, w->id, line, (size_t)n);
}
