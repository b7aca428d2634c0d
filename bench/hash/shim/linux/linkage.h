/* SPDX-License-Identifier: GPL-2.0 */
/* Just enough of the kernel's linkage.h for lib/crc/x86's .S files. */
#define SYM_FUNC_START(n)	.globl n; .type n, @function; n:
#define SYM_TYPED_FUNC_START(n)	SYM_FUNC_START(n)
#define SYM_FUNC_END(n)		.size n, . - n
#define RET			ret
