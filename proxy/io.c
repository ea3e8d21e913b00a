/*
 * A proxy socket's I/O (see io.h). One persistent read event per socket,
 * added once and kept across requests (no epoll change per request); a
 * write event only while output is left over. Reads are sized from what
 * the last read brought (no FIONREAD before each read), output is
 * written as soon as it is produced.
 *
 * TLS is driven directly on the socket through a BIO of our own: its
 * read side reads the socket with OpenSSL's read-ahead and remembers
 * when a read came back short (the socket is empty: no read just to see
 * EAGAIN after each record) until the event loop says readable again;
 * its write side collects records in a buffer that one writev sends,
 * many records at a time.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/uio.h>
#include <unistd.h>

#include <openssl/err.h>

#include <event2/event_struct.h>

#include "io.h"

#define IO_READ_MIN   16384        /* first read of a socket */
#define IO_READ_MAX   (256 * 1024) /* largest single read */
#define TLS_PLAIN_MAX 16384        /* plaintext per SSL_write call */
#define TLS_RAW_AHEAD (256 * 1024) /* records encrypted ahead of the socket */

struct proxy_io {
	struct event_base *base;
	int fd;
	SSL *ssl;
	struct event rev, wev;
	struct evbuffer *in, *out;
	struct evbuffer *raw_in;  /* TLS: bytes read before the handshake */
	struct evbuffer *raw_out; /* TLS: records not yet on the socket */
	struct evbuffer_cb_entry *in_cb;
	proxy_io_cb *read_cb, *write_cb;
	proxy_io_event_cb *event_cb;
	void *arg;
	size_t read_high, write_low, read_size;
	struct timeval idle;
	int err;        /* a write error, reported from the loop */
	bool has_idle;  /* idle is set */
	bool reading;   /* the user wants input */
	bool throttled; /* the input is at read_high */
	bool rev_added, wev_added;
	bool connecting, handshaking;
	bool shut_want, shut_done; /* proxy_io_shutdown asked; FIN sent */
	bool notify_done;          /* TLS close_notify made */
	bool drained;     /* a read came back short: empty until readable */
	bool eof;         /* the peer's FIN was read */
	bool tls_more;    /* OpenSSL holds whole records not yet read */
	bool peer_closed; /* epoll saw the peer's FIN or reset (EV_CLOSED):
	                   * a short read no longer means empty */
	bool *dead;       /* set when freed from a callback */
	/* TLS: OpenSSL's buffers kept between requests (see io_sweep) */
	bool served;     /* application data was written */
	bool held, used; /* on the sweep list; active since its last run */
	TAILQ_ENTRY(proxy_io) held_link;
};

static void update_read(struct proxy_io *io);

/*
 * OpenSSL wants the thread's error queue empty before an I/O call whose
 * result SSL_get_error explains. ERR_clear_error walks and frees all 16
 * slots every time (about 800 instructions); the queue is nearly always
 * empty already (every failure below clears it), so look first.
 */
static inline void
err_reset(void)
{
	if (ERR_peek_error() != 0)
		ERR_clear_error();
}

/*
 * OpenSSL's read and write buffers (about 17 KiB each) are given back
 * when a TLS connection goes idle, so that idle connections cost little.
 * Until a connection has served a response, OpenSSL does that itself as
 * soon as a buffer is empty (SSL_MODE_RELEASE_BUFFERS, set on the
 * context), so handshakes hold as little as they can. After that the
 * mode is turned off and the buffers stay while the connection is busy:
 * the worker's sweep, every BUF_IDLE_MS, frees those of connections that
 * had nothing to do since its last run (and turns the mode back on), so
 * a keep-alive connection does not free and allocate both buffers for
 * every request.
 */
#define BUF_IDLE_MS 500

struct io_sweep {
	struct event *ev;
	TAILQ_HEAD(, proxy_io) held;
};
static _Thread_local struct io_sweep *sweep; /* one per worker thread */

static void
unhold(struct proxy_io *io)
{
	if (io->held) {
		TAILQ_REMOVE(&sweep->held, io, held_link);
		io->held = false;
	}
}

