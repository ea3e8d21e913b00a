/*
 * `plan`: what `up` would create or change, from the same observation and
 * the same plan computation, changing nothing; "nothing to do" when every
 * object already matches. Exit 0 either way.
 */
#include <stdlib.h>

#include "cli.h"

int
plan_compute(struct prov_cli *cli, struct prov_pki **pki,
    struct prov_plan *plan)
{
	struct prov_observed o;
	const char *format;
	int r;

	if (virt_check_base(cli, &format) != 0 || virt_open(cli) != 0)
		return 1;
	*pki = state_pki_load(cli);
	if ((r = virt_observe(cli, &o, *pki)) == 0)
		r = prov_plan_compute(cli->s, &o, plan);
	virt_observed_free(&o);
	if (r != 0) {
		prov_die("cannot compute the plan: out of memory");
		return 1;
	}
	for (size_t i = 0; i < plan->n_warnings; i++)
		printf("! %s\n", plan->warnings[i]);
	return 0;
}

int
plan_main(int argc, char **argv, struct prov_cli *cli)
{
	struct prov_plan plan;
	struct prov_pki *pki = NULL;
	int r;

	(void)argc;
	(void)argv;
	if ((r = plan_compute(cli, &pki, &plan)) != 0)
		return r;
	if (plan.n == 0)
		puts("nothing to do");
	for (size_t i = 0; i < plan.n; i++)
		printf("+ %s\n", plan.v[i].text);
	if (cli->dump_dir != NULL)
		virt_dump(cli, cli->dump_dir);
	prov_plan_clear(&plan);
	prov_pki_free(pki);
	return 0;
}
