// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-swapin-exit: swap a KSM page back in after the process that last
 * faulted it in has exited.
 *
 * Once a KSM page is swapped out, its swap entry is shared by processes
 * with unrelated anon_vmas. The first of them to fault it back in gives the
 * swap-cache folio its own anon_vma; if that process then exits, the folio
 * stays in the swap cache, unmapped, pointing at a freed anon_vma, and the
 * next process to fault it must not read that anon_vma. Linux 7.3.4's
 * ksm_might_need_to_copy() does (anon_vma->root): KASAN reports a
 * slab-use-after-free (5 boots of 5, plan swapin-exit on the unpatched
 * debug kernel), which the lab's console scan turns into a failure.
 *
 * Steps: two child processes, A and B, each map the same NPAGES distinct
 * pages at the same address (MADV_MERGEABLE, each its own mmap, so their
 * anon_vmas are unrelated); wait until KSM merged them; stop ksmd (run=0,
 * the pages stay merged) and write our memory cgroup's memory.reclaim until
 * both have the pages on swap; A reads its pages back (swap-in) and is
 * SIGKILLed; once ksmd has dropped A's rmap_items (two full scans) and RCU
 * grace periods have passed, B reads its pages back. On a KASAN kernel
 * without the fix ("mm/ksm: do not read a freed anon_vma when swapping in")
 * this reports the use-after-free every time; on other kernels it checks
 * that the data survive.
 *
 * TAP results:
 *   1. B's pages were merged with A's (B's /proc/pid/ksm_merging_pages);
 *   2. both processes had the pages swapped out (VmSwap), and the swap
 *      cache let them go (SwapCached below an eighth of them);
 *   3. A read back the right bytes, from swap;
 *   4. after A's exit, B read back the right bytes;
 *   5. B's faults copied the pages A had left in the swap cache
 *      (ksm_swpin_copy in /proc/vmstat grew by at least NPAGES / 2): this
 *      shows the test reached the case it is about.
 *
 * Run it with swap on, inside a memory cgroup (guest/ksm-stress-run.sh -p
 * ksm-swapin-exit). Exit status: 0 when all pass, 1 when one fails, 4 (skip)
 * when there is no KSM, no swap or no memory.reclaim.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/membarrier.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ksm-util.h"

#define NPAGES		256
#define MERGE_WAIT_S	120
#define RECLAIM_TRIES	250
/*
 * A and B map their pages at the same address, so that a folio A faulted
 * in has the index that B's fault expects: only then does the kernel look
 * at the folio's anon_vma.
 */
#define MAP_AT		((void *)0x500000000000UL)

static long page_size;
static long smart_scan = -1;	/* as it was before the test, to restore */

static void skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	exit(4);
}

static int read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

static long read_long(const char *path)
{
	char buf[64];

	return read_file(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ret = 0;

	if (fd < 0)
		return -1;
	if (write(fd, s, strlen(s)) < 0)
		ret = -1;
	close(fd);
	return ret;
}

/* A "key" line of a file such as /proc/vmstat or /proc/pid/status. */
static long field(const char *path, const char *key)
{
	static char buf[1 << 16];
	size_t klen = strlen(key);
	char *p;

	if (read_file(path, buf, sizeof(buf)))
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		if (!strncmp(p, key, klen) && (p[klen] == ' ' || p[klen] == ':'))
			return strtol(p + klen + 1, NULL, 10);
	}
	return -1;
}

static long proc_field(pid_t pid, const char *file, const char *key)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/%s", pid, file);
	return field(path, key);
}

/* KSM's knobs and counters, on one diagnostic line. */
static void print_ksm(const char *when)
{
	static const char * const names[] = {
		"run", "pages_to_scan", "sleep_millisecs", "merge_across_nodes",
		"smart_scan", "max_page_sharing", "full_scans", "pages_shared",
		"pages_sharing", "pages_unshared", "pages_volatile",
		"pages_scanned", "pages_skipped",
	};
	char path[128];
	unsigned int i;

	printf("# ksm %s:", when);
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "/sys/kernel/mm/ksm/%s", names[i]);
		printf(" %s=%ld", names[i], read_long(path));
	}
	printf("\n");
}

/* A file's lines as "# " comments, on one line each. */
static void print_lines(const char *what, const char *path)
{
	static char buf[1 << 12];
	char *line, *save;

	if (read_file(path, buf, sizeof(buf)))
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		printf("# %s: %s\n", what, line);
}