/* Frees OpenSSL's buffers now; false if it holds unread records. */
static bool
release_buffers(struct proxy_io *io)
{
	if (SSL_has_pending(io->ssl) || SSL_free_buffers(io->ssl) != 1)
		return false;
	SSL_set_mode(io->ssl, SSL_MODE_RELEASE_BUFFERS);
	return true;
}

static void
sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_io *io, *next;
	for (io = TAILQ_FIRST(&sweep->held); io != NULL; io = next) {
		next = TAILQ_NEXT(io, held_link);
		if (io->used)
			io->used = false;
		else if (release_buffers(io))
			unhold(io);
	}
	if (!TAILQ_EMPTY(&sweep->held)) {
		static const struct timeval tv = {0, BUF_IDLE_MS * 1000};
		evtimer_add(sweep->ev, &tv);
	}
}

/* The socket is empty and OpenSSL waits for more: free or keep. */
static void
tls_idle(struct proxy_io *io)
{
	io->used = true;
	if (io->held)
		return;
	if (!io->served ||
	    (sweep == NULL && (sweep = calloc(1, sizeof(*sweep))) == NULL)) {
		release_buffers(io);
		return;
	}
	if (sweep->ev == NULL) {
		TAILQ_INIT(&sweep->held);
		sweep->ev = evtimer_new(io->base, sweep_cb, NULL);
		if (sweep->ev == NULL) {
			release_buffers(io);
			return;
		}
	}
	if (TAILQ_EMPTY(&sweep->held)) {
		static const struct timeval tv = {0, BUF_IDLE_MS * 1000};
		evtimer_add(sweep->ev, &tv);
	}
	TAILQ_INSERT_TAIL(&sweep->held, io, held_link);
	io->held = true;
	SSL_clear_mode(io->ssl, SSL_MODE_RELEASE_BUFFERS);
}

void
proxy_io_thread_done(void)
{
	if (sweep == NULL)
		return;
	if (sweep->ev != NULL)
		event_free(sweep->ev);
	free(sweep);
	sweep = NULL;
}

/* The BIO between OpenSSL and the socket. */

static int
bio_write(BIO *b, const char *data, int len)
{
	struct proxy_io *io = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (evbuffer_add(io->raw_out, data, (size_t)len) != 0)
		return -1;
	return len;
}

static int
bio_read(BIO *b, char *buf, int len)
{
	struct proxy_io *io = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (io->raw_in != NULL && evbuffer_get_length(io->raw_in) > 0)
		return evbuffer_remove(io->raw_in, buf, (size_t)len);
	if (io->eof)
		return 0;
	if (io->drained) {
		BIO_set_retry_read(b);
		return -1;
	}
	ssize_t r;
	do
		r = recv(io->fd, buf, (size_t)len, 0);
	while (r < 0 && errno == EINTR);
	if (r > 0) {
		/* Short: empty now, unless a FIN or reset waits behind. */
		if (r < len && !io->peer_closed)
			io->drained = true;
		return (int)r;
	}
	if (r == 0) {
		io->eof = true;
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK) {
		io->drained = true;
		BIO_set_retry_read(b);
	} else {
		io->err = errno;
	}
	return -1;
}

static long
bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	struct proxy_io *io = BIO_get_data(b);
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_EOF:
		return io != NULL && io->eof;
	case BIO_CTRL_PENDING:
		return io != NULL && io->raw_in != NULL ?
		    (long)evbuffer_get_length(io->raw_in) :
		    0;
	case BIO_CTRL_WPENDING:
		return io != NULL ? (long)evbuffer_get_length(io->raw_out) : 0;
	default:
		return 0;
	}
}

static int
bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static void
bio_method_init(void)
{
	BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "hearth proxy");
	if (m == NULL)
		return;
	BIO_meth_set_write(m, bio_write);
	BIO_meth_set_read(m, bio_read);
	BIO_meth_set_ctrl(m, bio_ctrl);
	BIO_meth_set_create(m, bio_create);
	bio_method = m;
}

/* Events. */

/* Runs cb-calling code; false when the io was freed meanwhile. */
#define GUARD_BEGIN(io)                                                        \
	bool dead_ = false, *outer_ = (io)->dead;                              \
	(io)->dead = &dead_
