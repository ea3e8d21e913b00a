/*
 * hearth-provision: the seed's three-VM kubeadm cluster from one command,
 * through the libvirt API. Parses the shared options, loads the settings
 * and dispatches to one `<cmd>_main` per command (wireguard-tools' shape).
 * Exit codes: 0 done, 1 failure (one line naming the cause), 2 bad usage.
 */
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*fn)(int, char **, struct prov_cli *);
	const char *help;
} commands[] = {
    {"plan", plan_main, "print what up would create or change"},
    {"up", up_main, "create or reconcile the network, storage and VMs"},
    {"down", down_main, "remove what up created (asks unless --yes)"},
    {"status", status_main, "one line per VM and the cluster's readiness"},
    {"kubeconfig", kubeconfig_main, "print the admin kubeconfig"},
};

void
prov_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("hearth-provision: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	fputs("usage: hearth-provision [-c settings.yaml] [--connect URI] "
	      "[--state-dir DIR] <command> [--yes] [--no-wait] [--timeout "
	      "SECONDS]\n"
	      "\ncommands:\n",
	    f);
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++)
		fprintf(f, "  %-11s %s\n", commands[i].name, commands[i].help);
	fputs("\n  -c FILE          settings (default: the seed topology)\n"
	      "  --connect URI    libvirt URI (default qemu:///system)\n"
	      "  --state-dir DIR  default /var/lib/hearth-provision\n"
	      "  --yes            down: do not ask\n"
	      "  --no-wait        up: return once the VMs are started\n"
	      "  --timeout SECS   up: how long to wait for the cluster "
	      "(1800)\n",
	    f);
}

static char *
absolute(const char *dir)
{
	char cwd[PATH_MAX], *r;

	if ((r = realpath(dir, NULL)) != NULL)
		return r;
	if (dir[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return strdup(dir);
	return asprintf(&r, "%s/%s", cwd, dir) < 0 ? NULL : r;
}

static int
load_settings(struct prov_cli *cli)
{
	struct hearth_config_errors errs = {0};

	if (cli->settings_path == NULL) {
		cli->s = prov_settings_default();
		return cli->s ? 0 : -1;
	}
	cli->s = prov_settings_load(cli->settings_path, &errs);
	if (cli->s == NULL) {
		fflush(stdout);
		hearth_config_errors_print(&errs, stderr);
		hearth_config_errors_free(&errs);
		return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"connect", required_argument, NULL, 'C'},
	    {"state-dir", required_argument, NULL, 'S'},
	    {"yes", no_argument, NULL, 'y'},
	    {"no-wait", no_argument, NULL, 'n'},
	    {"timeout", required_argument, NULL, 't'},
	    {"dump", required_argument, NULL, 'D'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct prov_cli cli = {.uri = "qemu:///system",
	    .timeout_seconds = 1800};
	const char *state = "/var/lib/hearth-provision";
	char *end;
	int c, r = 2;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "c:hy", opts, NULL)) != -1)
		switch (c) {
		case 'c':
			cli.settings_path = optarg;
			break;
		case 'C':
			cli.uri = optarg;
			break;
		case 'S':
			state = optarg;
			break;
		case 'y':
			cli.yes = true;
			break;
		case 'n':
			cli.no_wait = true;
			break;
		case 'D':
			cli.dump_dir = optarg;
			break;
		case 't':
			cli.timeout_seconds =
			    (unsigned)strtoul(optarg, &end, 10);
			if (*end != '\0' || cli.timeout_seconds == 0) {
				prov_die("--timeout: \"%s\" is not a number of "
				         "seconds",
				    optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			puts("hearth-provision " HEARTH_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	if (optind != argc - 1) {
		prov_die(optind == argc ? "a command is needed" :
		                          "one command at a time");
		usage(stderr);
		return 2;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(*commands); i++) {
		if (strcmp(argv[optind], commands[i].name) != 0)
			continue;
		if ((cli.yes && strcmp(argv[optind], "down") != 0) ||
		    (cli.no_wait && strcmp(argv[optind], "up") != 0)) {
			prov_die("%s only applies to %s",
			    cli.yes ? "--yes" : "--no-wait",
			    cli.yes ? "down" : "up");
			return 2;
		}
		if ((cli.state_dir = absolute(state)) == NULL)
			return 1;
		if (load_settings(&cli) != 0) {
			free(cli.state_dir);
			return 1;
		}
		virEventRegisterDefaultImpl();
		r = commands[i].fn(argc - optind, argv + optind, &cli);
		virt_close(&cli);
		prov_settings_free(cli.s);
		free(cli.state_dir);
		return r;
	}
	prov_die("unknown command \"%s\"", argv[optind]);
	usage(stderr);
	return 2;
}
