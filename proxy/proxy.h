/*
 * The proxy module's one public header: its ops table, wired by hearthd.
 */
#ifndef HEARTH_PROXY_H
#define HEARTH_PROXY_H

#include "module.h"

extern const struct hearth_module_ops proxy_module;

#endif
