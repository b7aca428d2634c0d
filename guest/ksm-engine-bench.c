// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-engine-bench: one scenario of make bench-engine, and what ksmd spent
 * on it.
 *
 *   ksm-engine-bench -s SCENARIO -m MIB [-n PROCS] [-w WARMUP] [-k SCANS]
 *                    [-T SECONDS] [-t TIMEOUT] [-c] [-S]
 *
 * Scenarios, MIB of mergeable memory in all:
 *   vm        PROCS processes (default 4) hold the same pseudo-random
 *             "image"; one page in ten of each is private to it;
 *   unique    all pages distinct: the pure cost of scanning;
 *   prefix    distinct pages that share their first 3994 bytes (3.9 KiB),
 *             the worst case for trees ordered by page contents;
 *   volatile  distinct pages that a writer keeps changing, one word each,
 *             a pass every 20 ms.
 *
 * KSM runs with smart_scan=0 (every page is scanned in every scan, so that
 * kernels compare per scanned page), pages_to_scan=1000, sleep_millisecs=0
 * (ksmd never sleeps: its CPU time is the cost), max_page_sharing=256.
 * With -S, smart_scan=1 instead, for smart scan's own figures: pages that
 * do not merge are skipped more and more as they age, and pages_skipped
 * counts the skips of the measured scans.
 * After WARMUP full scans (default 2) it measures SCANS more (default 3),
 * and for at least SECONDS (default 2: CPU time may tick in 10 ms steps):
 * ksmd's CPU time (/proc/<ksmd>/stat) per page scanned (pages_scanned),
 * and with -c the calls of memcmp_pages() (the page compares of both the
 * base and the patched engine), counted by the ftrace function profiler.
 * For vm it also reports the time until pages_sharing reached 99% of what
 * the image allows, and pages_sharing then.
 *
 * Before KSM starts, it measures the streaming-read limit that cold
 * scanning is held to: the fastest of three reads, in address order, of
 * min(MIB, 512) MiB of its own memory, far more than the caches, in
 * nanoseconds per page (stream_ns_per_page).
 *
 * Prints one line, "ksm-engine-bench: key=value ...". The kernel log
 * (/dev/kmsg) gets "ksm-engine-bench: measuring" and "... measured" as the
 * measured scans start and end, for a profiler on the host to follow.
 * Exit status: 0 done, 1 timed out, 2 error, 4 no KSM (skip).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm-util.h"

#define PREFIX_BYTES	3994
#define MAX_PROCS	64
#define TRACING		"/sys/kernel/tracing/"

static long page_size;

static void fill_random(uint64_t *w, long words, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	long i;

	for (i = 0; i < words; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[i] = x;
	}
}

static char *map_mergeable(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, len, MADV_MERGEABLE)) {
		perror("ksm-engine-bench: mmap/madvise");
		exit(2);
	}
	return p;
}

/* In scenario vm, is page @i the image's, or (one in ten) private? */
static int vm_page_shared(long i)
{
	return (i * 0x9E3779B97F4A7C15ull >> 32) % 10 != 0;
}

struct bench_work {
	const char *scenario;
	long pages;		/* per process */
};

/* Fill the pages of the scenario for process @id, then tell the parent. */
static void worker(int id, int ready_fd, void *arg)
{
	const struct bench_work *wk = arg;
	const char *s = wk->scenario;
	long pages = wk->pages;
	char *m = map_mergeable(pages * page_size);
	long i, words = page_size / 8;
	uint64_t gen = 0;

	for (i = 0; i < pages; i++) {
		uint64_t *w = (uint64_t *)(m + i * page_size);
		uint64_t seed = (uint64_t)(id + 1) << 40 | i;

		if (!strcmp(s, "vm")) {
			if (vm_page_shared(i))
				seed = i;
			fill_random(w, words, seed);
		} else if (!strcmp(s, "prefix")) {
			/* distinct in the last 102 bytes only */
			fill_random(w, words, seed);
			memset(w, 0x5a, PREFIX_BYTES);
		} else {
			fill_random(w, words, seed);
		}
	}
	if (write(ready_fd, "r", 1) != 1)
		exit(2);
	close(ready_fd);
	if (strcmp(s, "volatile")) {
		for (;;)
			pause();
	}
	for (;;) {
		gen++;
		for (i = 0; i < pages; i++)
			((volatile uint64_t *)(m + i * page_size))[i % (page_size / 8)] = gen;
		usleep(20000);
	}
}

/* 16 bytes, in any register the compiler finds for it */
typedef uint64_t stream_vec __attribute__((vector_size(16)));

/* One read of @len bytes at @m in address order, 64 bytes a step. */
static stream_vec stream_read(const char *m, size_t len)
{
	const stream_vec *v = (const stream_vec *)m, *end = v + len / sizeof(*v);
	stream_vec a = { 0 }, b = { 0 }, c = { 0 }, d = { 0 };

	for (; v < end; v += 4) {
		a ^= v[0];
		b ^= v[1];
		c ^= v[2];
		d ^= v[3];
	}
	return a ^ b ^ c ^ d;
}

