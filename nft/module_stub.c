/* The nft module before it lands: wanted by no model. */
#include "nft.h"

static bool
stub_wanted(const struct hearth_model *m)
{
	(void)m;
	return false;
}

const struct hearth_module_ops nft_module = {
	.name = "nft",
	.wanted = stub_wanted,
};
