/*
 * Logging to stderr, as text or JSON lines, with levels. Helpers log at
 * debug at most; the caller that decides logs. Nothing logs per packet at
 * info or above.
 */
#ifndef HEARTH_LOG_H
#define HEARTH_LOG_H

#include <stdbool.h>

enum hearth_log_level {
	HEARTH_LOG_ERROR,
	HEARTH_LOG_WARN,
	HEARTH_LOG_INFO,
	HEARTH_LOG_DEBUG,
};

enum hearth_log_format {
	HEARTH_LOG_TEXT,
	HEARTH_LOG_JSON,
};

void log_init(enum hearth_log_level level, enum hearth_log_format format);
/* "error", "warn", "info", "debug"; returns -EINVAL otherwise. */
int log_level_parse(const char *s, enum hearth_log_level *out);
bool log_enabled(enum hearth_log_level level);

#define HEARTH_PRINTF(a, b) __attribute__((format(printf, a, b)))
/* With strerror(errno) appended. */
void log_warn(const char *fmt, ...) HEARTH_PRINTF(1, 2);
void log_warnx(const char *fmt, ...) HEARTH_PRINTF(1, 2);
void log_error(const char *fmt, ...) HEARTH_PRINTF(1, 2);
void log_info(const char *fmt, ...) HEARTH_PRINTF(1, 2);
void log_debug(const char *fmt, ...) HEARTH_PRINTF(1, 2);

#endif
