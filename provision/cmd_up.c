/*
 * `up`: runs the plan's steps in order with a progress line each, stops at
 * the first failure naming the step (what was made so far stays, kept in
 * the state dir, and the next up continues from there), then waits for
 * the cluster unless --no-wait or libvirt's test driver.
 */
#include <stdlib.h>

#include "cli.h"

static int
run_steps(struct prov_cli *cli, struct prov_plan *plan, struct prov_pki **pki)
{
	char err[1024];

	for (size_t i = 0; i < plan->n; i++) {
		printf("[%zu/%zu] %s\n", i + 1, plan->n, plan->v[i].text);
		err[0] = '\0';
		if (virt_step(cli, &plan->v[i], pki, err, sizeof(err)) != 0) {
			prov_die("up: step %zu/%zu (%s) failed: %s; what was "
			         "made "
			         "before it is kept and recorded in %s: run up "
			         "again to "
			         "continue, or down to remove it",
			    i + 1, plan->n, plan->v[i].text, err,
			    cli->state_dir);
			return 1;
		}
	}
	return 0;
}

int
up_main(int argc, char **argv, struct prov_cli *cli)
{
	struct prov_plan plan;
	struct prov_pki *pki = NULL;
	int r;

	(void)argc;
	(void)argv;
	if ((r = plan_compute(cli, &pki, &plan)) != 0)
		return r;
	if (plan.n == 0)
		puts("nothing to do: everything matches");
	else if ((r = run_steps(cli, &plan, &pki)) == 0)
		printf("up: %zu step%s done; state in %s\n", plan.n,
		    plan.n == 1 ? "" : "s", cli->state_dir);
	if (r == 0) {
		if (cli->no_wait)
			puts("not waiting for the cluster (--no-wait); "
			     "`hearth-provision status` shows its readiness");
		/* The test seam points the wait at a stand-in API server. */
		else if (cli->test_driver &&
		    getenv("HEARTH_PROVISION_API_ADDR") == NULL)
			puts("libvirt test driver: no guests, not waiting for "
			     "the cluster");
		else if (pki == NULL || ready_wait(cli, pki) != 0)
			r = 1;
	}
	if (cli->dump_dir != NULL)
		virt_dump(cli, cli->dump_dir);
	prov_plan_clear(&plan);
	prov_pki_free(pki);
	return r;
}
