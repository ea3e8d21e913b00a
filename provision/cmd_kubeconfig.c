/*
 * `kubeconfig`: prints the admin kubeconfig up wrote (the cluster CA and
 * the admin certificate embedded, server https://CONTROL-PLANE:6443).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int
kubeconfig_main(int argc, char **argv, struct prov_cli *cli)
{
	char *kc = state_read(cli, "admin.kubeconfig");

	(void)argc;
	(void)argv;
	if (kc == NULL) {
		prov_die("no admin.kubeconfig in %s: run up first",
		    cli->state_dir);
		return 1;
	}
	fputs(kc, stdout);
	memset(kc, 0, strlen(kc));
	free(kc);
	return 0;
}
