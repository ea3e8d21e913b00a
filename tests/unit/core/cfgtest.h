/*
 * Shared helpers of the configuration tests: parse a YAML string (as a
 * file in a scratch directory, so relative paths work), and check that it
 * gave exactly the errors expected, each at its line and column.
 */
#ifndef HEARTH_CFGTEST_H
#define HEARTH_CFGTEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"

static char cfgtest_dir[64];
static char cfgtest_name[128];

/* A scratch directory holding the file's neighbours (keys, certs). */
static inline int
cfgtest_setup(void **state)
{
	(void)state;
	snprintf(cfgtest_dir, sizeof(cfgtest_dir),
	    "/tmp/hearth-cfgtest.XXXXXX");
	if (mkdtemp(cfgtest_dir) == NULL)
		return -1;
	snprintf(cfgtest_name, sizeof(cfgtest_name), "%s/hearth.yaml",
	    cfgtest_dir);
	return 0;
}

static inline int
cfgtest_teardown(void **state)
{
	(void)state;
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", cfgtest_dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* Writes a file into the scratch directory. */
static inline void
cfgtest_write(const char *name, const char *content)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", cfgtest_dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(content, f);
	fclose(f);
}

static inline struct hearth_model *
cfgtest_parse(const char *yaml, struct hearth_config_errors *errs)
{
	memset(errs, 0, sizeof(*errs));
	return hearth_config_parse(cfgtest_name, yaml, strlen(yaml), errs);
}

/* Parses yaml, which must be valid; returns the model. */
static inline struct hearth_model *
cfgtest_valid(const char *yaml)
{
	struct hearth_config_errors e;
	struct hearth_model *m = cfgtest_parse(yaml, &e);
	if (m == NULL) {
		hearth_config_errors_print(&e, stderr);
		hearth_config_errors_free(&e);
		fail_msg("valid configuration refused");
	}
	assert_int_equal(e.n, 0);
	return m;
}

/* yaml must give exactly one error, at line:col, containing text. */
static inline void
cfgtest_error(const char *yaml, int line, int col, const char *text)
{
	struct hearth_config_errors e;
	struct hearth_model *m = cfgtest_parse(yaml, &e);
	if (e.n != 1 || e.v[0].pos.line != line || e.v[0].pos.col != col ||
	    strstr(e.v[0].message, text) == NULL) {
		fprintf(stderr, "expected exactly %d:%d: ...%s...; got:\n",
		    line, col, text);
		hearth_config_errors_print(&e, stderr);
		hearth_config_errors_free(&e);
		hearth_model_unref(m);
		fail();
	}
	assert_null(m);
	hearth_config_errors_free(&e);
}

#endif
