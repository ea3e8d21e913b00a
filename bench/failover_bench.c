/*
 * hearth-bench failover: builds the seed's lab in network namespaces it
 * creates and removes (a switch, three nodes at .10/.11/.12, a client at
 * .50), runs hearthd (or keepalived, the anchor) on every node with N VIPs,
 * and from the client measures, per VIP, the time from killing the node
 * that owns the most VIPs (SIGKILL, or SIGTERM for a graceful stop) to the
 * first sign of a new owner on the wire: a gratuitous ARP or an ARP reply
 * from another MAC (kernel receive timestamps). The killed node is started
 * again before the next repetition. Prints p50/p99/max per kind of stop.
 * HEARTH_BENCH_KEEP=1 keeps the work directory (configurations, logs).
 *
 * --arp-latency sends ARP requests at a steady rate (each at its own time,
 * not in bursts), round robin over the VIPs and over ARP_SOURCES sender
 * addresses, so every request in flight is told apart by (VIP, sender) and
 * a late reply is never matched to a newer request. Latency is from the
 * sender's clock right before the send call to the kernel's receive
 * timestamp of the reply. Afterwards it accounts for every request that
 * got no reply: the daemons' counters (requests received and answered,
 * frames their sockets dropped) and the client socket's drops.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>

#include <jansson.h>

#include "bench.h"
#include "report.h"

#define MAXV        151
#define NNODES      3
#define ROUND_MS    20
#define ARP_SOURCES 40 /* --arp-latency: senders 192.168.122.51-90 */
#define ARP_BATCH   64

struct fo_opts {
	unsigned vips;
	unsigned reps;
	bool do_kill;
	bool do_term;
	bool keepalived;
	char advert_int[16];
	unsigned interval_ms;
	unsigned dead_after_ms;
	bool json;
	unsigned arp_rate; /* --arp-latency: requests per second */
	unsigned arp_seconds;
	char hearthd[PATH_MAX];
};

struct fo_lab {
	char id[32];
	char dir[PATH_MAX];
	int home_ns; /* the namespace hearth-bench started in */
	int sock;    /* the ARP tap in the client's namespace (client_open) */
	int tx;      /* sends the client's requests */
	int ifindex; /* the client's eth0 */
	pid_t pid[NNODES];
	unsigned spawns[NNODES]; /* keepalived: fresh pid files each start */
	struct in_addr vip[MAXV];
	unsigned nv;
	/* what the last probe round saw, per VIP */
	uint8_t round_mac[MAXV][6];
	bool round_multi[MAXV];
	uint8_t owner[MAXV][6];
	/* the measurement under way */
	bool measuring;
	const uint8_t *victim_mac;
	int64_t t0;
	int64_t t_new[MAXV];
	/* --arp-latency: when the request in flight from each sender for
	   each VIP was sent (0: none) */
	int64_t asked[MAXV][ARP_SOURCES];
	struct bench_hist *arp_hist;
	uint64_t arp_unmatched; /* replies to no request in flight */
	uint64_t send_failed;   /* requests the kernel refused */
};

static const uint8_t node_mac[NNODES][6] = {{2, 0, 0, 0, 0, 0x10},
    {2, 0, 0, 0, 0, 0x11}, {2, 0, 0, 0, 0, 0x12}};
static const uint8_t client_mac[6] = {2, 0, 0, 0, 0, 0x50};
static volatile sig_atomic_t interrupted;

static void
on_signal(int sig)
{
	interrupted = 1;
}

static int64_t
realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t
mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Runs a shell command (output discarded); its exit status or -1. */
static int
sh(const char *fmt, ...)
{
	char cmd[8192];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(cmd, sizeof(cmd) - 32, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(cmd) - 32)
		return -1;
	strcat(cmd, " >/dev/null 2>&1");
	int rc = system(cmd);
	return rc == -1 || !WIFEXITED(rc) ? -1 : WEXITSTATUS(rc);
}

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: hearth-bench failover [--vips N] [--repetitions R] "
	    "[--mode kill|term|both]\n"
	    "         [--interval-ms MS] [--dead-after-ms MS] [--hearthd "
	    "PATH]\n"
	    "         [--keepalived --advert-int S] [--json]\n"
	    "       hearth-bench failover --arp-latency [--rate N] [--seconds "
	    "S] "
	    "[...]\n"
	    "Builds a 3-node lab in namespaces of its own (needs root), kills "
	    "the owner\nof the most VIPs R times and reports, per VIP, the "
	    "time "
	    "until a new owner\nanswers (GARP or ARP reply seen by the "
	    "client). --keepalived measures\nkeepalived (VRRP) the same way. "
	    "--arp-latency instead measures ARP reply\nlatency at N requests/s "
	    "(default 10000) for S seconds (default 5).\n");
}

