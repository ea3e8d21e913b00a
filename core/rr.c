/* Placeholder until the record parser lands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"

int
hearth_rr_parse(const char *line, const char *origin, struct hearth_rr *out,
    char *err, size_t errlen)
{
	(void)line; (void)origin; (void)out;
	snprintf(err, errlen, "record parsing not implemented");
	return -EINVAL;
}

void
hearth_rr_clear(struct hearth_rr *rr)
{
	free(rr->owner);
	free(rr->rdata);
	rr->owner = NULL;
	rr->rdata = NULL;
}
