/*
 * The configuration loader: hearth.yaml -> struct hearth_model. libyaml
 * builds the document (after a first pass over its events that bounds the
 * input: 1 MiB, 32 levels of nesting, 200000 values, no aliases, one
 * document); then one walk over the schema of SPEC section 2 fills the
 * model and collects every error (up to 200) as FILE:LINE:COL: message at
 * the offending key or value, sorted by position. Cross-item checks (a
 * VIP in a pool, overlapping pools, duplicate address:port/protocol, names
 * given twice, CNAME conflicts) run as each list is finished. The loader
 * reads only the file and the regular files it names (peer key,
 * certificates), resolving relative paths against the file's directory;
 * it touches nothing else.
 *
 * Choices where SPEC is silent: integers and booleans must be plain YAML
 * scalars (a quoted "80" is a type error); a null value (`dns:`) is an
 * empty section or list; a bare address where a CIDR is expected is its
 * host prefix; a backend without a port takes the service (or forward)
 * port; every view with records gets, unless given, an apex SOA
 * "ns.ORIGIN. hostmaster.ORIGIN. 1 3600 600 86400 300" and NS
 * "ns.ORIGIN." with TTL 300.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"

#define CFG_MAX_BYTES     (1024 * 1024)
#define CFG_MAX_DEPTH     32
#define CFG_MAX_NODES     200000
#define CFG_MAX_ERRORS    200
#define CFG_MAX_MESSAGE   400
#define CFG_MAX_KEY_BYTES 65536
#define CFG_MIN_KEY_BYTES 16
#define CFG_MAX_WEIGHT    1000000
#define CFG_MAX_PEM_BYTES (1024 * 1024)

struct cfg {
	const char *name;
	char *dir; /* for relative paths */
	yaml_document_t doc;
	struct hearth_config_errors *errs;
	struct hearth_model *m;
	bool full; /* CFG_MAX_ERRORS reached */
};

/* A string key to find duplicates: its text and where it was given. */
struct dupkey {
	char *s;
	yaml_node_t *node;
	size_t index;
	char *path;
	const char *first; /* the earlier one's path, if a repeat */
};

struct duplist {
	struct dupkey *v;
	size_t n, cap;
};

/* --- errors --------------------------------------------------------- */

static void
add_error(struct hearth_config_errors *errs, int line, int col, char *msg)
{
	if (msg == NULL)
		return;
	size_t n = errs->n;
	if (n == 0 || (n & (n - 1)) == 0) {
		size_t cap = n ? n * 2 : 8;
		struct hearth_config_error *v =
		    realloc(errs->v, cap * sizeof(*v));
		if (v == NULL) {
			free(msg);
			return;
		}
		errs->v = v;
	}
	errs->v[n].pos.line = line;
	errs->v[n].pos.col = col;
	errs->v[n].message = msg;
	errs->n = n + 1;
}

/*
 * One line of bounded length: values quoted from the file may be long or
 * hold control characters, which must not break FILE:LINE:COL: lines.
 */