static int
parse_opts(int argc, char **argv, struct fo_opts *o)
{
	static const struct option lo[] = {
	    {"vips", required_argument, NULL, 'n'},
	    {"repetitions", required_argument, NULL, 'r'},
	    {"reps", required_argument, NULL, 'r'},
	    {"mode", required_argument, NULL, 'm'},
	    {"interval-ms", required_argument, NULL, 'i'},
	    {"dead-after-ms", required_argument, NULL, 'd'},
	    {"hearthd", required_argument, NULL, 'H'},
	    {"keepalived", no_argument, NULL, 'k'},
	    {"advert-int", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"arp-latency", no_argument, NULL, 'L'},
	    {"rate", required_argument, NULL, 'R'},
	    {"seconds", required_argument, NULL, 'S'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	*o = (struct fo_opts){.vips = 51,
	    .reps = 20,
	    .do_kill = true,
	    .arp_seconds = 5,
	    .do_term = true,
	    .interval_ms = 100,
	    .dead_after_ms = 400};
	strcpy(o->advert_int, "1");
	ssize_t l =
	    readlink("/proc/self/exe", o->hearthd, sizeof(o->hearthd) - 16);
	if (l > 0) {
		o->hearthd[l] = '\0';
		char *slash = strrchr(o->hearthd, '/');
		strcpy(slash ? slash + 1 : o->hearthd, "hearthd");
	}
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		char *end = NULL;
		unsigned long v = 0;
		if (c == 'n' || c == 'r' || c == 'i' || c == 'd' || c == 'R' ||
		    c == 'S') {
			errno = 0;
			v = strtoul(optarg, &end, 10);
			if (errno || *end || v == 0 || v > 100000) {
				fprintf(stderr,
				    "hearth-bench failover: bad "
				    "number '%s'\n",
				    optarg);
				return -EINVAL;
			}
		}
		switch (c) {
		case 'n':
			o->vips = (unsigned)v;
			break;
		case 'r':
			o->reps = (unsigned)v;
			break;
		case 'i':
			o->interval_ms = (unsigned)v;
			break;
		case 'd':
			o->dead_after_ms = (unsigned)v;
			break;
		case 'k':
			o->keepalived = true;
			break;
		case 'j':
			o->json = true;
			break;
		case 'L':
			o->arp_rate = o->arp_rate ? o->arp_rate : 10000;
			break;
		case 'R':
			o->arp_rate = (unsigned)v;
			break;
		case 'S':
			o->arp_seconds = (unsigned)v;
			break;
		case 'H':
			snprintf(o->hearthd, sizeof(o->hearthd), "%s", optarg);
			break;
		case 'a':
			if (strlen(optarg) >= sizeof(o->advert_int) ||
			    strtod(optarg, &end) <= 0 || *end) {
				fprintf(stderr,
				    "hearth-bench failover: bad "
				    "--advert-int '%s'\n",
				    optarg);
				return -EINVAL;
			}
			strcpy(o->advert_int, optarg);
			break;
		case 'm':
			o->do_kill =
			    !strcmp(optarg, "kill") || !strcmp(optarg, "both");
			o->do_term =
			    !strcmp(optarg, "term") || !strcmp(optarg, "both");
			if (!o->do_kill && !o->do_term) {
				fprintf(stderr,
				    "hearth-bench failover: --mode "
				    "is kill, term or both\n");
				return -EINVAL;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind != argc || o->vips > MAXV ||
	    o->dead_after_ms <= o->interval_ms) {
		fprintf(stderr,
		    "hearth-bench failover: bad arguments (at most "
		    "%d VIPs; dead-after above interval)\n",
		    MAXV);
		return -EINVAL;
	}
	return 0;
}

/* --- the lab ---------------------------------------------------------- */

static int
lab_host(struct fo_lab *l, const char *h, const char *addr, const uint8_t *mac,
    int port)
{
	return sh("ip netns add %s-%s && ip -n %s-%s link set lo up && "
	          "ip -n %s-%s link add eth0 type veth peer name p%d netns "
	          "%s-sw && "
	          "ip -n %s-%s link set eth0 address "
	          "%02x:%02x:%02x:%02x:%02x:%02x && "
	          "ip -n %s-%s addr add %s/24 dev eth0 && ip -n %s-%s link set "
	          "eth0 up && "
	          "ip -n %s-sw link set p%d master br0 && ip -n %s-sw link set "
	          "p%d up",
	    l->id, h, l->id, h, l->id, h, port, l->id, l->id, h, mac[0], mac[1],
	    mac[2], mac[3], mac[4], mac[5], l->id, h, addr, l->id, h, l->id,
	    port, l->id, port);
}

static int
lab_build(struct fo_lab *l)
{
	if (sh("ip netns add %s-sw && ip -n %s-sw link set lo up && "
	       "ip -n %s-sw link add br0 type bridge && ip -n %s-sw link set "
	       "br0 "
	       "type bridge forward_delay 0 stp_state 0 && ip -n %s-sw link "
	       "set "
	       "br0 up",
	        l->id, l->id, l->id, l->id, l->id) != 0)
		return -EIO;
	for (int i = 0; i < NNODES; i++) {
		char name[8], addr[32];
		snprintf(name, sizeof(name), "node%d", i + 1);
		snprintf(addr, sizeof(addr), "192.168.122.%d", 10 + i);
		if (lab_host(l, name, addr, node_mac[i], i) != 0)
			return -EIO;
	}
	return lab_host(l, "client", "192.168.122.50", client_mac, 9) ? -EIO :
	                                                                0;
}

static void
lab_destroy(struct fo_lab *l)
{
	for (int i = 0; i < NNODES; i++) {
		if (l->pid[i] > 0) {
			kill(l->pid[i], SIGKILL);
			waitpid(l->pid[i], NULL, 0);
		}
	}
	if (l->sock >= 0)
		close(l->sock);
	if (l->tx >= 0)
		close(l->tx);
	if (l->home_ns >= 0) {
		setns(l->home_ns, CLONE_NEWNET);
		close(l->home_ns);
	}
	static const char *const hosts[] = {"sw", "node1", "node2", "node3",
	    "client"};
	for (size_t i = 0; i < sizeof(hosts) / sizeof(hosts[0]); i++)
		sh("ip netns pids %s-%s | xargs -r kill -KILL; ip netns del "
		   "%s-%s",
		    l->id, hosts[i], l->id, hosts[i]);
	if (l->dir[0] != '\0')
		if (getenv("HEARTH_BENCH_KEEP") == NULL)
			sh("rm -rf '%s'", l->dir);
}

static int
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fputs(text, f);
	return fclose(f) == 0 ? 0 : -EIO;
}

static int
write_hearthd_conf(const struct fo_lab *l, const struct fo_opts *o, int i)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/node%d.yaml", l->dir, i + 1);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f,
	    "node: {name: node%d, interface: eth0}\n"
	    "metrics: {listen: 127.0.0.1:9477}\n"
	    "peers:\n  members: [192.168.122.10, 192.168.122.11, "
	    "192.168.122.12]\n  key_file: %s/peer.key\n  interval_ms: %u\n"
	    "  dead_after_ms: %u\npools:\n  - {name: default, addresses: "
	    "[192.168.122.100-192.168.122.250]}\nservices:\n",
	    i + 1, l->dir, o->interval_ms, o->dead_after_ms);
	for (unsigned v = 0; v < l->nv; v++)
		fprintf(f, "  - {name: s%u, address: %s}\n", v,
		    inet_ntoa(l->vip[v]));
	return fclose(f) == 0 ? 0 : -EIO;
}

