// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-hugetlb: hugetlbfs memory stays out of KSM while KSM merges the THPs
 * of another process, with libhugetlbfs as the real client.
 *
 *   hugectl --force-preload ksm-hugetlb [-m MIB] [-s SCANS]
 *
 * Run with libhugetlbfs preloaded (hugectl), whose get_huge_pages() it
 * calls: built dynamically, unlike the other guest programs. It:
 *  - forks a child that maps 16 THPs with the same contents each, every
 *    subpage unique within a THP, marked MADV_MERGEABLE;
 *  - marks itself with PR_SET_MEMORY_MERGE;
 *  - takes MIB (default 16) from libhugetlbfs's get_huge_pages(), which
 *    maps a file of its hugetlbfs mount, and checks that it is in huge
 *    pages (the vma's KernelPageSize in /proc/self/smaps);
 *  - maps MIB more with MAP_HUGETLB, and madvise(MADV_MERGEABLE)s it,
 *    which KSM ignores for hugetlb vmas: it must return 0;
 *  - fills both with identical 4 KiB pages: merged, they would all be one;
 *  - lets KSM run SCANS full scans (default 6) with pages_to_scan 4096,
 *    sleep_millisecs 0 and the kernel's thp_split_threshold.
 * Results (TAP): the calls succeed; both regions read back what was
 * written and are still in huge pages (KernelPageSize, and HugePages_Free
 * as before KSM ran); KSM kept no rmap_item for them (ksm_rmap_items of
 * this process, /proc/self/ksm_stat, stays below a tenth of their 4 KiB
 * pages); the child's THPs were all merged. Exit status: 0 all passed, 1
 * a result failed, 2 error, 4 skip (no KSM, not run under libhugetlbfs),
 * saying why.
 *
 * libhugetlbfs's other way, HUGETLB_MORECORE (hugectl --heap), backs the
 * malloc heap through glibc's __morecore hook, which glibc 2.34 removed:
 * with Debian 12's glibc the heap stays in small pages.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm-util.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif

#define THP_SIZE	(2UL << 20)
#define NR_THPS		16

static long page_size;

static void usage(void)
{
	fprintf(stderr, "usage: hugectl --force-preload ksm-hugetlb [-m MIB] [-s SCANS]\n");
	exit(2);
}

/* The KernelPageSize in KiB of the vma that holds @addr, or -1 */
static long vma_page_kb(const void *addr)
{
	unsigned long start, end, a = (unsigned long)addr;
	char line[256];
	long kb = -1;
	int in = 0;
	FILE *f = fopen("/proc/self/smaps", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx ", &start, &end) == 2) {
			in = a >= start && a < end;
			continue;
		}
		if (in && sscanf(line, "KernelPageSize: %ld kB", &kb) == 1)
			break;
	}
	fclose(f);
	return in ? kb : -1;
}

/* Fill @len at @p with the same 4 KiB page: every page a duplicate */
static void fill_same(char *p, size_t len)
{
	size_t off;

	for (off = 0; off < len; off += page_size)
		fill_pattern(p + off, page_size, 7, 11);
}

static long count_differ(const char *p, size_t len)
{
	char *want = malloc(page_size);
	size_t off;
	long bad = 0;

	if (!want)
		return -1;
	fill_pattern(want, page_size, 7, 11);
	for (off = 0; off < len; off += page_size)
		bad += !!memcmp(want, p + off, page_size);
	free(want);
	return bad;
}

/*
 * The child: NR_THPS THPs, all with the same contents, each subpage
 * unique within its THP. Reports on @ready ('y', or 'n' when the THPs did
 * not form), then holds them until @done closes.
 */
