/*
 * The configuration model: one immutable, reference-counted snapshot of
 * everything hearthd is told to do. The YAML parser (config.c) builds it
 * from a file; in Kubernetes mode a second source (kube/) builds the same
 * structures from watched objects and the daemon merges both into one
 * model. Modules receive borrowed `const` pointers and never modify it;
 * worker threads keep a snapshot alive with hearth_model_ref().
 */
#ifndef HEARTH_MODEL_H
#define HEARTH_MODEL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Where a value came from in the configuration file (1-based). */
struct hearth_pos {
	int line;
	int col;
};

/* An IPv4 or IPv6 address; family is AF_INET or AF_INET6. */
struct hearth_addr {
	int family;
	union {
		struct in_addr v4;
		struct in6_addr v6;
	};
};

struct hearth_cidr {
	struct hearth_addr addr; /* host bits cleared */
	uint8_t prefix;
};

/* An address with a port ("10.244.1.5:5432", "[fd00::1]:80"). */
struct hearth_endpoint {
	struct hearth_addr addr;
	uint16_t port;
};

/* An inclusive address range; both ends of one family. */
struct hearth_range {
	struct hearth_addr first;
	struct hearth_addr last;
};

enum hearth_proto {
	HEARTH_PROTO_TCP = 6,
	HEARTH_PROTO_UDP = 17,
};

struct hearth_node {
	char *name;      /* default: the hostname */
	char *interface; /* NULL: derived from the first pool at start */
	char *run_as;    /* NULL: stay as started */
};

struct hearth_peers {
	struct hearth_addr *members;
	size_t n_members;
	uint16_t port;          /* 7946 */
	uint32_t interval_ms;   /* 100 */
	uint32_t dead_after_ms; /* 400 */
	char *key_file;         /* NULL when not given */
	uint8_t *key;           /* the file's bytes, trailing space removed */
	size_t key_len;
	bool quorum;                   /* true */
	bool rebalance;                /* false */
	uint32_t garp_refresh_seconds; /* 60 */
};

struct hearth_pool {
	char *name;
	struct hearth_range *ranges; /* "a-b", a CIDR or one address */
	size_t n_ranges;
};

struct hearth_service_port {
	uint16_t port;
	enum hearth_proto proto;
	bool to_proxy;                    /* target: proxy */
	struct hearth_endpoint *backends; /* DNAT, one per new connection */
	size_t n_backends;                /* 0 and !to_proxy: refuse (reset) */
};

struct hearth_service {
	char *name;                 /* static: as configured; kube: "ns/name" */
	struct hearth_addr address; /* the VIP */
	struct hearth_service_port *ports;
	size_t n_ports;
	bool local_traffic; /* externalTrafficPolicy: Local */
};

struct hearth_masquerade {
	struct hearth_cidr source;
	char *out_interface; /* NULL: any */
};

struct hearth_port_forward {
	char *in_interface; /* NULL: any */
	uint16_t port;
	enum hearth_proto proto;
	struct hearth_endpoint to;
};

/* One allow_input entry: "22/tcp" or "2379-2380/tcp". */
struct hearth_port_range {
	uint16_t first;
	uint16_t last;
	enum hearth_proto proto;
};

struct hearth_nat {
	struct hearth_masquerade *masquerade;
	size_t n_masquerade;
	struct hearth_port_forward *port_forwards;
	size_t n_port_forwards;
	bool allow_input_set; /* absent: no input filtering */
	struct hearth_port_range *allow_input;
	size_t n_allow_input;
	bool keep_on_exit; /* false */
};

/*
 * A resource record parsed from a presentation line. Owner names are
 * absolute, lower case, without the trailing dot ("harbor.qroksera.com",
 * "*.qroksera.com"); rdata is in wire format with uncompressed names.
 */
struct hearth_rr {
	char *owner;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	uint8_t *rdata;
	uint16_t rdlen;
};

struct hearth_dns_view {
	char *name;
	struct hearth_cidr *clients;
	size_t n_clients;
	struct hearth_rr *records; /* with the apex SOA and NS synthesised */
	size_t n_records;
	bool forward; /* false */
};

struct hearth_dns_zone {
	char *origin; /* lower case, no trailing dot */
	struct hearth_dns_view *views;
	size_t n_views;
};

struct hearth_dns_rate_limit {
	uint32_t responses_per_second; /* 0 = off */
	uint32_t slip;                 /* 2 */
	uint8_t ipv4_prefix;           /* 24 */
	uint8_t ipv6_prefix;           /* 56 */
};

