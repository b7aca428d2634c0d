// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-thp-bench: the runs of make bench-thp. What KSM does to transparent
 * huge pages that hold a few duplicate subpages.
 *
 *   ksm-thp-bench [-k DUPS[,DUPS...]] [-r RUNS] [-m MIB] [-s SCANS] [-t TIMEOUT]
 *                 [-T THRESHOLD] [-P]
 *
 * For each DUPS (default 0,1,8,64,256,512), RUNS times (default 1): a
 * child maps MIB (default 256) of anonymous memory in PMD-sized THPs
 * (MADV_HUGEPAGE), and fills subpage j of every huge page with pattern j
 * when j < DUPS, and with a pattern of its own otherwise: each huge page
 * holds DUPS subpages that are duplicates of the same subpage in every
 * other huge page, the rest unique. It checks that every huge page is a
 * THP (AnonHugePages, /proc/self/smaps_rollup) and marks the memory
 * MADV_MERGEABLE; then KSM (smart_scan=0, pages_to_scan=1000,
 * sleep_millisecs=0) runs SCANS full scans (default 4).
 *
 * -T: thp_split_threshold, where the kernel has it ("n/a" where not).
 * -P: memory pressure: the child's memory is charged to a memory cgroup
 * (ksm-thp-bench, under the cgroup2 mount /sys/fs/cgroup) whose
 * memory.high is set to half of its use before KSM starts.
 *
 * Prints one line per run, "ksm-thp-bench: key=value ...": the huge pages
 * still mapped as THPs (AnonHugePages), the THPs the kernel split
 * meanwhile (thp_split_page in /proc/vmstat), pages_sharing and the memory
 * saved, and ksmd's CPU time per page scanned (pages_scanned counts
 * subpages). Exit status: 0 done, 1 a run timed out, 2 error, 4 no KSM, no
 * THP or no memory cgroup (skip, saying why).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ksm-util.h"

#define HPAGE		(2UL << 20)
#define CGROUP		"/sys/fs/cgroup/ksm-thp-bench"

static char threshold[16] = "n/a";

static void usage(void)
{
	fprintf(stderr, "usage: ksm-thp-bench [-k DUPS[,DUPS...]] [-r RUNS] [-m MIB] [-s SCANS]"
		" [-t TIMEOUT] [-T THRESHOLD] [-P]\n");
	exit(2);
}

/*
 * The memory of one run, in a child: THPS huge pages of DUPS duplicates
 * each, in the memory cgroup with @pressure. Reports on @ready a status
 * byte: 0 ready, 2 error, 4 no THP; then holds the memory until a byte
 * comes on @done.
 */
static void hold(long dups, long thps, int pressure, int ready, int done)
{
	long page_size = sysconf(_SC_PAGESIZE), sub = HPAGE / page_size;
	long len = thps * HPAGE, h, j, thp_kb;
	char pid[32], c = 2;
	char *raw, *p;

	snprintf(pid, sizeof(pid), "%d", getpid());
	if (pressure && write_file(CGROUP "/cgroup.procs", pid))
		goto out;
	raw = mmap(NULL, len + HPAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED) {
		perror("ksm-thp-bench: mmap");
		goto out;
	}
	p = (char *)(((uintptr_t)raw + HPAGE - 1) & ~(HPAGE - 1));
	if (madvise(p, len, MADV_HUGEPAGE)) {
		printf("ksm-thp-bench: no THP (madvise(MADV_HUGEPAGE): %s)\n", strerror(errno));
		c = 4;
		goto out;
	}
	for (h = 0; h < thps; h++)
		for (j = 0; j < sub; j++)
			fill_pattern(p + h * HPAGE + j * page_size, page_size,
				     j < dups ? j : h * sub + j, j < dups ? 1 : 2);
	thp_kb = read_proc_field("/proc/self/smaps_rollup", "AnonHugePages");
	if (thp_kb < thps * (long)(HPAGE >> 10)) {
		printf("ksm-thp-bench: only %ld of %ld huge pages are THPs (AnonHugePages)\n",
		       thp_kb / (long)(HPAGE >> 10), thps);
		c = 4;
		goto out;
	}
	if (madvise(p, len, MADV_MERGEABLE)) {
		perror("ksm-thp-bench: madvise(MADV_MERGEABLE)");
		goto out;
	}
	c = 0;
out:
	fflush(stdout);
	if (write(ready, &c, 1) != 1 || c)
		_exit(c);
	if (read(done, &c, 1) < 0)
		_exit(2);
	/* Freed first: unmerging 254 MiB only to free it could leave no THPs */
	_exit(0);
}

/*
 * One run: 0 done, 1 timed out, 2 error, 4 skip. Only the first run may
 * skip for want of THPs: a later one that finds too few is an error, not
 * a machine without THP.
 */