/*
 * The streaming-read limit: the fastest of three reads of @mib MiB of fresh
 * memory, in nanoseconds per page.
 */
static double stream_ns_per_page(long mib)
{
	size_t len = (size_t)mib << 20;
	char *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	volatile stream_vec sink;
	double t, best = -1;
	int i;

	if (m == MAP_FAILED)
		return -1;
	fill_random((uint64_t *)m, len / 8, 7);
	for (i = 0; i < 3; i++) {
		t = now();
		sink = stream_read(m, len);
		t = now() - t;
		if (best < 0 || t < best)
			best = t;
	}
	(void)sink;
	munmap(m, len);
	return best * 1e9 / (len / page_size);
}

/* Tell the kernel log (and so the console) where the bench is */
static void kmsg(const char *what)
{
	char line[64];

	snprintf(line, sizeof(line), "ksm-engine-bench: %s\n", what);
	write_file("/dev/kmsg", line);
}

/* Turns the patched engine's counters on and off (debugfs) */
#define ENGINE_STATS_ON "/sys/kernel/debug/ksm/engine_stats_on"

/* The engine_stats counters the bench reports, as ratios */
static const char *const stat_names[] = {
	"compares", "unstable_levels", "unstable_walks", "stable_levels", "stable_walks",
};
#define NSTATS ((int)(sizeof(stat_names) / sizeof(stat_names[0])))

/*
 * A counter of the patched engine, from debugfs ksm/engine_stats; -1 without
 * it (the base kernel).
 */
static long engine_stat(const char *name)
{
	FILE *f = fopen("/sys/kernel/debug/ksm/engine_stats", "r");
	char key[64];
	long v, r = -1;

	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", key, &v) == 2)
		if (!strcmp(key, name))
			r = v;
	fclose(f);
	return r;
}

/* Per unit of @d1 - @d0 of the change of @n1 - @n0; -1 when unknown */
static double per(long n0, long n1, long d0, long d1)
{
	return n0 >= 0 && n1 >= 0 && d1 > d0 ? (double)(n1 - n0) / (d1 - d0) : -1.0;
}

/* memcmp_pages() calls so far, from the function profiler; -1 without it. */
static long page_compares(void)
{
	char path[300], line[512];
	long sum = 0;
	int cpu, found = 0;

	for (cpu = 0; cpu < 64; cpu++) {
		FILE *f;

		snprintf(path, sizeof(path), TRACING "trace_stat/function%d", cpu);
		f = fopen(path, "r");
		if (!f)
			break;
		while (fgets(line, sizeof(line), f)) {
			char fn[128];
			long hits;

			if (sscanf(line, " %127s %ld", fn, &hits) == 2 &&
			    !strcmp(fn, "memcmp_pages")) {
				sum += hits;
				found = 1;
			}
		}
		fclose(f);
	}
	return found || cpu > 0 ? sum : -1;
}

