/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the kernel's crc32c() runs for a 4 KiB buffer on x86-64, assembled
 * from the kernel tree (-DTREE=...): crc32c_x86_3way() (three crc32q
 * streams joined with PCLMULQDQ) and crc32_lsb_vpclmul_avx512() (folding
 * with VPCLMULQDQ), which lib/crc/x86/crc32.h picks where AVX-512 is good.
 */
#define STR2(x) #x
#define STR(x) STR2(x)
	.text
#include STR(TREE/lib/crc/x86/crc32c-3way.S)
	.text	/* crc32c-3way.S ends in .rodata */
#include STR(TREE/lib/crc/x86/crc32-pclmul.S)
	.section .note.GNU-stack, "", @progbits
