/* SPDX-License-Identifier: GPL-2.0 */
#pragma once
/* Just enough of the kernel for lib/xxhash.c and arch/x86/lib/ksm_page_hash.c. */
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
typedef uint32_t u32; typedef uint64_t u64; typedef uint8_t u8;
#define PAGE_SIZE 4096UL
#undef __always_inline
#define __always_inline inline __attribute__((always_inline))
#define __ro_after_init
#define __init
#define ARRAY_SIZE(a) (sizeof(a)/sizeof((a)[0]))
#define BUILD_BUG_ON(c) _Static_assert(!(c), "bb")
#define __ffs(x) __builtin_ctz(x)
/* Feature numbers, as the kernel's, since ksm_cpu_has() takes a number */
#define X86_FEATURE_XMM4_2 1
#define X86_FEATURE_AVX2 2
#define X86_FEATURE_AVX512F 3
static inline bool boot_cpu_has(unsigned int f)
{
	switch (f) {
	case X86_FEATURE_XMM4_2: return __builtin_cpu_supports("sse4.2");
	case X86_FEATURE_AVX2: return __builtin_cpu_supports("avx2");
	case X86_FEATURE_AVX512F: return __builtin_cpu_supports("avx512f");
	}
	return false;
}
#define min(a, b) ((a) < (b) ? (a) : (b))
#define __aligned(n) __attribute__((aligned(n)))
typedef unsigned __int128 u128;
#include <string.h>
#define get_unaligned_le64(p) (*(const uint64_t*)(p))
#define get_unaligned_le32(p) (*(const uint32_t*)(p))
#define EXPORT_SYMBOL(x)
#define MODULE_LICENSE(x)
#define MODULE_DESCRIPTION(x)
#define le32_to_cpu(x) (x)
#define le64_to_cpu(x) (x)
#define cpu_to_le32(x) (x)
#define cpu_to_le64(x) (x)
#define put_unaligned_le32(v,p) (*(uint32_t*)(p)=(v))
#define put_unaligned_le64(v,p) (*(uint64_t*)(p)=(v))
typedef int32_t s32; typedef int64_t s64; typedef uint16_t u16;
#define rol32(x,r) (((x)<<(r))|((x)>>(32-(r))))
#define rol64(x,r) (((x)<<(r))|((x)>>(64-(r))))
struct xxh32_state { u32 total_len_32, large_len, v1, v2, v3, v4, mem32[4], memsize; };
struct xxh64_state { u64 total_len, v1, v2, v3, v4, mem64[4]; u32 memsize; };
uint64_t xxh64(const void *input, size_t len, uint64_t seed);
#define EINVAL 22
#define ____cacheline_aligned __attribute__((aligned(64)))
#define __maybe_unused __attribute__((unused))
