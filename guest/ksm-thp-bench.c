// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-thp-bench: the runs of make bench-thp. What KSM does to transparent
 * huge pages that hold a few duplicate subpages.
 *
 *   ksm-thp-bench [-k DUPS[,DUPS...]] [-r RUNS] [-m MIB] [-s SCANS] [-t TIMEOUT]
 *
 * For each DUPS (default 0,1,8,64,256,512), RUNS times (default 1): maps
 * MIB (default 256) of anonymous memory in PMD-sized THPs
 * (MADV_HUGEPAGE), and fills subpage j of every huge page with pattern j
 * when j < DUPS, and with a pattern of its own otherwise: each huge page
 * holds DUPS subpages that are duplicates of the same subpage in every
 * other huge page, the rest unique. It checks that every huge page is a
 * THP (AnonHugePages of its own, /proc/self/smaps_rollup) before KSM
 * starts, then marks the memory
 * MADV_MERGEABLE and lets KSM (smart_scan=0, pages_to_scan=1000,
 * sleep_millisecs=0) run SCANS full scans (default 4).
 *
 * Prints one line per run, "ksm-thp-bench: key=value ...": the huge pages still
 * mapped as THPs (AnonHugePages), the THPs the kernel split meanwhile
 * (thp_split_page in /proc/vmstat), pages_sharing and the memory saved,
 * and ksmd's CPU time per page scanned (pages_scanned counts subpages).
 * Exit status: 0 done, 1 a run timed out, 2 error, 4 no KSM or no THP
 * (skip, saying why).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ksm-util.h"

#define HPAGE		(2UL << 20)

static void usage(void)
{
	fprintf(stderr, "usage: ksm-thp-bench [-k DUPS[,DUPS...]] [-r RUNS] [-m MIB] [-s SCANS]"
		" [-t TIMEOUT]\n");
	exit(2);
}

/*
 * One run: 0 done, 1 timed out, 2 error, 4 skip. Only the first run may
 * skip for want of THPs: a later one that finds too few is an error, not
 * a machine without THP.
 */
static int run(long dups, long mib, long scans, long timeout, int first)
{
	long page_size = sysconf(_SC_PAGESIZE), sub = HPAGE / page_size;
	long thps = mib * (1L << 20) / HPAGE, len = thps * HPAGE;
	long h, j, thp_kb, split0, scans0, scanned, full;
	double t0, cpu0, cpu;
	char *raw, *p;

	if (write_knob("run", "2")) {
		fprintf(stderr, "ksm-thp-bench: cannot unmerge\n");
		return 2;
	}
	raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("ksm-thp-bench: mmap");
		return 2;
	}
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(p, len, MADV_HUGEPAGE)) {
		printf("ksm-thp-bench: no THP (madvise(MADV_HUGEPAGE): %s)\n", strerror(errno));
		return 4;
	}
	for (h = 0; h < thps; h++)
		for (j = 0; j < sub; j++)
			fill_pattern(p + h * HPAGE + j * page_size, page_size,
				     j < dups ? j : h * sub + j, j < dups ? 1 : 2);
	thp_kb = read_proc_field("/proc/self/smaps_rollup", "AnonHugePages");
	if (thp_kb < thps * (long)(HPAGE >> 10)) {
		printf("ksm-thp-bench: only %ld of %ld huge pages are THPs (AnonHugePages)\n",
		       thp_kb / (long)(HPAGE >> 10), thps);
		return first ? 4 : 2;
	}
	if (madvise(p, len, MADV_MERGEABLE)) {
		perror("ksm-thp-bench: madvise(MADV_MERGEABLE)");
		return 2;
	}

	split0 = read_proc_field("/proc/vmstat", "thp_split_page");
	scans0 = read_knob("full_scans");
	scanned = read_knob("pages_scanned");
	cpu0 = ksmd_cpu();
	t0 = now();
	if (write_knob("run", "1")) {
		fprintf(stderr, "ksm-thp-bench: cannot start KSM\n");
		return 2;
	}
	do {
		usleep(20000);
		full = read_knob("full_scans") - scans0;
	} while (full < scans && now() - t0 < timeout);
	write_knob("run", "0");
	cpu = ksmd_cpu() - cpu0;
	scanned = read_knob("pages_scanned") - scanned;
	thp_kb = read_proc_field("/proc/self/smaps_rollup", "AnonHugePages");

	printf("ksm-thp-bench: dups=%ld mib=%ld thps=%ld thps_kept=%ld kept_pct=%.1f "
	       "thp_split=%ld pages_shared=%ld pages_sharing=%ld saved_mib=%.1f "
	       "scans=%ld pages_scanned=%ld ksmd_cpu_s=%.2f cpu_per_page_us=%.3f "
	       "elapsed_s=%.2f timed_out=%d\n",
	       dups, mib, thps, thp_kb / (long)(HPAGE >> 10),
	       100.0 * thp_kb / (thps * (double)(HPAGE >> 10)),
	       read_proc_field("/proc/vmstat", "thp_split_page") - split0,
	       read_knob("pages_shared"), read_knob("pages_sharing"),
	       read_knob("pages_sharing") * page_size / 1048576.0,
	       full, scanned, cpu, scanned > 0 ? cpu * 1e6 / scanned : -1.0,
	       now() - t0, full < scans);
	fflush(stdout);
	/* Freed first: unmerging 254 MiB only to free it could leave no THPs */
	munmap(raw, len + HPAGE);
	write_knob("run", "2");
	return full < scans ? 1 : 0;
}

int main(int argc, char **argv)
{
	long mib = 256, scans = 4, timeout = 1800, runs = 1, sub = HPAGE / sysconf(_SC_PAGESIZE);
	char deflist[] = "0,1,8,64,256,512", *list = deflist, *tok, *save, *end;
	int opt, ret = 0, r, first = 1;
	long i, dups;

	while ((opt = getopt(argc, argv, "k:r:m:s:t:")) != -1) {
		switch (opt) {
		case 'k': list = optarg; break;
		case 'r': runs = atol(optarg); break;
		case 'm': mib = atol(optarg); break;
		case 's': scans = atol(optarg); break;
		case 't': timeout = atol(optarg); break;
		default: usage();
		}
	}
	if (mib < 2 || mib % 2 || scans < 1 || timeout < 1 || runs < 1)
		usage();
	if (access(KSM "run", W_OK)) {
		printf("ksm-thp-bench: no KSM in this kernel\n");
		return 4;
	}
	if (write_knob("smart_scan", "0") || write_knob("max_page_sharing", "256") ||
	    write_knob("pages_to_scan", "1000") || write_knob("sleep_millisecs", "0")) {
		fprintf(stderr, "ksm-thp-bench: cannot set the KSM knobs\n");
		return 2;
	}
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		dups = strtol(tok, &end, 10);
		if (*end || dups < 0 || dups > sub)
			usage();
		for (i = 0; i < runs; i++) {
			r = run(dups, mib, scans, timeout, first);
			if (r == 2 || r == 4)
				return r;
			first = 0;
			ret |= r;
		}
	}
	return ret;
}
