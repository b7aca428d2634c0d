// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-mutex-hold: how long a KSM knob waits for ksm_thread_mutex while
 * ksmd works on many KSM pages (lab benchmark, not a test).
 *
 * ksmd holds ksm_thread_mutex for each of its turns, and every KSM sysfs
 * store and the memory-offline notifier wait for it. This program:
 *   1. maps MIB MiB of pages in equal pairs (MIB/8 KSM pages), and waits
 *      until they are merged, with pages_to_scan 1000 and no sleep; then
 *      ksmd sleeps SLEEP ms (-z, default 20) between its turns;
 *   2. for SECONDS, writes "1" to run (a store that takes the mutex and
 *      changes nothing) every 200 us, and records how long each write took:
 *      the full scans in that time each start with whatever the engine does
 *      then (stable tree prune, unstable table);
 *   3. switches page_hash to another hash, timing the write, and probes as
 *      in 2 for SECONDS more while ksmd files the KSM pages under the new
 *      checksums; then switches back.
 * Prints one line, "ksm-mutex-hold: key=value ...", with the longest and
 * the 99.9th percentile write in each phase, in ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include "ksm-util.h"

#define MAX_PROBES	200000

static long page_size;
static double lat[MAX_PROBES];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Probe for @secs: the longest write of "1" to run, and the 99.9th percentile, in ms */
static void probe(int fd, double secs, double *max, double *p999, long *n)
{
	double t0 = now(), t;
	long i = 0;

	while ((t = now()) - t0 < secs && i < MAX_PROBES) {
		if (pwrite(fd, "1", 1, 0) != 1) {
			printf("# write run: %s\n", strerror(errno));
			break;
		}
		lat[i++] = (now() - t) * 1e3;
		usleep(200);
	}
	*n = i;
	if (!i) {
		*max = *p999 = -1;
		return;
	}
	qsort(lat, i, sizeof(lat[0]), cmp_double);
	*max = lat[i - 1];
	*p999 = lat[(long)(i * 0.999) < i ? (long)(i * 0.999) : i - 1];
}

int main(int argc, char **argv)
{
	long mib = 2048, secs = 10, npages, k, pairs, n1, n2;
	const char *sleep_ms = "20";
	double max1, p1, max2, p2, t, write_ms, back_ms, t0;
	char hashes[256], cur[64] = "", other[64] = "", *h, *save;
	long scans0, scans1, scans2;
	int opt, fd;
	char *p;

	while ((opt = getopt(argc, argv, "m:s:z:")) != -1) {
		if (opt == 'm')
			mib = atol(optarg);
		else if (opt == 's')
			secs = atol(optarg);
		else if (opt == 'z')
			sleep_ms = optarg;
		else
			return 2;
	}
	page_size = sysconf(_SC_PAGESIZE);
	npages = mib * 1048576 / page_size;
	pairs = npages / 2;
	if (read_knob_str("page_hash", hashes, sizeof(hashes)))
		hashes[0] = 0;
	h = strchr(hashes, '[');
	if (h)
		sscanf(h + 1, "%63[^]]", cur);
	for (h = strtok_r(hashes, " []", &save); h; h = strtok_r(NULL, " []", &save))
		if (strcmp(h, cur)) {
			snprintf(other, sizeof(other), "%s", h);
			break;
		}

	if (write_knob("run", "2") || write_knob("smart_scan", "0") ||
	    write_knob("pages_to_scan", "1000") || write_knob("sleep_millisecs", "0")) {
		printf("# cannot set the KSM knobs: %s\n", strerror(errno));
		return 1;
	}
	p = mmap(NULL, npages * page_size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		printf("# mmap %ld MiB: %s\n", mib, strerror(errno));
		return 1;
	}
	madvise(p, npages * page_size, MADV_NOHUGEPAGE);
	for (k = 0; k < npages; k++) {
		long *w = (long *)(p + k * page_size);

		w[0] = k / 2 + 1;
		w[1] = 0x6b736d;
	}
	if (madvise(p, npages * page_size, MADV_MERGEABLE) || write_knob("run", "1")) {
		printf("# MADV_MERGEABLE or run=1: %s\n", strerror(errno));
		return 1;
	}
	t0 = now();
	while (read_knob("pages_sharing") < pairs * 99 / 100 && now() - t0 < 1800)
		sleep(1);
	printf("# merged in %.1f s: pages_shared %ld pages_sharing %ld\n", now() - t0,
	       read_knob("pages_shared"), read_knob("pages_sharing"));
	fflush(stdout);

	/*
	 * ksmd sleeps between its turns while probed: a write that finds the
	 * mutex held waits for the rest of that turn, not for the scheduler
	 * to pick it over a ksmd that never sleeps (UML has one CPU).
	 */
	write_knob("sleep_millisecs", sleep_ms);
	fd = open(KSM "run", O_WRONLY);
	if (fd < 0)
		return 1;
	scans0 = read_knob("full_scans");
	probe(fd, secs, &max1, &p1, &n1);
	scans1 = read_knob("full_scans");

	write_ms = back_ms = -1;
	max2 = p2 = -1;
	n2 = 0;
	if (other[0]) {
		t = now();
		if (!write_knob("page_hash", other))
			write_ms = (now() - t) * 1e3;
		probe(fd, secs, &max2, &p2, &n2);
		t = now();
		if (!write_knob("page_hash", cur))
			back_ms = (now() - t) * 1e3;
	}
	scans2 = read_knob("full_scans");
	printf("ksm-mutex-hold: mib=%ld sleep_ms=%s ksm_pages=%ld pages_sharing=%ld steady_full_scans=%ld steady_probes=%ld steady_max_ms=%.3f steady_p999_ms=%.3f page_hash=%s page_hash_write_ms=%.3f page_hash_back_ms=%.3f switch_full_scans=%ld switch_probes=%ld switch_max_ms=%.3f switch_p999_ms=%.3f\n",
	       mib, sleep_ms, read_knob("pages_shared"), read_knob("pages_sharing"), scans1 - scans0, n1,
	       max1, p1, other[0] ? other : "-", write_ms, back_ms, scans2 - scans1, n2, max2,
	       p2);
	write_knob("run", "2");
	return 0;
}