#define ALIVE(io) (!dead_)
#define GUARD_END(io)                                                          \
	do {                                                                   \
		if (!dead_)                                                    \
			(io)->dead = outer_;                                   \
		else if (outer_ != NULL)                                       \
			*outer_ = true;                                        \
	} while (0)

static void
set_wev(struct proxy_io *io, bool on)
{
	if (on && !io->wev_added) {
		event_add(&io->wev, NULL);
		io->wev_added = true;
	} else if (!on && io->wev_added) {
		event_del(&io->wev);
		io->wev_added = false;
	}
}

/* Input the socket will not signal again: OpenSSL's buffered records,
 * or what was read before the handshake. */
static bool
tls_has_input(const struct proxy_io *io)
{
	return io->ssl != NULL &&
	    (io->tls_more ||
	        (io->raw_in != NULL && evbuffer_get_length(io->raw_in) > 0));
}

/*
 * Runs the read handler from the loop without news from the socket. It is
 * marked EV_SIGNAL, which epoll never reports for a socket, so news that
 * arrives in the same loop iteration (EV_READ added to it) is not lost.
 */
#define IO_KICK EV_SIGNAL
static void
kick(struct proxy_io *io)
{
	event_active(&io->rev, IO_KICK, 1);
}

static bool
can_read(const struct proxy_io *io)
{
	return io->reading && !io->throttled && !io->eof && !io->connecting &&
	    io->err == 0;
}

/*
 * The read event is edge-triggered and stays registered while reading
 * pauses (no epoll change for backpressure or between requests): news
 * meanwhile only marks the socket as not drained, and resuming reads
 * again if it is not, or if OpenSSL holds records the socket will not
 * signal again.
 */
static void
update_read(struct proxy_io *io)
{
	if (io->eof || io->err != 0) {
		if (io->rev_added) {
			event_del(&io->rev);
			io->rev_added = false;
		}
		return;
	}
	if (!can_read(io))
		return;
	if (!io->rev_added) {
		event_add(&io->rev, io->has_idle ? &io->idle : NULL);
		io->rev_added = true;
		if (tls_has_input(io))
			kick(io);
	} else if (!io->drained || tls_has_input(io)) {
		kick(io);
	}
}

/*
 * The input's callback exists only while reading is throttled: libevent
 * walks a buffer's callbacks on every change to it, enabled or not.
 */
static void
unthrottle(struct proxy_io *io)
{
	io->throttled = false;
	if (io->in_cb != NULL) {
		evbuffer_remove_cb_entry(io->in, io->in_cb);
		io->in_cb = NULL;
	}
}

static void
in_changed(struct evbuffer *b, const struct evbuffer_cb_info *info, void *arg)
{
	struct proxy_io *io = arg;
	if (io->throttled && evbuffer_get_length(b) < io->read_high) {
		unthrottle(io); /* (removing itself here is allowed) */
		update_read(io);
	}
}

static void
check_throttle(struct proxy_io *io)
{
	bool full =
	    io->read_high > 0 && evbuffer_get_length(io->in) >= io->read_high;
	if (full && !io->throttled) {
		io->in_cb = evbuffer_add_cb(io->in, in_changed, io);
		if (io->in_cb == NULL) {
			io->err = ENOMEM; /* reported from the loop */
			event_active(&io->wev, EV_WRITE, 1);
			return;
		}
		io->throttled = true;
		update_read(io);
	} else if (!full && io->throttled) {
		unthrottle(io);
		update_read(io);
	}
}

/*
 * Writes raw bytes of b to the socket; 0, or -errno. One piece goes out
 * with send(), several with one writev(): recv and send skip the file
 * layer that readv and writev go through (file position lock, iovec
 * import), a measurable part of a small request's system time.
 */
static int
write_raw(struct proxy_io *io, struct evbuffer *b)
{
	while (evbuffer_get_length(b) > 0) {
		struct evbuffer_iovec v[16];
		int n = evbuffer_peek(b, -1, NULL, v, 16);
		if (n > 16)
			n = 16;
		ssize_t r = n == 1 ?
		    send(io->fd, v[0].iov_base, v[0].iov_len, MSG_NOSIGNAL) :
		    writev(io->fd, (struct iovec *)v, n);
		if (r > 0) {
			evbuffer_drain(b, (size_t)r);
			continue;
		}
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? -errno : -EPIPE;
	}
	return 0;
}

