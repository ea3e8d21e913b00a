/*
 * Line logs to a file (the DNS query log, the proxy access log) that never
 * block the thread answering a request: lines go to a memory buffer per
 * shard (one per event-loop thread), and one writer thread writes them to
 * the file in batches. Memory is bounded: past the bound a line is
 * dropped and counted, never waited for.
 */
#ifndef HEARTH_LINELOG_H
#define HEARTH_LINELOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bytes buffered per shard before lines are dropped (and as many more
 * being written). */
#define HEARTH_LINELOG_SHARD_MAX (1u << 20)

struct hearth_linelog;

/*
 * Opens (appends to, creates 0640) the file at path with n_shards buffers
 * and starts the writer thread, which first calls thread_init (NULL:
 * none). NULL (errno set) when the file cannot be opened.
 */
struct hearth_linelog *hearth_linelog_open(const char *path, unsigned n_shards,
    void (*thread_init)(void));
/*
 * Opens path anew (a rotated file; NULL: stop writing, lines are then
 * discarded) from now on; what was buffered goes to the old file first.
 * Returns 0 or -errno (the old file is kept).
 */
int hearth_linelog_reopen(struct hearth_linelog *l, const char *path);
/* Writes what is buffered, stops the writer, closes the file. */
void hearth_linelog_close(struct hearth_linelog *l);
/*
 * Appends len bytes (whole lines) to shard's buffer, for the writer.
 * Returns 0, or -ENOBUFS when the line was dropped (counted).
 */
int hearth_linelog_write(struct hearth_linelog *l, unsigned shard,
    const char *line, size_t len);
/* Lines dropped so far: buffers full, or the file refused them. */
uint64_t hearth_linelog_dropped(const struct hearth_linelog *l);

/* "2026-11-23T21:45:24.123Z" (UTC, ms; 25 bytes with the NUL) into buf;
 * returns its length. */
size_t hearth_linelog_time(char *buf, size_t cap);
/*
 * Writes len bytes of s into out (cap bytes, NUL-terminated) as the
 * content of a JSON string: quote, backslash and bytes outside printable
 * ASCII escaped as \u00XX; stops before the text would not fit. Returns
 * the length written.
 */
size_t hearth_json_escape(char *out, size_t cap, const char *s, size_t len);

#endif