static int run(long dups, long mib, long scans, long timeout, int first, int pressure)
{
	long page_size = sysconf(_SC_PAGESIZE), thps = mib * (1L << 20) / HPAGE;
	long thp_kb, split0, scans0, scanned, full, use = 0;
	int ready[2], done[2], status;
	char path[64], val[32], c;
	double t0, cpu0, cpu;
	pid_t child;

	if (write_knob("run", "2")) {
		fprintf(stderr, "ksm-thp-bench: cannot unmerge\n");
		return 2;
	}
	if (pipe(ready) || pipe(done)) {
		perror("ksm-thp-bench: pipe");
		return 2;
	}
	fflush(stdout);
	child = fork();
	if (child < 0) {
		perror("ksm-thp-bench: fork");
		return 2;
	}
	if (!child)
		hold(dups, thps, pressure, ready[1], done[0]);
	close(ready[1]);
	close(done[0]);
	if (read(ready[0], &c, 1) != 1)
		c = 2;
	if (c) {
		waitpid(child, &status, 0);
		return c == 4 && !first ? 2 : c;
	}
	if (pressure) {
		use = read_file_long(CGROUP "/memory.current");
		snprintf(val, sizeof(val), "%ld", use / 2);
		if (use <= 0 || write_file(CGROUP "/memory.high", val)) {
			fprintf(stderr, "ksm-thp-bench: cannot set memory.high\n");
			c = 2;
			goto out;
		}
	}

	split0 = read_proc_field("/proc/vmstat", "thp_split_page");
	scans0 = read_knob("full_scans");
	scanned = read_knob("pages_scanned");
	cpu0 = ksmd_cpu();
	t0 = now();
	if (write_knob("run", "1")) {
		fprintf(stderr, "ksm-thp-bench: cannot start KSM\n");
		c = 2;
		goto out;
	}
	do {
		usleep(20000);
		full = read_knob("full_scans") - scans0;
	} while (full < scans && now() - t0 < timeout);
	write_knob("run", "0");
	cpu = ksmd_cpu() - cpu0;
	scanned = read_knob("pages_scanned") - scanned;
	snprintf(path, sizeof(path), "/proc/%d/smaps_rollup", child);
	thp_kb = read_proc_field(path, "AnonHugePages");

	printf("ksm-thp-bench: dups=%ld pressure=%d threshold=%s mib=%ld thps=%ld thps_kept=%ld "
	       "kept_pct=%.1f thp_split=%ld pages_shared=%ld pages_sharing=%ld saved_mib=%.1f "
	       "scans=%ld pages_scanned=%ld ksmd_cpu_s=%.2f cpu_per_page_us=%.3f "
	       "elapsed_s=%.2f cgroup_mib=%ld timed_out=%d\n",
	       dups, pressure, threshold, mib, thps, thp_kb / (long)(HPAGE >> 10),
	       100.0 * thp_kb / (thps * (double)(HPAGE >> 10)),
	       read_proc_field("/proc/vmstat", "thp_split_page") - split0,
	       read_knob("pages_shared"), read_knob("pages_sharing"),
	       read_knob("pages_sharing") * page_size / 1048576.0,
	       full, scanned, cpu, scanned > 0 ? cpu * 1e6 / scanned : -1.0,
	       now() - t0, use >> 20, full < scans);
	c = full < scans;
out:
	fflush(stdout);
	if (write(done[1], &c, 1) != 1 || waitpid(child, &status, 0) != child)
		c = 2;
	close(done[1]);
	close(ready[0]);
	if (pressure)
		write_file(CGROUP "/memory.high", "max");
	write_knob("run", "2");
	return c;
}

/* The memory cgroup of -P: 0, or 4 (skip) without cgroup2's memory controller */
static int make_cgroup(void)
{
	if (write_file("/sys/fs/cgroup/cgroup.subtree_control", "+memory")) {
		printf("ksm-thp-bench: no memory cgroup controller at /sys/fs/cgroup\n");
		return 4;
	}
	if (mkdir(CGROUP, 0755) && errno != EEXIST) {
		printf("ksm-thp-bench: mkdir %s: %s\n", CGROUP, strerror(errno));
		return 4;
	}
	return 0;
}

int main(int argc, char **argv)
{
	long mib = 256, scans = 4, timeout = 1800, runs = 1, sub = HPAGE / sysconf(_SC_PAGESIZE);
	char deflist[] = "0,1,8,64,256,512", *list = deflist, *tok, *save, *end;
	int opt, ret = 0, r, first = 1, pressure = 0;
	long i, dups, t;

	while ((opt = getopt(argc, argv, "k:r:m:s:t:T:P")) != -1) {
		switch (opt) {
		case 'k': list = optarg; break;
		case 'T':
			t = strtol(optarg, &end, 10);
			if (*end || t < 0 || t > sub)
				usage();
			snprintf(threshold, sizeof(threshold), "%ld", t);
			break;
		case 'P': pressure = 1; break;
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
	/* Only a kernel with THP-aware merging has the knob */
	if (access(KSM "thp_split_threshold", F_OK))
		snprintf(threshold, sizeof(threshold), "n/a");
	else if (strcmp(threshold, "n/a") && write_knob("thp_split_threshold", threshold)) {
		fprintf(stderr, "ksm-thp-bench: cannot set thp_split_threshold\n");
		return 2;
	}
	if (pressure && make_cgroup())
		return 4;
	for (tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		dups = strtol(tok, &end, 10);
		if (*end || dups < 0 || dups > sub)
			usage();
		for (i = 0; i < runs; i++) {
			r = run(dups, mib, scans, timeout, first, pressure);
			if (r == 2 || r == 4)
				return r;
			first = 0;
			ret |= r;
		}
	}
	return ret;
}
