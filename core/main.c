/*
 * hearthd: parses the command line, loads the configuration, acquires
 * every resource, drops privileges, then runs the one event loop until a
 * graceful stop. Exit codes: 0 clean stop, 1 bad configuration, 2 bad
 * usage, 3 a needed resource could not be had.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "config.h"
#include "daemon.h"
#include "log.h"

#define EXIT_CONFIG   1
#define EXIT_USAGE    2
#define EXIT_RESOURCE 3

struct options {
	const char *config;
	bool check_config;
	bool foreground;
	enum hearth_log_level level;
	enum hearth_log_format format;
};

static void
usage(FILE *out)
{
	fprintf(out,
	    "usage: hearthd [-c FILE] [--check-config] [--foreground]\n"
	    "               [--log-level error|warn|info|debug]\n"
	    "               [--log-format text|json] [--version] [--help]\n");
}

/* Fills o from argv; returns -1 to exit 0 (help/version), 0, or EXIT_USAGE. */
static int
parse_args(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check-config", no_argument, NULL, 'C'},
	    {"foreground", no_argument, NULL, 'f'},
	    {"log-level", required_argument, NULL, 'l'},
	    {"log-format", required_argument, NULL, 'F'},
	    {"version", no_argument, NULL, 'V'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":c:fh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			o->config = optarg;
			break;
		case 'C':
			o->check_config = true;
			break;
		case 'f':
			o->foreground = true;
			break;
		case 'l':
			if (log_level_parse(optarg, &o->level) != 0) {
				fprintf(stderr,
				    "hearthd: unknown log level "
				    "\"%s\" (error, warn, info, debug)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'F':
			if (strcmp(optarg, "text") == 0)
				o->format = HEARTH_LOG_TEXT;
			else if (strcmp(optarg, "json") == 0)
				o->format = HEARTH_LOG_JSON;
			else {
				fprintf(stderr,
				    "hearthd: unknown log format "
				    "\"%s\" (text, json)\n",
				    optarg);
				return EXIT_USAGE;
			}
			break;
		case 'V':
			printf("hearthd %s\n", HEARTH_VERSION);
			return -1;
		case 'h':
			usage(stdout);
			return -1;
		case ':':
			fprintf(stderr, "hearthd: option %s needs a value\n",
			    argv[optind - 1]);
			return EXIT_USAGE;
		default:
			fprintf(stderr, "hearthd: unknown option %s\n",
			    argv[optind - 1]);
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "hearthd: unexpected argument \"%s\"\n",
		    argv[optind]);
		return EXIT_USAGE;
	}
	return 0;
}

static struct hearth_model *
load_config(const char *path)
{
	struct hearth_config_errors errs = {0};
	struct hearth_model *m = hearth_config_load(path, &errs);
	if (m == NULL) {
		hearth_config_errors_print(&errs, stderr);
		if (errs.n == 0)
			fprintf(stderr, "%s: invalid configuration\n", path);
	}
	hearth_config_errors_free(&errs);
	return m;
}

static void
signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct daemon *d = arg;
	if (sig == SIGHUP)
		daemon_reload(d);
	else
		daemon_stop(d);
}

/*
 * Without --foreground: fork; the parent waits until the child is serving
 * (or failed) and exits with the child's verdict, so a start script sees
 * exit code 3 for a missing resource. Returns the write end in the child.
 */
static int
detach(void)
{
	int p[2];
	if (pipe(p) != 0)
		return -1;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		unsigned char code = EXIT_RESOURCE;
		close(p[1]);
		if (read(p[0], &code, 1) != 1) {
			int st;
			if (waitpid(pid, &st, 0) == pid && WIFEXITED(st))
				code = (unsigned char)WEXITSTATUS(st);
		}
		_exit(code);
	}
	close(p[0]);
	setsid();
	return p[1];
}

static void
detach_done(int fd, unsigned char code)
{
	if (fd < 0)
		return;
	ssize_t w = write(fd, &code, 1);
	(void)w;
	close(fd);
}

int
main(int argc, char **argv)
{
	struct options o = {
	    .config = "/etc/hearth/hearth.yaml",
	    .level = HEARTH_LOG_INFO,
	    .format = HEARTH_LOG_TEXT,
	};
	int rc = parse_args(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? 0 : rc;
	log_init(o.level, o.format);

	struct hearth_model *m = load_config(o.config);
	if (o.check_config) {
		if (m != NULL)
			printf("%s: configuration OK\n", o.config);
		hearth_model_unref(m);
		return m != NULL ? 0 : EXIT_CONFIG;
	}
	if (m == NULL)
		return EXIT_CONFIG;

	int ready_fd = o.foreground ? -1 : detach();
	signal(SIGPIPE, SIG_IGN);
	if (m->node.run_as != NULL && (rc = privdrop_prepare()) < 0) {
		fprintf(stderr, "hearthd: cannot narrow the capabilities: %s\n",
		    strerror(-rc));
		hearth_model_unref(m);
		detach_done(ready_fd, EXIT_RESOURCE);
		return EXIT_RESOURCE;
	}
	struct event_base *base = event_base_new();
	if (base == NULL) {
		fprintf(stderr, "hearthd: cannot create the event loop: %s\n",
		    strerror(errno));
		detach_done(ready_fd, EXIT_RESOURCE);
		return EXIT_RESOURCE;
	}
	struct daemon_options dopts = {.config_path = o.config,
	    .foreground = o.foreground};
	struct daemon *d = daemon_new(base, &dopts, m);
	if (d == NULL) {
		log_error("cannot start: a needed resource could not be had "
		          "(see above)");
		hearth_model_unref(m);
		event_base_free(base);
		detach_done(ready_fd, EXIT_RESOURCE);
		return EXIT_RESOURCE;
	}
	if (m->node.run_as != NULL) {
		rc = privdrop_run_as(m->node.run_as);
		if (rc < 0) {
			fprintf(stderr,
			    "hearthd: cannot drop privileges to "
			    "\"%s\": %s\n",
			    m->node.run_as, strerror(-rc));
			daemon_free(d);
			hearth_model_unref(m);
			event_base_free(base);
			detach_done(ready_fd, EXIT_RESOURCE);
			return EXIT_RESOURCE;
		}
	}
	hearth_model_unref(m);

	struct event *sigs[3];
	const int signums[3] = {SIGHUP, SIGTERM, SIGINT};
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(base, signums[i], signal_cb, d);
		if (sigs[i] == NULL || event_add(sigs[i], NULL) != 0) {
			fprintf(stderr, "hearthd: cannot watch signals\n");
			return EXIT_RESOURCE;
		}
	}
	log_info("hearthd %s started (pid %ld)", HEARTH_VERSION,
	    (long)getpid());
	detach_done(ready_fd, 0);
	event_base_dispatch(base);

	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	daemon_free(d);
	event_base_free(base);
	return 0;
}
