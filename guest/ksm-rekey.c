// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-rekey: ksm pages merged before the checksums change must still be
 * found afterwards.
 *
 * The merge engine orders the stable tree by the checksum of each ksm page.
 * Switching the page hash (/sys/kernel/mm/ksm/page_hash) or the number of
 * checksum bits (debugfs ksm/checksum_bits) changes every checksum, and the
 * stable tree must be rekeyed with the new ones. This test:
 *   1. merges NPAGES distinct pages of process A with the same pages of
 *      process B (pages_shared grows by NPAGES);
 *   2. changes every checksum, by each way the kernel offers: the other
 *      usable page hashes in turn, then checksum_bits 4 and back to 32;
 *   3. starts process C with the same pages: C has no duplicates of its
 *      own, so its pages can only merge by finding A's and B's ksm pages
 *      in the stable tree. pages_sharing must grow by NPAGES while
 *      pages_shared stays put; with stale keys, C's pages are not found.
 *   4. every process checks its pages' contents.
 * TAP; exit 0 when all pass, 1 otherwise. Step 3 is skipped, saying so,
 * when nothing can change the checksums here (one page hash, no debugfs).
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include "ksm-util.h"

#define NPAGES	256
#define WAIT_S	120

static long page_size;

/* The number of pages at @p that do not hold their pattern */
static int check(const char *p)
{
	char *want = malloc(page_size);
	long i, bad = 0;

	for (i = 0; i < NPAGES; i++) {
		fill_pattern(want, page_size, i, 0);
		bad += memcmp(want, p + i * page_size, page_size) != 0;
	}
	free(want);
	return bad;
}

/*
 * A process with the NPAGES pages: ready once they are written; on SIGUSR1
 * it checks them and exits 0 if they are intact.
 */
static volatile sig_atomic_t verify;

static void on_usr1(int sig)
{
	(void)sig;
	verify = 1;
}

static pid_t holder(void)
{
	int fd[2];
	pid_t pid;
	char c;

	if (pipe(fd))
		return -1;
	pid = fork();
	if (pid == 0) {
		char *p = mmap(NULL, NPAGES * page_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		long i;

		signal(SIGUSR1, on_usr1);
		if (p == MAP_FAILED || madvise(p, NPAGES * page_size, MADV_NOHUGEPAGE) ||
		    madvise(p, NPAGES * page_size, MADV_MERGEABLE))
			_exit(2);
		for (i = 0; i < NPAGES; i++)
			fill_pattern(p + i * page_size, page_size, i, 0);
		if (write(fd[1], "r", 1) != 1)
			_exit(2);
		while (!verify)
			usleep(10000);
		_exit(check(p) ? 1 : 0);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &c, 1) != 1) {
		close(fd[0]);
		return -1;
	}
	close(fd[0]);
	return pid;
}

/* Wait until pages_shared and pages_sharing reach at least these */
static int wait_merged(long shared, long sharing)
{
	double t0 = now();

	while (now() - t0 < WAIT_S) {
		if (read_knob("pages_shared") >= shared && read_knob("pages_sharing") >= sharing)
			return 0;
		usleep(100000);
	}
	printf("# waited %d s: pages_shared %ld (want %ld), pages_sharing %ld (want %ld)\n",
	       WAIT_S, read_knob("pages_shared"), shared, read_knob("pages_sharing"), sharing);
	return -1;
}

#define BITS "/sys/kernel/debug/ksm/checksum_bits"

int main(void)
{
	char hashes[256], cur[64] = "", *h, *save;
	long shared0, sharing0;
	int changes = 0, status, i, bad;
	pid_t pids[3];

	page_size = sysconf(_SC_PAGESIZE);
	if (read_knob_str("page_hash", hashes, sizeof(hashes))) {
		printf("1..0 # SKIP no page_hash file: the base kernel\n");
		return 4;
	}
	printf("1..3\n# page_hash: %s\n", hashes);
	fflush(stdout);
	h = strchr(hashes, '[');
	if (h)
		sscanf(h + 1, "%63[^]]", cur);

	if (write_knob("run", "2") || write_knob("merge_across_nodes", "1") ||
	    write_knob("use_zero_pages", "0") || write_knob("max_page_sharing", "256") ||
	    write_knob("smart_scan", "0") || write_knob("pages_to_scan", "1000") ||
	    write_knob("sleep_millisecs", "0") || write_knob("run", "1")) {
		printf("Bail out! cannot set the KSM knobs: %s\n", strerror(errno));
		return 1;
	}
	shared0 = read_knob("pages_shared");
	sharing0 = read_knob("pages_sharing");

	pids[0] = holder();
	pids[1] = holder();
	tap(pids[0] > 0 && pids[1] > 0 &&
	    !wait_merged(shared0 + NPAGES, sharing0 + NPAGES),
	    "%s", "A's and B's pages merged");

	/* Every other usable hash, then back; then 4 checksum bits and 32 */
	for (h = strtok_r(hashes, " []", &save); h; h = strtok_r(NULL, " []", &save)) {
		if (!strcmp(h, cur))
			continue;
		if (write_knob("page_hash", h)) {
			printf("# page_hash %s: %s\n", h, strerror(errno));
			continue;
		}
		printf("# page_hash: %s\n", h);
		changes++;
	}
	if (!access(BITS, W_OK)) {
		if (write_file(BITS, "4") || write_file(BITS, "32")) {
			printf("# %s: %s\n", BITS, strerror(errno));
		} else {
			printf("# checksum_bits: 4, then 32\n");
			changes += 2;
		}
	}

	pids[2] = -1;
	if (!changes) {
		printf("ok 2 # SKIP nothing here changes the checksums: one page hash, "
		       "no %s\n", BITS);
		tap_results++;
	} else {
		pids[2] = holder();
		tap(pids[2] > 0 &&
		    !wait_merged(shared0 + NPAGES, sharing0 + 2 * NPAGES) &&
		    read_knob("pages_shared") == shared0 + NPAGES,
		    "%s", "C's pages found A's and B's ksm pages after the checksums changed");
		printf("# pages_shared %ld, pages_sharing %ld\n", read_knob("pages_shared"),
		       read_knob("pages_sharing"));
	}

	bad = 0;
	for (i = 0; i < 3; i++) {
		if (pids[i] <= 0)
			continue;
		kill(pids[i], SIGUSR1);
		if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status)) {
			printf("# process %c: pages changed or lost\n", 'A' + i);
			bad++;
		}
	}
	tap(!bad, "%s", "every process's pages intact");
	if (cur[0])
		write_knob("page_hash", cur);
	write_knob("run", "2");
	return tap_failures ? 1 : 0;
}
