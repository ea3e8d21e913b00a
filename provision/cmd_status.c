/*
 * `status`: one line per VM (its libvirt state and address) and one for
 * the cluster's readiness, asked of the API server with the admin
 * certificate (not with libvirt's test driver, which has no guests).
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

static void
cluster_line(struct prov_cli *cli)
{
	struct prov_pki *pki;
	struct prov_readiness rd;

	if (cli->test_driver && getenv("HEARTH_PROVISION_API_ADDR") == NULL) {
		puts("cluster: not checked (libvirt test driver: no guests)");
		return;
	}
	if ((pki = state_pki_load(cli)) == NULL) {
		printf("cluster: unknown (no PKI in %s/pki: run up)\n",
		    cli->state_dir);
		return;
	}
	ready_probe(cli, pki, 3000, &rd);
	if (rd.api_ready && rd.nodes_ready == rd.nodes_total)
		printf("cluster: ready (API server ready, nodes Ready "
		       "%zu/%zu)\n",
		    rd.nodes_ready, rd.nodes_total);
	else
		printf("cluster: not ready (API server %s, nodes Ready "
		       "%zu/%zu%s%s)\n",
		    rd.api_ready ? "ready" : "not ready", rd.nodes_ready,
		    rd.nodes_total, rd.detail[0] ? "; " : "", rd.detail);
	prov_pki_free(pki);
}

int
status_main(int argc, char **argv, struct prov_cli *cli)
{
	(void)argc;
	(void)argv;
	if (virt_open(cli) != 0)
		return 1;
	for (size_t i = 0; i < cli->s->n_nodes; i++) {
		const struct prov_node *n = &cli->s->nodes[i];
		char a[INET_ADDRSTRLEN];

		printf("%-20s %-10s %-15s %s\n", n->name,
		    virt_domain_state(cli, n->name), prov_ip(n->addr, a),
		    n->role == PROV_ROLE_CONTROL_PLANE ? "control-plane" :
		                                         "worker");
	}
	cluster_line(cli);
	return 0;
}