static char *
tidy_message(char *msg)
{
	if (msg == NULL)
		return NULL;
	size_t len = strlen(msg);
	if (len > CFG_MAX_MESSAGE) {
		memcpy(msg + CFG_MAX_MESSAGE - 3, "...", 4);
		char *shorter = realloc(msg, CFG_MAX_MESSAGE + 1);
		if (shorter != NULL)
			msg = shorter;
	}
	for (char *p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return msg;
}

static void
verr_at(struct cfg *c, int line, int col, const char *fmt, va_list ap)
{
	if (c->full)
		return;
	if (c->errs->n >= CFG_MAX_ERRORS) {
		c->full = true;
		add_error(c->errs, line, col,
		    strdup("too many errors; stopping here"));
		return;
	}
	char *msg = NULL;
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	add_error(c->errs, line, col, tidy_message(msg));
}

static void err_at(struct cfg *c, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void err(struct cfg *c, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
err_at(struct cfg *c, int line, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	verr_at(c, line, col, fmt, ap);
	va_end(ap);
}

/* An error at node n (NULL: the file as a whole). */
static void
err(struct cfg *c, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (n == NULL)
		verr_at(c, 0, 0, fmt, ap);
	else
		verr_at(c, (int)n->start_mark.line + 1,
		    (int)n->start_mark.column + 1, fmt, ap);
	va_end(ap);
}

/* --- node helpers --------------------------------------------------- */

static yaml_node_t *
node(struct cfg *c, int index)
{
	return yaml_document_get_node(&c->doc, index);
}

static const char *
scalar(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A plain empty scalar, "~" or "null": a key given no value. */
static bool
is_null(const yaml_node_t *n)
{
	if (n->type != YAML_SCALAR_NODE ||
	    n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	const char *s = scalar(n);
	return s[0] == '\0' || strcmp(s, "~") == 0 || strcmp(s, "null") == 0 ||
	    strcmp(s, "Null") == 0 || strcmp(s, "NULL") == 0;
}

static const char *
type_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return is_null(n) ? "nothing" : "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* Sequence items: count and the nodes (NULL-safe on null values). */
static size_t
seq_len(const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return 0;
	return (
	    size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

static yaml_node_t *
seq_at(struct cfg *c, const yaml_node_t *n, size_t i)
{
	return node(c, n->data.sequence.items.start[i]);
}

/* True when n is a list (or a null value, an empty list). */
static bool
want_seq(struct cfg *c, const yaml_node_t *n, const char *path)
{
	if (n->type == YAML_SEQUENCE_NODE || is_null(n))
		return true;
	err(c, n, "%s: expected a list, got %s", path, type_name(n));
	return false;
}

/* Appends s to out (of len bytes) at *at, shortening what does not fit. */
static void
path_append(char *out, size_t len, size_t *at, const char *s)
{
	size_t n = strlen(s);
	if (*at + n >= len)
		n = len - 1 - *at;
	memcpy(out + *at, s, n);
	*at += n;
	out[*at] = '\0';
}

/* Joins a path and a key or index for messages (long paths are cut). */
static void
path_key(char *out, size_t len, const char *path, const char *key)
{
	size_t at = 0;
	out[0] = '\0';
	path_append(out, len, &at, path);
	if (path[0] != '\0')
		path_append(out, len, &at, ".");
	path_append(out, len, &at, key);
}

static void
path_idx(char *out, size_t len, const char *path, size_t i)
{
	char idx[32];
	size_t at = 0;
	snprintf(idx, sizeof(idx), "[%zu]", i);
	out[0] = '\0';
	path_append(out, len, &at, path);
	path_append(out, len, &at, idx);
}

/*
 * Checks that n is a mapping whose keys are all in keys[] (NULL-ended),
 * each given once; vals[i] gets the value of keys[i] or NULL. A null
 * value counts as an empty mapping.
 */
static bool
map_fields(struct cfg *c, const yaml_node_t *n, const char *path,
    const char *const *keys, yaml_node_t **vals)
{
	size_t nk = 0;
	while (keys[nk] != NULL)
		vals[nk++] = NULL;
	if (is_null(n))
		return true;
	if (n->type != YAML_MAPPING_NODE) {
		err(c, n, "%s: expected a mapping, got %s",
		    path[0] ? path : "top level", type_name(n));
		return false;
	}
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		if (k->type != YAML_SCALAR_NODE) {
			err(c, k, "%s: keys must be scalars",
			    path[0] ? path : "top level");
			continue;
		}
		size_t i;
		for (i = 0; i < nk; i++)
			if (strcmp(keys[i], scalar(k)) == 0)
				break;
		if (i == nk) {
			if (path[0] == '\0')
				err(c, k, "unknown key \"%s\" at top level",
				    scalar(k));
			else
				err(c, k, "unknown key \"%s\" in %s", scalar(k),
				    path);
			continue;
		}
		if (vals[i] != NULL) {
			err(c, k, "duplicate key \"%s\" in %s", scalar(k),
			    path[0] ? path : "top level");
			continue;
		}
		vals[i] = v;
	}
	return true;
}

/* A non-empty string value; false (with an error) otherwise. */
static bool
want_scalar(struct cfg *c, const yaml_node_t *n, const char *path)
{
	if (n->type == YAML_SCALAR_NODE)
		return true;
	err(c, n, "%s: expected a scalar, got %s", path, type_name(n));
	return false;
}

/* A string; "" and null give NULL when allow_empty, an error otherwise. */
static bool
get_str(struct cfg *c, const yaml_node_t *n, const char *path, bool allow_empty,
    char **out)
{
	if (!want_scalar(c, n, path))
		return false;
	const char *s = is_null(n) ? "" : scalar(n);
	if (strlen(s) != n->data.scalar.length) {
		err(c, n, "%s: NUL byte in string", path);
		return false;
	}
	if (s[0] == '\0') {
		if (!allow_empty) {
			err(c, n, "%s: must not be empty", path);
			return false;
		}
		free(*out);
		*out = NULL;
		return true;
	}
	char *d = strdup(s);
	if (d == NULL) {
		err(c, n, "%s: out of memory", path);
		return false;
	}
	free(*out);
	*out = d;
	return true;
}

/* A network interface name (or "" for none): what the kernel accepts. */
static bool
get_ifname(struct cfg *c, const yaml_node_t *n, const char *path, char **out)
{
	if (!get_str(c, n, path, true, out))
		return false;
	if (*out == NULL)
		return true;
	const char *s = *out;
	bool ok = strlen(s) < IF_NAMESIZE && strcmp(s, ".") != 0 &&
	    strcmp(s, "..") != 0;
	for (const char *p = s; ok && *p; p++)
		ok = isgraph((unsigned char)*p) && *p != '/' && *p != ':';
	if (!ok) {
		err(c, n,
		    "%s: \"%s\" is not a valid interface name (at most "
		    "%d characters, no '/', ':' or spaces)",
		    path, s, IF_NAMESIZE - 1);
		free(*out);
		*out = NULL;
		return false;
	}
	return true;
}

/* An unsigned integer in [min, max], written plain (not quoted). */
static bool
get_uint(struct cfg *c, const yaml_node_t *n, const char *path,
    unsigned long long min, unsigned long long max, unsigned long long *out)
{
	if (!want_scalar(c, n, path))
		return false;
	const char *s = scalar(n);
	bool plain = n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	if (plain && s[0] == '-' && isdigit((unsigned char)s[1])) {
		err(c, n, "%s: must not be negative (%s)", path, s);
		return false;
	}
	if (!plain || !isdigit((unsigned char)s[0]) || strlen(s) > 20) {
		err(c, n, "%s: expected an integer, got \"%s\"", path, s);
		return false;
	}
	unsigned long long v = 0;
	for (const char *p = s; *p; p++) {
		if (!isdigit((unsigned char)*p)) {
			err(c, n, "%s: expected an integer, got \"%s\"", path,
			    s);
			return false;
		}
		if (v > (ULLONG_MAX - 9) / 10) {
			err(c, n, "%s: %s is out of range %llu-%llu", path, s,
			    min, max);
			return false;
		}
		v = v * 10 + (unsigned long long)(*p - '0');
	}
	if (v < min || v > max) {
		err(c, n, "%s: %s is out of range %llu-%llu", path, s, min,
		    max);
		return false;
	}
	*out = v;
	return true;
}

static void
get_u32(struct cfg *c, const yaml_node_t *n, const char *path, uint32_t min,
    uint32_t max, uint32_t *out)
{
	unsigned long long v;
	if (n != NULL && get_uint(c, n, path, min, max, &v))
		*out = (uint32_t)v;
}

static bool
get_port(struct cfg *c, const yaml_node_t *n, const char *path, uint16_t *out)
{
	unsigned long long v;
	if (!want_scalar(c, n, path))
		return false;
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	    isdigit((unsigned char)scalar(n)[0]) && strlen(scalar(n)) < 12) {
		bool digits = true;
		for (const char *p = scalar(n); *p; p++)
			digits = digits && isdigit((unsigned char)*p);
		if (digits &&
		    (strtoul(scalar(n), NULL, 10) < 1 ||
		        strtoul(scalar(n), NULL, 10) > 65535)) {
			err(c, n, "%s: port %s is outside 1-65535", path,
			    scalar(n));
			return false;
		}
	}
	if (!get_uint(c, n, path, 1, 65535, &v))
		return false;
	*out = (uint16_t)v;
	return true;
}

static void
get_bool(struct cfg *c, const yaml_node_t *n, const char *path, bool *out)
{
	if (n == NULL || !want_scalar(c, n, path))
		return;
	const char *s = scalar(n);
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
		if (strcmp(s, "true") == 0 || strcmp(s, "True") == 0 ||
		    strcmp(s, "TRUE") == 0) {
			*out = true;
			return;
		}
		if (strcmp(s, "false") == 0 || strcmp(s, "False") == 0 ||
		    strcmp(s, "FALSE") == 0) {
			*out = false;
			return;
		}
	}
	err(c, n, "%s: expected true or false, got \"%s\"", path, s);
}

static bool
get_addr(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_addr *out)
{
	if (!want_scalar(c, n, path))
		return false;
	if (hearth_addr_parse(scalar(n), out) != 0) {
		err(c, n, "%s: malformed address \"%s\"", path, scalar(n));
		return false;
	}
	return true;
}

static bool
get_cidr(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_cidr *out)
{
	if (!want_scalar(c, n, path))
		return false;
	if (hearth_cidr_parse(scalar(n), out) == 0)
		return true;
	struct hearth_addr a;
	if (strchr(scalar(n), '/') == NULL &&
	    hearth_addr_parse(scalar(n), &a) == 0) {
		/* A bare address is its host route. */
		out->addr = a;
		out->prefix = a.family == AF_INET ? 32 : 128;
		return true;
	}
	char buf[128];
	snprintf(buf, sizeof(buf), "%s", scalar(n));
	char *slash = strchr(buf, '/');
	struct hearth_cidr lax;
	if (slash != NULL) {
		*slash = '\0';
		if (hearth_addr_parse(buf, &lax.addr) == 0) {
			unsigned long p = strtoul(slash + 1, NULL, 10);
			unsigned max = lax.addr.family == AF_INET ? 32 : 128;
			bool digits = slash[1] != '\0';
			for (char *q = slash + 1; *q; q++)
				digits = digits && isdigit((unsigned char)*q);
			if (digits && p <= max) {
				err(c, n,
				    "%s: \"%s\" has host bits set past "
				    "/%lu",
				    path, scalar(n), p);
				return false;
			}
		}
	}
	err(c, n, "%s: malformed CIDR \"%s\"", path, scalar(n));
	return false;
}

static bool
get_endpoint(struct cfg *c, const yaml_node_t *n, const char *path,
    uint16_t default_port, struct hearth_endpoint *out)
{
	if (!want_scalar(c, n, path))
		return false;
	if (hearth_endpoint_parse(scalar(n), default_port, out) != 0) {
		err(c, n, "%s: malformed address \"%s\" (expected %s)", path,
		    scalar(n),
		    default_port ? "ADDRESS[:PORT]" :
		                   "ADDRESS:PORT, [IPv6]:PORT");
		return false;
	}
	return true;
}

static bool
get_proto(struct cfg *c, const yaml_node_t *n, const char *path,
    enum hearth_proto *out)
{
	if (!want_scalar(c, n, path))
		return false;
	if (strcmp(scalar(n), "tcp") == 0)
		*out = HEARTH_PROTO_TCP;
	else if (strcmp(scalar(n), "udp") == 0)
		*out = HEARTH_PROTO_UDP;
	else {
		err(c, n, "%s: protocol must be tcp or udp, got \"%s\"", path,
		    scalar(n));
		return false;
	}
	return true;
}

static const char *
proto_name(enum hearth_proto p)
{
	return p == HEARTH_PROTO_UDP ? "udp" : "tcp";
}

/* A calloc'ed array for a list's items (NULL for an empty list). */
static void *
alloc_items(struct cfg *c, const yaml_node_t *n, size_t size)
{
	size_t len = seq_len(n);
	if (len == 0)
		return NULL;
	void *v = calloc(len, size);
	if (v == NULL)
		err(c, n, "out of memory");
	return v;
}

/* --- files named by the configuration ------------------------------- */

/* path resolved against the configuration file's directory (malloc'ed). */
static char *
resolve(struct cfg *c, const char *path)
{
	char *out = NULL;
	if (path[0] == '/' || c->dir == NULL)
		return strdup(path);
	if (asprintf(&out, "%s/%s", c->dir, path) < 0)
		return NULL;
	return out;
}

/*
 * Reads up to max bytes of the regular file path; -errno, -EFBIG when
 * larger, -EBADFD when it is not a regular file (a FIFO would block).
 */
static int
read_file(const char *path, size_t max, uint8_t **out, size_t *outlen)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		int rc = S_ISDIR(st.st_mode) ? -EISDIR : -EBADFD;
		close(fd);
		return rc;
	}
	uint8_t *buf = malloc(max + 1);
	size_t len = 0;
	int rc = 0;
	if (buf == NULL) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + len, max + 1 - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc != 0) {
		explicit_bzero(buf, len);
		free(buf);
		return rc;
	}
	*out = buf;
	*outlen = len;
	return 0;
}

/* Why read_file failed, for messages. */
static const char *
file_error(int rc)
{
	switch (rc) {
	case -ENODATA:
		return "the file is empty";
	case -EFBIG:
		return "the file is too large";
	case -EBADFD:
		return "not a regular file";
	default:
		return strerror(-rc);
	}
}

/* A path value that must name a readable file; stored resolved. */
static bool
get_readable(struct cfg *c, const yaml_node_t *n, const char *path, char **out)
{
	char *given = NULL;
	if (!get_str(c, n, path, false, &given))
		return false;
	char *full = resolve(c, given);
	free(given);
	if (full == NULL) {
		err(c, n, "%s: out of memory", path);
		return false;
	}
	uint8_t *data = NULL;
	size_t len;
	int rc = read_file(full, CFG_MAX_PEM_BYTES, &data, &len);
	if (rc == 0) {
		explicit_bzero(data, len);
		free(data);
		if (len == 0)
			rc = -ENODATA;
	}
	if (rc != 0) {
		err(c, n, "%s: cannot read %s: %s", path, full, file_error(rc));
		free(full);
		return false;
	}
	free(*out);
	*out = full;
	return true;
}

/* --- duplicates ----------------------------------------------------- */

static void
dup_add(struct cfg *c, struct duplist *d, const char *s, yaml_node_t *n,
    const char *path)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 16;
		struct dupkey *v = realloc(d->v, cap * sizeof(*v));
		if (v == NULL)
			return;
		d->v = v;
		d->cap = cap;
	}
	struct dupkey *k = &d->v[d->n];
	k->s = strdup(s);
	k->path = strdup(path);
	if (k->s == NULL || k->path == NULL) {
		free(k->s);
		free(k->path);
		return;
	}
	k->node = n;
	k->index = d->n++;
}

