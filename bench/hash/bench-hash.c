// SPDX-License-Identifier: GPL-2.0
/*
 * bench-hash: KSM's page hashes against their peers, natively.
 *
 * The series' hash source is compiled in from the kernel tree (-DTREE=...),
 * through a small shim (shim/), so the figures are of the very code the
 * kernel runs: lib/xxhash.c (xxh64, what KSM used before the series, and
 * its generic "xxhash" page hash) and arch/x86/lib/ksm_page_hash.c (the
 * "crc32c" page hash). Peers: XXH3 (libxxhash), intel-ipsec-mb's CRC32 on
 * the manager init_mb_mgr_auto() picks, and the load-only limit (AVX2
 * loads of the page, XORed together).
 *
 * One pinned core. Hot: one page, hashed again and again. Cold: pages
 * picked at random from a 1 GiB set. The hashes take turns (round-robin)
 * for REPS rounds; each round times BATCH pages per hash; the table gives
 * the median round, in ns per page, GB/s, and the ratio to kernel xxh64
 * (hot) and to the load-only limit (cold).
 *
 *   bench-hash CSV_FILE
 */
#define _GNU_SOURCE
#include "shim/kernel-shim.h"
#include <immintrin.h>
#include <intel-ipsec-mb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xxhash.h>

#define STR2(x) #x
#define STR(x) STR2(x)
#include STR(TREE/lib/xxhash.c)
#include STR(TREE/arch/x86/lib/ksm_page_hash.c)

#define SET_BYTES	(1UL << 30)
#define SET_PAGES	(SET_BYTES / PAGE_SIZE)
#define BATCH		4096
#define REPS		31

static IMB_MGR *imb;

static u32 h_kernel_xxh64(const void *p)
{
	return xxh64(p, PAGE_SIZE, 0);
}

static u32 h_ksm_crc32c(const void *p)
{
	return ksm_crc32c.hash(p);
}

static u32 h_xxh3(const void *p)
{
	return XXH3_64bits(p, PAGE_SIZE);
}

static u32 h_ipsec_crc32(const void *p)
{
	return IMB_CRC32_ETHERNET_FCS(imb, p, PAGE_SIZE);
}

__attribute__((target("avx2")))
static u32 h_load_only(const void *p)
{
	const __m256i *v = p;
	__m256i a = _mm256_setzero_si256(), b = a, c = a, d = a;
	unsigned int i;

	for (i = 0; i < PAGE_SIZE / 32; i += 4) {
		a = _mm256_xor_si256(a, _mm256_load_si256(v + i));
		b = _mm256_xor_si256(b, _mm256_load_si256(v + i + 1));
		c = _mm256_xor_si256(c, _mm256_load_si256(v + i + 2));
		d = _mm256_xor_si256(d, _mm256_load_si256(v + i + 3));
	}
	a = _mm256_xor_si256(_mm256_xor_si256(a, b), _mm256_xor_si256(c, d));
	return _mm256_extract_epi32(a, 0) ^ _mm256_extract_epi32(a, 5);
}

struct hash {
	const char *name, *what;
	u32 (*fn)(const void *p);
	double hot[REPS], cold[REPS], hot_med, cold_med;
};

static struct hash hashes[] = {
	{ "kernel-xxh64", "lib/xxhash.c xxh64: KSM before the series, its \"xxhash\"", h_kernel_xxh64 },
	{ "ksm-crc32c", "arch/x86/lib/ksm_page_hash.c: the series' \"crc32c\"", h_ksm_crc32c },
	{ "xxh3", "XXH3_64bits, libxxhash", h_xxh3 },
	{ "ipsec-mb-crc32", "intel-ipsec-mb CRC32 (Ethernet FCS)", h_ipsec_crc32 },
	{ "load-only", "AVX2 loads only: the limit", h_load_only },
};
#define NHASH ARRAY_SIZE(hashes)

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC_RAW, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static volatile u32 sink;