static int
write_keepalived_conf(const struct fo_lab *l, const struct fo_opts *o, int i)
{
	char path[PATH_MAX + 32];
	snprintf(path, sizeof(path), "%s/node%d.conf", l->dir, i + 1);
	FILE *f = fopen(path, "w");
	if (f == NULL)
		return -errno;
	fprintf(f,
	    "global_defs {\n  router_id node%d\n  vrrp_version 3\n}\n"
	    "vrrp_instance VI_1 {\n  state BACKUP\n"
	    "  interface eth0\n  virtual_router_id 51\n  priority %d\n"
	    "  advert_int %s\n  virtual_ipaddress {\n",
	    i + 1, 150 - 10 * i, o->advert_int);
	for (unsigned v = 0; v < l->nv; v++)
		fprintf(f, "    %s/24 dev eth0\n", inet_ntoa(l->vip[v]));
	fprintf(f, "  }\n}\n");
	return fclose(f) == 0 ? 0 : -EIO;
}

/*
 * Starts node i's daemon in its namespace; output to DIR/nodeN.log, which
 * is emptied first (here, so wait_log never reads the previous run's).
 */
static pid_t
spawn(struct fo_lab *l, const struct fo_opts *o, int i)
{
	char ns[64], conf[PATH_MAX + 32], log[PATH_MAX + 32],
	    pidf[PATH_MAX + 32], vrrpf[PATH_MAX + 32];
	snprintf(ns, sizeof(ns), "%s-node%d", l->id, i + 1);
	snprintf(log, sizeof(log), "%s/node%d.log", l->dir, i + 1);
	snprintf(conf, sizeof(conf), "%s/node%d.%s", l->dir, i + 1,
	    o->keepalived ? "conf" : "yaml");
	l->spawns[i]++;
	snprintf(pidf, sizeof(pidf), "%s/node%d.%u.pid", l->dir, i + 1,
	    l->spawns[i]);
	snprintf(vrrpf, sizeof(vrrpf), "%s/node%d.%u.vrrp.pid", l->dir, i + 1,
	    l->spawns[i]);
	int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	pid_t p = fork();
	if (p != 0) {
		if (fd >= 0)
			close(fd);
		return p;
	}
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	/* keepalived: -l logs to stderr (the log file); -G: no syslog,
	   which with no syslog daemon writes every message to /dev/console
	   (a serial port in a VM), blocking the VRRP process for seconds
	   per takeover (~260 lines) and making 0.1 s adverts flap. */
	if (o->keepalived)
		execlp("ip", "ip", "netns", "exec", ns, "keepalived", "-n",
		    "-l", "-G", "-D", "-P", "-f", conf, "-p", pidf, "-r", vrrpf,
		    (char *)NULL);
	else
		execlp("ip", "ip", "netns", "exec", ns, o->hearthd, "-c", conf,
		    "--foreground", "--log-level", "info", (char *)NULL);
	_exit(127);
}

/* Kills node i: SIGKILL reaches keepalived's VRRP child too. */
static void
stop_node(struct fo_lab *l, const struct fo_opts *o, int i, int sig)
{
	if (o->keepalived && sig == SIGKILL) {
		char p[PATH_MAX + 32];
		snprintf(p, sizeof(p), "%s/node%d.%u.vrrp.pid", l->dir, i + 1,
		    l->spawns[i]);
		FILE *f = fopen(p, "r");
		int child = 0;
		if (f != NULL) {
			if (fscanf(f, "%d", &child) == 1 && child > 1)
				kill(child, SIGKILL);
			fclose(f);
		}
	}
	kill(l->pid[i], sig);
}

static void
reap(struct fo_lab *l, int i)
{
	waitpid(l->pid[i], NULL, 0);
	l->pid[i] = 0;
}

/* Waits up to 10 s until node i's log holds marker. */
static bool
wait_log(const struct fo_lab *l, int i, const char *marker)
{
	char path[PATH_MAX + 32], buf[65536];
	snprintf(path, sizeof(path), "%s/node%d.log", l->dir, i + 1);
	int64_t end = mono_ms() + 10000;
	while (mono_ms() < end && !interrupted) {
		FILE *f = fopen(path, "r");
		if (f != NULL) {
			size_t n = fread(buf, 1, sizeof(buf) - 1, f);
			fclose(f);
			buf[n] = '\0';
			if (strstr(buf, marker) != NULL)
				return true;
		}
		usleep(20000);
	}
	return false;
}

