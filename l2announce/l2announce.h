/*
 * The l2announce module's one public header: its ops table, wired by hearthd.
 */
#ifndef HEARTH_L2ANNOUNCE_H
#define HEARTH_L2ANNOUNCE_H

#include "module.h"

extern const struct hearth_module_ops l2announce_module;

#endif
