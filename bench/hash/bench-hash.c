// SPDX-License-Identifier: GPL-2.0
/*
 * bench-hash: KSM's page hashes against their peers, natively.
 *
 * The series' hash source is compiled from the kernel tree by
 * tree-hashes.c, through a small shim (shim/), so the figures are of the
 * very code the kernel runs: lib/xxhash.c (xxh64, what KSM used before the
 * series, and its generic "xxhash" page hash) and every page hash of
 * arch/x86/lib/ksm_page_hash.c this CPU can run, and the kernel's crc32c()
 * of a page, the series' generic "crc32c" hash (lib/crc/x86, assembled
 * from the tree by tree-crc32c.S: its three-stream crc32q code, and its
 * VPCLMULQDQ AVX-512 folding where the CPU has both; without the
 * kernel_fpu_begin() and kernel_fpu_end() that crc32c() adds around them).
 * Peers: XXH3 (libxxhash), intel-ipsec-mb's CRC32 on the manager
 * init_mb_mgr_auto() picks, and the load-only limit (AVX2 loads of the
 * page, XORed together).
 *
 * One pinned core. Hot: one page, hashed again and again. Cold: pages
 * picked at random from a 1 GiB set. The hashes take turns (round-robin)
 * for REPS rounds; each round times BATCH pages per hash; the table gives
 * the median round, in ns per page, GB/s, and the ratio to kernel xxh64
 * (hot) and to the load-only limit (cold). Before timing, it checks that
 * the hashes meant to compute the same function agree: the AVX2 and
 * AVX-512 lane hashes and their scalar fallback, and crc32c()'s two paths.
 *
 *   bench-hash CSV_FILE
 */
#define _GNU_SOURCE
#include "shim/kernel-shim.h"
#include "tree-hashes.h"
#include <immintrin.h>
#include <intel-ipsec-mb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <xxhash.h>

#define SET_BYTES	(1UL << 30)
#define SET_PAGES	(SET_BYTES / PAGE_SIZE)
#define BATCH		4096
#define REPS		31
#define STREAM		16	/* pages per hash_pages() call: "streamed" */

static IMB_MGR *imb;

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
	char name[32], what[100];
	u32 (*fn)(const void *p);
	void (*fn_pages)(const void *const *addrs, u32 *sums, unsigned int nr);
	double hot[REPS], cold[REPS], batch[REPS], hot_med, cold_med, batch_med;
};

/* kernel-xxh64 first (the hot ratios), load-only last (the cold ones) */
static struct hash hashes[16];
static unsigned int nhash;

static void add_hash(const char *name, const char *what, u32 (*fn)(const void *p))
{
	struct hash *h = &hashes[nhash++];

	snprintf(h->name, sizeof(h->name), "%s", name);
	snprintf(h->what, sizeof(h->what), "%s", what);
	h->fn = fn;
}

/* lib/crc/x86/crc32.h's choice of crc32_lsb_vpclmul_avx512() for crc32c() */
static bool vpclmul512(void)
{
	return __builtin_cpu_supports("vpclmulqdq") && __builtin_cpu_supports("avx512bw") &&
	       __builtin_cpu_supports("avx512vl");
}