/* --- the client's probe ---------------------------------------------- */

/*
 * The client's two packet sockets: l->tx only sends (protocol 0: it
 * receives nothing); l->sock is a tap (ETH_P_ALL, a BPF program passing
 * only ARP) that sees the ARP frames on the client's interface in both
 * directions with kernel timestamps, the requests as they leave and the
 * replies as they arrive, so a latency is the difference of two kernel
 * timestamps and the prober's own scheduling cannot bias it. Its queue
 * is 8 MiB, so a prober starved for a while loses no reply.
 */
static int
client_open(struct fo_lab *l)
{
	char path[128];
	snprintf(path, sizeof(path), "/run/netns/%s-client", l->id);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || setns(fd, CLONE_NEWNET) != 0) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	close(fd);
	static struct sock_filter arp_only[] = {
	    {BPF_LD | BPF_H | BPF_ABS, 0, 0, 12},
	    {BPF_JMP | BPF_JEQ | BPF_K, 0, 1, ETH_P_ARP},
	    {BPF_RET | BPF_K, 0, 0, 256},
	    {BPF_RET | BPF_K, 0, 0, 0},
	};
	struct sock_fprog fp = {4, arp_only};
	l->ifindex = (int)if_nametoindex("eth0");
	l->tx = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	l->sock = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->tx < 0 || l->sock < 0)
		return -errno;
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
	    .sll_ifindex = l->ifindex};
	if (bind(l->tx, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return -errno;
	int one = 1, big = 8 << 20;
	if (setsockopt(l->sock, SOL_SOCKET, SO_ATTACH_FILTER, &fp,
	        sizeof(fp)) != 0 ||
	    setsockopt(l->sock, SOL_SOCKET, SO_TIMESTAMPNS, &one,
	        sizeof(one)) != 0)
		return -errno;
	if (setsockopt(l->sock, SOL_SOCKET, SO_RCVBUFFORCE, &big,
	        sizeof(big)) != 0)
		(void)setsockopt(l->sock, SOL_SOCKET, SO_RCVBUF, &big,
		    sizeof(big));
	sll.sll_protocol = htons(ETH_P_ALL);
	if (bind(l->sock, (struct sockaddr *)&sll, sizeof(sll)) != 0)
		return -errno;
	return 0;
}

#define CLIENT_IP  0xc0a87a32u /* 192.168.122.50 */
#define ARP_SRC_IP 0xc0a87a33u /* 192.168.122.51, the first of ARP_SOURCES */

/* The ARP request from the client (sender address ip) for VIP v. */
static void
request_build(const struct fo_lab *l, unsigned v, uint32_t ip, uint8_t f[60])
{
	struct in_addr me = {htonl(ip)};
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, client_mac, 6);
	f[12] = 0x08, f[13] = 0x06, f[15] = 1, f[16] = 0x08, f[18] = 6;
	f[19] = 4, f[21] = 1;
	memcpy(f + 22, client_mac, 6);
	memcpy(f + 28, &me, 4);
	memcpy(f + 38, &l->vip[v], 4);
}

static struct sockaddr_ll
broadcast_to(const struct fo_lab *l)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
	    .sll_protocol = htons(ETH_P_ARP),
	    .sll_ifindex = l->ifindex,
	    .sll_halen = 6};
	memset(sll.sll_addr, 0xff, 6);
	return sll;
}

static void
send_request(struct fo_lab *l, unsigned v)
{
	uint8_t f[60];
	request_build(l, v, CLIENT_IP, f);
	struct sockaddr_ll to = broadcast_to(l);
	sendto(l->tx, f, sizeof(f), 0, (struct sockaddr *)&to, sizeof(to));
}

static void
send_requests(struct fo_lab *l)
{
	for (unsigned v = 0; v < l->nv; v++)
		send_request(l, v);
}

static long
vip_index(const struct fo_lab *l, const uint8_t *ip)
{
	for (unsigned v = 0; v < l->nv; v++)
		if (memcmp(&l->vip[v], ip, 4) == 0)
			return v;
	return -1;
}

/* --arp-latency: one of our requests left at t (the tap saw it go). */
static void
request_out(struct fo_lab *l, const uint8_t *f, size_t n, int64_t t)
{
	if (l->arp_hist == NULL || n < 42 || f[21] != 1)
		return;
	uint32_t spa;
	memcpy(&spa, f + 28, 4);
	uint32_t src = ntohl(spa) - ARP_SRC_IP;
	long v = vip_index(l, f + 38);
	if (v >= 0 && src < ARP_SOURCES)
		l->asked[v][src] = t;
}

