/* SPDX-License-Identifier: GPL-2.0 */
#pragma once
#include "shim/linux/ksm_hash.h"

extern bool shim_fpu_usable;
u32 tree_xxh64(const void *p);
u32 tree_lane_scalar(const void *p);
const struct ksm_page_hash *tree_hash(unsigned int n);
u32 tree_crc32c_3way(const void *p);
u32 tree_crc32c_vpclmul512(const void *p);
