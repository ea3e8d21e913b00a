/*
 * hearth-bench: throughput and failover measurements of a running hearth.
 * A subcommand table in the manner of wireguard-tools' wg.c: each
 * subcommand is one <cmd>_main(argc, argv) in its own file.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "bench.h"

struct bench_command {
	const char *name;
	int (*main)(int argc, char **argv);
	const char *help;
};

static const struct bench_command commands[] = {
    {"http", bench_http_main, "closed-loop HTTP/1.1 (and TLS) load on a URL"},
    {"dns", bench_dns_main, "DNS query load from a dnsperf query file"},
    {"nft", bench_nft_main, "time to program N services in nftables"},
    {"failover", bench_failover_main, "time until VIPs move to a new owner"},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: hearth-bench <command> [options]\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f,
	    "\n'hearth-bench <command> --help' shows a command's "
	    "options.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr,
		    "hearth-bench: missing command (http, dns, "
		    "nft or failover; see --help)\n");
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version")) {
		printf("hearth-bench %s\n", HEARTH_VERSION);
		return 0;
	}
	signal(SIGPIPE, SIG_IGN); /* a peer's close is an error we count */
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].main(argc - 1, argv + 1);
	fprintf(stderr, "hearth-bench: unknown command '%s' (see --help)\n",
	    argv[1]);
	return 2;
}