static int start_profiler(void)
{
	FILE *f;

	if (access(TRACING "function_profile_enabled", W_OK))
		mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	f = fopen(TRACING "set_ftrace_filter", "w");
	if (!f || fputs("memcmp_pages\n", f) < 0 || fclose(f)) {
		fprintf(stderr, "ksm-engine-bench: no ftrace filter for memcmp_pages\n");
		return -1;
	}
	f = fopen(TRACING "function_profile_enabled", "w");
	if (!f || fputs("1\n", f) < 0 || fclose(f)) {
		fprintf(stderr, "ksm-engine-bench: no function profiler\n");
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: ksm-engine-bench -s vm|unique|prefix|volatile -m MIB [-n PROCS]\n"
			"                        [-w WARMUP] [-k SCANS] [-T SECONDS] [-t TIMEOUT] [-c] [-S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long mib = 0, procs = 0, warmup = 2, scans = 3, timeout = 3600, min_s = 2;
	long pages, per_proc, ideal = 0, sharing = 0, conv_sharing = -1;
	long scans0, scanned0, cmp0 = -1, cmp1 = -1, full, scanned, skipped0, skipped, shared, buckets;
	long st0[NSTATS] = { -1, -1, -1, -1, -1 }, st1[NSTATS] = { -1, -1, -1, -1, -1 };
	double t0, tm = 0, cpu0 = 0, cpu, conv_s = -1, stream_ns;
	const char *s = NULL;
	pid_t pids[MAX_PROCS];
	struct bench_work wk;
	int opt, i, count_cmp = 0, measuring = 0, smart = 0;

	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "s:m:n:w:k:T:t:cS")) != -1) {
		switch (opt) {
		case 's': s = optarg; break;
		case 'm': mib = atol(optarg); break;
		case 'n': procs = atol(optarg); break;
		case 'w': warmup = atol(optarg); break;
		case 'k': scans = atol(optarg); break;
		case 'T': min_s = atol(optarg); break;
		case 't': timeout = atol(optarg); break;
		case 'c': count_cmp = 1; break;
		case 'S': smart = 1; break;
		default: usage();
		}
	}
	if (!s || (strcmp(s, "vm") && strcmp(s, "unique") && strcmp(s, "prefix") &&
		   strcmp(s, "volatile")) || mib < 1 || warmup < 1 || scans < 1)
		usage();
	if (!procs)
		procs = strcmp(s, "vm") ? 1 : 4;
	if (procs < 1 || procs > MAX_PROCS)
		usage();
	if (access(KSM "run", W_OK)) {
		printf("ksm-engine-bench: no KSM in this kernel\n");
		return 4;
	}
	pages = mib * (1L << 20) / page_size;
	per_proc = pages / procs;
	if (!strcmp(s, "vm")) {
		for (i = 0; i < per_proc; i++)
			ideal += vm_page_shared(i);
		ideal *= procs - 1;
	}

	if (write_knob("run", "2") || write_knob("smart_scan", smart ? "1" : "0") ||
	    write_knob("max_page_sharing", "256") || write_knob("pages_to_scan", "1000") ||
	    write_knob("sleep_millisecs", "0")) {
		fprintf(stderr, "ksm-engine-bench: cannot set the KSM knobs\n");
		return 2;
	}
	if (count_cmp && start_profiler())
		count_cmp = 0;
	/* The patched engine counts only while asked to (a static key) */
	write_file(ENGINE_STATS_ON, "1");
	stream_ns = stream_ns_per_page(mib < 512 ? mib : 512);
	wk = (struct bench_work){ s, per_proc };
	if (start_workers(procs, pids, worker, &wk))
		return 2;

	scans0 = read_knob("full_scans");
	scanned0 = read_knob("pages_scanned");
	skipped0 = read_knob("pages_skipped");
	cpu0 = ksmd_cpu();
	t0 = now();
	tm = t0;
	write_knob("run", "1");
	for (;;) {
		full = read_knob("full_scans") - scans0;
		sharing = read_knob("pages_sharing");
		if (ideal && conv_s < 0 && sharing >= ideal * 99 / 100) {
			conv_s = now() - t0;
			conv_sharing = sharing;
		}
		if (!measuring && full >= warmup) {
			measuring = 1;
			tm = now();
			cpu0 = ksmd_cpu();
			scanned0 = read_knob("pages_scanned");
			skipped0 = read_knob("pages_skipped");
			scans0 += full;
			cmp0 = count_cmp ? page_compares() : -1;
			for (i = 0; i < NSTATS; i++)
				st0[i] = engine_stat(stat_names[i]);
			kmsg("measuring");
			continue;
		}
		if (measuring && full >= scans && now() - tm >= min_s &&
		    (!ideal || conv_s >= 0))
			break;
		if (now() - t0 > timeout)
			break;
		usleep(20000);
	}
	cpu = ksmd_cpu() - cpu0;
	kmsg("measured");
	shared = read_knob("pages_shared");
	buckets = engine_stat("stable_buckets");
	scanned = read_knob("pages_scanned") - scanned0;
	skipped = read_knob("pages_skipped") - skipped0;
	if (count_cmp)
		cmp1 = page_compares();
	for (i = 0; i < NSTATS; i++)
		st1[i] = engine_stat(stat_names[i]);
	write_knob("run", "2");
	write_file(ENGINE_STATS_ON, "0");
	for (i = 0; i < procs; i++)
		kill(pids[i], SIGKILL);
	while (wait(NULL) > 0)
		;

	printf("ksm-engine-bench: scenario=%s mib=%ld procs=%ld pages=%ld scans=%ld "
	       "pages_scanned=%ld ksmd_cpu_s=%.2f cpu_per_page_us=%.3f measure_s=%.2f "
	       "compares=%ld compares_per_page=%.3f pages_sharing=%ld ideal_sharing=%ld "
	       "converge_s=%.2f converge_sharing=%ld timed_out=%d "
	       "engine_compares_per_page=%.3f unstable_levels_per_walk=%.2f "
	       "stable_levels_per_walk=%.2f stream_ns_per_page=%.1f smart_scan=%d "
	       "pages_skipped=%ld pages_shared=%ld stable_buckets=%ld\n",
	       s, mib, procs, pages, full, scanned, cpu,
	       scanned > 0 ? cpu * 1e6 / scanned : -1.0, now() - tm,
	       cmp0 >= 0 && cmp1 >= 0 ? cmp1 - cmp0 : -1L,
	       cmp0 >= 0 && cmp1 >= 0 && scanned > 0 ? (double)(cmp1 - cmp0) / scanned : -1.0,
	       sharing, ideal, conv_s, conv_sharing, now() - t0 > timeout,
	       per(st0[0], st1[0], scanned0, scanned0 + scanned),
	       per(st0[1], st1[1], st0[2], st1[2]), per(st0[3], st1[3], st0[4], st1[4]),
	       stream_ns, smart, skipped, shared, buckets);
	return now() - t0 > timeout ? 1 : 0;
}
