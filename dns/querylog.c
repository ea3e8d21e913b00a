/*
 * The query log: one JSON object per line. The answer path only appends
 * to a memory buffer under a mutex; a writer thread flushes it to the
 * file, so a slow disk never delays an answer. Past a bound the buffer
 * drops lines (counted in the next line written) instead of growing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "server.h"

#define QLOG_MAX_BUFFER (4 << 20)

struct dns_qlog {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t thread;
	int fd;
	bool quit;
	char *buf;
	size_t len, cap;
	uint64_t lost;
};

static void *
qlog_main(void *arg)
{
	struct dns_qlog *ql = arg;
	dns_thread_drop_caps();
	pthread_mutex_lock(&ql->lock);
	for (;;) {
		while (ql->len == 0 && !ql->quit)
			pthread_cond_wait(&ql->cond, &ql->lock);
		if (ql->len == 0 && ql->quit)
			break;
		char *b = ql->buf;
		size_t n = ql->len;
		ql->buf = NULL;
		ql->len = ql->cap = 0;
		pthread_mutex_unlock(&ql->lock);
		for (size_t off = 0; off < n;) {
			ssize_t w = write(ql->fd, b + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			off += (size_t)w;
		}
		free(b);
		pthread_mutex_lock(&ql->lock);
	}
	pthread_mutex_unlock(&ql->lock);
	return NULL;
}

struct dns_qlog *
dns_qlog_open(const char *path)
{
	struct dns_qlog *ql = calloc(1, sizeof(*ql));
	if (ql == NULL)
		return NULL;
	ql->fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (ql->fd < 0) {
		free(ql);
		return NULL;
	}
	pthread_mutex_init(&ql->lock, NULL);
	pthread_cond_init(&ql->cond, NULL);
	if (pthread_create(&ql->thread, NULL, qlog_main, ql) != 0) {
		close(ql->fd);
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
	pthread_mutex_lock(&ql->lock);
	ql->quit = true;
	pthread_cond_signal(&ql->cond);
	pthread_mutex_unlock(&ql->lock);
	pthread_join(ql->thread, NULL);
	pthread_mutex_destroy(&ql->lock);
	pthread_cond_destroy(&ql->cond);
	free(ql->buf);
	close(ql->fd);
	free(ql);
}

/* Copies s into out as JSON string content. */
static void
json_escape(const char *s, char *out, size_t cap)
{
	size_t o = 0;
	for (; *s && o + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			o += (size_t)snprintf(out + o, cap - o, "\\u%04x", c);
		} else {
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
}

void
dns_qlog_write(struct dns_qlog *ql, const struct dns_query *q,
    const struct dns_result *res, const struct hearth_addr *src, bool tcp,
    double ms)
{
	char name[1024], ename[2100], addr[INET6_ADDRSTRLEN], ts[40],
	    line[2600];
	char view[140];
	struct timespec now;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	size_t tl = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + tl, sizeof(ts) - tl, ".%03ldZ", now.tv_nsec / 1000000);
	if (q->qname != NULL)
		dns_name_to_str(q->qname, name, sizeof(name));
	else
		snprintf(name, sizeof(name), "%s", "");
	json_escape(name, ename, sizeof(ename));
	json_escape(res->view, view, sizeof(view));
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
	pthread_mutex_lock(&ql->lock);
	if (ql->len + (size_t)n > QLOG_MAX_BUFFER) {
		ql->lost++;
		goto out;
	}
	if (ql->len + (size_t)n > ql->cap) {
		size_t nc = ql->cap ? ql->cap * 2 : 65536;
		while (nc < ql->len + (size_t)n)
			nc *= 2;
		char *nb = realloc(ql->buf, nc);
		if (nb == NULL) {
			ql->lost++;
			goto out;
		}
		ql->buf = nb;
		ql->cap = nc;
	}
	memcpy(ql->buf + ql->len, line, (size_t)n);
	ql->len += (size_t)n;
	pthread_cond_signal(&ql->cond);
out:
	pthread_mutex_unlock(&ql->lock);
}
