/*
 * `down`: removes what `up` created and nothing else (see virt_down.c).
 * Asks first unless --yes; with no terminal to ask on, refuses (exit 2).
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli.h"

static bool
confirm(const struct prov_cli *cli)
{
	char line[64];

	if (cli->yes)
		return true;
	if (!isatty(STDIN_FILENO))
		return false;
	printf("Remove the VMs, volumes, pool and network changes that up made "
	       "(recorded in %s)? [y/N] ",
	    cli->state_dir);
	fflush(stdout);
	if (fgets(line, sizeof(line), stdin) == NULL)
		return false;
	line[strcspn(line, "\r\n")] = '\0';
	return strcasecmp(line, "y") == 0 || strcasecmp(line, "yes") == 0;
}

int
down_main(int argc, char **argv, struct prov_cli *cli)
{
	(void)argc;
	(void)argv;
	if (!cli->yes && !isatty(STDIN_FILENO)) {
		prov_die("down: refusing to remove anything without --yes "
		         "(stdin is not a terminal to ask on)");
		return 2;
	}
	if (access(cli->state_dir, F_OK) != 0) {
		puts("nothing to do: no state directory, so nothing up made");
		return 0;
	}
	if (!confirm(cli)) {
		prov_die("down: not confirmed; nothing removed");
		return 1;
	}
	if (virt_open(cli) != 0)
		return 1;
	if (virt_down(cli) != 0) {
		prov_die("down: some objects could not be removed (see above); "
		         "their records stay in %s, run down again",
		    cli->state_dir);
		return 1;
	}
	puts("down: done");
	if (cli->dump_dir != NULL)
		virt_dump(cli, cli->dump_dir);
	return 0;
}