/* One received ARP frame: records its claim (reply or GARP) of a VIP. */
static void
frame_in(struct fo_lab *l, const uint8_t *f, size_t n, int64_t t)
{
	if (n < 42 || memcmp(f + 22, client_mac, 6) == 0)
		return;
	bool garp = memcmp(f + 28, f + 38, 4) == 0;
	bool reply = f[21] == 2 && memcmp(f, client_mac, 6) == 0;
	long v = vip_index(l, f + 28);
	if (v < 0 || !(garp || reply))
		return;
	const uint8_t *mac = f + 22;
	if (reply && l->arp_hist != NULL) {
		uint32_t tpa;
		memcpy(&tpa, f + 38, 4);
		uint32_t src = ntohl(tpa) - ARP_SRC_IP;
		int64_t *asked = src < ARP_SOURCES ? &l->asked[v][src] : NULL;
		if (asked != NULL && *asked != 0 && t > *asked) {
			bench_hist_record(l->arp_hist, (uint64_t)(t - *asked));
			*asked = 0;
		} else {
			l->arp_unmatched++;
		}
	}
	if (l->measuring && t > l->t0 && l->t_new[v] == 0 &&
	    memcmp(mac, l->victim_mac, 6) != 0)
		l->t_new[v] = t;
	if (!reply)
		return;
	static const uint8_t zero[6];
	if (memcmp(l->round_mac[v], zero, 6) == 0)
		memcpy(l->round_mac[v], mac, 6);
	else if (memcmp(l->round_mac[v], mac, 6) != 0)
		l->round_multi[v] = true;
}

/* Reads every frame waiting on the client's tap (kernel timestamps). */
static void
drain(struct fo_lab *l)
{
	enum { N = 64 };
	static uint8_t buf[N][256], ctl[N][256];
	struct mmsghdr mm[N];
	struct iovec iov[N];
	struct sockaddr_ll from[N];
	for (;;) {
		for (int i = 0; i < N; i++) {
			iov[i] = (struct iovec){buf[i], sizeof(buf[i])};
			mm[i] = (struct mmsghdr){
			    .msg_hdr = {.msg_name = &from[i],
			        .msg_namelen = sizeof(from[i]),
			        .msg_iov = &iov[i],
			        .msg_iovlen = 1,
			        .msg_control = ctl[i],
			        .msg_controllen = sizeof(ctl[i])}};
		}
		int n = recvmmsg(l->sock, mm, N, MSG_DONTWAIT, NULL);
		if (n <= 0)
			return;
		int64_t now = realtime_ns();
		for (int i = 0; i < n; i++) {
			int64_t t = now;
			struct msghdr *mh = &mm[i].msg_hdr;
			for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c != NULL;
			     c = CMSG_NXTHDR(mh, c))
				if (c->cmsg_level == SOL_SOCKET &&
				    c->cmsg_type == SO_TIMESTAMPNS) {
					struct timespec ts;
					memcpy(&ts, CMSG_DATA(c), sizeof(ts));
					t = (int64_t)ts.tv_sec * 1000000000 +
					    ts.tv_nsec;
				}
			if (from[i].sll_pkttype == PACKET_OUTGOING)
				request_out(l, buf[i], mm[i].msg_len, t);
			else
				frame_in(l, buf[i], mm[i].msg_len, t);
		}
		if (n < N)
			return;
	}
}

/* One round: requests for every VIP, then ROUND_MS of listening. */
static void
round_run(struct fo_lab *l)
{
	memset(l->round_mac, 0, sizeof(l->round_mac));
	memset(l->round_multi, 0, sizeof(l->round_multi));
	send_requests(l);
	int64_t end = mono_ms() + ROUND_MS;
	for (int64_t now; (now = mono_ms()) < end;) {
		struct pollfd p = {.fd = l->sock, .events = POLLIN};
		poll(&p, 1, (int)(end - now));
		drain(l);
	}
}

/*
 * Probes until every VIP has answered from one MAC for `rounds` rounds in
 * a row (at most 30 s).
 */
static bool
settle(struct fo_lab *l, unsigned rounds)
{
	unsigned stable = 0;
	int64_t end = mono_ms() + 30000;
	while (stable < rounds && mono_ms() < end && !interrupted) {
		round_run(l);
		bool ok = true;
		static const uint8_t zero[6];
		for (unsigned v = 0; v < l->nv; v++) {
			ok &= !l->round_multi[v] &&
			    memcmp(l->round_mac[v], zero, 6) != 0 &&
			    memcmp(l->round_mac[v], l->owner[v], 6) == 0;
			memcpy(l->owner[v], l->round_mac[v], 6);
		}
		stable = ok ? stable + 1 : 0;
	}
	return stable >= rounds;
}

/* The node owning the most VIPs. */
static int
heaviest(const struct fo_lab *l)
{
	int count[NNODES] = {0}, best = 0;
	for (unsigned v = 0; v < l->nv; v++)
		for (int i = 0; i < NNODES; i++)
			count[i] += memcmp(l->owner[v], node_mac[i], 6) == 0;
	for (int i = 1; i < NNODES; i++)
		if (count[i] > count[best])
			best = i;
	return best;
}

/* What the daemons and sockets counted during --arp-latency. */
struct arp_counts {
	double received, answered, dropped; /* hearthd's, all nodes */
	double throttled;      /* real-time budget spent (windows cut short) */
	bool have_daemon;      /* hearthd's metrics were read */
	unsigned client_drops; /* the client socket's */
	uint64_t unmatched;    /* replies to no request */
	uint64_t send_failed;  /* requests the kernel refused */
};

struct fo_result {
	struct bench_hist hist; /* ns */
	unsigned missed;
	unsigned reps;
	uint64_t sent; /* --arp-latency: requests sent */
	struct arp_counts arp;
};

