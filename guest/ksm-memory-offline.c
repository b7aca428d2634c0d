// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-memory-offline: memory blocks that hold KSM pages go offline and
 * online again while ksmd merges and the checksums change.
 *
 * Memory offline takes mem_hotplug_lock and cpus_read_lock, migrates every
 * page of the block (KSM pages too) and calls KSM's memory notifier, which
 * takes ksm_thread_mutex. Writes to page_hash and debugfs ksm/checksum_bits
 * take ksm_thread_mutex and rekey the stable tree. One boot that does both,
 * on the lockdep kernel, shows lockdep both lock orders. This test:
 *   1. has a holder process write NPAGES pages of NPATTERNS patterns, and
 *      waits until they are merged;
 *   2. starts a churn process, which keeps rewriting its own pages with the
 *      same patterns (ksmd keeps merging), and a switcher, which writes
 *      every usable page hash in turn, and checksum_bits 4 and 32, until it
 *      is stopped;
 *   3. ROUNDS times: finds the online memory blocks of ZONE_MOVABLE that
 *      hold the holder's KSM pages (/proc/PID/pagemap, /proc/kpageflags),
 *      offlines each and onlines it again as movable;
 *   4. checks that blocks with KSM pages went offline and all came back,
 *      that the checksums changed meanwhile, that the KSM pages of those
 *      blocks moved and stayed KSM pages, and that the holder's pages are
 *      still merged and intact.
 * It needs movable memory: the plan boots with movablecore=, and the test
 * allocates from the node that has it. TAP; exit 0 when all pass, 1
 * otherwise, 4 (skip, saying why) without memory hotplug or ZONE_MOVABLE.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "ksm-util.h"

#define NPAGES		4096	/* 16 MiB */
#define NPATTERNS	64
#define ROUNDS		4
#define WAIT_S		120
#define MEM		"/sys/devices/system/memory/"
#define BITS		"/sys/kernel/debug/ksm/checksum_bits"
#define KPF_KSM		21
#define MAX_BLOCKS	256

static long page_size;

/*
 * The node with the most present pages in ZONE_MOVABLE (/proc/zoneinfo),
 * or -1 if none has any.
 */
static int movable_node(void)
{
	char line[256], zone[32];
	long present, best_pages = 0;
	int nid, cur = -1, movable = 0, best = -1;
	FILE *f = fopen("/proc/zoneinfo", "r");

	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "Node %d, zone %31s", &nid, zone) == 2) {
			cur = nid;
			movable = !strcmp(zone, "Movable");
		} else if (movable && sscanf(line, " present %ld", &present) == 1 &&
			   present > best_pages) {
			best = cur;
			best_pages = present;
		}
	}
	if (f)
		fclose(f);
	return best;
}

/* Allocate from @nid first: user pages go to its ZONE_MOVABLE first */
static void prefer_node(int nid)
{
	unsigned long mask = 1UL << nid;

	/* MPOL_PREFERRED is 1; a syscall, so as not to link libnuma's world */
	if (syscall(SYS_set_mempolicy, 1, &mask, sizeof(mask) * 8))
		printf("# set_mempolicy(MPOL_PREFERRED, node %d): %s\n", nid,
		       strerror(errno));
}

static int movable_nid;

/* Write pattern i % NPATTERNS to each of the @n pages at @p */
static void fill(char *p, long n)
{
	long i;

	for (i = 0; i < n; i++)
		fill_pattern(p + i * page_size, page_size, i % NPATTERNS, 1);
}

/* The number of pages at @p that do not hold their pattern */
static long check(const char *p, long n)
{
	char *want = malloc(page_size);
	long i, bad = 0;

	for (i = 0; i < n; i++) {
		fill_pattern(want, page_size, i % NPATTERNS, 1);
		bad += memcmp(want, p + i * page_size, page_size) != 0;
	}
	free(want);
	return bad;
}

static volatile sig_atomic_t stop, verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static char *map_mergeable(long n)
{
	char *p = mmap(NULL, n * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED || madvise(p, n * page_size, MADV_NOHUGEPAGE) ||
	    madvise(p, n * page_size, MADV_MERGEABLE))
		return NULL;
	return p;
}

/*
 * The holder: its NPAGES pages stay put at @addr; on SIGUSR1 it checks
 * them and exits 0 if they are intact.
 */
static pid_t holder(unsigned long *addr)
{
	int fd[2];
	pid_t pid;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *p = map_mergeable(NPAGES);
		unsigned long a = (unsigned long)p;

		signal(SIGUSR1, on_usr1);
		if (!p)
			_exit(2);
		prefer_node(movable_nid);
		fill(p, NPAGES);
		if (write(fd[1], &a, sizeof(a)) != sizeof(a))
			_exit(2);
		while (!verify)
			usleep(10000);
		_exit(check(p, NPAGES) ? 1 : 0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], addr, sizeof(*addr)) != sizeof(*addr)) {
		close(fd[0]);
		return -1;
	}
	close(fd[0]);
	return pid;
}