struct hearth_dns {
	struct hearth_endpoint *listen; /* default 127.0.0.1:53 */
	size_t n_listen;
	struct hearth_endpoint *forwarders; /* port defaults to 53 */
	size_t n_forwarders;
	struct hearth_cidr
	    *recursion_clients; /* default 127.0.0.0/8, ::1/128 */
	size_t n_recursion_clients;
	uint32_t cache_entries;         /* 100000 */
	uint16_t max_udp_payload_bytes; /* 1232 */
	struct hearth_dns_rate_limit rate_limit;
	char *query_log; /* NULL = off */
	struct hearth_dns_zone *zones;
	size_t n_zones;
};

struct hearth_proxy_cert {
	char *cert; /* PEM file paths, checked readable */
	char *key;
	char *ocsp; /* DER OCSP response to staple; NULL: none (extension) */
};

struct hearth_proxy_limits {
	uint32_t max_connections;         /* 100000 */
	uint32_t max_header_bytes;        /* 65536 */
	uint32_t max_headers;             /* 100 */
	uint64_t max_body_bytes;          /* 0 = unlimited */
	uint32_t header_timeout_ms;       /* 10000 */
	uint32_t idle_timeout_seconds;    /* 60 */
	uint32_t connect_timeout_ms;      /* 3000 */
	uint32_t backend_timeout_seconds; /* 60 */
};

struct hearth_proxy_backend {
	struct hearth_endpoint address;
	uint32_t weight; /* 1; 0 allowed if the sum is not 0 */
};

/*
 * An active HTTP health check of a rule's (or a passthrough route's)
 * backends; an extension of SPEC documented in proxy/README.md.
 */
struct hearth_proxy_health_check {
	bool enabled;             /* health_check given */
	char *path;               /* "/" */
	uint32_t interval_ms;     /* 2000 */
	uint32_t timeout_ms;      /* 1000; at most interval_ms */
	uint32_t unhealthy_after; /* 3 failed checks in a row: down */
	uint32_t healthy_after;   /* 2 passed checks in a row: up again */
	uint16_t expect_min;      /* expect_status "200-399" */
	uint16_t expect_max;
};

struct hearth_proxy_header_match {
	char *name;  /* lower case */
	char *value; /* exact */
};

enum hearth_path_match {
	HEARTH_PATH_PREFIX,
	HEARTH_PATH_EXACT,
};

struct hearth_proxy_rule {
	enum hearth_path_match match; /* no path given: prefix "/" */
	char *path;
	struct hearth_proxy_header_match *headers;
	size_t n_headers;
	struct hearth_proxy_backend *backends;
	size_t n_backends;
	struct hearth_proxy_health_check health_check;
};

struct hearth_proxy_route {
	char **hostnames; /* lower case; "*.example.com" wildcards */
	size_t n_hostnames;
	bool passthrough;                /* tls: passthrough */
	struct hearth_proxy_rule *rules; /* HTTP routes */
	size_t n_rules;
	struct hearth_proxy_backend *backends; /* passthrough routes */
	size_t n_backends;
	/* passthrough: checks over TLS; HTTP: the rules' default (copied) */
	struct hearth_proxy_health_check health_check;
};

/* proxy.access_log_format (an extension; see proxy/README.md). */
enum hearth_access_log_format {
	HEARTH_ACCESS_LOG_JSON, /* default: one JSON object per line */
	HEARTH_ACCESS_LOG_TEXT,
};

struct hearth_proxy {
	uint16_t http_port;     /* 80 */
	uint16_t https_port;    /* 443 */
	uint32_t drain_seconds; /* 30 */
	struct hearth_proxy_cert *certificates;
	size_t n_certificates;
	bool redirect_http_to_https; /* false */
	struct hearth_proxy_limits limits;
	struct hearth_proxy_route *routes;
	size_t n_routes;
	char *access_log; /* NULL = off (extension) */
	enum hearth_access_log_format access_log_format; /* JSON */
};

struct hearth_kubernetes {
	bool enabled;                    /* false */
	char *kubeconfig;                /* NULL: in-cluster */
	char *load_balancer_class;       /* NULL: services without a class */
	char *namespace;                 /* "hearth-system" */
	uint32_t lease_duration_seconds; /* 15 */
	uint32_t renew_deadline_seconds; /* 10 */
	uint32_t retry_period_seconds;   /* 2 */
};

struct hearth_metrics_cfg {
	bool enabled; /* metrics.listen given */
	struct hearth_endpoint listen;
};