/* One repetition: stop the heaviest node with sig, measure, restart it. */
static int
repetition(struct fo_lab *l, const struct fo_opts *o, int sig,
    struct fo_result *r)
{
	/* keepalived: stable for 3 adverts more, so no late election runs
	   into the measurement. */
	unsigned rounds = 3;
	if (o->keepalived)
		rounds +=
		    (unsigned)(3000 * strtod(o->advert_int, NULL)) / ROUND_MS;
	if (!settle(l, rounds)) {
		fprintf(stderr,
		    "hearth-bench failover: the VIPs never settled "
		    "on single owners\n");
		return -EIO;
	}
	int victim = heaviest(l);
	if (getenv("HEARTH_BENCH_DEBUG"))
		fprintf(stderr, "rep: victim node%d pid %d\n", victim + 1,
		    (int)l->pid[victim]);
	bool mine[MAXV];
	for (unsigned v = 0; v < l->nv; v++)
		mine[v] = memcmp(l->owner[v], node_mac[victim], 6) == 0;
	memset(l->t_new, 0, sizeof(l->t_new));
	l->victim_mac = node_mac[victim];
	l->measuring = true;
	l->t0 = realtime_ns();
	stop_node(l, o, victim, sig);
	int64_t end = mono_ms() + 15000;
	for (bool done = false; !done && mono_ms() < end && !interrupted;) {
		round_run(l);
		done = true;
		for (unsigned v = 0; v < l->nv; v++)
			done &= !mine[v] || l->t_new[v] != 0;
	}
	l->measuring = false;
	for (unsigned v = 0; v < l->nv; v++) {
		if (!mine[v])
			continue;
		if (l->t_new[v] == 0)
			r->missed++;
		else
			bench_hist_record(&r->hist,
			    (uint64_t)(l->t_new[v] - l->t0));
	}
	r->reps++;
	reap(l, victim);
	for (unsigned v = 0; o->keepalived && v < l->nv; v++)
		sh("ip -n %s-node%d addr del %s/24 dev eth0", l->id, victim + 1,
		    inet_ntoa(l->vip[v])); /* left by a killed keepalived */
	l->pid[victim] = spawn(l, o, victim);
	if (!wait_log(l, victim,
	        o->keepalived ? "Entering BACKUP STATE" :
	                        "l2announce: serving as")) {
		fprintf(stderr,
		    "hearth-bench failover: node%d did not come "
		    "back\n",
		    victim + 1);
		return -EIO;
	}
	return 0;
}

/* The shared monotonic clock (report.c), signed for deadline arithmetic. */
static int64_t
mono_ns(void)
{
	return (int64_t)bench_now_ns();
}

/* The value of the sample called name (no labels) in text, or 0. */
static double
metric_value(const char *text, const char *name)
{
	size_t nl = strlen(name);
	for (const char *p = text; (p = strstr(p, name)) != NULL; p += nl)
		if ((p == text || p[-1] == '\n') && p[nl] == ' ')
			return strtod(p + nl + 1, NULL);
	return 0;
}

/*
 * Adds node i's l2announce counters (its metrics endpoint on
 * 127.0.0.1:9477 in its namespace) to c with sign; false when unreadable.
 */
static bool
node_counts(const struct fo_lab *l, int i, double sign, struct arp_counts *c)
{
	char path[128];
	static char text[1 << 20];
	snprintf(path, sizeof(path), "/run/netns/%s-node%d", l->id, i + 1);
	int ns = open(path, O_RDONLY | O_CLOEXEC);
	int back = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	bool ok = false;
	if (ns >= 0 && back >= 0 && setns(ns, CLONE_NEWNET) == 0) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_in sa = {.sin_family = AF_INET,
		    .sin_port = htons(9477),
		    .sin_addr = {htonl(INADDR_LOOPBACK)}};
		static const char req[] =
		    "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n";
		size_t got = 0;
		if (fd >= 0 &&
		    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
		    write(fd, req, sizeof(req) - 1) ==
		        (ssize_t)sizeof(req) - 1) {
			ssize_t n;
			while (got < sizeof(text) - 1 &&
			    (n = read(fd, text + got, sizeof(text) - 1 - got)) >
			        0)
				got += (size_t)n;
			text[got] = '\0';
			ok =
			    strstr(text,
			        "hearth_l2announce_arp_requests_total") != NULL;
		}
		if (fd >= 0)
			close(fd);
		setns(back, CLONE_NEWNET);
	}
	if (ns >= 0)
		close(ns);
	if (back >= 0)
		close(back);
	if (ok) {
		c->received += sign *
		    metric_value(text, "hearth_l2announce_arp_requests_total");
		c->answered += sign *
		    metric_value(text, "hearth_l2announce_arp_replies_total");
		c->dropped += sign *
		    metric_value(text,
		        "hearth_l2announce_frames_dropped_total");
		c->throttled += sign *
		    metric_value(text,
		        "hearth_l2announce_responder_throttled_total");
	}
	return ok;
}

static bool
daemon_counts(const struct fo_lab *l, double sign, struct arp_counts *c)
{
	bool ok = true;
	for (int i = 0; i < NNODES; i++)
		ok &= node_counts(l, i, sign, c);
	return ok;
}

/* Sends the requests due by now (one sendmmsg per ARP_BATCH). */
static void
send_due(struct fo_lab *l, uint64_t due, uint64_t *sent, unsigned *v,
    unsigned *src)
{
	static uint8_t f[ARP_BATCH][60];
	struct mmsghdr mm[ARP_BATCH];
	struct iovec iov[ARP_BATCH];
	struct sockaddr_ll to = broadcast_to(l);
	while (*sent < due) {
		unsigned n = 0;
		for (; n < ARP_BATCH && *sent + n < due; n++) {
			request_build(l, *v, ARP_SRC_IP + *src, f[n]);
			iov[n] = (struct iovec){f[n], 60};
			mm[n] = (struct mmsghdr){.msg_hdr = {.msg_name = &to,
			                             .msg_namelen = sizeof(to),
			                             .msg_iov = &iov[n],
			                             .msg_iovlen = 1}};
			if (++*v == l->nv) {
				*v = 0;
				*src = (*src + 1) % ARP_SOURCES;
			}
		}
		int r = sendmmsg(l->tx, mm, n, 0);
		/* one refused stops the call: the rest count as lost */
		l->send_failed += n - (r > 0 ? (unsigned)r : 0);
		*sent += n;
	}
}

