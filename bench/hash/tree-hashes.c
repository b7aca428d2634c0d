// SPDX-License-Identifier: GPL-2.0
/*
 * The series' page hashes, compiled from the kernel tree (-DTREE=...)
 * through shim/, with the kernel's code-generation flags: lab/bench-hash.sh
 * builds this file with -mgeneral-regs-only, as the kernel builds with
 * -mno-sse -mno-avx, so the compiler leaves the vector registers to the
 * hashes' own asm, as in the kernel.
 */
#include "shim/kernel-shim.h"
#include "tree-hashes.h"

#define STR2(x) #x
#define STR(x) STR2(x)
#include STR(TREE/lib/xxhash.c)
#include STR(TREE/arch/x86/lib/ksm_page_hash.c)
#include STR(TREE/lib/crc/x86/crc-pclmul-consts.h)

bool shim_fpu_usable = true;

u32 tree_xxh64(const void *p)
{
	return xxh64(p, PAGE_SIZE, 0);
}

/* The lane hashes' fallback, where the kernel cannot use the FPU. */
u32 tree_lane_scalar(const void *p)
{
	u64 acc[8];

	lane_scalar(p, acc);
	return lane_fold(acc);
}

const struct ksm_page_hash *tree_hash(unsigned int n)
{
	return n < nr_arch_ksm_page_hashes ? arch_ksm_page_hashes[n] : NULL;
}

/* tree-crc32c.S: lib/crc/x86's CRC32C code */
u32 crc32c_x86_3way(u32 crc, const u8 *p, size_t len);
u32 crc32_lsb_vpclmul_avx512(u32 crc, const u8 *p, size_t len, const void *consts);

/* crc32c(~0, page, PAGE_SIZE) on x86-64 with PCLMULQDQ, FPU section aside */
u32 tree_crc32c_3way(const void *p)
{
	return crc32c_x86_3way(~0U, p, PAGE_SIZE);
}

/* The same, on CPUs with VPCLMULQDQ and good AVX-512 */
u32 tree_crc32c_vpclmul512(const void *p)
{
	return crc32_lsb_vpclmul_avx512(~0U, p, PAGE_SIZE,
			crc32_lsb_0x82f63b78_consts.fold_across_128_bits_consts);
}
