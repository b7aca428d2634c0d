/* SPDX-License-Identifier: GPL-2.0 */
#include "../kernel-shim.h"
/* As include/linux/ksm_hash.h has it. */
struct ksm_page_hash {
	const char *name;
	u32 (*hash)(const void *addr);
	bool (*usable)(void);
	void (*init)(void);
};