/*
 * Settles, then asks at o->arp_rate requests/s for o->arp_seconds, each
 * request at its own time (start + k / rate, with a 1 us timer slack),
 * round robin over the VIPs and ARP_SOURCES senders; then waits 200 ms
 * for late replies.
 */
static int
arp_latency(struct fo_lab *l, const struct fo_opts *o, struct bench_hist *h,
    uint64_t *sent, struct arp_counts *c)
{
	unsigned rounds = 3;
	if (o->keepalived)
		rounds +=
		    (unsigned)(3000 * strtod(o->advert_int, NULL)) / ROUND_MS;
	if (!settle(l, rounds)) {
		fprintf(stderr,
		    "hearth-bench failover: the VIPs never settled "
		    "on single owners\n");
		return -EIO;
	}
	c->have_daemon = !o->keepalived && daemon_counts(l, -1, c);
	struct tpacket_stats st;
	socklen_t sl = sizeof(st);
	getsockopt(l->sock, SOL_PACKET, PACKET_STATISTICS, &st,
	    &sl); /* reset */
	(void)prctl(PR_SET_TIMERSLACK, 1000UL, 0, 0, 0);
	l->arp_hist = h;
	memset(l->asked, 0, sizeof(l->asked));
	int64_t start = mono_ns(), span = 1000000000 * (int64_t)o->arp_seconds;
	uint64_t total = (uint64_t)o->arp_rate * o->arp_seconds;
	unsigned v = 0, src = 0;
	while (*sent < total && !interrupted) {
		int64_t now = mono_ns();
		/* request k is due at start + k / rate */
		uint64_t due = now - start >= span ?
		    total :
		    (uint64_t)((now - start) * (int64_t)o->arp_rate /
		        1000000000) +
		        1;
		if (due > total)
			due = total;
		send_due(l, due, sent, &v, &src);
		drain(l);
		int64_t next =
		    start + (int64_t)(*sent * 1000000000 / o->arp_rate);
		now = mono_ns();
		if (next > now) {
			struct pollfd p = {.fd = l->sock, .events = POLLIN};
			struct timespec ts = {(next - now) / 1000000000,
			    (next - now) % 1000000000};
			ppoll(&p, 1, &ts, NULL);
		}
	}
	for (int64_t end = mono_ns() + 200000000; mono_ns() < end;) {
		struct pollfd p = {.fd = l->sock, .events = POLLIN};
		poll(&p, 1, 10);
		drain(l);
	}
	l->arp_hist = NULL;
	c->unmatched = l->arp_unmatched;
	c->send_failed = l->send_failed;
	sl = sizeof(st);
	if (getsockopt(l->sock, SOL_PACKET, PACKET_STATISTICS, &st, &sl) == 0)
		c->client_drops = st.tp_drops;
	if (c->have_daemon)
		c->have_daemon = daemon_counts(l, 1, c);
	return 0;
}

static int
arp_report(const struct fo_opts *o, const struct bench_hist *h, uint64_t sent,
    const struct arp_counts *c)
{
	const char *who = o->keepalived ? "keepalived (the kernel)" : "hearthd";
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "daemon",
		    json_string(o->keepalived ? "keepalived" : "hearthd"));
		json_object_set_new(j, "vips", json_integer(o->vips));
		json_object_set_new(j, "rate", json_integer(o->arp_rate));
		json_object_set_new(j, "sent", json_integer((json_int_t)sent));
		json_object_set_new(j, "answered",
		    json_integer((json_int_t)h->count));
		json_object_set_new(j, "latency_ms", bench_latency_json(h));
		json_object_set_new(j, "requests_refused",
		    json_integer((json_int_t)c->send_failed));
		json_object_set_new(j, "client_socket_drops",
		    json_integer(c->client_drops));
		json_object_set_new(j, "unmatched_replies",
		    json_integer((json_int_t)c->unmatched));
		if (c->have_daemon) {
			json_t *d = json_object();
			json_object_set_new(d, "requests_received",
			    json_integer((json_int_t)c->received));
			json_object_set_new(d, "replies_sent",
			    json_integer((json_int_t)c->answered));
			json_object_set_new(d, "socket_drops",
			    json_integer((json_int_t)c->dropped));
			json_object_set_new(j, "hearthd", d);
		}
		return bench_json_emit(j) == 0 ? 0 : 1;
	}
	printf("ARP reply latency of %s, %u VIPs, %u requests/s for %u s: "
	       "sent %llu, answered %llu\n",
	    who, o->vips, o->arp_rate, o->arp_seconds, (unsigned long long)sent,
	    (unsigned long long)h->count);
	bench_latency_print(stdout, h);
	if (c->have_daemon)
		printf("  hearthd (3 nodes): requests received %.0f, replies "
		       "sent %.0f, dropped by its sockets %.0f, real-time "
		       "budget spent %.0f times\n",
		    c->received, c->answered, c->dropped, c->throttled);
	printf("  client: requests the kernel refused %llu, tap drops %u, "
	       "replies to no request in flight %llu\n",
	    (unsigned long long)c->send_failed, c->client_drops,
	    (unsigned long long)c->unmatched);
	return 0;
}

