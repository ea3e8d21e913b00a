#include "l2announce.h"
const struct hearth_module_ops l2announce_module = {.name = "l2announce"};
