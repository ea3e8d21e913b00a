/*
 * Line logs: each event-loop thread appends to its own shard's buffer
 * under that shard's mutex (only ever contended by the writer's swap);
 * the writer thread swaps each shard's buffer for an empty one and
 * writes the full one to the file. A reopen marks in each buffer where
 * the old file's lines end, so the lines logged before it go there. The writer
 * batches: after a round that wrote something it waits FLUSH_MS (or a shard
 * past KICK_BYTES) before the next; after a round that wrote nothing it sleeps
 * until the next line, so an idle daemon has no timer and a busy one costs no
 * wake-up per line.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "linelog.h"

#define FLUSH_MS   100
#define KICK_BYTES (64u * 1024)
#define NO_FD      (-2) /* next_fd: no reopen pending */

struct shard {
	pthread_mutex_t mu;
	char *buf; /* appended to by the shard's thread */
	size_t len, cap;
	uint64_t dropped;
	size_t cut; /* bytes of buf before a pending reopen */
	bool has_cut;
	char *wbuf; /* the writer's: the buffer being written */
	size_t wcap, wlen, wcut;
} __attribute__((aligned(64)));

struct hearth_linelog {
	pthread_mutex_t mu; /* guards what follows up to fd */
	pthread_cond_t cond;
	bool idle; /* atomic too: the writer sleeps until woken */
	bool kicked, quit;
	int next_fd;
	int fd; /* the writer's */
	pthread_t thread;
	void (*thread_init)(void);
	uint64_t write_dropped; /* atomic */
	unsigned n;
	struct shard *shards;
};

static int
open_file(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	return fd < 0 ? -errno : fd;
}

static size_t
count_lines(const char *b, size_t n)
{
	size_t k = 0;
	for (const char *p = b; (p = memchr(p, '\n', n - (size_t)(p - b))); p++)
		k++;
	return k;
}

/* Writes n bytes of b to the file; lines it refuses are counted. */
static void
write_out(struct hearth_linelog *l, const char *b, size_t n)
{
	size_t off = 0;
	while (off < n && l->fd >= 0) {
		ssize_t w = write(l->fd, b + off, n - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off < n && l->fd >= 0)
		__atomic_add_fetch(&l->write_dropped,
		    count_lines(b + off, n - off), __ATOMIC_RELAXED);
}

/*
 * Under l->mu: takes every shard's lines for this round (the writer's
 * buffer goes back empty), with the cut a reopen made. Whether any.
 */
static bool
take_all(struct hearth_linelog *l)
{
	bool any = false;
	for (unsigned i = 0; i < l->n; i++) {
		struct shard *s = &l->shards[i];
		pthread_mutex_lock(&s->mu);
		char *b = s->buf;
		size_t cap = s->cap;
		s->wlen = s->len;
		s->wcut = s->has_cut ? s->cut : s->len;
		s->has_cut = false;
		if (s->len > 0) {
			s->buf = s->wbuf;
			s->cap = s->wcap;
			s->len = 0;
			s->wbuf = b;
			s->wcap = cap;
			any = true;
		}
		pthread_mutex_unlock(&s->mu);
	}
	return any;
}

/* Writes what take_all took: the lines before a reopen's cut to the old
 * file, then switches to nfd (NO_FD: no reopen), then the rest. */
static void
write_all(struct hearth_linelog *l, int nfd)
{
	for (unsigned i = 0; i < l->n; i++)
		write_out(l, l->shards[i].wbuf, l->shards[i].wcut);
	if (nfd != NO_FD) {
		if (l->fd >= 0)
			close(l->fd);
		l->fd = nfd;
	}
	for (unsigned i = 0; i < l->n; i++) {
		struct shard *s = &l->shards[i];
		write_out(l, s->wbuf + s->wcut, s->wlen - s->wcut);
	}
}

static bool
any_buffered(struct hearth_linelog *l)
{
	bool any = false;
	for (unsigned i = 0; i < l->n && !any; i++) {
		pthread_mutex_lock(&l->shards[i].mu);
		any = l->shards[i].len > 0;
		pthread_mutex_unlock(&l->shards[i].mu);
	}
	return any;
}

/* Under l->mu: waits for the next round (see the top of the file). */
static void
wait_round(struct hearth_linelog *l, bool wrote)
{
	if (l->quit || l->kicked)
		return;
	if (wrote) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += FLUSH_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		while (!l->quit && !l->kicked &&
		    pthread_cond_timedwait(&l->cond, &l->mu, &ts) == 0)
			;
		return;
	}
	/* idle is set before the shards are looked at: a line appended
	 * after the look sees it and wakes the writer. */
	__atomic_store_n(&l->idle, true, __ATOMIC_SEQ_CST);
	if (!any_buffered(l))
		while (__atomic_load_n(&l->idle, __ATOMIC_SEQ_CST) && !l->quit)
			pthread_cond_wait(&l->cond, &l->mu);
	__atomic_store_n(&l->idle, false, __ATOMIC_SEQ_CST);
}