/* Where @pid's pages are: its numa_maps line for MAP_AT. */
static void print_numa_maps(const char *who, pid_t pid)
{
	static char buf[1 << 16];
	char path[64], start[32], *line;

	snprintf(path, sizeof(path), "/proc/%d/numa_maps", pid);
	snprintf(start, sizeof(start), "%lx ", (unsigned long)MAP_AT);
	if (read_file(path, buf, sizeof(buf)))
		return;
	line = strstr(buf, start);
	if (line)
		printf("# %s's pages: %.*s\n", who, (int)strcspn(line, "\n"), line);
}

static void restore_smart_scan(void)
{
	if (smart_scan > 0)
		write_str("/sys/kernel/mm/ksm/smart_scan", "1");
}

static long merging_pages(pid_t pid)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/ksm_merging_pages", pid);
	return read_long(path);
}

/* Page i holds bytes that depend on i only, the same in A and B. */
static void fill(unsigned char *p, int i)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL * (i + 1);
	long j;

	for (j = 0; j < page_size; j += 8) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		memcpy(p + j, &x, 8);
	}
}

/*
 * A child: map and fill the pages, make them mergeable, say so on @up, and
 * on each byte read from @down verify all pages and answer with the number
 * of wrong pages.
 */
static void child(int up, int down)
{
	unsigned char *mem, *want, cmd, bad;
	int i;

	want = malloc(page_size);
	mem = mmap(MAP_AT, NPAGES * page_size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (!want || mem == MAP_FAILED)
		_exit(1);
	madvise(mem, NPAGES * page_size, MADV_NOHUGEPAGE);
	for (i = 0; i < NPAGES; i++)
		fill(mem + i * page_size, i);
	if (madvise(mem, NPAGES * page_size, MADV_MERGEABLE))
		_exit(1);
	cmd = 0;
	if (write(up, &cmd, 1) != 1)
		_exit(1);
	while (read(down, &cmd, 1) == 1) {
		bad = 0;
		for (i = 0; i < NPAGES; i++) {
			fill(want, i);
			if (memcmp(mem + i * page_size, want, page_size)) {
				printf("# MISMATCH pid %d page %d\n", getpid(), i);
				bad++;
			}
		}
		if (write(up, &bad, 1) != 1)
			_exit(1);
	}
	_exit(0);
}

struct proc {
	pid_t pid;
	int up, down;
};

static void start(struct proc *p)
{
	int up[2], down[2];
	unsigned char c;

	if (pipe(up) || pipe(down))
		exit(1);
	fflush(stdout);
	p->pid = fork();
	if (p->pid < 0)
		exit(1);
	if (!p->pid) {
		close(up[0]);
		close(down[1]);
		child(up[1], down[0]);
	}
	close(up[1]);
	close(down[0]);
	p->up = up[0];
	p->down = down[1];
	if (read(p->up, &c, 1) != 1)
		exit(1);
}

/* Have @p verify its pages; the number of wrong pages, or -1. */
static int verify(struct proc *p)
{
	unsigned char c = 1;

	if (write(p->down, &c, 1) != 1 || read(p->up, &c, 1) != 1)
		return -1;
	return c;
}

/* Do @kb kilobytes hold all NPAGES pages? */
static int swapped(long kb)
{
	return kb * 1024 >= NPAGES * page_size;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

int main(void)
{
	char cg[256], reclaim[300];
	long swap_a, swap_b, cached, copies, scans, merged = 0;
	char path[64];
	struct proc a, b;
	int i, bad;

	setvbuf(stdout, NULL, _IOLBF, 0);
	page_size = sysconf(_SC_PAGESIZE);
	if (access("/sys/kernel/mm/ksm/run", F_OK))
		skip_all("no KSM (/sys/kernel/mm/ksm/run)");
	if (field("/proc/meminfo", "SwapTotal") <= 0)
		skip_all("no swap: run it through ksm-stress-run");
	if (read_file("/proc/self/cgroup", cg, sizeof(cg)) ||
	    strncmp(cg, "0::/", 4) || cg[4] == '\n')
		skip_all("not in a cgroup v2 memory cgroup: run it through ksm-stress-run");
	cg[strcspn(cg, "\n")] = '\0';
	snprintf(reclaim, sizeof(reclaim), "/sys/fs/cgroup%s/memory.reclaim", cg + 3);
	if (access(reclaim, W_OK))
		skip_all("no memory.reclaim in our cgroup");
	if (field("/proc/vmstat", "ksm_swpin_copy") < 0)
		skip_all("no ksm_swpin_copy in /proc/vmstat");
	/*
	 * Smart scan off while A and B merge. A's pages, mergeable first,
	 * can reach smart scan's longest skip (processed in one scan of
	 * nine) before B's exist; on kernels that count each page's skips
	 * from the scan that first saw it (the base kernel, and the series
	 * before "mm/ksm: let equal pages share smart scan's skip phase"),
	 * B's pages can settle out of phase with A's, and
	 * then no scan holds both in the unstable tree: they never merge. On
	 * the debug kernel that happened in 3 of about 15 runs. This test is
	 * about swap-in; ksm-smart-scan tests the phases.
	 */
	smart_scan = read_long("/sys/kernel/mm/ksm/smart_scan");
	if (write_str("/sys/kernel/mm/ksm/smart_scan", "0"))
		skip_all("cannot turn smart_scan off");
	atexit(restore_smart_scan);	/* the children _exit() */
	if (write_str("/sys/kernel/mm/ksm/run", "1"))
		skip_all("cannot start ksmd");

	printf("1..5\n");
	print_ksm("before");
	start(&a);
	start(&b);

	for (i = 0; i < MERGE_WAIT_S * 10; i++) {
		merged = merging_pages(b.pid);
		if (merged >= NPAGES)
			break;
		sleep_ms(100);
	}
	tap(merged >= NPAGES, "merged %ld of %d pages in %.1f s",
	       merged, NPAGES, i / 10.0);
	if (merged < NPAGES) {
		print_ksm("after the wait");
		print_numa_maps("A", a.pid);
		print_numa_maps("B", b.pid);
		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", a.pid);
		print_lines("A's ksm_stat", path);
		snprintf(path, sizeof(path), "/proc/%d/ksm_stat", b.pid);
		print_lines("B's ksm_stat", path);
		print_lines("engine_stats", "/sys/kernel/debug/ksm/engine_stats");
		sleep_ms(1000);
		print_ksm("1 s later");
		print_lines("engine_stats", "/sys/kernel/debug/ksm/engine_stats");
	}

	/*
	 * Reclaim until both have the pages on swap and the KSM folios have
	 * left the swap cache too, so that A's faults read new folios, which
	 * take A's anon_vma.
	 */
	write_str("/sys/kernel/mm/ksm/run", "0");	/* ksmd keeps off the pages */
	for (i = 0; i < RECLAIM_TRIES; i++) {
		if (i)
			sleep_ms(20);
		write_str(reclaim, "64M");	/* EAGAIN when short: retry */
		swap_a = proc_field(a.pid, "status", "VmSwap");
		swap_b = proc_field(b.pid, "status", "VmSwap");
		cached = field("/proc/meminfo", "SwapCached");
		if (swapped(swap_a) && swapped(swap_b) && swapped(cached * 8) == 0)
			break;
	}
	tap(swapped(swap_a) && swapped(swap_b) && !swapped(cached * 8),
	       "swapped out: A %ld kB, B %ld kB (want %ld each), SwapCached %ld kB, %d reclaim writes",
	       swap_a, swap_b, NPAGES * page_size / 1024, cached, i + 1);

	bad = verify(&a);
	swap_a = proc_field(a.pid, "status", "VmSwap");
	tap(!bad && swap_a * 1024 < NPAGES * page_size,
	       "A read its pages back from swap: %d wrong, VmSwap now %ld kB", bad, swap_a);

	/*
	 * A's anon_vma can outlive A while KSM's rmap_items of A's pages hold
	 * references to it: let ksmd finish two full scans, so that it drops
	 * A's mm and its rmap_items. Then wait for RCU grace periods: the
	 * anon_vma cache is SLAB_TYPESAFE_BY_RCU, and KASAN (SLUB_RCU_DEBUG)
	 * marks the anon_vma freed only after one. Without the membarrier
	 * calls a 1 s sleep was not enough under QEMU.
	 */
	scans = read_long("/sys/kernel/mm/ksm/full_scans");
	kill(a.pid, SIGKILL);
	waitpid(a.pid, NULL, 0);
	write_str("/sys/kernel/mm/ksm/run", "1");
	for (i = 0; i < MERGE_WAIT_S * 10; i++) {
		if (read_long("/sys/kernel/mm/ksm/full_scans") >= scans + 2)
			break;
		sleep_ms(100);
	}
	printf("# ksmd did %ld full scans in %.1f s after A exited\n",
	       read_long("/sys/kernel/mm/ksm/full_scans") - scans, i / 10.0);
	/* MEMBARRIER_CMD_GLOBAL is synchronize_rcu(). */
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);
	sleep_ms(1000);
	syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0);

	copies = field("/proc/vmstat", "ksm_swpin_copy");
	bad = verify(&b);
	copies = field("/proc/vmstat", "ksm_swpin_copy") - copies;
	tap(!bad, "B read its pages back after A exited: %d wrong", bad);
	tap(copies >= NPAGES / 2,
	       "B's swap-ins copied %ld pages that A left in the swap cache (want >= %d)",
	       copies, NPAGES / 2);

	kill(b.pid, SIGKILL);
	waitpid(b.pid, NULL, 0);
	return tap_failures ? 1 : 0;
}
