/*
 * The configuration file: YAML -> validated hearth_model. Parse and
 * validate are one pass that collects every error (not just the first),
 * each as FILE:LINE:COL: message naming the key. Nothing is touched: the
 * loader only reads the file and the files it names (keys, certificates).
 */
#ifndef HEARTH_CONFIG_H
#define HEARTH_CONFIG_H

#include <stddef.h>
#include <stdio.h>

#include "model.h"

struct hearth_config_error {
	struct hearth_pos pos; /* line 0: the file as a whole */
	char *message;
};

struct hearth_config_errors {
	const char *file; /* borrowed, for printing */
	struct hearth_config_error *v;
	size_t n;
};

/*
 * Loads and validates path. Returns the model, or NULL with errs->n > 0.
 * errs must be zeroed first and is freed with hearth_config_errors_free.
 */
struct hearth_model *hearth_config_load(const char *path,
    struct hearth_config_errors *errs);
/* The same from a buffer; name is used in messages and for relative paths. */
struct hearth_model *hearth_config_parse(const char *name, const char *buf,
    size_t len, struct hearth_config_errors *errs);
/* Prints every error as "FILE:LINE:COL: message\n". */
void hearth_config_errors_print(const struct hearth_config_errors *errs,
    FILE *out);
void hearth_config_errors_free(struct hearth_config_errors *errs);

/*
 * Parses one RFC 1035 presentation line ("name [ttl] [class] type rdata")
 * relative to origin (lower case, no trailing dot). Returns 0, or -EINVAL
 * with a message in err.
 */
int hearth_rr_parse(const char *line, const char *origin, struct hearth_rr *out,
    char *err, size_t errlen);
void hearth_rr_clear(struct hearth_rr *rr);

#endif