static void *
writer_main(void *arg)
{
	struct hearth_linelog *l = arg;
	bool wrote = false;
	if (l->thread_init != NULL)
		l->thread_init();
	for (;;) {
		pthread_mutex_lock(&l->mu);
		wait_round(l, wrote);
		l->kicked = false;
		int nfd = l->next_fd;
		l->next_fd = NO_FD;
		bool quit = l->quit;
		wrote = take_all(l);
		pthread_mutex_unlock(&l->mu);
		write_all(l, nfd);
		if (quit)
			break;
	}
	return NULL;
}

static void
wake(struct hearth_linelog *l)
{
	pthread_mutex_lock(&l->mu);
	__atomic_store_n(&l->idle, false, __ATOMIC_SEQ_CST);
	l->kicked = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
}

static void
free_shards(struct hearth_linelog *l)
{
	for (unsigned i = 0; l->shards != NULL && i < l->n; i++) {
		pthread_mutex_destroy(&l->shards[i].mu);
		free(l->shards[i].buf);
		free(l->shards[i].wbuf);
	}
	free(l->shards);
}

struct hearth_linelog *
hearth_linelog_open(const char *path, unsigned n_shards,
    void (*thread_init)(void))
{
	struct hearth_linelog *l = calloc(1, sizeof(*l));
	if (l == NULL)
		return NULL;
	l->n = n_shards ? n_shards : 1;
	l->shards = aligned_alloc(64, sizeof(*l->shards) * l->n);
	l->fd = open_file(path);
	if (l->shards == NULL || l->fd < 0) {
		int e = l->fd < 0 ? -l->fd : ENOMEM;
		if (l->fd >= 0)
			close(l->fd);
		free(l->shards);
		free(l);
		errno = e;
		return NULL;
	}
	memset(l->shards, 0, sizeof(*l->shards) * l->n);
	for (unsigned i = 0; i < l->n; i++)
		pthread_mutex_init(&l->shards[i].mu, NULL);
	pthread_mutex_init(&l->mu, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cond, &ca);
	pthread_condattr_destroy(&ca);
	l->next_fd = NO_FD;
	l->thread_init = thread_init;
	int rc = pthread_create(&l->thread, NULL, writer_main, l);
	if (rc != 0) {
		close(l->fd);
		free_shards(l);
		pthread_mutex_destroy(&l->mu);
		pthread_cond_destroy(&l->cond);
		free(l);
		errno = rc;
		return NULL;
	}
	return l;
}