/* After the last output: close_notify (with the last records), FIN. */
static int
write_shutdown(struct proxy_io *io)
{
	if (io->ssl != NULL && !io->notify_done) {
		io->notify_done = true;
		err_reset();
		if (SSL_shutdown(io->ssl) < 0)
			ERR_clear_error();
	}
	if (io->raw_out != NULL) {
		int r = write_raw(io, io->raw_out);
		if (r < 0 || evbuffer_get_length(io->raw_out) > 0)
			return r;
	}
	io->shut_done = true;
	shutdown(io->fd, SHUT_WR);
	return 0;
}

/* Encrypts and writes what it can; 0, or -errno. */
static int
write_out(struct proxy_io *io)
{
	if (io->ssl == NULL) {
		int r = write_raw(io, io->out);
		if (r == 0 && io->shut_want && !io->shut_done &&
		    evbuffer_get_length(io->out) == 0)
			r = write_shutdown(io);
		return r;
	}
	for (;;) {
		while (evbuffer_get_length(io->out) > 0 &&
		    evbuffer_get_length(io->raw_out) < TLS_RAW_AHEAD) {
			/* A large chain is encrypted where it lies, in one
			 * call (OpenSSL cuts the records; one write buffer
			 * for all); small pieces are joined into one record. */
			size_t n = evbuffer_get_length(io->out);
			struct evbuffer_iovec v;
			if (evbuffer_peek(io->out, -1, NULL, &v, 1) >= 1 &&
			    v.iov_len >= 4096)
				n = v.iov_len < TLS_RAW_AHEAD ? v.iov_len :
				                                TLS_RAW_AHEAD;
			else if (n > TLS_PLAIN_MAX)
				n = TLS_PLAIN_MAX;
			const void *p = evbuffer_pullup(io->out, (ssize_t)n);
			size_t w = 0;
			if (p == NULL)
				return -ENOMEM;
			err_reset();
			if (SSL_write_ex(io->ssl, p, n, &w) != 1) {
				ERR_clear_error();
				return io->err ? -io->err : -EPROTO;
			}
			io->served = true;
			evbuffer_drain(io->out, w);
		}
		/* close_notify rides with the last records. */
		if (evbuffer_get_length(io->out) == 0 && io->shut_want &&
		    !io->notify_done) {
			io->notify_done = true;
			err_reset();
			if (SSL_shutdown(io->ssl) < 0)
				ERR_clear_error();
		}
		int r = write_raw(io, io->raw_out);
		if (r < 0)
			return r;
		if (evbuffer_get_length(io->raw_out) > 0)
			return 0;
		if (evbuffer_get_length(io->out) == 0) {
			if (io->shut_want && !io->shut_done)
				return write_shutdown(io);
			return 0;
		}
	}
}

void
proxy_io_flush(struct proxy_io *io)
{
	if (io == NULL || io->connecting || io->handshaking || io->err)
		return;
	if (proxy_io_pending(io) > 0 || (io->shut_want && !io->shut_done)) {
		int r = write_out(io);
		if (r < 0) {
			io->err = -r;
			/* Reported from the loop, never from here. */
			event_active(&io->wev, EV_WRITE, 1);
			return;
		}
	}
	set_wev(io,
	    proxy_io_pending(io) > 0 || (io->shut_want && !io->shut_done));
}

/* Reads into the input until it is full or the socket empty: 1 at end
 * of file, 0, or -errno; *got counts the bytes read. */