static int
dup_cmp(const void *a, const void *b)
{
	const struct dupkey *x = a, *y = b;
	int r = strcmp(x->s, y->s);
	if (r != 0)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int
dup_cmp_index(const void *a, const void *b)
{
	const struct dupkey *x = a, *y = b;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* Reports each key given before (at the later one), then frees d. */
static void
dup_check(struct cfg *c, struct duplist *d, const char *what)
{
	if (d->n > 1) {
		qsort(d->v, d->n, sizeof(*d->v), dup_cmp);
		size_t first = 0;
		for (size_t i = 0; i < d->n; i++) {
			d->v[i].first = NULL;
			if (i > 0 && strcmp(d->v[i].s, d->v[first].s) == 0)
				d->v[i].first = d->v[first].path;
			else
				first = i;
		}
		qsort(d->v, d->n, sizeof(*d->v), dup_cmp_index);
		for (size_t i = 0; i < d->n; i++)
			if (d->v[i].first != NULL)
				err(c, d->v[i].node,
				    "%s: %s \"%s\" is already "
				    "used by %s",
				    d->v[i].path, what, d->v[i].s,
				    d->v[i].first);
	}
	for (size_t i = 0; i < d->n; i++) {
		free(d->v[i].s);
		free(d->v[i].path);
	}
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* --- sections ------------------------------------------------------- */

static void
parse_node(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"name", "interface", "run_as", NULL};
	yaml_node_t *v[3];
	struct hearth_node *nd = &c->m->node;
	if (!map_fields(c, n, "node", keys, v))
		return;
	if (v[0] != NULL)
		get_str(c, v[0], "node.name", false, &nd->name);
	if (v[1] != NULL)
		get_ifname(c, v[1], "node.interface", &nd->interface);
	if (v[2] != NULL)
		get_str(c, v[2], "node.run_as", true, &nd->run_as);
}

/* Reads the peer key: at least 16 bytes once trailing space is removed. */
static void
load_peer_key(struct cfg *c, const yaml_node_t *n)
{
	struct hearth_peers *p = &c->m->peers;
	char *given = NULL;
	if (!get_str(c, n, "peers.key_file", false, &given))
		return;
	char *full = resolve(c, given);
	free(given);
	if (full == NULL)
		return;
	uint8_t *key = NULL;
	size_t len = 0;
	int rc = read_file(full, CFG_MAX_KEY_BYTES, &key, &len);
	if (rc != 0) {
		err(c, n, "peers.key_file: cannot read %s: %s", full,
		    file_error(rc));
		free(full);
		return;
	}
	while (len > 0 && isspace(key[len - 1]))
		len--;
	if (len < CFG_MIN_KEY_BYTES) {
		err(c, n,
		    "peers.key_file: %s holds %zu bytes; at least %d "
		    "are needed (e.g. head -c 32 /dev/urandom | base64)",
		    full, len, CFG_MIN_KEY_BYTES);
		explicit_bzero(key, len);
		free(key);
		free(full);
		return;
	}
	p->key = key;
	p->key_len = len;
	p->key_file = full;
}

static void
parse_peers(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"members", "port", "interval_ms",
	    "dead_after_ms", "key_file", "quorum", "rebalance",
	    "garp_refresh_seconds", NULL};
	yaml_node_t *v[8];
	struct hearth_peers *p = &c->m->peers;
	char path[64];
	if (!map_fields(c, n, "peers", keys, v))
		return;
	if (v[0] != NULL && want_seq(c, v[0], "peers.members")) {
		p->members = alloc_items(c, v[0], sizeof(*p->members));
		for (size_t i = 0; p->members && i < seq_len(v[0]); i++) {
			path_idx(path, sizeof(path), "peers.members", i);
			if (get_addr(c, seq_at(c, v[0], i), path,
			        &p->members[p->n_members]))
				p->n_members++;
		}
	}
	if (v[1] != NULL)
		get_port(c, v[1], "peers.port", &p->port);
	get_u32(c, v[2], "peers.interval_ms", 1, 3600000, &p->interval_ms);
	get_u32(c, v[3], "peers.dead_after_ms", 1, 3600000, &p->dead_after_ms);
	if (v[4] != NULL)
		load_peer_key(c, v[4]);
	get_bool(c, v[5], "peers.quorum", &p->quorum);
	get_bool(c, v[6], "peers.rebalance", &p->rebalance);
	get_u32(c, v[7], "peers.garp_refresh_seconds", 0, 86400,
	    &p->garp_refresh_seconds);
	if (p->dead_after_ms <= p->interval_ms)
		err(c,
		    v[3]     ? v[3] :
		        v[2] ? v[2] :
		               n,
		    "peers.dead_after_ms (%u) must be above interval_ms (%u)",
		    p->dead_after_ms, p->interval_ms);
	if (v[0] != NULL && seq_len(v[0]) > 1 && v[4] == NULL)
		err(c, v[0],
		    "peers.members names other nodes but "
		    "peers.key_file is not given (heartbeats must be "
		    "authenticated)");
}

/* One pool range and where it was given, to find overlaps. */
struct span {
	struct hearth_range r;
	yaml_node_t *node;
	char path[128];
};

static void
add_span(struct span **v, size_t *n, size_t *cap, const struct hearth_range *r,
    yaml_node_t *node, const char *path)
{
	if (*n == *cap) {
		size_t nc = *cap ? *cap * 2 : 16;
		struct span *nv = realloc(*v, nc * sizeof(*nv));
		if (nv == NULL)
			return;
		*v = nv;
		*cap = nc;
	}
	(*v)[*n].r = *r;
	(*v)[*n].node = node;
	snprintf((*v)[*n].path, sizeof((*v)[*n].path), "%s", path);
	(*n)++;
}

static int
span_cmp(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	int r = hearth_addr_cmp(&x->r.first, &y->r.first);
	if (r != 0)
		return r;
	return hearth_addr_cmp(&x->r.last, &y->r.last);
}

/* An address in two pools (or twice in one) is an error at the later. */
static void
check_overlaps(struct cfg *c, struct span *v, size_t n)
{
	if (n < 2)
		return;
	qsort(v, n, sizeof(*v), span_cmp);
	size_t widest = 0;
	for (size_t i = 1; i < n; i++) {
		if (v[i].r.first.family == v[widest].r.first.family &&
		    hearth_addr_cmp(&v[i].r.first, &v[widest].r.last) <= 0) {
			err(c, v[i].node, "%s: \"%s\" overlaps %s", v[i].path,
			    scalar(v[i].node), v[widest].path);
			if (hearth_addr_cmp(&v[i].r.last, &v[widest].r.last) <=
			    0)
				continue;
		}
		widest = i;
	}
}

static void
parse_pools(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"name", "addresses", NULL};
	struct duplist names = {0};
	struct span *spans = NULL;
	size_t n_spans = 0, cap_spans = 0;
	char path[64], sub[96];
	if (!want_seq(c, n, "pools"))
		return;
	c->m->pools = alloc_items(c, n, sizeof(*c->m->pools));
	for (size_t i = 0; c->m->pools && i < seq_len(n); i++) {
		yaml_node_t *v[2], *item = seq_at(c, n, i);
		struct hearth_pool *pool = &c->m->pools[c->m->n_pools];
		path_idx(path, sizeof(path), "pools", i);
		if (!map_fields(c, item, path, keys, v))
			continue;
		c->m->n_pools++;
		path_key(sub, sizeof(sub), path, "name");
		if (v[0] == NULL)
			err(c, item, "%s: \"name\" is required", path);
		else if (get_str(c, v[0], sub, false, &pool->name))
			dup_add(c, &names, pool->name, v[0], sub);
		path_key(sub, sizeof(sub), path, "addresses");
		if (v[1] == NULL) {
			err(c, item, "%s: \"addresses\" is required", path);
			continue;
		}
		if (!want_seq(c, v[1], sub))
			continue;
		if (seq_len(v[1]) == 0)
			err(c, v[1], "%s: must not be empty", sub);
		pool->ranges = alloc_items(c, v[1], sizeof(*pool->ranges));
		for (size_t j = 0; pool->ranges && j < seq_len(v[1]); j++) {
			yaml_node_t *a = seq_at(c, v[1], j);
			char ap[128];
			path_idx(ap, sizeof(ap), sub, j);
			if (!want_scalar(c, a, ap))
				continue;
			int rc = hearth_range_parse(scalar(a),
			    &pool->ranges[pool->n_ranges]);
			if (rc == -ERANGE)
				err(c, a,
				    "%s: range \"%s\" ends below its "
				    "start",
				    ap, scalar(a));
			else if (rc != 0)
				err(c, a,
				    "%s: malformed address range \"%s\" "
				    "(expected A-B, a CIDR or one address)",
				    ap, scalar(a));
			else {
				add_span(&spans, &n_spans, &cap_spans,
				    &pool->ranges[pool->n_ranges], a, ap);
				pool->n_ranges++;
			}
		}
	}
	dup_check(c, &names, "pool name");
	check_overlaps(c, spans, n_spans);
	free(spans);
}

static void
parse_service_port(struct cfg *c, const yaml_node_t *item, const char *path,
    struct hearth_service_port *sp, bool *ok)
{
	static const char *const keys[] = {"port", "protocol", "target",
	    "backends", NULL};
	yaml_node_t *v[4];
	char sub[160];
	*ok = false;
	sp->proto = HEARTH_PROTO_TCP;
	if (!map_fields(c, item, path, keys, v))
		return;
	path_key(sub, sizeof(sub), path, "port");
	if (v[0] == NULL)
		err(c, item, "%s: \"port\" is required", path);
	else
		*ok = get_port(c, v[0], sub, &sp->port);
	path_key(sub, sizeof(sub), path, "protocol");
	if (v[1] != NULL && !get_proto(c, v[1], sub, &sp->proto))
		*ok = false;
	if (v[2] != NULL) {
		path_key(sub, sizeof(sub), path, "target");
		if (want_scalar(c, v[2], sub)) {
			if (strcmp(scalar(v[2]), "proxy") == 0)
				sp->to_proxy = true;
			else
				err(c, v[2],
				    "%s: the only target is \"proxy\","
				    " got \"%s\"",
				    sub, scalar(v[2]));
		}
		if (v[3] != NULL)
			err(c, v[3], "%s: target and backends are exclusive",
			    path);
		return;
	}
	if (v[3] == NULL)
		return;
	path_key(sub, sizeof(sub), path, "backends");
	if (!want_seq(c, v[3], sub))
		return;
	sp->backends = alloc_items(c, v[3], sizeof(*sp->backends));
	for (size_t i = 0; sp->backends && i < seq_len(v[3]); i++) {
		char bp[192];
		path_idx(bp, sizeof(bp), sub, i);
		if (get_endpoint(c, seq_at(c, v[3], i), bp,
		        sp->port ? sp->port : 0, &sp->backends[sp->n_backends]))
			sp->n_backends++;
	}
}

static void
parse_services(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"name", "address", "ports", NULL};
	struct duplist names = {0}, triples = {0};
	char path[64], sub[96];
	if (!want_seq(c, n, "services"))
		return;
	c->m->services = alloc_items(c, n, sizeof(*c->m->services));
	for (size_t i = 0; c->m->services && i < seq_len(n); i++) {
		yaml_node_t *v[3], *item = seq_at(c, n, i);
		struct hearth_service *s = &c->m->services[c->m->n_services];
		bool have_addr = false;
		path_idx(path, sizeof(path), "services", i);
		if (!map_fields(c, item, path, keys, v))
			continue;
		c->m->n_services++;
		path_key(sub, sizeof(sub), path, "name");
		if (v[0] == NULL)
			err(c, item, "%s: \"name\" is required", path);
		else if (get_str(c, v[0], sub, false, &s->name))
			dup_add(c, &names, s->name, v[0], sub);
		path_key(sub, sizeof(sub), path, "address");
		if (v[1] == NULL)
			err(c, item, "%s: \"address\" is required", path);
		else if (get_addr(c, v[1], sub, &s->address)) {
			have_addr = true;
			if (hearth_model_pool_of(c->m, &s->address) == NULL)
				err(c, v[1], "%s: %s is in no pool", sub,
				    scalar(v[1]));
		}
		if (v[2] == NULL)
			continue;
		path_key(sub, sizeof(sub), path, "ports");
		if (!want_seq(c, v[2], sub))
			continue;
		s->ports = alloc_items(c, v[2], sizeof(*s->ports));
		for (size_t j = 0; s->ports && j < seq_len(v[2]); j++) {
			yaml_node_t *pn = seq_at(c, v[2], j);
			struct hearth_service_port *sp = &s->ports[s->n_ports];
			char pp[128], key[INET6_ADDRSTRLEN + 32], a[64];
			bool ok;
			path_idx(pp, sizeof(pp), sub, j);
			parse_service_port(c, pn, pp, sp, &ok);
			s->n_ports++;
			if (!ok || !have_addr)
				continue;
			hearth_addr_str(&s->address, a, sizeof(a));
			snprintf(key, sizeof(key), "%s:%u/%s", a, sp->port,
			    proto_name(sp->proto));
			dup_add(c, &triples, key, pn, pp);
		}
	}
	dup_check(c, &names, "service name");
	dup_check(c, &triples, "this address:port/protocol");
}

