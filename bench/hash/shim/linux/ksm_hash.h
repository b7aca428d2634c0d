/* SPDX-License-Identifier: GPL-2.0 */
#pragma once
#include "../kernel-shim.h"
/* As include/linux/ksm_hash.h has it. */
struct ksm_page_hash {
	const char *name;
	u32 (*hash)(const void *addr);
	void (*hash_pages)(const void *const *addrs, u32 *sums, unsigned int nr);
	bool (*usable)(void);
	bool (*avoid)(void);
	void (*init)(void);
};