static int
read_in(struct proxy_io *io, size_t *got)
{
	*got = 0;
	for (;;) {
		size_t len = evbuffer_get_length(io->in);
		size_t room = io->read_high > 0 ?
		    (len < io->read_high ? io->read_high - len : 0) :
		    SIZE_MAX;
		if (room == 0) {
			io->tls_more =
			    io->ssl != NULL && SSL_has_pending(io->ssl);
			return 0;
		}
		/* (OpenSSL asks the BIO, which knows the socket is empty.) */
		if (io->ssl == NULL && io->drained)
			return 0;
		size_t want = io->ssl != NULL ? TLS_PLAIN_MAX : io->read_size;
		if (want > room)
			want = room;
		if (io->ssl != NULL) {
			/* Plaintext lands in the thread's buffer and is then
			 * appended: a read that finds nothing (the WANT_READ
			 * that ends a burst, or follows a handshake) leaves
			 * no reserved chain (32 KiB) on an idle connection. */
			static _Thread_local unsigned char plain[TLS_PLAIN_MAX];
			size_t n = 0;
			err_reset();
			if (SSL_read_ex(io->ssl, plain, want, &n) == 1) {
				if (evbuffer_add(io->in, plain, n) != 0)
					return -ENOMEM;
				*got += n;
				/* Nothing buffered and the socket empty:
				 * another SSL_read would only say so
				 * (WANT_READ). */
				if (io->drained && !io->eof &&
				    !SSL_has_pending(io->ssl) &&
				    (io->raw_in == NULL ||
				        evbuffer_get_length(io->raw_in) == 0)) {
					io->tls_more = false;
					tls_idle(io);
					return 0;
				}
				continue;
			}
			io->tls_more = false;
			int e = SSL_get_error(io->ssl, 0);
			if (e == SSL_ERROR_WANT_READ) {
				if (!SSL_has_pending(io->ssl))
					tls_idle(io);
				return 0;
			}
			ERR_clear_error();
			if (e == SSL_ERROR_ZERO_RETURN || io->eof)
				return 1;
			return io->err ? -io->err : -EPROTO;
		}
		struct evbuffer_iovec v[2];
		int nv = evbuffer_reserve_space(io->in, (ssize_t)want, v, 2);
		if (nv <= 0)
			return -ENOMEM;
		size_t asked = 0;
		for (int i = 0; i < nv; i++) {
			if (asked + v[i].iov_len > want)
				v[i].iov_len = want - asked;
			asked += v[i].iov_len;
		}
		ssize_t r = nv == 1 ?
		    recv(io->fd, v[0].iov_base, v[0].iov_len, 0) :
		    readv(io->fd, (struct iovec *)v, nv);
		if (r <= 0) {
			evbuffer_commit_space(io->in, v, 0);
			if (r == 0) {
				io->eof = true;
				return 1;
			}
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				io->drained = true;
				return 0;
			}
			return -errno;
		}
		size_t left = (size_t)r;
		for (int i = 0; i < nv; i++) {
			if (v[i].iov_len > left)
				v[i].iov_len = left;
			left -= v[i].iov_len;
		}
		evbuffer_commit_space(io->in, v, nv);
		*got += (size_t)r;
		if ((size_t)r < asked) {
			/* Read size follows what the peer sends. */
			if ((size_t)r < io->read_size / 4 &&
			    io->read_size > IO_READ_MIN)
				io->read_size /= 2;
			/* Short: empty now, unless a FIN or reset waits
			 * behind the data (it is read next, not signalled
			 * again). */
			if (io->peer_closed)
				continue;
			io->drained = true;
			return 0;
		}
		if (io->read_size < IO_READ_MAX)
			io->read_size *= 2;
	}
}

static void
deliver_event(struct proxy_io *io, int what)
{
	if (io->event_cb != NULL)
		io->event_cb(io, what, io->arg);
}

static void
handshake(struct proxy_io *io)
{
	err_reset();
	int r = SSL_do_handshake(io->ssl);
	int e = r == 1 ? SSL_ERROR_NONE : SSL_get_error(io->ssl, r);
	if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_READ)
		ERR_clear_error();
	/* Our flight (or an alert) goes out whatever happened; only the
	 * session ticket after a handshake that brought a request with it
	 * waits for the response, to go out in the same write. */
	bool defer = r == 1 && SSL_has_pending(io->ssl);
	int w = defer ? 0 : write_raw(io, io->raw_out);
	if (r == 1) {
		io->handshaking = false;
		if (io->raw_in != NULL &&
		    evbuffer_get_length(io->raw_in) == 0) {
			evbuffer_free(io->raw_in);
			io->raw_in = NULL;
		}
		set_wev(io, !defer && evbuffer_get_length(io->raw_out) > 0);
		return;
	}
	if (e == SSL_ERROR_WANT_READ && w == 0) {
		set_wev(io, evbuffer_get_length(io->raw_out) > 0);
		return;
	}
	if (io->err == 0)
		io->err = w < 0 ? -w : EPROTO;
}