static void
parse_masquerade(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"source", "out_interface", NULL};
	struct hearth_nat *nat = &c->m->nat;
	if (!want_seq(c, n, "nat.masquerade"))
		return;
	nat->masquerade = alloc_items(c, n, sizeof(*nat->masquerade));
	for (size_t i = 0; nat->masquerade && i < seq_len(n); i++) {
		yaml_node_t *v[2], *item = seq_at(c, n, i);
		struct hearth_masquerade *mq =
		    &nat->masquerade[nat->n_masquerade];
		char path[64], sub[96];
		path_idx(path, sizeof(path), "nat.masquerade", i);
		if (!map_fields(c, item, path, keys, v))
			continue;
		nat->n_masquerade++;
		path_key(sub, sizeof(sub), path, "source");
		if (v[0] == NULL)
			err(c, item, "%s: \"source\" is required", path);
		else
			get_cidr(c, v[0], sub, &mq->source);
		path_key(sub, sizeof(sub), path, "out_interface");
		if (v[1] != NULL)
			get_ifname(c, v[1], sub, &mq->out_interface);
	}
}

static void
parse_port_forwards(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"in_interface", "port", "protocol",
	    "to", NULL};
	struct hearth_nat *nat = &c->m->nat;
	if (!want_seq(c, n, "nat.port_forwards"))
		return;
	nat->port_forwards = alloc_items(c, n, sizeof(*nat->port_forwards));
	for (size_t i = 0; nat->port_forwards && i < seq_len(n); i++) {
		yaml_node_t *v[4], *item = seq_at(c, n, i);
		struct hearth_port_forward *pf =
		    &nat->port_forwards[nat->n_port_forwards];
		char path[64], sub[96];
		path_idx(path, sizeof(path), "nat.port_forwards", i);
		if (!map_fields(c, item, path, keys, v))
			continue;
		nat->n_port_forwards++;
		pf->proto = HEARTH_PROTO_TCP;
		path_key(sub, sizeof(sub), path, "in_interface");
		if (v[0] != NULL)
			get_ifname(c, v[0], sub, &pf->in_interface);
		path_key(sub, sizeof(sub), path, "port");
		if (v[1] == NULL)
			err(c, item, "%s: \"port\" is required", path);
		else
			get_port(c, v[1], sub, &pf->port);
		path_key(sub, sizeof(sub), path, "protocol");
		if (v[2] != NULL)
			get_proto(c, v[2], sub, &pf->proto);
		path_key(sub, sizeof(sub), path, "to");
		if (v[3] == NULL)
			err(c, item, "%s: \"to\" is required", path);
		else
			get_endpoint(c, v[3], sub, pf->port, &pf->to);
	}
}

/* "22/tcp" or "2379-2380/tcp". */
static int
port_range_parse(const char *s, struct hearth_port_range *out)
{
	char buf[32];
	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	char *slash = strchr(buf, '/');
	if (slash == NULL)
		return -EINVAL;
	*slash = '\0';
	if (strcmp(slash + 1, "tcp") == 0)
		out->proto = HEARTH_PROTO_TCP;
	else if (strcmp(slash + 1, "udp") == 0)
		out->proto = HEARTH_PROTO_UDP;
	else
		return -EINVAL;
	char *dash = strchr(buf, '-');
	const char *parts[2] = {buf, dash ? dash + 1 : buf};
	if (dash != NULL)
		*dash = '\0';
	unsigned long v[2];
	for (int i = 0; i < 2; i++) {
		const char *p = parts[i];
		if (*p == '\0' || strlen(p) > 6)
			return -EINVAL;
		for (const char *q = p; *q; q++)
			if (!isdigit((unsigned char)*q))
				return -EINVAL;
		v[i] = strtoul(p, NULL, 10);
		if (v[i] < 1 || v[i] > 65535)
			return -EDOM;
	}
	if (v[1] < v[0])
		return -ERANGE;
	out->first = (uint16_t)v[0];
	out->last = (uint16_t)v[1];
	return 0;
}

static void
parse_allow_input(struct cfg *c, const yaml_node_t *n)
{
	struct hearth_nat *nat = &c->m->nat;
	if (!want_seq(c, n, "nat.allow_input"))
		return;
	nat->allow_input_set = true;
	nat->allow_input = alloc_items(c, n, sizeof(*nat->allow_input));
	for (size_t i = 0; nat->allow_input && i < seq_len(n); i++) {
		yaml_node_t *a = seq_at(c, n, i);
		char path[64];
		path_idx(path, sizeof(path), "nat.allow_input", i);
		if (!want_scalar(c, a, path))
			continue;
		int rc = port_range_parse(scalar(a),
		    &nat->allow_input[nat->n_allow_input]);
		if (rc == -EDOM)
			err(c, a, "%s: port outside 1-65535 in \"%s\"", path,
			    scalar(a));
		else if (rc == -ERANGE)
			err(c, a, "%s: range \"%s\" ends below its start", path,
			    scalar(a));
		else if (rc != 0)
			err(c, a,
			    "%s: malformed port range \"%s\" (expected "
			    "PORT/tcp, PORT-PORT/udp ...)",
			    path, scalar(a));
		else
			nat->n_allow_input++;
	}
}

static void
parse_nat(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"masquerade", "port_forwards",
	    "allow_input", "keep_on_exit", NULL};
	yaml_node_t *v[4];
	c->m->has_nat = true;
	if (!map_fields(c, n, "nat", keys, v))
		return;
	if (v[0] != NULL)
		parse_masquerade(c, v[0]);
	if (v[1] != NULL)
		parse_port_forwards(c, v[1]);
	if (v[2] != NULL)
		parse_allow_input(c, v[2]);
	get_bool(c, v[3], "nat.keep_on_exit", &c->m->nat.keep_on_exit);
}

/* A list of CIDRs into *out / *n; returns false on a type error. */
static bool
get_cidr_list(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_cidr **out, size_t *count)
{
	if (!want_seq(c, n, path))
		return false;
	free(*out);
	*count = 0;
	*out = alloc_items(c, n, sizeof(**out));
	for (size_t i = 0; *out && i < seq_len(n); i++) {
		char p[128];
		path_idx(p, sizeof(p), path, i);
		if (get_cidr(c, seq_at(c, n, i), p, &(*out)[*count]))
			(*count)++;
	}
	return true;
}

static bool
get_endpoint_list(struct cfg *c, const yaml_node_t *n, const char *path,
    uint16_t default_port, struct hearth_endpoint **out, size_t *count)
{
	if (!want_seq(c, n, path))
		return false;
	free(*out);
	*count = 0;
	*out = alloc_items(c, n, sizeof(**out));
	for (size_t i = 0; *out && i < seq_len(n); i++) {
		char p[128];
		path_idx(p, sizeof(p), path, i);
		if (get_endpoint(c, seq_at(c, n, i), p, default_port,
		        &(*out)[*count]))
			(*count)++;
	}
	return true;
}

static void
parse_rate_limit(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"responses_per_second", "slip",
	    "ipv4_prefix", "ipv6_prefix", NULL};
	yaml_node_t *v[4];
	struct hearth_dns_rate_limit *r = &c->m->dns.rate_limit;
	uint32_t p4 = r->ipv4_prefix, p6 = r->ipv6_prefix;
	if (!map_fields(c, n, "dns.rate_limit", keys, v))
		return;
	get_u32(c, v[0], "dns.rate_limit.responses_per_second", 0, 1000000,
	    &r->responses_per_second);
	get_u32(c, v[1], "dns.rate_limit.slip", 0, 10, &r->slip);
	get_u32(c, v[2], "dns.rate_limit.ipv4_prefix", 0, 32, &p4);
	get_u32(c, v[3], "dns.rate_limit.ipv6_prefix", 0, 128, &p6);
	r->ipv4_prefix = (uint8_t)p4;
	r->ipv6_prefix = (uint8_t)p6;
}

