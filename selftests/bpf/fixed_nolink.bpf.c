// SPDX-License-Identifier: GPL-2.0
/*
 * fixed.bpf.c's handler in a ".struct_ops" map instead of ".struct_ops.link":
 * updating the map registers it (no BPF link), deleting its element or freeing
 * the map unregisters it.
 */
#define OPS_SEC ".struct_ops"
#include "fixed.bpf.c"
