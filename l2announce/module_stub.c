/* The l2announce module before it lands: wanted by no model. */
#include "l2announce.h"

static bool
stub_wanted(const struct hearth_model *m)
{
	(void)m;
	return false;
}

const struct hearth_module_ops l2announce_module = {
	.name = "l2announce",
	.wanted = stub_wanted,
};