/* A zone origin: lower case, no trailing dot, valid labels. */
static bool
get_origin(struct cfg *c, const yaml_node_t *n, const char *path, char **out)
{
	char *s = NULL;
	if (!get_str(c, n, path, false, &s))
		return false;
	size_t len = strlen(s);
	if (len > 1 && s[len - 1] == '.')
		s[--len] = '\0';
	for (char *p = s; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	/* Let the record parser judge the name: "@ A" under it. */
	struct hearth_rr rr;
	char e[160];
	char line[600];
	snprintf(line, sizeof(line), "%s. A 127.0.0.1", s);
	if (len > 253 || strcmp(s, ".") == 0 ||
	    hearth_rr_parse(line, s, &rr, e, sizeof(e)) != 0 ||
	    strchr(s, '*') != NULL) {
		err(c, n, "%s: \"%s\" is not a valid zone name", path,
		    scalar(n));
		free(s);
		return false;
	}
	hearth_rr_clear(&rr);
	*out = s;
	return true;
}

static int
rr_append(struct hearth_dns_view *v, struct hearth_rr *rr, size_t *cap)
{
	if (v->n_records == *cap) {
		size_t nc = *cap ? *cap * 2 : 8;
		struct hearth_rr *r = realloc(v->records, nc * sizeof(*r));
		if (r == NULL)
			return -ENOMEM;
		v->records = r;
		*cap = nc;
	}
	v->records[v->n_records++] = *rr;
	return 0;
}

/* Adds the SOA and NS the apex needs when the records did not give them. */
static void
synthesise_apex(struct cfg *c, const char *origin, struct hearth_dns_view *v,
    size_t *cap)
{
	bool soa = false, ns = false;
	for (size_t i = 0; i < v->n_records; i++) {
		if (strcmp(v->records[i].owner, origin) != 0)
			continue;
		soa = soa || v->records[i].type == 6;
		ns = ns || v->records[i].type == 2;
	}
	char line[700], e[160];
	struct hearth_rr rr;
	if (!soa) {
		snprintf(line, sizeof(line),
		    "@ 300 IN SOA ns.%s. hostmaster."
		    "%s. 1 3600 600 86400 300",
		    origin, origin);
		if (hearth_rr_parse(line, origin, &rr, e, sizeof(e)) == 0 &&
		    rr_append(v, &rr, cap) != 0)
			hearth_rr_clear(&rr);
	}
	if (!ns) {
		snprintf(line, sizeof(line), "@ 300 IN NS ns.%s.", origin);
		if (hearth_rr_parse(line, origin, &rr, e, sizeof(e)) == 0 &&
		    rr_append(v, &rr, cap) != 0)
			hearth_rr_clear(&rr);
	}
}

/* Records of one view sorted by owner, then by their place in the list. */
struct rr_ref {
	const struct hearth_rr *rr;
	const yaml_node_t *node;
	size_t index;
};

static int
rr_ref_cmp(const void *a, const void *b)
{
	const struct rr_ref *x = a, *y = b;
	int r = strcmp(x->rr->owner, y->rr->owner);
	if (r != 0)
		return r;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* A CNAME owner has no other data (RFC 1034 3.6.2), nor is the apex. */
static void
check_cnames(struct cfg *c, const char *path, const char *origin,
    struct rr_ref *refs, size_t n)
{
	qsort(refs, n, sizeof(*refs), rr_ref_cmp);
	for (size_t i = 0, j; i < n; i = j) {
		bool cname = false;
		for (j = i;
		     j < n && strcmp(refs[j].rr->owner, refs[i].rr->owner) == 0;
		     j++)
			cname = cname || refs[j].rr->type == 5;
		if (!cname)
			continue;
		const struct rr_ref *r = &refs[i + (j - i > 1)];
		if (strcmp(refs[i].rr->owner, origin) == 0)
			err(c, r->node,
			    "%s[%zu]: a CNAME at the zone apex "
			    "(the apex has SOA and NS records)",
			    path, r->index);
		else if (j - i > 1)
			err(c, r->node,
			    "%s[%zu]: \"%s\" has a CNAME, so it "
			    "can have no other record",
			    path, r->index, refs[i].rr->owner);
	}
}

static void
parse_records(struct cfg *c, const yaml_node_t *n, const char *path,
    const char *origin, struct hearth_dns_view *v)
{
	size_t cap = 0;
	if (!want_seq(c, n, path))
		return;
	const yaml_node_t **nodes = calloc(seq_len(n) + 1, sizeof(*nodes));
	size_t *index = calloc(seq_len(n) + 1, sizeof(*index));
	if (nodes == NULL || index == NULL) {
		free(nodes);
		free(index);
		err(c, n, "%s: out of memory", path);
		return;
	}
	for (size_t i = 0; i < seq_len(n); i++) {
		yaml_node_t *r = seq_at(c, n, i);
		char p[160], e[256];
		struct hearth_rr rr;
		path_idx(p, sizeof(p), path, i);
		if (!want_scalar(c, r, p))
			continue;
		if (origin == NULL)
			continue;
		if (strlen(scalar(r)) != r->data.scalar.length) {
			err(c, r, "%s: NUL byte in record", p);
			continue;
		}
		if (hearth_rr_parse(scalar(r), origin, &rr, e, sizeof(e)) !=
		    0) {
			err(c, r, "%s: bad record \"%s\": %s", p, scalar(r), e);
			continue;
		}
		nodes[v->n_records] = r;
		index[v->n_records] = i;
		if (rr_append(v, &rr, &cap) != 0) {
			hearth_rr_clear(&rr);
			err(c, r, "%s: out of memory", p);
		}
	}
	struct rr_ref *refs = calloc(v->n_records + 1, sizeof(*refs));
	if (refs != NULL) {
		for (size_t i = 0; i < v->n_records; i++)
			refs[i] =
			    (struct rr_ref){&v->records[i], nodes[i], index[i]};
		check_cnames(c, path, origin ? origin : "", refs, v->n_records);
	}
	free(refs);
	free(nodes);
	free(index);
	if (v->n_records > 0 && origin != NULL)
		synthesise_apex(c, origin, v, &cap);
}

static void
parse_view(struct cfg *c, const yaml_node_t *item, const char *path,
    const char *origin, struct hearth_dns_view *v, struct duplist *names)
{
	static const char *const keys[] = {"name", "clients", "records",
	    "forward", NULL};
	yaml_node_t *f[4];
	char sub[160];
	if (!map_fields(c, item, path, keys, f))
		return;
	path_key(sub, sizeof(sub), path, "name");
	if (f[0] == NULL)
		err(c, item, "%s: \"name\" is required", path);
	else if (get_str(c, f[0], sub, false, &v->name))
		dup_add(c, names, v->name, f[0], sub);
	path_key(sub, sizeof(sub), path, "clients");
	if (f[1] == NULL)
		err(c, item, "%s: a view needs \"clients\"", path);
	else if (get_cidr_list(c, f[1], sub, &v->clients, &v->n_clients) &&
	    seq_len(f[1]) == 0)
		err(c, f[1], "%s: a view needs at least one client prefix",
		    sub);
	path_key(sub, sizeof(sub), path, "records");
	if (f[2] != NULL)
		parse_records(c, f[2], sub, origin, v);
	path_key(sub, sizeof(sub), path, "forward");
	get_bool(c, f[3], sub, &v->forward);
}

static void
parse_zone(struct cfg *c, const yaml_node_t *item, const char *path,
    struct hearth_dns_zone *z, struct duplist *origins)
{
	static const char *const keys[] = {"origin", "views", NULL};
	yaml_node_t *f[2];
	struct duplist names = {0};
	char sub[128];
	if (!map_fields(c, item, path, keys, f))
		return;
	path_key(sub, sizeof(sub), path, "origin");
	if (f[0] == NULL)
		err(c, item, "%s: \"origin\" is required", path);
	else if (get_origin(c, f[0], sub, &z->origin))
		dup_add(c, origins, z->origin, f[0], sub);
	path_key(sub, sizeof(sub), path, "views");
	if (f[1] == NULL) {
		err(c, item, "%s: \"views\" is required", path);
		return;
	}
	if (!want_seq(c, f[1], sub))
		return;
	if (seq_len(f[1]) == 0)
		err(c, f[1], "%s: a zone needs at least one view", sub);
	z->views = alloc_items(c, f[1], sizeof(*z->views));
	for (size_t i = 0; z->views && i < seq_len(f[1]); i++) {
		char vp[160];
		path_idx(vp, sizeof(vp), sub, i);
		parse_view(c, seq_at(c, f[1], i), vp, z->origin,
		    &z->views[z->n_views++], &names);
	}
	dup_check(c, &names, "view name");
}

static void
parse_zones(struct cfg *c, const yaml_node_t *n)
{
	struct hearth_dns *d = &c->m->dns;
	struct duplist origins = {0};
	if (!want_seq(c, n, "dns.zones"))
		return;
	d->zones = alloc_items(c, n, sizeof(*d->zones));
	for (size_t i = 0; d->zones && i < seq_len(n); i++) {
		char path[64];
		path_idx(path, sizeof(path), "dns.zones", i);
		parse_zone(c, seq_at(c, n, i), path, &d->zones[d->n_zones++],
		    &origins);
	}
	dup_check(c, &origins, "zone origin");
}

static void
parse_dns(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"listen", "forwarders",
	    "recursion_clients", "cache_entries", "max_udp_payload_bytes",
	    "rate_limit", "query_log", "zones", NULL};
	yaml_node_t *v[8];
	struct hearth_dns *d = &c->m->dns;
	c->m->has_dns = true;
	if (!map_fields(c, n, "dns", keys, v))
		return;
	if (v[0] != NULL &&
	    get_endpoint_list(c, v[0], "dns.listen", 53, &d->listen,
	        &d->n_listen) &&
	    seq_len(v[0]) == 0)
		err(c, v[0], "dns.listen: must not be empty");
	if (v[1] != NULL)
		get_endpoint_list(c, v[1], "dns.forwarders", 53, &d->forwarders,
		    &d->n_forwarders);
	if (v[2] != NULL)
		get_cidr_list(c, v[2], "dns.recursion_clients",
		    &d->recursion_clients, &d->n_recursion_clients);
	get_u32(c, v[3], "dns.cache_entries", 0, 100000000, &d->cache_entries);
	uint32_t mup = d->max_udp_payload_bytes;
	get_u32(c, v[4], "dns.max_udp_payload_bytes", 512, 65535, &mup);
	d->max_udp_payload_bytes = (uint16_t)mup;
	if (v[5] != NULL)
		parse_rate_limit(c, v[5]);
	if (v[6] != NULL)
		get_str(c, v[6], "dns.query_log", true, &d->query_log);
	if (v[7] != NULL)
		parse_zones(c, v[7]);
}

static void
parse_limits(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"max_connections",
	    "max_header_bytes", "max_headers", "max_body_bytes",
	    "header_timeout_ms", "idle_timeout_seconds", "connect_timeout_ms",
	    "backend_timeout_seconds", NULL};
	yaml_node_t *v[8];
	struct hearth_proxy_limits *l = &c->m->proxy.limits;
	unsigned long long body;
	if (!map_fields(c, n, "proxy.limits", keys, v))
		return;
	get_u32(c, v[0], "proxy.limits.max_connections", 1, 10000000,
	    &l->max_connections);
	get_u32(c, v[1], "proxy.limits.max_header_bytes", 1024, 16777216,
	    &l->max_header_bytes);
	get_u32(c, v[2], "proxy.limits.max_headers", 1, 10000, &l->max_headers);
	if (v[3] != NULL &&
	    get_uint(c, v[3], "proxy.limits.max_body_bytes", 0, UINT64_MAX,
	        &body))
		l->max_body_bytes = body;
	get_u32(c, v[4], "proxy.limits.header_timeout_ms", 1, 3600000,
	    &l->header_timeout_ms);
	get_u32(c, v[5], "proxy.limits.idle_timeout_seconds", 1, 86400,
	    &l->idle_timeout_seconds);
	get_u32(c, v[6], "proxy.limits.connect_timeout_ms", 1, 3600000,
	    &l->connect_timeout_ms);
	get_u32(c, v[7], "proxy.limits.backend_timeout_seconds", 1, 86400,
	    &l->backend_timeout_seconds);
}

