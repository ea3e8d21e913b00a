/*
 * The nft module's one public header: its ops table, wired by hearthd.
 */
#ifndef HEARTH_NFT_H
#define HEARTH_NFT_H

#include "module.h"

extern const struct hearth_module_ops nft_module;

#endif