static void thp_child(int ready, int done)
{
	size_t len = NR_THPS * THP_SIZE, off;
	char *raw, *p, c = 'n';
	long kb;

	raw = mmap(NULL, len + THP_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	if (raw == MAP_FAILED)
		_exit(2);
	p = (char *)(((uintptr_t)raw + THP_SIZE - 1) & ~(THP_SIZE - 1));
	if (!madvise(p, len, MADV_HUGEPAGE)) {
		for (off = 0; off < len; off += page_size)
			fill_pattern(p + off, page_size, off % THP_SIZE / page_size, 3);
		kb = read_proc_field("/proc/self/smaps_rollup", "AnonHugePages");
		if (kb >= (long)(len >> 10) && !madvise(p, len, MADV_MERGEABLE))
			c = 'y';
	}
	if (write(ready, &c, 1) != 1)
		_exit(2);
	while (read(done, &c, 1) > 0)
		;
	_exit(0);
}

int main(int argc, char **argv)
{
	long mib = 16, scans = 6, free0, free1, items, kb_ghp, kb_map, thp_merged = -1;
	long start, split0, bad;
	void *(*get_huge_pages)(size_t len, unsigned long flags);
	int opt, ready[2], done[2], st;
	char path[64], c;
	char *ghp, *map;
	size_t len;
	pid_t child;

	while ((opt = getopt(argc, argv, "m:s:")) != -1) {
		switch (opt) {
		case 'm': mib = atol(optarg); break;
		case 's': scans = atol(optarg); break;
		default: usage();
		}
	}
	if (mib < 2 || mib % 2 || scans < 2)
		usage();
	page_size = sysconf(_SC_PAGESIZE);
	len = mib << 20;
	printf("TAP version 13\n");
	fflush(stdout);
	if (access(KSM "run", W_OK)) {
		printf("1..0 # SKIP no KSM in this kernel\n");
		return 4;
	}
	get_huge_pages = dlsym(RTLD_DEFAULT, "get_huge_pages");
	if (!get_huge_pages) {
		printf("1..0 # SKIP libhugetlbfs is not preloaded (hugectl --force-preload)\n");
		return 4;
	}
	printf("1..7\n");
	fflush(stdout);

	/* The child first: it must not inherit PR_SET_MEMORY_MERGE */
	if (pipe(ready) || pipe(done))
		return 2;
	child = fork();
	if (child < 0)
		return 2;
	if (!child) {
		close(ready[0]);
		close(done[1]);
		thp_child(ready[1], done[0]);
	}
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1)
		c = 'n';

	tap(!prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0), "prctl(PR_SET_MEMORY_MERGE): %s",
	    strerror(errno));
	/* GHP_DEFAULT: 0 */
	ghp = get_huge_pages(len, 0);
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB,
		   -1, 0);
	if (!ghp || map == MAP_FAILED) {
		printf("# get_huge_pages() %s, mmap(MAP_HUGETLB) %s: the pool (HugePages_Free %ld) is too small\n",
		       ghp ? "ok" : "failed", map == MAP_FAILED ? strerror(errno) : "ok",
		       read_proc_field("/proc/meminfo", "HugePages_Free"));
		return 2;
	}
	kb_ghp = vma_page_kb(ghp);
	tap(kb_ghp > page_size / 1024, "libhugetlbfs's get_huge_pages() gave huge pages: %ld KiB",
	    kb_ghp);
	errno = 0;
	tap(!madvise(map, len, MADV_MERGEABLE), "madvise(MAP_HUGETLB region, MADV_MERGEABLE) "
	    "returns 0, as KSM ignores hugetlb vmas: %s", strerror(errno));
	fill_same(ghp, len);
	fill_same(map, len);
	free0 = read_proc_field("/proc/meminfo", "HugePages_Free");

	split0 = read_knob("thp_split");
	if (write_knob("pages_to_scan", "4096") || write_knob("sleep_millisecs", "0") ||
	    write_knob("run", "1")) {
		printf("# cannot start KSM\n");
		return 2;
	}
	start = read_knob("full_scans");
	while (read_knob("full_scans") < start + scans)
		usleep(20000);
	write_knob("run", "0");
	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", child);
	thp_merged = read_file_long(path);
	close(done[1]);
	waitpid(child, &st, 0);

	bad = count_differ(ghp, len) + count_differ(map, len);
	kb_ghp = vma_page_kb(ghp);
	kb_map = vma_page_kb(map);
	free1 = read_proc_field("/proc/meminfo", "HugePages_Free");
	tap(!bad && kb_ghp == kb_map && kb_map > page_size / 1024 && free1 == free0,
	    "hugetlb memory intact after %ld full scans: %ld pages differ, %ld and %ld KiB pages, "
	    "HugePages_Free %ld -> %ld", scans, bad, kb_ghp, kb_map, free0, free1);
	items = read_proc_field("/proc/self/ksm_stat", "ksm_rmap_items");
	tap(items >= 0 && items < (long)(2 * len / page_size / 10),
	    "KSM kept %ld rmap_items for this process, fewer than a tenth of the %ld 4 KiB pages of "
	    "its hugetlb memory", items, (long)(2 * len / page_size));
	if (c != 'y')
		printf("ok %d # SKIP the child's THPs did not form\n", ++tap_results);
	else
		tap(thp_merged == (long)(NR_THPS * THP_SIZE / page_size),
		    "beside it, another process's %d identical THPs merged: %ld of %ld pages, "
		    "thp_split +%ld", NR_THPS, thp_merged, (long)(NR_THPS * THP_SIZE / page_size),
		    read_knob("thp_split") - split0);
	tap(!tap_failures, "ksm-hugetlb: no failure");
	write_knob("run", "2");
	return tap_failures ? 1 : 0;
}
