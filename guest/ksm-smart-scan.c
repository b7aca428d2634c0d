// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-smart-scan: smart scan skips pages that do not merge, and still
 * merges two pages that become equal after both have aged.
 *
 * Smart scan (/sys/kernel/mm/ksm/smart_scan) visits a page that has not
 * merged less and less often as it ages, at most once in nine full scans.
 * Two equal pages merge only when both are visited in the same full scan,
 * since the unstable tree is emptied after each. In Linux 7.3 each page's
 * visits keep the phase of the scan that first saw it, so two pages first
 * seen a few scans apart and then given the same contents (a guest that
 * reads the file another one read long ago) are never visited together
 * and never merge. The series visits a page in the scans that its
 * checksum picks, which equal pages share.
 *
 * Steps, in one process, with smart scan on and ksmd visiting 100 pages
 * every 20 ms (a full scan of aged pages takes a few ms: full_scans is
 * read often enough to count scans to within a few):
 *   1. region A: NPAGES distinct pages; three full scans later region B:
 *      NPAGES other distinct pages, so that B is first seen 2-4 scans
 *      after A;
 *   2. AGE_SCANS full scans, so that all pages are visited in one scan
 *      of nine;
 *   3. the next SKIP_SCANS scans must skip at least half of the pages
 *      they pass (pages_skipped): result 1;
 *   4. page i of A and page i of B get the same new contents, which no
 *      other page has; within MERGE_SCANS full scans all 2 * NPAGES pages
 *      must be merged (/proc/self/ksm_merging_pages): result 2;
 *      the first argument, if any, replaces MERGE_SCANS;
 *   5. the pages still hold what was written: result 3.
 * The knobs are restored on exit. Exit status 0 when all pass, 1 when one
 * fails, 4 (skip) without KSM or smart_scan.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include "ksm-util.h"

#define NPAGES		128
#define AGE_SCANS	30
#define SKIP_SCANS	18
/* a visit that records the new checksum, then one that merges: 2 * 9 */
#define MERGE_SCANS	40
#define WAIT_S		300

static long page_size;

static const char *const knobs[] = {
	"run", "smart_scan", "pages_to_scan", "sleep_millisecs",
	"use_zero_pages", "merge_across_nodes",
};
#define NKNOBS	(sizeof(knobs) / sizeof(knobs[0]))
static char saved[NKNOBS][32];

static void restore_knobs(void)
{
	unsigned int i;

	/* merge_across_nodes can change only while nothing is merged */
	write_knob("run", "2");
	for (i = 1; i < NKNOBS; i++)
		if (saved[i][0])
			write_knob(knobs[i], saved[i]);
	if (saved[0][0])
		write_knob("run", saved[0]);
}

static char *region(uint64_t seed)
{
	size_t len = NPAGES * page_size;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long i;

	if (p == MAP_FAILED || madvise(p, len, MADV_NOHUGEPAGE) ||
	    madvise(p, len, MADV_MERGEABLE))
		return NULL;
	for (i = 0; i < NPAGES; i++)
		fill_pattern(p + i * page_size, page_size, i, seed);
	return p;
}

static long merging_pages(void)
{
	FILE *f = fopen("/proc/self/ksm_merging_pages", "r");
	long n = -1;

	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

/*
 * Wait until full_scans reaches @scans, or until @done() is true when it is
 * given. Returns full_scans then, or -1 after WAIT_S seconds.
 */
static long wait_scans(long scans, int (*done)(void))
{
	double t0 = now();
	long n;

	while (now() - t0 < WAIT_S) {
		n = read_knob("full_scans");
		if (n >= scans || (done && done()))
			return n;
		usleep(5000);
	}
	printf("# waited %d s for full scan %ld: at %ld\n", WAIT_S, scans,
	       read_knob("full_scans"));
	return -1;
}

static int all_merged(void)
{
	return merging_pages() >= 2 * NPAGES;
}

int main(int argc, char **argv)
{
	long merge_scans = argc > 1 ? atol(argv[1]) : MERGE_SCANS;
	long scans, skipped = 0, i = -1, bad = 0;
	char *a, *b, *want;
	unsigned int k;

	page_size = sysconf(_SC_PAGESIZE);
	if (read_knob("smart_scan") < 0 || access("/proc/self/ksm_merging_pages", R_OK)) {
		printf("1..0 # SKIP no KSM smart_scan or ksm_merging_pages here\n");
		return 4;
	}
	printf("1..3\n");
	for (k = 0; k < NKNOBS; k++)
		read_knob_str(knobs[k], saved[k], sizeof(saved[k]));
	atexit(restore_knobs);
	if (write_knob("run", "2") || write_knob("merge_across_nodes", "1") ||
	    write_knob("use_zero_pages", "0") || write_knob("smart_scan", "1") ||
	    write_knob("pages_to_scan", "100") ||
	    write_knob("sleep_millisecs", "20") || write_knob("run", "1")) {
		printf("Bail out! cannot set the KSM knobs: %s\n", strerror(errno));
		return 1;
	}

	a = region(1);
	scans = wait_scans(read_knob("full_scans") + 3, NULL);
	b = region(2);
	want = malloc(page_size);
	if (!a || !b || !want || scans < 0) {
		printf("Bail out! cannot map the regions: %s\n", strerror(errno));
		return 1;
	}
	printf("# region B made at full scan %ld, 3 after A\n", scans);

	scans = wait_scans(scans + AGE_SCANS, NULL);
	if (scans >= 0) {
		scans = read_knob("full_scans");
		skipped = read_knob("pages_skipped");
		i = wait_scans(scans + SKIP_SCANS, NULL);
		skipped = read_knob("pages_skipped") - skipped;
		scans = read_knob("full_scans") - scans;
		printf("# %ld full scans skipped %ld of the %ld pages they passed\n",
		       scans, skipped, scans * 2 * NPAGES);
	}
	tap(scans >= 0 && i >= 0 && skipped >= scans * NPAGES,
	    "smart scan skips at least half of the aged pages");

	for (i = 0; i < NPAGES; i++) {
		fill_pattern(a + i * page_size, page_size, i, 3);
		fill_pattern(b + i * page_size, page_size, i, 3);
	}
	scans = read_knob("full_scans");
	i = wait_scans(scans + merge_scans, all_merged);
	printf("# %ld of %d pages merged, %ld full scans after the writes\n",
	       merging_pages(), 2 * NPAGES, i - scans);
	tap(i >= 0 && all_merged(),
	    "pages made equal after they aged merge within %ld full scans", merge_scans);

	for (i = 0; i < NPAGES; i++) {
		fill_pattern(want, page_size, i, 3);
		bad += memcmp(want, a + i * page_size, page_size) != 0;
		bad += memcmp(want, b + i * page_size, page_size) != 0;
	}
	if (bad)
		printf("# %ld pages hold wrong bytes\n", bad);
	tap(!bad, "the merged pages hold what was written");
	return tap_failures ? 1 : 0;
}
