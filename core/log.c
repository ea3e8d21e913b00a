/*
 * Logging to stderr as text ("2026-11-23T13:27:33.123Z warn message") or
 * JSON lines ({"ts":...,"level":...,"msg":...}). One write per line.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "linelog.h"
#include "log.h"

static enum hearth_log_level log_level = HEARTH_LOG_INFO;
static enum hearth_log_format log_format = HEARTH_LOG_TEXT;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void
log_init(enum hearth_log_level level, enum hearth_log_format format)
{
	log_level = level;
	log_format = format;
}

int
log_level_parse(const char *s, enum hearth_log_level *out)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(*level_names); i++)
		if (strcasecmp(s, level_names[i]) == 0) {
			*out = (enum hearth_log_level)i;
			return 0;
		}
	if (strcasecmp(s, "warning") == 0) {
		*out = HEARTH_LOG_WARN;
		return 0;
	}
	return -EINVAL;
}

bool
log_enabled(enum hearth_log_level level)
{
	return level <= log_level;
}

static void
log_emit(enum hearth_log_level level, const char *msg)
{
	char ts[40], line[4096];
	size_t len;

	hearth_linelog_time(ts, sizeof(ts));
	if (log_format == HEARTH_LOG_JSON) {
		len = (size_t)snprintf(line, sizeof(line),
		    "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts,
		    level_names[level]);
		/* room left for the closing "}\n */
		len += hearth_json_escape(line + len, sizeof(line) - len - 3,
		    msg, strlen(msg));
		len +=
		    (size_t)snprintf(line + len, sizeof(line) - len, "\"}\n");
	} else {
		len = (size_t)snprintf(line, sizeof(line), "%s %s %s\n", ts,
		    level_names[level], msg);
	}
	if (len >= sizeof(line)) {
		len = sizeof(line) - 1;
		line[len - 1] = '\n';
	}
	ssize_t w = write(STDERR_FILENO, line, len);
	(void)w;
}

static void
log_v(enum hearth_log_level level, int err, const char *fmt, va_list ap)
{
	char msg[3072];
	if (!log_enabled(level))
		return;
	int n = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (err != 0 && n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s",
		    strerror(err));
	log_emit(level, msg);
}

#define LOG_FN(fn, level, with_errno)                                          \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_v(level, with_errno ? saved : 0, fmt, ap);                 \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOG_FN(log_warn, HEARTH_LOG_WARN, 1)
LOG_FN(log_warnx, HEARTH_LOG_WARN, 0)
LOG_FN(log_error, HEARTH_LOG_ERROR, 0)
LOG_FN(log_info, HEARTH_LOG_INFO, 0)
LOG_FN(log_debug, HEARTH_LOG_DEBUG, 0)