/* Is data one whole DER SEQUENCE (what an OCSP response file holds)? */
static bool
der_sequence(const uint8_t *d, size_t len)
{
	if (len < 2 || d[0] != 0x30)
		return false;
	size_t hdr = 2, body = d[1];
	if (d[1] & 0x80) {
		size_t nb = d[1] & 0x7f;
		if (nb == 0 || nb > 4 || len < 2 + nb)
			return false;
		body = 0;
		for (size_t i = 0; i < nb; i++)
			body = body << 8 | d[2 + i];
		hdr += nb;
	}
	return hdr + body == len;
}

/* ocsp: a readable file holding one DER structure (parsed by the proxy). */
static void
get_ocsp(struct cfg *c, const yaml_node_t *n, const char *path, char **out)
{
	uint8_t *data = NULL;
	size_t len = 0;
	if (!get_readable(c, n, path, out))
		return;
	int rc = read_file(*out, CFG_MAX_PEM_BYTES, &data, &len);
	if (rc != 0)
		err(c, n, "%s: cannot read %s: %s", path, *out, file_error(rc));
	else if (!der_sequence(data, len))
		err(c, n,
		    "%s: %s is not a DER OCSP response (as written by "
		    "openssl ocsp -respout)",
		    path, *out);
	free(data);
}

static void
parse_certificates(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"cert", "key", "ocsp", NULL};
	struct hearth_proxy *p = &c->m->proxy;
	if (!want_seq(c, n, "proxy.certificates"))
		return;
	p->certificates = alloc_items(c, n, sizeof(*p->certificates));
	for (size_t i = 0; p->certificates && i < seq_len(n); i++) {
		yaml_node_t *v[3], *item = seq_at(c, n, i);
		struct hearth_proxy_cert *pc =
		    &p->certificates[p->n_certificates];
		char path[64], sub[96];
		path_idx(path, sizeof(path), "proxy.certificates", i);
		if (!map_fields(c, item, path, keys, v))
			continue;
		p->n_certificates++;
		for (int k = 0; k < 2; k++) {
			path_key(sub, sizeof(sub), path, keys[k]);
			if (v[k] == NULL)
				err(c, item, "%s: \"%s\" is required", path,
				    keys[k]);
			else
				get_readable(c, v[k], sub,
				    k ? &pc->key : &pc->cert);
		}
		path_key(sub, sizeof(sub), path, "ocsp");
		if (v[2] != NULL)
			get_ocsp(c, v[2], sub, &pc->ocsp);
	}
}

/* Weighted backends: {address, weight}; the weights must not sum to 0. */
static void
parse_backends(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_proxy_backend **out, size_t *count)
{
	static const char *const keys[] = {"address", "weight", NULL};
	unsigned long long sum = 0;
	bool weights_ok = true;
	if (!want_seq(c, n, path))
		return;
	if (seq_len(n) == 0) {
		err(c, n, "%s: must not be empty", path);
		return;
	}
	*out = alloc_items(c, n, sizeof(**out));
	for (size_t i = 0; *out && i < seq_len(n); i++) {
		yaml_node_t *v[2], *item = seq_at(c, n, i);
		struct hearth_proxy_backend *b = &(*out)[*count];
		char bp[192], sub[224];
		path_idx(bp, sizeof(bp), path, i);
		if (!map_fields(c, item, bp, keys, v))
			continue;
		(*count)++;
		b->weight = 1;
		path_key(sub, sizeof(sub), bp, "address");
		if (v[0] == NULL)
			err(c, item, "%s: \"address\" is required", bp);
		else
			get_endpoint(c, v[0], sub, 0, &b->address);
		path_key(sub, sizeof(sub), bp, "weight");
		unsigned long long w;
		if (v[1] != NULL) {
			if (get_uint(c, v[1], sub, 0, CFG_MAX_WEIGHT, &w))
				b->weight = (uint32_t)w;
			else
				weights_ok = false;
		}
		sum += b->weight;
	}
	if (weights_ok && *count > 0 && sum == 0)
		err(c, n, "%s: the weights sum to 0", path);
}

static void
parse_headers(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_proxy_rule *r)
{
	struct duplist names = {0};
	if (is_null(n))
		return;
	if (n->type != YAML_MAPPING_NODE) {
		err(c, n, "%s: expected a mapping, got %s", path, type_name(n));
		return;
	}
	size_t len =
	    (size_t)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	r->headers = calloc(len ? len : 1, sizeof(*r->headers));
	if (r->headers == NULL)
		return;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
	     p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		struct hearth_proxy_header_match *h = &r->headers[r->n_headers];
		char sub[256];
		if (k->type != YAML_SCALAR_NODE || is_null(k)) {
			err(c, k, "%s: header names must be strings", path);
			continue;
		}
		path_key(sub, sizeof(sub), path, scalar(k));
		bool token = scalar(k)[0] != '\0';
		for (const char *q = scalar(k); *q; q++)
			token = token &&
			    (isalnum((unsigned char)*q) ||
			        strchr("!#$%&'*+-.^_`|~", *q) != NULL);
		if (!token) {
			err(c, k, "%s: \"%s\" is not a valid header name", path,
			    scalar(k));
			continue;
		}
		if (!get_str(c, v, sub, true, &h->value))
			continue;
		if (h->value == NULL)
			h->value = strdup("");
		h->name = strdup(scalar(k));
		if (h->name == NULL || h->value == NULL) {
			free(h->name);
			free(h->value);
			h->name = h->value = NULL;
			continue;
		}
		for (char *q = h->name; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		dup_add(c, &names, h->name, k, sub);
		r->n_headers++;
	}
	dup_check(c, &names, "header");
}

/* expect_status: one code (200) or a range ("200-399"), within 100-599. */
static void
get_status_range(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_proxy_health_check *hc)
{
	if (!want_scalar(c, n, path))
		return;
	const char *s = scalar(n);
	size_t d1 = strspn(s, "0123456789"), d2 = 0;
	if (s[d1] == '-')
		d2 = strspn(s + d1 + 1, "0123456789");
	bool one = d1 > 0 && d1 <= 3 && s[d1] == '\0';
	bool two = d1 > 0 && d1 <= 3 && s[d1] == '-' && d2 > 0 && d2 <= 3 &&
	    s[d1 + 1 + d2] == '\0';
	if (!one && !two) {
		err(c, n,
		    "%s: expected a status code or a range like "
		    "\"200-399\", got \"%s\"",
		    path, s);
		return;
	}
	unsigned lo = (unsigned)strtoul(s, NULL, 10);
	unsigned hi = two ? (unsigned)strtoul(s + d1 + 1, NULL, 10) : lo;
	if (lo < 100 || hi > 599 || lo > hi) {
		err(c, n, "%s: \"%s\" is not a range within 100-599", path, s);
		return;
	}
	hc->expect_min = (uint16_t)lo;
	hc->expect_max = (uint16_t)hi;
}

/* health_check: an active HTTP check (extension; see proxy/README.md). */
static void
parse_health_check(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_proxy_health_check *hc)
{
	static const char *const keys[] = {"path", "interval_ms", "timeout_ms",
	    "unhealthy_after", "healthy_after", "expect_status", NULL};
	yaml_node_t *v[6];
	char sub[224];
	*hc = (struct hearth_proxy_health_check){.enabled = true,
	    .path = strdup("/"),
	    .interval_ms = 2000,
	    .timeout_ms = 1000,
	    .unhealthy_after = 3,
	    .healthy_after = 2,
	    .expect_min = 200,
	    .expect_max = 399};
	if (hc->path == NULL || !map_fields(c, n, path, keys, v))
		return;
	path_key(sub, sizeof(sub), path, "path");
	if (v[0] != NULL && get_str(c, v[0], sub, false, &hc->path)) {
		bool ok = hc->path[0] == '/';
		for (const char *q = hc->path; ok && *q; q++)
			ok = isgraph((unsigned char)*q);
		if (!ok)
			err(c, v[0],
			    "%s: \"%s\" must start with \"/\" and hold no "
			    "spaces or control characters",
			    sub, hc->path);
	}
	path_key(sub, sizeof(sub), path, "interval_ms");
	get_u32(c, v[1], sub, 10, 86400000, &hc->interval_ms);
	path_key(sub, sizeof(sub), path, "timeout_ms");
	get_u32(c, v[2], sub, 1, 86400000, &hc->timeout_ms);
	if (v[2] == NULL && hc->timeout_ms > hc->interval_ms)
		hc->timeout_ms = hc->interval_ms;
	if (hc->timeout_ms > hc->interval_ms)
		err(c, v[2], "%s: timeout_ms %u is above interval_ms %u", path,
		    hc->timeout_ms, hc->interval_ms);
	path_key(sub, sizeof(sub), path, "unhealthy_after");
	get_u32(c, v[3], sub, 1, 1000, &hc->unhealthy_after);
	path_key(sub, sizeof(sub), path, "healthy_after");
	get_u32(c, v[4], sub, 1, 1000, &hc->healthy_after);
	path_key(sub, sizeof(sub), path, "expect_status");
	if (v[5] != NULL)
		get_status_range(c, v[5], sub, hc);
}

/* A copy of a route's health check for one of its rules. */
static void
copy_health_check(struct hearth_proxy_health_check *to,
    const struct hearth_proxy_health_check *from)
{
	*to = *from;
	to->path = from->path ? strdup(from->path) : NULL;
	if (from->path != NULL && to->path == NULL)
		to->enabled = false;
}