static void
read_ev(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_io *io = arg;
	if (what & EV_TIMEOUT) {
		deliver_event(io, PROXY_IO_TIMEOUT);
		return;
	}
	if (what & (EV_READ | EV_CLOSED))
		io->drained = false; /* news from the socket, not a kick */
	if (what & EV_CLOSED)
		io->peer_closed = true;
	if (!can_read(io))
		return; /* noted; read when reading resumes */
	GUARD_BEGIN(io);
	if (io->handshaking) {
		handshake(io);
		if (io->err) {
			deliver_event(io, PROXY_IO_ERROR);
			GUARD_END(io);
			return;
		}
		if (io->handshaking) {
			GUARD_END(io);
			return;
		}
		deliver_event(io, PROXY_IO_CONNECTED);
		if (!ALIVE(io) || !can_read(io)) {
			GUARD_END(io);
			return;
		}
	}
	size_t got;
	int r = read_in(io, &got);
	if (r == 1)
		io->eof = true;
	else if (r < 0)
		io->err = -r;
	if (r != 0)
		update_read(io);
	else
		check_throttle(io);
	if (got > 0 && io->read_cb != NULL)
		io->read_cb(io, io->arg);
	if (ALIVE(io) && r != 0)
		deliver_event(io, r > 0 ? PROXY_IO_EOF : PROXY_IO_ERROR);
	GUARD_END(io);
}

