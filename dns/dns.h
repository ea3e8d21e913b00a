/*
 * The dns module's one public header: its ops table, wired by hearthd.
 */
#ifndef HEARTH_DNS_H
#define HEARTH_DNS_H

#include "module.h"

extern const struct hearth_module_ops dns_module;

#endif
