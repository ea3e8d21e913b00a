/*
 * hearth-bench's subcommands: each lives in its own file and is reached
 * through the table in main.c with the program's remaining arguments
 * (argv[0] is the subcommand's name). Each returns the process exit code:
 * 0 done, 1 the target could not be reached or the run failed, 2 bad usage.
 */
#ifndef HEARTH_BENCH_H
#define HEARTH_BENCH_H

/* hearth-bench http: closed-loop HTTP/1.1 load on a URL. */
int bench_http_main(int argc, char **argv);
/* hearth-bench dns: DNS query load from a dnsperf-format query file. */
int bench_dns_main(int argc, char **argv);
/* hearth-bench nft: time to program N services through the nft module. */
int bench_nft_main(int argc, char **argv);
/* hearth-bench failover: time until VIPs answer from their new owner. */
int bench_failover_main(int argc, char **argv);

#endif