static void
write_ev(evutil_socket_t fd, short what, void *arg)
{
	struct proxy_io *io = arg;
	if (io->connecting) {
		int e = 0;
		socklen_t el = sizeof(e);
		if (getsockopt(io->fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0)
			e = errno;
		if (e == EINPROGRESS || e == EALREADY)
			return;
		io->connecting = false;
		set_wev(io, false);
		if (e != 0) {
			io->err = e;
			deliver_event(io, PROXY_IO_ERROR);
			return;
		}
		update_read(io);
		deliver_event(io, PROXY_IO_CONNECTED);
		return;
	}
	if (io->err == 0 && io->handshaking) {
		int r = write_raw(io, io->raw_out);
		if (r < 0)
			io->err = -r;
		else
			set_wev(io, evbuffer_get_length(io->raw_out) > 0);
	} else if (io->err == 0) {
		int r = write_out(io);
		if (r < 0)
			io->err = -r;
		else
			set_wev(io,
			    proxy_io_pending(io) > 0 ||
			        (io->shut_want && !io->shut_done));
	}
	if (io->err != 0) {
		set_wev(io, false);
		deliver_event(io, PROXY_IO_ERROR);
		return;
	}
	if (!io->handshaking && io->write_cb != NULL &&
	    proxy_io_pending(io) <= io->write_low)
		io->write_cb(io, io->arg);
}

/* The API. */

struct proxy_io *
proxy_io_new(struct event_base *base, int fd)
{
	struct proxy_io *io = calloc(1, sizeof(*io));
	if (io == NULL)
		return NULL;
	io->base = base;
	io->fd = fd;
	io->read_size = IO_READ_MIN;
	io->in = evbuffer_new();
	io->out = evbuffer_new();
	if (io->in == NULL || io->out == NULL ||
	    event_assign(&io->rev, base, fd,
	        EV_READ | EV_CLOSED | EV_PERSIST | EV_ET, read_ev, io) != 0 ||
	    event_assign(&io->wev, base, fd, EV_WRITE | EV_PERSIST | EV_ET,
	        write_ev, io) != 0)
		goto fail;
	return io;
fail:
	if (io->in != NULL)
		evbuffer_free(io->in);
	if (io->out != NULL)
		evbuffer_free(io->out);
	free(io);
	return NULL;
}

struct proxy_io *
proxy_io_connect(struct event_base *base, const struct sockaddr *sa,
    socklen_t len)
{
	int one = 1;
	int fd = socket(sa->sa_family,
	    SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return NULL;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	int r = connect(fd, sa, len);
	if (r != 0 && errno != EINPROGRESS) {
		int e = errno;
		close(fd);
		errno = e;
		return NULL;
	}
	struct proxy_io *io = proxy_io_new(base, fd);
	if (io == NULL) {
		close(fd);
		errno = ENOMEM;
		return NULL;
	}
	io->connecting = true;
	if (r == 0)
		event_active(&io->wev, EV_WRITE, 1);
	else
		set_wev(io, true);
	return io;
}

void
proxy_io_free(struct proxy_io *io)
{
	if (io == NULL)
		return;
	if (io->dead != NULL)
		*io->dead = true;
	unhold(io);
	event_del(&io->rev);
	event_del(&io->wev);
	if (io->ssl != NULL)
		SSL_free(io->ssl);
	if (io->fd >= 0)
		close(io->fd);
	evbuffer_free(io->in);
	evbuffer_free(io->out);
	if (io->raw_in != NULL)
		evbuffer_free(io->raw_in);
	if (io->raw_out != NULL)
		evbuffer_free(io->raw_out);
	free(io);
}

void
proxy_io_setcb(struct proxy_io *io, proxy_io_cb *read_cb, proxy_io_cb *write_cb,
    proxy_io_event_cb *event_cb, void *arg)
{
	io->read_cb = read_cb;
	io->write_cb = write_cb;
	io->event_cb = event_cb;
	io->arg = arg;
}

void
proxy_io_watermarks(struct proxy_io *io, size_t read_high, size_t write_low)
{
	io->read_high = read_high;
	io->write_low = write_low;
	check_throttle(io);
}

void
proxy_io_read(struct proxy_io *io, bool on)
{
	io->reading = on;
	update_read(io);
}

void
proxy_io_timeout(struct proxy_io *io, const struct timeval *tv)
{
	if (tv != NULL) {
		io->idle = *tv;
		io->has_idle = true;
		if (io->rev_added)
			event_add(&io->rev, &io->idle);
	} else if (io->has_idle) {
		io->has_idle = false;
		if (io->rev_added)
			event_remove_timer(&io->rev);
	}
}

struct evbuffer *
proxy_io_input(struct proxy_io *io)
{
	return io->in;
}

struct evbuffer *
proxy_io_output(struct proxy_io *io)
{
	return io->out;
}

size_t
proxy_io_pending(const struct proxy_io *io)
{
	size_t n = evbuffer_get_length(io->out);
	if (io->raw_out != NULL)
		n += evbuffer_get_length(io->raw_out);
	return n;
}

int
proxy_io_fd(const struct proxy_io *io)
{
	return io->fd;
}

bool
proxy_io_is_tls(const struct proxy_io *io)
{
	return io->ssl != NULL;
}

int
proxy_io_start_tls(struct proxy_io *io, SSL *ssl)
{
	pthread_once(&bio_once, bio_method_init);
	if (bio_method == NULL || io->ssl != NULL)
		return -EINVAL;
	io->raw_out = evbuffer_new();
	BIO *bio = BIO_new(bio_method);
	if (io->raw_out == NULL || bio == NULL) {
		BIO_free(bio);
		return -ENOMEM;
	}
	if (evbuffer_get_length(io->in) > 0) {
		io->raw_in = evbuffer_new();
		if (io->raw_in == NULL) {
			BIO_free(bio);
			return -ENOMEM;
		}
		evbuffer_add_buffer(io->raw_in, io->in);
	}
	BIO_set_data(bio, io);
	SSL_set_bio(ssl, bio, bio);
	SSL_set_accept_state(ssl);
	SSL_set_read_ahead(ssl, 1);
	io->ssl = ssl;
	io->handshaking = true;
	unthrottle(io);
	/* The ClientHello may be all read already: start from the loop. */
	kick(io);
	return 0;
}

void
proxy_io_shutdown(struct proxy_io *io)
{
	if (io->shut_want)
		return;
	io->shut_want = true;
	if (io->handshaking || io->connecting) {
		io->shut_done = true;
		shutdown(io->fd, SHUT_WR);
		return;
	}
	proxy_io_flush(io);
}