static void
print_result(const char *what, const struct fo_result *r)
{
	printf("%-8s %6u %8.1f %8.1f %8.1f %7u\n", what, r->reps,
	    bench_hist_percentile(&r->hist, 50) / 1e6,
	    bench_hist_percentile(&r->hist, 99) / 1e6, r->hist.max / 1e6,
	    r->missed);
}

static json_t *
result_json(const struct fo_result *r)
{
	json_t *j = bench_latency_json(&r->hist);
	json_object_set_new(j, "samples",
	    json_integer((json_int_t)r->hist.count));
	json_object_set_new(j, "missed", json_integer(r->missed));
	json_object_set_new(j, "repetitions", json_integer(r->reps));
	return j;
}

static int
report(const struct fo_opts *o, const struct fo_result *k,
    const struct fo_result *t)
{
	const char *who = o->keepalived ? "keepalived" : "hearthd";
	if (o->json) {
		json_t *j = json_object();
		json_object_set_new(j, "daemon", json_string(who));
		json_object_set_new(j, "vips", json_integer(o->vips));
		if (o->keepalived)
			json_object_set_new(j, "advert_int",
			    json_string(o->advert_int));
		else {
			json_object_set_new(j, "interval_ms",
			    json_integer(o->interval_ms));
			json_object_set_new(j, "dead_after_ms",
			    json_integer(o->dead_after_ms));
		}
		if (o->do_kill)
			json_object_set_new(j, "kill", result_json(k));
		if (o->do_term)
			json_object_set_new(j, "term", result_json(t));
		return bench_json_emit(j) == 0 ? 0 : 1;
	}
	printf("failover of %s, %u VIPs: ms from the stop to the VIP's first "
	       "answer or GARP from its new owner\n",
	    who, o->vips);
	printf("%-8s %6s %8s %8s %8s %7s\n", "stop", "reps", "p50", "p99",
	    "max", "missed");
	if (o->do_kill)
		print_result("kill -9", k);
	if (o->do_term)
		print_result("SIGTERM", t);
	return 0;
}

static int
run(struct fo_lab *l, const struct fo_opts *o, struct fo_result *k,
    struct fo_result *t)
{
	if (lab_build(l) != 0) {
		fprintf(stderr,
		    "hearth-bench failover: could not build the lab "
		    "namespaces (ip netns)\n");
		return -EIO;
	}
	char key[PATH_MAX + 16];
	snprintf(key, sizeof(key), "%s/peer.key", l->dir);
	write_file(key, "hearth-bench-failover-lab-key-0123456789\n");
	for (int i = 0; i < NNODES; i++) {
		int rc = o->keepalived ? write_keepalived_conf(l, o, i) :
		                         write_hearthd_conf(l, o, i);
		if (rc != 0)
			return rc;
	}
	if (client_open(l) != 0) {
		fprintf(stderr,
		    "hearth-bench failover: no packet socket in the "
		    "client namespace: %s\n",
		    strerror(errno));
		return -EIO;
	}
	for (int i = 0; i < NNODES; i++)
		l->pid[i] = spawn(l, o, i);
	if (o->arp_rate > 0)
		return arp_latency(l, o, &k->hist, &k->sent, &k->arp);
	for (unsigned rep = 0; rep < o->reps && !interrupted; rep++) {
		if (o->do_kill && repetition(l, o, SIGKILL, k) != 0)
			return -EIO;
		if (o->do_term && repetition(l, o, SIGTERM, t) != 0)
			return -EIO;
		if (bench_progress_wanted(o->json))
			bench_progress("repetition %u/%u", rep + 1, o->reps);
	}
	if (bench_progress_wanted(o->json))
		bench_progress_clear();
	return interrupted ? -EINTR : 0;
}

/* Measures failover in a lab of its own; see the top of the file. */
int
bench_failover_main(int argc, char **argv)
{
	struct fo_opts o;
	int rc = parse_opts(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? 0 : 2;
	if (geteuid() != 0) {
		fprintf(stderr,
		    "hearth-bench failover: needs root to build its "
		    "lab in network namespaces\n");
		return 1;
	}
	const char *tool = o.keepalived ? "keepalived" : o.hearthd;
	if (sh(o.keepalived ? "command -v %s" : "test -x %s", tool) != 0) {
		fprintf(stderr, "hearth-bench failover: %s not found\n", tool);
		return 1;
	}
	static struct fo_lab l;
	static struct fo_result k, t;
	memset(&l, 0, sizeof(l));
	l.sock = l.tx = -1;
	l.home_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(l.id, sizeof(l.id), "hb%x", (unsigned)getpid() & 0xfffff);
	snprintf(l.dir, sizeof(l.dir), "/tmp/hearth-bench-failover.XXXXXX");
	if (mkdtemp(l.dir) == NULL) {
		fprintf(stderr, "hearth-bench failover: mkdtemp: %s\n",
		    strerror(errno));
		return 1;
	}
	l.nv = o.vips;
	for (unsigned v = 0; v < l.nv; v++)
		l.vip[v].s_addr = htonl(0xc0a87a64u + v);
	bench_hist_reset(&k.hist);
	bench_hist_reset(&t.hist);
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = run(&l, &o, &k, &t);
	lab_destroy(&l);
	if (rc != 0) {
		if (rc == -EINTR)
			fprintf(stderr, "hearth-bench failover: interrupted\n");
		return 1;
	}
	if (o.arp_rate > 0)
		return arp_report(&o, &k.hist, k.sent, &k.arp);
	return report(&o, &k, &t);
}
