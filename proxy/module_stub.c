/* The proxy module before it lands: wanted by no model. */
#include "proxy.h"

static bool
stub_wanted(const struct hearth_model *m)
{
	(void)m;
	return false;
}

const struct hearth_module_ops proxy_module = {
	.name = "proxy",
	.wanted = stub_wanted,
};
