/*
 * The server name of a TLS ClientHello, read from the first bytes of a
 * connection without opening TLS (RFC 8446 4.1.2, RFC 6066 3): used to
 * route passthrough connections. The ClientHello may be split over
 * several TLS records and arrive over several TCP segments; the parser
 * is re-run on everything received so far.
 */
#ifndef HEARTH_PROXY_SNI_H
#define HEARTH_PROXY_SNI_H

#include <stddef.h>
#include <stdint.h>

enum proxy_sni_result {
	PROXY_SNI_MORE = 0,  /* incomplete: read more and call again */
	PROXY_SNI_FOUND = 1, /* name holds the server name */
	PROXY_SNI_NONE = 2,  /* a valid ClientHello without a name */
};

/* The largest ClientHello handshake message accepted. */
#define PROXY_SNI_MAX_HELLO 16384

/*
 * Parses the records at buf. Returns a proxy_sni_result, or -EBADMSG when
 * the bytes are not a well-formed TLS ClientHello, -EMSGSIZE when it is
 * larger than PROXY_SNI_MAX_HELLO. On PROXY_SNI_FOUND, name (at least
 * 256 bytes) holds the host name in lower case without a trailing dot.
 */
int proxy_sni_parse(const uint8_t *buf, size_t len, char *name,
    size_t name_cap);

#endif
