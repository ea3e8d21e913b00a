/*
 * A proxy socket's I/O inside a worker (client and upstream sockets,
 * plain or TLS): input and output evbuffers, callbacks when input
 * arrives, when output has drained, and on connect, end of file, error
 * or idle timeout. It replaces libevent's bufferevents on the data path
 * so that a keep-alive request costs one read and one write per socket
 * and no epoll change, and so that TLS is driven directly (read-ahead
 * that knows when the socket is empty, many records per write).
 * Callbacks are only ever called from the event loop, never from inside
 * a proxy_io_* call, so callers may free the io in any callback.
 */
#ifndef HEARTH_PROXY_IO_H
#define HEARTH_PROXY_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <openssl/ssl.h>

/* What an event callback is told. */
#define PROXY_IO_CONNECTED 0x01 /* connect, or TLS handshake, done */
#define PROXY_IO_EOF       0x02 /* the peer closed (reading stops) */
#define PROXY_IO_ERROR     0x04 /* a socket or TLS error */
#define PROXY_IO_TIMEOUT   0x08 /* idle timeout (see proxy_io_timeout) */

struct proxy_io;
typedef void proxy_io_cb(struct proxy_io *io, void *arg);
typedef void proxy_io_event_cb(struct proxy_io *io, int what, void *arg);

/* Takes a connected non-blocking socket (closed by proxy_io_free). */
struct proxy_io *proxy_io_new(struct event_base *base, int fd);
/* A new connection to sa; PROXY_IO_CONNECTED or _ERROR follows. NULL
 * (errno set) when the connect fails at once. */
struct proxy_io *proxy_io_connect(struct event_base *base,
    const struct sockaddr *sa, socklen_t len);
/* Closes the socket and frees everything; NULL is a no-op. */
void proxy_io_free(struct proxy_io *io);

void proxy_io_setcb(struct proxy_io *io, proxy_io_cb *read_cb,
    proxy_io_cb *write_cb, proxy_io_event_cb *event_cb, void *arg);
/* Reading pauses while the input holds read_high bytes or more (0: no
 * limit); the write callback runs when pending output drops to
 * write_low or below. */
void proxy_io_watermarks(struct proxy_io *io, size_t read_high,
    size_t write_low);
/* Whether the socket is read (off: input stays in the kernel). */
void proxy_io_read(struct proxy_io *io, bool on);
/* An idle timeout: PROXY_IO_TIMEOUT when nothing is read for tv (NULL:
 * none). */
void proxy_io_timeout(struct proxy_io *io, const struct timeval *tv);

struct evbuffer *proxy_io_input(struct proxy_io *io);
struct evbuffer *proxy_io_output(struct proxy_io *io);
/* Writes the output now; what the socket does not take goes out when it
 * is writable. Call after adding output. */
void proxy_io_flush(struct proxy_io *io);
/* Output bytes not yet handed to the kernel (TLS: plaintext and records). */
size_t proxy_io_pending(const struct proxy_io *io);
int proxy_io_fd(const struct proxy_io *io);

/* Starts a server-side TLS handshake on ssl (owned from now on); the
 * input read so far is the start of the client's TLS stream.
 * PROXY_IO_CONNECTED follows the handshake. */
int proxy_io_start_tls(struct proxy_io *io, SSL *ssl);
bool proxy_io_is_tls(const struct proxy_io *io);
/* No more output: TLS close_notify (best effort), then a FIN. */
void proxy_io_shutdown(struct proxy_io *io);
/* Frees the calling thread's TLS buffer sweep; its ios must be gone. */
void proxy_io_thread_done(void);

#endif