/* The lane hashes and their scalar fallback compute the same function. */
static int check_same_function(const u8 *set)
{
	const struct ksm_page_hash *h;
	unsigned int n, i, bad = 0;

	for (n = 0; (h = tree_hash(n)); n++) {
		if (strncmp(h->name, "avx", 3) || !h->usable())
			continue;
		for (i = 0; i < 4096; i++) {
			const void *p = set + (size_t)i * 4099 % (SET_BYTES / PAGE_SIZE) * PAGE_SIZE;

			shim_fpu_usable = true;
			if (h->hash(p) != tree_lane_scalar(p))
				bad++;
			shim_fpu_usable = false;	/* the fallback path */
			if (h->hash(p) != tree_lane_scalar(p))
				bad++;
		}
		shim_fpu_usable = true;
		printf("%s = scalar lane hash on 4096 pages, with and without the FPU: %s\n",
		       h->name, bad ? "MISMATCH" : "ok");
	}
	/* crc32c()'s two x86-64 paths compute the same CRC */
	if (vpclmul512()) {
		unsigned int before = bad;

		for (i = 0; i < 4096; i++) {
			const void *p = set + (size_t)i * 4099 % (SET_BYTES / PAGE_SIZE) * PAGE_SIZE;

			if (tree_crc32c_3way(p) != tree_crc32c_vpclmul512(p))
				bad++;
		}
		printf("crc32c() 3-way = crc32c() VPCLMULQDQ on 4096 pages: %s\n",
		       bad != before ? "MISMATCH" : "ok");
	}
	return bad;
}

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
	size_t i, j, k, r;
	u64 x = 0x9e3779b97f4a7c15ULL;

	if (argc != 2) {
		fprintf(stderr, "usage: %s CSV_FILE\n", argv[0]);
		return 2;
	}
	CPU_ZERO(&cpus);
	CPU_SET(1, &cpus);
	if (sched_setaffinity(0, sizeof(cpus), &cpus))
		perror("sched_setaffinity (not pinned)");
	add_hash("kernel-xxh64", "lib/xxhash.c xxh64: KSM before the series, its \"xxhash\"",
		 tree_xxh64);
	for (i = 0; tree_hash(i); i++) {
		const struct ksm_page_hash *h = tree_hash(i);
		char what[96];

		if (!h->usable()) {
			printf("ksm-%s: this CPU cannot run it\n", h->name);
			continue;
		}
		if (h->init)
			h->init();
		snprintf(what, sizeof(what), "arch/x86/lib/ksm_page_hash.c: the series' \"%s\"",
			 h->name);
		add_hash(h->name, what, h->hash);
		hashes[nhash - 1].fn_pages = h->hash_pages;
		snprintf(hashes[nhash - 1].name, sizeof(hashes[0].name), "ksm-%s", h->name);
	}
	add_hash("crc32c-3way",
		 "lib/crc/x86 crc32c_x86_3way(): the series' \"crc32c\" without VPCLMULQDQ",
		 tree_crc32c_3way);
	if (vpclmul512())
		add_hash("crc32c-vp512",
			 "lib/crc/x86 crc32_lsb_vpclmul_avx512(): the series' \"crc32c\" here",
			 tree_crc32c_vpclmul512);
	add_hash("xxh3", "XXH3_64bits, libxxhash", h_xxh3);
	add_hash("ipsec-mb-crc32", "intel-ipsec-mb CRC32 (Ethernet FCS)", h_ipsec_crc32);
	add_hash("load-only", "AVX2 loads only: the limit", h_load_only);
	imb = alloc_mb_mgr(0);
	if (!imb) {
		fprintf(stderr, "alloc_mb_mgr failed\n");
		return 1;
	}
	init_mb_mgr_auto(imb, NULL);

	set = mmap(NULL, SET_BYTES, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	order = malloc(sizeof(*order) * BATCH * REPS * 2);
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
	if (check_same_function(set))
		return 1;
	for (i = 0; i < (size_t)BATCH * REPS * 2; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		order[i] = x % SET_PAGES;
	}

	for (r = 0; r < REPS; r++) {
		for (k = 0; k < nhash; k++) {
			const u32 *o = order + r * BATCH * 2;
			static const void *addrs[BATCH];
			static u32 sums[BATCH];
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

			for (i = 0; i < BATCH; i++)
				addrs[i] = set + (size_t)o[BATCH + i] * PAGE_SIZE;
			t0 = now_ns();
			for (i = 0; i < BATCH; i += STREAM) {
				if (hashes[k].fn_pages) {
					hashes[k].fn_pages(addrs + i, sums, STREAM);
				} else {
					for (j = 0; j < STREAM; j++)
						sums[j] = hashes[k].fn(addrs[i + j]);
				}
				s ^= sums[0] ^ sums[STREAM - 1];
			}
			hashes[k].batch[r] = (now_ns() - t0) / BATCH;
			sink ^= s;
		}
	}

	csv = fopen(argv[1], "w");
	if (!csv) {
		perror(argv[1]);
		return 1;
	}
	fprintf(csv, "hash,hot_ns_per_page,hot_gb_s,hot_vs_kernel_xxh64,cold_ns_per_page,cold_gb_s,cold_vs_load_only,streamed_ns_per_page,streamed_gb_s,streamed_vs_load_only\n");
	for (k = 0; k < nhash; k++) {
		qsort(hashes[k].hot, REPS, sizeof(double), cmp_double);
		qsort(hashes[k].cold, REPS, sizeof(double), cmp_double);
		qsort(hashes[k].batch, REPS, sizeof(double), cmp_double);
		hashes[k].hot_med = hashes[k].hot[REPS / 2];
		hashes[k].cold_med = hashes[k].cold[REPS / 2];
		hashes[k].batch_med = hashes[k].batch[REPS / 2];
	}
	printf("bench-hash: one core, %d rounds of %d pages per hash, medians; cold: random pages of a 1 GiB set,\n"
	       "one call per page; streamed: the same, %d pages per call to the hashes that take batches\n"
	       "(hash_pages(): one FPU section, the next page prefetched), one call per page to the others\n",
	       REPS, BATCH, STREAM);
	printf("ipsec-mb %s, manager: %s\n\n", imb_get_version_str(),
	       imb->used_arch == IMB_ARCH_AVX512 ? "avx512" :
	       imb->used_arch == IMB_ARCH_AVX2 ? "avx2" :
	       imb->used_arch == IMB_ARCH_AVX ? "avx" : "sse");
	printf("%-15s %8s %6s %9s  %8s %6s %9s  %8s %6s %9s\n", "hash", "hot ns", "GB/s",
	       "vs xxh64", "cold ns", "GB/s", "vs limit", "stream", "GB/s", "vs limit");
	for (k = 0; k < nhash; k++) {
		struct hash *h = &hashes[k], *lim = &hashes[nhash - 1];
		double hot_ratio = hashes[0].hot_med / h->hot_med;
		double cold_ratio = h->cold_med / lim->cold_med;
		double batch_ratio = h->batch_med / lim->batch_med;

		printf("%-15s %8.1f %6.2f %8.2fx  %8.1f %6.2f %8.2fx  %8.1f %6.2f %8.2fx\n",
		       h->name, h->hot_med, PAGE_SIZE / h->hot_med, hot_ratio,
		       h->cold_med, PAGE_SIZE / h->cold_med, cold_ratio,
		       h->batch_med, PAGE_SIZE / h->batch_med, batch_ratio);
		fprintf(csv, "%s,%.1f,%.2f,%.2f,%.1f,%.2f,%.2f,%.1f,%.2f,%.2f\n", h->name,
			h->hot_med, PAGE_SIZE / h->hot_med, hot_ratio,
			h->cold_med, PAGE_SIZE / h->cold_med, cold_ratio,
			h->batch_med, PAGE_SIZE / h->batch_med, batch_ratio);
	}
	printf("\n");
	for (k = 0; k < nhash; k++)
		printf("%-15s %s\n", hashes[k].name, hashes[k].what);
	fclose(csv);
	return 0;
}
