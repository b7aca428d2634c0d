/* SPDX-License-Identifier: GPL-2.0 */
#include "../../kernel-shim.h"
/* As arch/x86/include/asm/fpu/api.h has it: userspace may always use the FPU. */
extern bool shim_fpu_usable;
#define irq_fpu_usable() shim_fpu_usable
#define kernel_fpu_begin() do { } while (0)
#define kernel_fpu_end() do { } while (0)
#define cpu_has_xfeatures(mask, name) 1
#define XFEATURE_MASK_SSE 0
#define XFEATURE_MASK_YMM 0
#define XFEATURE_MASK_AVX512 0