static void
parse_rule(struct cfg *c, const yaml_node_t *item, const char *path,
    struct hearth_proxy_rule *r)
{
	static const char *const keys[] = {"path_prefix", "path_exact",
	    "headers", "backends", "health_check", NULL};
	yaml_node_t *v[5];
	char sub[192];
	r->match = HEARTH_PATH_PREFIX;
	if (!map_fields(c, item, path, keys, v))
		return;
	if (v[0] != NULL && v[1] != NULL)
		err(c, v[1], "%s: path_prefix and path_exact are exclusive",
		    path);
	for (int k = 0; k < 2; k++) {
		if (v[k] == NULL || (k == 1 && v[0] != NULL))
			continue;
		path_key(sub, sizeof(sub), path, keys[k]);
		if (!get_str(c, v[k], sub, false, &r->path))
			continue;
		r->match = k == 0 ? HEARTH_PATH_PREFIX : HEARTH_PATH_EXACT;
		if (r->path[0] != '/')
			err(c, v[k], "%s: \"%s\" must start with \"/\"", sub,
			    r->path);
	}
	if (r->path == NULL)
		r->path = strdup("/");
	if (v[2] != NULL) {
		path_key(sub, sizeof(sub), path, "headers");
		parse_headers(c, v[2], sub, r);
	}
	path_key(sub, sizeof(sub), path, "backends");
	if (v[3] == NULL)
		err(c, item, "%s: \"backends\" is required", path);
	else
		parse_backends(c, v[3], sub, &r->backends, &r->n_backends);
	if (v[4] != NULL) {
		path_key(sub, sizeof(sub), path, "health_check");
		parse_health_check(c, v[4], sub, &r->health_check);
	}
}

/* A host name for routing: labels of letters, digits, '-', '*.' first. */
static bool
hostname_ok(const char *s)
{
	size_t len = strlen(s);
	if (len == 0 || len > 253)
		return false;
	if (s[0] == '*') {
		if (s[1] != '.' || s[2] == '\0')
			return false;
		s += 2;
	}
	size_t label = 0;
	for (const char *p = s;; p++) {
		if (*p == '.' || *p == '\0') {
			if (label == 0 || label > 63)
				return false;
			label = 0;
			if (*p == '\0')
				return true;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_')
			return false;
		label++;
	}
}

static void
parse_hostnames(struct cfg *c, const yaml_node_t *n, const char *path,
    struct hearth_proxy_route *r, struct duplist *seen)
{
	if (!want_seq(c, n, path))
		return;
	if (seq_len(n) == 0) {
		err(c, n, "%s: must not be empty", path);
		return;
	}
	r->hostnames = alloc_items(c, n, sizeof(*r->hostnames));
	for (size_t i = 0; r->hostnames && i < seq_len(n); i++) {
		yaml_node_t *h = seq_at(c, n, i);
		char hp[160];
		char *s = NULL;
		path_idx(hp, sizeof(hp), path, i);
		if (!get_str(c, h, hp, false, &s))
			continue;
		for (char *q = s; *q; q++)
			*q = (char)tolower((unsigned char)*q);
		size_t len = strlen(s);
		if (len > 1 && s[len - 1] == '.')
			s[len - 1] = '\0';
		if (!hostname_ok(s)) {
			err(c, h, "%s: \"%s\" is not a valid host name", hp,
			    scalar(h));
			free(s);
			continue;
		}
		dup_add(c, seen, s, h, hp);
		r->hostnames[r->n_hostnames++] = s;
	}
}

static void
parse_route(struct cfg *c, const yaml_node_t *item, const char *path,
    struct hearth_proxy_route *r, struct duplist *seen)
{
	static const char *const keys[] = {"hostnames", "tls", "rules",
	    "backends", "health_check", NULL};
	yaml_node_t *v[5];
	char sub[128];
	if (!map_fields(c, item, path, keys, v))
		return;
	path_key(sub, sizeof(sub), path, "hostnames");
	if (v[0] == NULL)
		err(c, item, "%s: \"hostnames\" is required", path);
	else
		parse_hostnames(c, v[0], sub, r, seen);
	if (v[4] != NULL) {
		path_key(sub, sizeof(sub), path, "health_check");
		parse_health_check(c, v[4], sub, &r->health_check);
	}
	path_key(sub, sizeof(sub), path, "tls");
	if (v[1] != NULL && want_scalar(c, v[1], sub)) {
		if (strcmp(scalar(v[1]), "passthrough") == 0)
			r->passthrough = true;
		else
			err(c, v[1],
			    "%s: the only value is \"passthrough\", "
			    "got \"%s\"",
			    sub, scalar(v[1]));
	}
	if (r->passthrough) {
		if (v[2] != NULL)
			err(c, v[2],
			    "%s: a passthrough route has backends, "
			    "not rules",
			    path);
		path_key(sub, sizeof(sub), path, "backends");
		if (v[3] == NULL)
			err(c, item,
			    "%s: a passthrough route needs "
			    "\"backends\"",
			    path);
		else
			parse_backends(c, v[3], sub, &r->backends,
			    &r->n_backends);
		return;
	}
	if (v[3] != NULL)
		err(c, v[3],
		    "%s: route-level backends are for tls: "
		    "passthrough; an HTTP route has rules",
		    path);
	path_key(sub, sizeof(sub), path, "rules");
	if (v[2] == NULL) {
		err(c, item, "%s: an HTTP route needs \"rules\"", path);
		return;
	}
	if (!want_seq(c, v[2], sub))
		return;
	if (seq_len(v[2]) == 0)
		err(c, v[2], "%s: must not be empty", sub);
	r->rules = alloc_items(c, v[2], sizeof(*r->rules));
	for (size_t i = 0; r->rules && i < seq_len(v[2]); i++) {
		char rp[160];
		path_idx(rp, sizeof(rp), sub, i);
		struct hearth_proxy_rule *u = &r->rules[r->n_rules++];
		parse_rule(c, seq_at(c, v[2], i), rp, u);
		if (!u->health_check.enabled && r->health_check.enabled)
			copy_health_check(&u->health_check, &r->health_check);
	}
}

static void
parse_routes(struct cfg *c, const yaml_node_t *n)
{
	struct hearth_proxy *p = &c->m->proxy;
	struct duplist plain = {0}, pass = {0};
	if (!want_seq(c, n, "proxy.routes"))
		return;
	p->routes = alloc_items(c, n, sizeof(*p->routes));
	for (size_t i = 0; p->routes && i < seq_len(n); i++) {
		yaml_node_t *item = seq_at(c, n, i);
		char path[64];
		path_idx(path, sizeof(path), "proxy.routes", i);
		struct hearth_proxy_route *r = &p->routes[p->n_routes++];
		/* Passthrough and HTTP routes may share a host name. */
		yaml_node_t *tls = NULL;
		if (item->type == YAML_MAPPING_NODE)
			for (yaml_node_pair_t *q =
			         item->data.mapping.pairs.start;
			     q < item->data.mapping.pairs.top; q++)
				if (node(c, q->key)->type == YAML_SCALAR_NODE &&
				    strcmp(scalar(node(c, q->key)), "tls") == 0)
					tls = node(c, q->value);
		bool pt = tls != NULL && tls->type == YAML_SCALAR_NODE &&
		    strcmp(scalar(tls), "passthrough") == 0;
		parse_route(c, item, path, r, pt ? &pass : &plain);
	}
	dup_check(c, &plain, "host name");
	dup_check(c, &pass, "host name");
}

static bool
get_access_log_format(struct cfg *c, const yaml_node_t *n,
    enum hearth_access_log_format *out)
{
	if (!want_scalar(c, n, "proxy.access_log_format"))
		return false;
	if (strcmp(scalar(n), "json") == 0)
		*out = HEARTH_ACCESS_LOG_JSON;
	else if (strcmp(scalar(n), "text") == 0)
		*out = HEARTH_ACCESS_LOG_TEXT;
	else {
		err(c, n,
		    "proxy.access_log_format: must be json or text, got "
		    "\"%s\"",
		    scalar(n));
		return false;
	}
	return true;
}

static void
parse_proxy(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"http_port", "https_port",
	    "drain_seconds", "certificates", "redirect_http_to_https", "limits",
	    "routes", "access_log", "access_log_format", NULL};
	yaml_node_t *v[9];
	struct hearth_proxy *p = &c->m->proxy;
	c->m->has_proxy = true;
	if (!map_fields(c, n, "proxy", keys, v))
		return;
	if (v[0] != NULL)
		get_port(c, v[0], "proxy.http_port", &p->http_port);
	if (v[1] != NULL)
		get_port(c, v[1], "proxy.https_port", &p->https_port);
	if ((v[0] != NULL || v[1] != NULL) && p->http_port == p->https_port)
		err(c, v[1] ? v[1] : v[0], "proxy.%s: %u is also the %s",
		    v[1] ? "https_port" : "http_port", p->https_port,
		    v[1] ? "http_port" : "https_port (default 443)");
	get_u32(c, v[2], "proxy.drain_seconds", 0, 86400, &p->drain_seconds);
	if (v[3] != NULL)
		parse_certificates(c, v[3]);
	get_bool(c, v[4], "proxy.redirect_http_to_https",
	    &p->redirect_http_to_https);
	if (v[5] != NULL)
		parse_limits(c, v[5]);
	if (v[6] != NULL)
		parse_routes(c, v[6]);
	/* access_log: a file hearthd writes (extension; proxy/README.md). */
	if (v[7] != NULL)
		get_str(c, v[7], "proxy.access_log", true, &p->access_log);
	if (v[8] != NULL)
		get_access_log_format(c, v[8], &p->access_log_format);
}

static void
parse_kubernetes(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"enabled", "kubeconfig",
	    "load_balancer_class", "namespace", "lease_duration_seconds",
	    "renew_deadline_seconds", "retry_period_seconds", NULL};
	yaml_node_t *v[7];
	struct hearth_kubernetes *k = &c->m->kubernetes;
	if (!map_fields(c, n, "kubernetes", keys, v))
		return;
	get_bool(c, v[0], "kubernetes.enabled", &k->enabled);
	if (v[1] != NULL && !is_null(v[1]) && v[1]->type == YAML_SCALAR_NODE &&
	    scalar(v[1])[0] != '\0' && k->enabled)
		get_readable(c, v[1], "kubernetes.kubeconfig", &k->kubeconfig);
	else if (v[1] != NULL &&
	    get_str(c, v[1], "kubernetes.kubeconfig", true, &k->kubeconfig) &&
	    k->kubeconfig != NULL) {
		char *full = resolve(c, k->kubeconfig);
		if (full != NULL) {
			free(k->kubeconfig);
			k->kubeconfig = full;
		}
	}
	if (v[2] != NULL)
		get_str(c, v[2], "kubernetes.load_balancer_class", true,
		    &k->load_balancer_class);
	if (v[3] != NULL)
		get_str(c, v[3], "kubernetes.namespace", false, &k->namespace);
	get_u32(c, v[4], "kubernetes.lease_duration_seconds", 1, 3600,
	    &k->lease_duration_seconds);
	get_u32(c, v[5], "kubernetes.renew_deadline_seconds", 1, 3600,
	    &k->renew_deadline_seconds);
	get_u32(c, v[6], "kubernetes.retry_period_seconds", 1, 3600,
	    &k->retry_period_seconds);
	if (k->lease_duration_seconds <= k->renew_deadline_seconds)
		err(c,
		    v[4]     ? v[4] :
		        v[5] ? v[5] :
		               n,
		    "kubernetes.lease_duration_seconds (%u) must be above "
		    "renew_deadline_seconds (%u)",
		    k->lease_duration_seconds, k->renew_deadline_seconds);
	if (k->renew_deadline_seconds <= k->retry_period_seconds)
		err(c,
		    v[5]     ? v[5] :
		        v[6] ? v[6] :
		               n,
		    "kubernetes.renew_deadline_seconds (%u) must be above "
		    "retry_period_seconds (%u)",
		    k->renew_deadline_seconds, k->retry_period_seconds);
}