/* Churn: rewrite a page of its own every millisecond, until SIGTERM */
static pid_t churn(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		char *p = map_mergeable(NPAGES / 4);
		long i = 0;

		signal(SIGTERM, on_term);
		if (!p)
			_exit(2);
		prefer_node(movable_nid);
		fill(p, NPAGES / 4);
		while (!stop) {
			long k = (i * 97) % (NPAGES / 4);

			fill_pattern(p + k * page_size, page_size, (i++ + k) % NPATTERNS, 1);
			usleep(1000);
		}
		_exit(0);
	}
	return pid;
}

/*
 * Switcher: every 20 ms, the next usable page hash, or checksum_bits 4 or
 * 32; once SIGTERM came, it restores checksum_bits and exits with the
 * number of changes (at most 255).
 */
static pid_t switcher(const char *hashes)
{
	pid_t pid = fork();

	if (pid == 0) {
		char list[256], *names[16], *h, *save;
		int n = 0, changes = 0, i = 0;
		int bits = !access(BITS, W_OK);
		char orig_bits[16] = "32";

		signal(SIGTERM, on_term);
		if (bits && read_file_str(BITS, orig_bits, sizeof(orig_bits)))
			bits = 0;
		snprintf(list, sizeof(list), "%s", hashes);
		for (h = strtok_r(list, " []", &save); h && n < 16;
		     h = strtok_r(NULL, " []", &save))
			names[n++] = h;
		while (!stop) {
			int ok;

			if (bits && i % (n + 2) >= n)
				ok = !write_file(BITS, i % (n + 2) == n ? "4" : "32");
			else
				ok = !write_knob("page_hash", names[i % n]);
			changes += ok;
			i++;
			usleep(20000);
		}
		if (bits)
			write_file(BITS, orig_bits);
		_exit(changes > 255 ? 255 : changes);
	}
	return pid;
}

static long read_long(const char *path, int base)
{
	char buf[64];

	return read_file_str(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, base);
}

/*
 * The memory blocks that hold KSM pages of @pid's NPAGES pages at @addr,
 * sorted and without duplicates, into @blocks; returns how many, and the
 * number of KSM pages in @nksm; -1 on error.
 */
static int ksm_blocks(pid_t pid, unsigned long addr, long block_pages,
		      long *blocks, long *nksm)
{
	char path[64];
	int pm, kf, n = 0, i, j;
	uint64_t ent, flags;
	long k;

	snprintf(path, sizeof(path), "/proc/%d/pagemap", pid);
	pm = open(path, O_RDONLY);
	kf = open("/proc/kpageflags", O_RDONLY);
	*nksm = 0;
	if (pm < 0 || kf < 0)
		goto err;
	for (k = 0; k < NPAGES; k++) {
		uint64_t pfn;
		long b;

		if (pread(pm, &ent, 8, (addr / page_size + k) * 8) != 8)
			goto err;
		if (!(ent >> 63))
			continue;
		pfn = ent & ((1ULL << 55) - 1);
		if (pread(kf, &flags, 8, pfn * 8) != 8)
			goto err;
		if (!(flags >> KPF_KSM & 1))
			continue;
		(*nksm)++;
		b = pfn / block_pages;
		for (i = 0; i < n && blocks[i] < b; i++)
			;
		if (i < n && blocks[i] == b)
			continue;
		if (n == MAX_BLOCKS)
			break;
		for (j = n++; j > i; j--)
			blocks[j] = blocks[j - 1];
		blocks[i] = b;
	}
	close(pm);
	close(kf);
	return n;
err:
	printf("# reading %s or /proc/kpageflags: %s\n", path, strerror(errno));
	if (pm >= 0)
		close(pm);
	if (kf >= 0)
		close(kf);
	return -1;
}

/* Write @state to block @b, with a few tries while it is busy; 0 or an errno */
static int set_state(long b, const char *state)
{
	char path[96];
	int tries, err = 0;

	snprintf(path, sizeof(path), MEM "memory%ld/state", b);
	for (tries = 0; tries < 5; tries++) {
		if (!write_file(path, state))
			return 0;
		err = errno;
		if (err != EBUSY && err != EAGAIN)
			break;
		usleep(100000);
	}
	return err;
}

static int movable_online(long b)
{
	char path[96], buf[128];

	snprintf(path, sizeof(path), MEM "memory%ld/state", b);
	if (read_file_str(path, buf, sizeof(buf)) || strcmp(buf, "online"))
		return 0;
	snprintf(path, sizeof(path), MEM "memory%ld/valid_zones", b);
	return !read_file_str(path, buf, sizeof(buf)) && !strcmp(buf, "Movable");
}

/* Wait until pages_sharing reaches at least @sharing */
static int wait_sharing(long sharing)
{
	double t0 = now();

	while (now() - t0 < WAIT_S) {
		if (read_knob("pages_sharing") >= sharing)
			return 0;
		usleep(100000);
	}
	printf("# waited %d s: pages_sharing %ld, want %ld\n", WAIT_S,
	       read_knob("pages_sharing"), sharing);
	return -1;
}

