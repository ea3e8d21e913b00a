/* hearthd (being built): prints its version. */
#include <stdio.h>

#include "config.h"
#include "l2announce.h"
#include "nft.h"
#include "dns.h"
#include "proxy.h"

int
main(void)
{
	printf("hearthd %s\n", HEARTH_VERSION);
	return 0;
}