int
hearth_linelog_reopen(struct hearth_linelog *l, const char *path)
{
	int fd = path != NULL ? open_file(path) : -1;
	if (path != NULL && fd < 0)
		return fd;
	pthread_mutex_lock(&l->mu);
	if (l->next_fd != NO_FD) {
		/* A reopen the writer has not seen yet: its cut stays. */
		if (l->next_fd >= 0)
			close(l->next_fd);
	} else {
		for (unsigned i = 0; i < l->n; i++) {
			struct shard *s = &l->shards[i];
			pthread_mutex_lock(&s->mu);
			s->cut = s->len;
			s->has_cut = true;
			pthread_mutex_unlock(&s->mu);
		}
	}
	l->next_fd = fd;
	l->kicked = true;
	__atomic_store_n(&l->idle, false, __ATOMIC_SEQ_CST);
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	return 0;
}

void
hearth_linelog_close(struct hearth_linelog *l)
{
	if (l == NULL)
		return;
	pthread_mutex_lock(&l->mu);
	l->quit = true;
	pthread_cond_signal(&l->cond);
	pthread_mutex_unlock(&l->mu);
	pthread_join(l->thread, NULL);
	if (l->next_fd >= 0)
		close(l->next_fd);
	if (l->fd >= 0)
		close(l->fd);
	free_shards(l);
	pthread_mutex_destroy(&l->mu);
	pthread_cond_destroy(&l->cond);
	free(l);
}

/* Grows s's buffer to hold need bytes, within the bound. */
static bool
grow(struct shard *s, size_t need)
{
	if (need > HEARTH_LINELOG_SHARD_MAX)
		return false;
	size_t nc = s->cap ? s->cap : 16384;
	while (nc < need)
		nc *= 2;
	if (nc > HEARTH_LINELOG_SHARD_MAX)
		nc = HEARTH_LINELOG_SHARD_MAX;
	char *nb = realloc(s->buf, nc);
	if (nb == NULL)
		return false;
	s->buf = nb;
	s->cap = nc;
	return true;
}

int
hearth_linelog_write(struct hearth_linelog *l, unsigned shard, const char *line,
    size_t len)
{
	struct shard *s = &l->shards[shard % l->n];
	int rc = 0;
	bool kick = false;
	pthread_mutex_lock(&s->mu);
	if (s->len + len > s->cap && !grow(s, s->len + len)) {
		s->dropped++;
		rc = -ENOBUFS;
	} else {
		memcpy(s->buf + s->len, line, len);
		kick = s->len < KICK_BYTES && s->len + len >= KICK_BYTES;
		s->len += len;
	}
	pthread_mutex_unlock(&s->mu);
	if (kick || __atomic_load_n(&l->idle, __ATOMIC_SEQ_CST))
		wake(l);
	return rc;
}

uint64_t
hearth_linelog_dropped(const struct hearth_linelog *l)
{
	uint64_t n = __atomic_load_n(&l->write_dropped, __ATOMIC_RELAXED);
	for (unsigned i = 0; i < l->n; i++) {
		struct shard *s = &l->shards[i];
		pthread_mutex_lock(&s->mu);
		n += s->dropped;
		pthread_mutex_unlock(&s->mu);
	}
	return n;
}

size_t
hearth_linelog_time(char *buf, size_t cap)
{
	/* The date part changes once a second: formatted then. */
	static _Thread_local time_t last = -1;
	static _Thread_local char date[24];
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	if (now.tv_sec != last) {
		struct tm tm;
		gmtime_r(&now.tv_sec, &tm);
		strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
		last = now.tv_sec;
	}
	int n = snprintf(buf, cap, "%s.%03ldZ", date, now.tv_nsec / 1000000);
	return n < 0 ? 0 : (size_t)n < cap ? (size_t)n : cap ? cap - 1 : 0;
}

size_t
hearth_json_escape(char *out, size_t cap, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	if (cap == 0)
		return 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\') {
			if (o + 2 >= cap)
				break;
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20 || c >= 0x7f) {
			if (o + 6 >= cap)
				break;
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 15];
			o += 6;
		} else {
			if (o + 1 >= cap)
				break;
			out[o++] = (char)c;
		}
	}
	out[o] = '\0';
	return o;
}