int main(void)
{
	long block_pages, blocks[MAX_BLOCKS], nksm, offlined = 0, tried = 0;
	long lost = 0, not_back = 0, sharing0;
	char hashes[256], cur[64] = "", *h;
	int round, i, n, status, changes;
	pid_t hold, ch, sw;
	unsigned long addr;
	char *ballast;

	page_size = sysconf(_SC_PAGESIZE);
	block_pages = read_long(MEM "block_size_bytes", 16) / page_size;
	if (block_pages <= 0) {
		printf("1..0 # SKIP no %sblock_size_bytes: no memory hotplug\n", MEM);
		return 4;
	}
	movable_nid = movable_node();
	if (movable_nid < 0) {
		printf("1..0 # SKIP no ZONE_MOVABLE: boot with movablecore=\n");
		return 4;
	}
	if (read_knob_str("page_hash", hashes, sizeof(hashes))) {
		printf("1..0 # SKIP no page_hash file: the base kernel\n");
		return 4;
	}
	h = strchr(hashes, '[');
	if (h)
		sscanf(h + 1, "%63[^]]", cur);
	printf("1..6\n# page_hash: %s; memory blocks of %ld pages; ZONE_MOVABLE on node %d\n",
	       hashes, block_pages, movable_nid);
	fflush(stdout);

	if (write_knob("run", "2") || write_knob("merge_across_nodes", "1") ||
	    write_knob("use_zero_pages", "0") || write_knob("smart_scan", "0") ||
	    write_knob("pages_to_scan", "1000") || write_knob("sleep_millisecs", "0") ||
	    write_knob("run", "1")) {
		printf("Bail out! cannot set the KSM knobs: %s\n", strerror(errno));
		return 1;
	}
	/*
	 * The top block of RAM may have a hole, and offline refuses a block
	 * with holes (EINVAL): fill it first, so that the holder's pages go
	 * below it.
	 */
	ballast = mmap(NULL, block_pages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (ballast != MAP_FAILED) {
		prefer_node(movable_nid);
		memset(ballast, 1, block_pages * page_size);
	}
	sharing0 = read_knob("pages_sharing");
	hold = holder(&addr);
	tap(hold > 0 && !wait_sharing(sharing0 + NPAGES - NPATTERNS),
	    "the holder's %d pages merged into %d", NPAGES, NPATTERNS);

	ch = churn();
	sw = switcher(hashes);
	for (round = 0; round < ROUNDS; round++) {
		long off[MAX_BLOCKS], b2[MAX_BLOCKS], nksm2;
		int noff = 0, n2;

		n = ksm_blocks(hold, addr, block_pages, blocks, &nksm);
		printf("# round %d: %ld KSM pages in %d memory blocks\n", round, nksm, n);
		for (i = 0; i < n; i++) {
			int err;

			if (!movable_online(blocks[i]))
				continue;
			tried++;
			err = set_state(blocks[i], "offline");
			if (err) {
				printf("# memory%ld: offline: %s\n", blocks[i], strerror(err));
				continue;
			}
			off[noff++] = blocks[i];
			err = set_state(blocks[i], "online_movable");
			if (err) {
				printf("# memory%ld: online_movable: %s\n", blocks[i],
				       strerror(err));
				not_back++;
			}
		}
		offlined += noff;
		/* Their KSM pages were migrated, and stayed KSM pages */
		n2 = ksm_blocks(hold, addr, block_pages, b2, &nksm2);
		if (n2 < 0 || nksm2 != nksm) {
			printf("# round %d: %ld KSM pages after offline, %ld before\n",
			       round, nksm2, nksm);
			lost++;
		}
		for (i = 0; i < n2; i++) {
			int j;

			for (j = 0; j < noff; j++)
				if (b2[i] == off[j])
					break;
			if (j < noff) {
				printf("# round %d: memory%ld went offline, still holds KSM pages\n",
				       round, b2[i]);
				lost++;
			}
		}
		fflush(stdout);
	}
	kill(sw, SIGTERM);
	kill(ch, SIGTERM);
	changes = waitpid(sw, &status, 0) == sw && WIFEXITED(status) ?
		  WEXITSTATUS(status) : 0;
	waitpid(ch, NULL, 0);

	tap(offlined > 0, "%ld of %ld offline tries of movable blocks holding "
	    "KSM pages succeeded", offlined, tried);
	tap(!not_back, "every block that went offline came back online (%ld did not)",
	    not_back);
	tap(changes > 0, "the checksums changed %d times meanwhile", changes);
	tap(offlined > 0 && !lost, "%s", "the KSM pages of the blocks that went offline "
	    "moved and stayed KSM pages");

	/* Merged, then intact */
	i = !wait_sharing(sharing0 + NPAGES - NPATTERNS);
	kill(hold, SIGUSR1);
	tap(i && waitpid(hold, &status, 0) == hold && WIFEXITED(status) &&
	    !WEXITSTATUS(status), "%s", "the holder's pages still merged, and intact");
	if (cur[0])
		write_knob("page_hash", cur);
	write_knob("run", "2");
	return tap_failures ? 1 : 0;
}
