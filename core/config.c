/* Placeholder until the parser lands: every file is an empty model. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

struct hearth_model *
hearth_config_parse(const char *name, const char *buf, size_t len,
    struct hearth_config_errors *errs)
{
	(void)name; (void)buf; (void)len; (void)errs;
	return hearth_model_new();
}

struct hearth_model *
hearth_config_load(const char *path, struct hearth_config_errors *errs)
{
	errs->file = path;
	return hearth_config_parse(path, "", 0, errs);
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
	for (size_t i = 0; i < errs->n; i++)
		free(errs->v[i].message);
	free(errs->v);
	errs->v = NULL;
	errs->n = 0;
}
