/*
 * The line log: lines written from several shards all reach the file
 * whole and in order per shard; a reopen sends later lines to the new
 * file and earlier ones to the old; reopening to nothing discards; a line
 * over the bound is dropped and counted; a line log that cannot open its
 * file is refused; JSON escaping and the timestamp's shape.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "linelog.h"

/* A fresh file name under /tmp (removed by the caller). */
static void
tmpname(char *buf, size_t cap, const char *tag)
{
	snprintf(buf, cap, "/tmp/hearth-linelog-%ld-%s", (long)getpid(), tag);
	unlink(buf);
}

/* The file's whole content (caller frees). */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	if (f == NULL)
		return strdup("");
	char *b = calloc(1, 1 << 22);
	size_t n = fread(b, 1, (1 << 22) - 1, f);
	b[n] = '\0';
	fclose(f);
	return b;
}

static void
test_lines_from_every_shard_reach_the_file(void **state)
{
	(void)state;
	char path[128], line[64];
	tmpname(path, sizeof(path), "shards");
	struct hearth_linelog *l = hearth_linelog_open(path, 3, NULL);
	assert_non_null(l);
	for (int i = 0; i < 3000; i++) {
		int n = snprintf(line, sizeof(line), "s%d n%d\n", i % 3, i / 3);
		assert_int_equal(hearth_linelog_write(l, (unsigned)i % 3, line,
		                     (size_t)n),
		    0);
	}
	assert_int_equal(hearth_linelog_dropped(l), 0);
	hearth_linelog_close(l);
	char *b = slurp(path);
	int next[3] = {0, 0, 0}, lines = 0;
	for (char *save, *t = strtok_r(b, "\n", &save); t != NULL;
	     t = strtok_r(NULL, "\n", &save)) {
		int s, n;
		assert_int_equal(sscanf(t, "s%d n%d", &s, &n), 2);
		assert_int_equal(n, next[s]); /* in order within a shard */
		next[s]++;
		lines++;
	}
	assert_int_equal(lines, 3000);
	free(b);
	unlink(path);
}

static void
test_reopen_moves_later_lines_to_the_new_file(void **state)
{
	(void)state;
	char a[128], b[128];
	tmpname(a, sizeof(a), "old");
	tmpname(b, sizeof(b), "new");
	struct hearth_linelog *l = hearth_linelog_open(a, 1, NULL);
	assert_non_null(l);
	hearth_linelog_write(l, 0, "one\n", 4);
	assert_int_equal(hearth_linelog_reopen(l, b), 0);
	hearth_linelog_write(l, 0, "two\n", 4);
	/* A file that cannot be opened: refused, the current one kept. */
	assert_int_equal(hearth_linelog_reopen(l, "/nonexistent/dir/x"),
	    -ENOENT);
	hearth_linelog_write(l, 0, "three\n", 6);
	hearth_linelog_close(l);
	char *x = slurp(a), *y = slurp(b);
	assert_string_equal(x, "one\n");
	assert_string_equal(y, "two\nthree\n");
	free(x);
	free(y);
	unlink(a);
	unlink(b);
}

static void
test_reopen_to_nothing_discards(void **state)
{
	(void)state;
	char a[128];
	tmpname(a, sizeof(a), "off");
	struct hearth_linelog *l = hearth_linelog_open(a, 1, NULL);
	assert_non_null(l);
	hearth_linelog_write(l, 0, "kept\n", 5);
	assert_int_equal(hearth_linelog_reopen(l, NULL), 0);
	hearth_linelog_write(l, 0, "gone\n", 5);
	hearth_linelog_close(l);
	char *x = slurp(a);
	assert_string_equal(x, "kept\n");
	free(x);
	unlink(a);
}

static void
test_line_over_the_bound_is_dropped_and_counted(void **state)
{
	(void)state;
	char a[128];
	tmpname(a, sizeof(a), "big");
	struct hearth_linelog *l = hearth_linelog_open(a, 2, NULL);
	assert_non_null(l);
	size_t n = HEARTH_LINELOG_SHARD_MAX + 1;
	char *big = malloc(n);
	memset(big, 'x', n - 1);
	big[n - 1] = '\n';
	assert_int_equal(hearth_linelog_write(l, 1, big, n), -ENOBUFS);
	assert_int_equal(hearth_linelog_dropped(l), 1);
	assert_int_equal(hearth_linelog_write(l, 1, "small\n", 6), 0);
	hearth_linelog_close(l);
	char *x = slurp(a);
	assert_string_equal(x, "small\n");
	free(x);
	free(big);
	unlink(a);
}

static void
test_unopenable_file_is_refused(void **state)
{
	(void)state;
	errno = 0;
	assert_null(hearth_linelog_open("/nonexistent/dir/x", 1, NULL));
	assert_int_equal(errno, ENOENT);
}

static int init_calls;

static void
count_init(void)
{
	init_calls++;
}

static void
test_writer_runs_thread_init(void **state)
{
	(void)state;
	char a[128];
	tmpname(a, sizeof(a), "init");
	struct hearth_linelog *l = hearth_linelog_open(a, 1, count_init);
	assert_non_null(l);
	hearth_linelog_close(l); /* joins the writer */
	assert_int_equal(init_calls, 1);
	unlink(a);
}

static void
test_json_escape(void **state)
{
	(void)state;
	char out[64];
	const char in[] = "a\"b\\c\n\x01\xc3\xa9/";
	assert_int_equal(hearth_json_escape(out, sizeof(out), in,
	                     sizeof(in) - 1),
	    strlen("a\\\"b\\\\c\\u000a\\u0001\\u00c3\\u00a9/"));
	assert_string_equal(out, "a\\\"b\\\\c\\u000a\\u0001\\u00c3\\u00a9/");
	/* Never a cut escape: what does not fit is left out. */
	assert_int_equal(hearth_json_escape(out, 6, "ab\n", 3), 2);
	assert_string_equal(out, "ab");
	assert_int_equal(hearth_json_escape(out, 4, "abcdef", 6), 3);
	assert_string_equal(out, "abc");
}

static void
test_time_shape(void **state)
{
	(void)state;
	char ts[40];
	assert_int_equal(hearth_linelog_time(ts, sizeof(ts)), 24);
	int y, mo, d, h, mi, s, ms;
	char z;
	assert_int_equal(sscanf(ts, "%4d-%2d-%2dT%2d:%2d:%2d.%3d%c", &y, &mo,
	                     &d, &h, &mi, &s, &ms, &z),
	    8);
	assert_true(y >= 2024 && mo >= 1 && mo <= 12 && z == 'Z');
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_lines_from_every_shard_reach_the_file),
	    cmocka_unit_test(test_reopen_moves_later_lines_to_the_new_file),
	    cmocka_unit_test(test_reopen_to_nothing_discards),
	    cmocka_unit_test(test_line_over_the_bound_is_dropped_and_counted),
	    cmocka_unit_test(test_unopenable_file_is_refused),
	    cmocka_unit_test(test_writer_runs_thread_init),
	    cmocka_unit_test(test_json_escape),
	    cmocka_unit_test(test_time_shape),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