int main(int argc, char **argv)
{
	static u8 hot_page[PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
	u32 *order;
	u8 *set;
	cpu_set_t cpus;
	FILE *csv;
	size_t i, k, r;
	u64 x = 0x9e3779b97f4a7c15ULL;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CSV_FILE\n", argv[0]);
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("sched_setaffinity (not pinned)");
	if (!ksm_crc32c.usable()) {
		fprintf(stderr, "no SSE4.2: the crc32c page hash cannot run here\n");
		return 1;
	}
	ksm_crc32c.init();
	imb = alloc_mb_mgr(0);
	if (!imb) {
		fprintf(stderr, "alloc_mb_mgr failed\n");
		return 1;
	}
	init_mb_mgr_auto(imb, NULL);

	set = mmap(NULL, SET_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	order = malloc(sizeof(*order) * BATCH * REPS);
	if (set == MAP_FAILED || !order) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	for (i = 0; i < SET_BYTES / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((u64 *)set)[i] = x;
	}
	memcpy(hot_page, set, PAGE_SIZE);
	for (i = 0; i < (size_t)BATCH * REPS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		order[i] = x % SET_PAGES;
	}

	for (r = 0; r < REPS; r++) {
		for (k = 0; k < NHASH; k++) {
			const u32 *o = order + r * BATCH;
			double t0;
			u32 s = 0;

			t0 = now_ns();
			for (i = 0; i < BATCH; i++) {
				const void *p = hot_page;

				__asm__ volatile("" : "+r" (p) :: "memory");
				s ^= hashes[k].fn(p);
			}
			hashes[k].hot[r] = (now_ns() - t0) / BATCH;
			t0 = now_ns();
			for (i = 0; i < BATCH; i++)
				s ^= hashes[k].fn(set + (size_t)o[i] * PAGE_SIZE);
			hashes[k].cold[r] = (now_ns() - t0) / BATCH;
			sink ^= s;
		}
	}

	csv = fopen(argv[1], "w");
	if (!csv) {
		perror(argv[1]);
		return 1;
	}
	fprintf(csv, "hash,hot_ns_per_page,hot_gb_s,hot_vs_kernel_xxh64,cold_ns_per_page,cold_gb_s,cold_vs_load_only\n");
	for (k = 0; k < NHASH; k++) {
		qsort(hashes[k].hot, REPS, sizeof(double), cmp_double);
		qsort(hashes[k].cold, REPS, sizeof(double), cmp_double);
		hashes[k].hot_med = hashes[k].hot[REPS / 2];
		hashes[k].cold_med = hashes[k].cold[REPS / 2];
	}
	printf("bench-hash: one core, %d rounds of %d pages per hash, medians; cold: random pages of a 1 GiB set\n",
	       REPS, BATCH);
	printf("ipsec-mb %s, manager: %s\n\n", imb_get_version_str(),
	       imb->used_arch == IMB_ARCH_AVX512 ? "avx512" :
	       imb->used_arch == IMB_ARCH_AVX2 ? "avx2" :
	       imb->used_arch == IMB_ARCH_AVX ? "avx" : "sse");
	printf("%-15s %9s %7s %9s   %9s %7s %10s\n", "hash", "hot ns", "GB/s", "vs xxh64",
	       "cold ns", "GB/s", "vs limit");
	for (k = 0; k < NHASH; k++) {
		struct hash *h = &hashes[k];
		double hot_ratio = hashes[0].hot_med / h->hot_med;
		double cold_ratio = h->cold_med / hashes[NHASH - 1].cold_med;

		printf("%-15s %9.1f %7.2f %8.2fx   %9.1f %7.2f %9.2fx\n", h->name, h->hot_med,
		       PAGE_SIZE / h->hot_med, hot_ratio, h->cold_med, PAGE_SIZE / h->cold_med,
		       cold_ratio);
		fprintf(csv, "%s,%.1f,%.2f,%.2f,%.1f,%.2f,%.2f\n", h->name, h->hot_med,
			PAGE_SIZE / h->hot_med, hot_ratio, h->cold_med, PAGE_SIZE / h->cold_med,
			cold_ratio);
	}
	printf("\n");
	for (k = 0; k < NHASH; k++)
		printf("%-15s %s\n", hashes[k].name, hashes[k].what);
	fclose(csv);
	return 0;
}