static void
parse_metrics(struct cfg *c, const yaml_node_t *n)
{
	static const char *const keys[] = {"listen", NULL};
	yaml_node_t *v[1];
	if (!map_fields(c, n, "metrics", keys, v) || v[0] == NULL)
		return;
	if (is_null(v[0]) ||
	    (v[0]->type == YAML_SCALAR_NODE && scalar(v[0])[0] == '\0'))
		return;
	if (get_endpoint(c, v[0], "metrics.listen", 0, &c->m->metrics.listen))
		c->m->metrics.enabled = true;
}

/* --- the document --------------------------------------------------- */

static void
parse_root(struct cfg *c, const yaml_node_t *root)
{
	static const char *const keys[] = {"node", "peers", "pools", "services",
	    "nat", "dns", "proxy", "kubernetes", "metrics", NULL};
	yaml_node_t *v[9];
	if (!map_fields(c, root, "", keys, v))
		return;
	if (v[0] != NULL)
		parse_node(c, v[0]);
	if (v[1] != NULL)
		parse_peers(c, v[1]);
	if (v[2] != NULL)
		parse_pools(c, v[2]);
	if (v[3] != NULL)
		parse_services(c, v[3]);
	if (v[4] != NULL)
		parse_nat(c, v[4]);
	if (v[5] != NULL)
		parse_dns(c, v[5]);
	if (v[6] != NULL)
		parse_proxy(c, v[6]);
	if (v[7] != NULL)
		parse_kubernetes(c, v[7]);
	if (v[8] != NULL)
		parse_metrics(c, v[8]);
}

/* Defaults that are not plain numbers (lists, strings). */
static int
fill_defaults(struct hearth_model *m)
{
	if (m->node.name == NULL) {
		char host[HOST_NAME_MAX + 1] = "";
		if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
			snprintf(host, sizeof(host), "localhost");
		m->node.name = strdup(host);
	}
	if (m->dns.listen == NULL) {
		m->dns.listen = calloc(1, sizeof(*m->dns.listen));
		if (m->dns.listen == NULL)
			return -ENOMEM;
		hearth_endpoint_parse("127.0.0.1:53", 0, &m->dns.listen[0]);
		m->dns.n_listen = 1;
	}
	if (m->kubernetes.namespace == NULL)
		m->kubernetes.namespace = strdup("hearth-system");
	if (m->node.name == NULL || m->kubernetes.namespace == NULL)
		return -ENOMEM;
	return 0;
}

static int
default_recursion_clients(struct hearth_model *m)
{
	m->dns.recursion_clients = calloc(2, sizeof(*m->dns.recursion_clients));
	if (m->dns.recursion_clients == NULL)
		return -ENOMEM;
	hearth_cidr_parse("127.0.0.0/8", &m->dns.recursion_clients[0]);
	hearth_cidr_parse("::1/128", &m->dns.recursion_clients[1]);
	m->dns.n_recursion_clients = 2;
	return 0;
}

/* True when the root mapping has key under section (for defaults). */
static bool
has_key(struct cfg *c, const yaml_node_t *root, const char *section,
    const char *key)
{
	if (root == NULL || root->type != YAML_MAPPING_NODE)
		return false;
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(c, p->key), *v = node(c, p->value);
		if (k->type != YAML_SCALAR_NODE ||
		    strcmp(scalar(k), section) != 0 ||
		    v->type != YAML_MAPPING_NODE)
			continue;
		for (yaml_node_pair_t *q = v->data.mapping.pairs.start;
		     q < v->data.mapping.pairs.top; q++) {
			yaml_node_t *kk = node(c, q->key);
			if (kk->type == YAML_SCALAR_NODE &&
			    strcmp(scalar(kk), key) == 0)
				return true;
		}
	}
	return false;
}

static void
yaml_error(struct cfg *c, const yaml_parser_t *p)
{
	const char *what = p->problem ? p->problem : "syntax error";
	if (p->error == YAML_MEMORY_ERROR)
		what = "out of memory";
	if (p->context != NULL)
		err_at(c, (int)p->problem_mark.line + 1,
		    (int)p->problem_mark.column + 1,
		    "YAML syntax error: %s (%s)", what, p->context);
	else
		err_at(c, (int)p->problem_mark.line + 1,
		    (int)p->problem_mark.column + 1, "YAML syntax error: %s",
		    what);
}

/*
 * A first pass over the events: YAML syntax, and bounds the document
 * loader does not have (nesting depth, node count, aliases, one document).
 */
static bool
prescan(struct cfg *c, const char *buf, size_t len)
{
	yaml_parser_t p;
	yaml_event_t ev;
	int depth = 0, docs = 0;
	size_t nodes = 0;
	bool ok = true, done = false;
	if (!yaml_parser_initialize(&p)) {
		err(c, NULL, "out of memory");
		return false;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	while (ok && !done) {
		if (!yaml_parser_parse(&p, &ev)) {
			yaml_error(c, &p);
			ok = false;
			break;
		}
		int line = (int)ev.start_mark.line + 1;
		int col = (int)ev.start_mark.column + 1;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = true;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (++docs > 1) {
				err_at(c, line, col,
				    "YAML: only one document "
				    "is allowed");
				ok = false;
			}
			break;
		case YAML_ALIAS_EVENT:
			err_at(c, line, col,
			    "YAML: aliases are not "
			    "supported");
			ok = false;
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > CFG_MAX_DEPTH) {
				err_at(c, line, col,
				    "YAML: nested deeper than "
				    "%d levels",
				    CFG_MAX_DEPTH);
				ok = false;
			}
			/* FALLTHROUGH */
		case YAML_SCALAR_EVENT:
			if (++nodes > CFG_MAX_NODES) {
				err_at(c, line, col,
				    "YAML: more than %d "
				    "values",
				    CFG_MAX_NODES);
				ok = false;
			}
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&p);
	return ok;
}

/* Orders the errors by position, keeping the order of equal ones. */
static void
sort_errors(struct hearth_config_errors *errs)
{
	for (size_t i = 1; i < errs->n; i++) {
		struct hearth_config_error e = errs->v[i];
		size_t j = i;
		while (j > 0 &&
		    (errs->v[j - 1].pos.line > e.pos.line ||
		        (errs->v[j - 1].pos.line == e.pos.line &&
		            errs->v[j - 1].pos.col > e.pos.col))) {
			errs->v[j] = errs->v[j - 1];
			j--;
		}
		errs->v[j] = e;
	}
}

static char *
dir_of(const char *name)
{
	const char *slash = strrchr(name, '/');
	if (slash == NULL)
		return strdup(".");
	if (slash == name)
		return strdup("/");
	return strndup(name, (size_t)(slash - name));
}

struct hearth_model *
hearth_config_parse(const char *name, const char *buf, size_t len,
    struct hearth_config_errors *errs)
{
	struct cfg c = {.name = name, .errs = errs};
	yaml_parser_t p;
	bool loaded = false;
	errs->file = name;
	c.m = hearth_model_new();
	c.dir = dir_of(name);
	if (c.m == NULL || c.dir == NULL) {
		err(&c, NULL, "out of memory");
		goto done;
	}
	if (len > CFG_MAX_BYTES) {
		err(&c, NULL, "larger than %d bytes", CFG_MAX_BYTES);
		goto done;
	}
	if (!prescan(&c, buf, len))
		goto done;
	if (!yaml_parser_initialize(&p)) {
		err(&c, NULL, "out of memory");
		goto done;
	}
	yaml_parser_set_input_string(&p, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&p, &c.doc))
		yaml_error(&c, &p);
	else
		loaded = true;
	yaml_parser_delete(&p);
	if (!loaded)
		goto done;
	yaml_node_t *root = yaml_document_get_root_node(&c.doc);
	if (root != NULL && !is_null(root))
		parse_root(&c, root);
	if (!has_key(&c, root, "dns", "recursion_clients") &&
	    default_recursion_clients(c.m) != 0)
		err(&c, NULL, "out of memory");
	if (fill_defaults(c.m) != 0)
		err(&c, NULL, "out of memory");
	yaml_document_delete(&c.doc);
done:
	free(c.dir);
	sort_errors(errs);
	if (errs->n > 0) {
		hearth_model_unref(c.m);
		return NULL;
	}
	return c.m;
}

struct hearth_model *
hearth_config_load(const char *path, struct hearth_config_errors *errs)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	errs->file = path;
	int rc = read_file(path, CFG_MAX_BYTES, &buf, &len);
	if (rc != 0) {
		char *msg = NULL;
		if (asprintf(&msg, "cannot read the configuration: %s",
		        file_error(rc)) < 0)
			msg = NULL;
		add_error(errs, 0, 0, msg);
		return NULL;
	}
	struct hearth_model *m =
	    hearth_config_parse(path, (char *)buf, len, errs);
	free(buf);
	return m;
}

void
hearth_config_errors_print(const struct hearth_config_errors *errs, FILE *out)
{
	for (size_t i = 0; i < errs->n; i++)
		fprintf(out, "%s:%d:%d: %s\n", errs->file, errs->v[i].pos.line,
		    errs->v[i].pos.col, errs->v[i].message);
}

void
hearth_config_errors_free(struct hearth_config_errors *errs)
{
	if (errs == NULL)
		return;
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i].message);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}