/*
 * A change hint a producer may attach to a model it derived from another
 * one by changing a few services (the Kubernetes watcher: one Service
 * event at a time). base_generation is the generation of that base model
 * (0: no hint); each change names one service by its index in the base
 * (HEARTH_MODEL_NO_INDEX: added) and in this model (HEARTH_MODEL_NO_INDEX:
 * removed). The promise: every other service of the base appears in this
 * model with the same content, every other service of this model is one
 * of those, and the sections other than services are the base's. A
 * consumer whose last model is not the base ignores the hint and
 * compares whole models, which is always correct.
 */
#define HEARTH_MODEL_NO_INDEX SIZE_MAX

struct hearth_service_change {
	size_t old_index;
	size_t new_index;
};

struct hearth_model_delta {
	uint64_t base_generation;
	struct hearth_service_change *services; /* freed with the model */
	size_t n_services;
};

/*
 * The whole model. A section that is absent from the file has its
 * `has_*` flag false and its defaults filled in, so modules can read
 * defaults without checking the flag.
 */
struct hearth_model {
	int refs; /* hearth_model_ref/unref, atomic */
	struct hearth_node node;
	struct hearth_peers peers;
	struct hearth_pool *pools;
	size_t n_pools;
	struct hearth_service *services;
	size_t n_services;
	bool has_nat;
	struct hearth_nat nat;
	bool has_dns;
	struct hearth_dns dns;
	bool has_proxy;
	struct hearth_proxy proxy;
	struct hearth_kubernetes kubernetes;
	struct hearth_metrics_cfg metrics;
	uint64_t generation; /* unique per process, set by hearth_model_new */
	struct hearth_model_delta delta; /* optional change hint */
};

/* A new model with every default, no sections, a new generation; refs = 1. */
struct hearth_model *hearth_model_new(void);
struct hearth_model *hearth_model_ref(struct hearth_model *m);
/* Drops one reference; frees on the last. NULL is a no-op. */
void hearth_model_unref(struct hearth_model *m);

/* Address helpers shared by the parser and the modules. */
int hearth_addr_parse(const char *s, struct hearth_addr *out);
/* "a.b.c.d/n" or "x::/n"; host bits must be zero unless lax. */
int hearth_cidr_parse(const char *s, struct hearth_cidr *out);
/* "a.b.c.d:port", "[v6]:port"; default_port (0: port required). */
int hearth_endpoint_parse(const char *s, uint16_t default_port,
    struct hearth_endpoint *out);
/* "a-b", a CIDR, or one address. */
int hearth_range_parse(const char *s, struct hearth_range *out);
int hearth_addr_cmp(const struct hearth_addr *a, const struct hearth_addr *b);
bool hearth_addr_eq(const struct hearth_addr *a, const struct hearth_addr *b);
bool hearth_cidr_contains(const struct hearth_cidr *c,
    const struct hearth_addr *a);
bool hearth_range_contains(const struct hearth_range *r,
    const struct hearth_addr *a);
/* Writes "a.b.c.d" or "x::y" into buf (INET6_ADDRSTRLEN); returns buf. */
char *hearth_addr_str(const struct hearth_addr *a, char *buf, size_t len);
/* "a.b.c.d:p" or "[x::y]:p"; buf of HEARTH_ENDPOINT_STRLEN. */
#define HEARTH_ENDPOINT_STRLEN (INET6_ADDRSTRLEN + 8)
char *hearth_endpoint_str(const struct hearth_endpoint *e, char *buf,
    size_t len);

/* The pool holding a, or NULL. */
const struct hearth_pool *hearth_model_pool_of(const struct hearth_model *m,
    const struct hearth_addr *a);

/*
 * Every VIP the model announces (service addresses, deduplicated, sorted
 * by hearth_addr_cmp). Returns the count; *out is malloc'ed (NULL if 0).
 * Returns -ENOMEM on failure.
 */
int hearth_model_vips(const struct hearth_model *m, struct hearth_addr **out);

/* Section equality, for modules deciding whether a reload concerns them. */
bool hearth_model_services_equal(const struct hearth_model *a,
    const struct hearth_model *b);
bool hearth_model_nat_equal(const struct hearth_model *a,
    const struct hearth_model *b);
bool hearth_model_dns_equal(const struct hearth_model *a,
    const struct hearth_model *b);
bool hearth_model_proxy_equal(const struct hearth_model *a,
    const struct hearth_model *b);
bool hearth_model_l2_equal(const struct hearth_model *a,
    const struct hearth_model *b);

#endif
