// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-demo: a KSM workload with a known amount of duplicate, unique and
 * changing memory, and a report of what KSM made of it.
 *
 * Starts -n worker processes, a VM host's guests in miniature. Each maps -d
 * MiB of "image" pages (page i holds the same bytes in every worker, so
 * (n - 1) * pages could be saved), -z MiB of zero pages, -u MiB of pages of
 * its own and -c MiB of pages it keeps rewriting, and marks it all
 * MADV_MERGEABLE. The parent then samples /sys/kernel/mm/ksm every 250 ms
 * ("ksm-demo-sample: t=... saved_mib=..." lines, for a chart) until
 * pages_sharing has reached -p percent of the ideal, or -t seconds passed,
 * and prints one line of key=value results, prefixed "ksm-demo:", among
 * them ksmd's CPU time per page it scanned (pages_scanned).
 *
 * -A PERCENT and -T SECONDS set the scan-time advisor's advisor_max_cpu and
 * advisor_target_scan_time (with ksm.advisor_mode=scan-time): both kernels
 * then get the same CPU budget, and the result shows how long each takes
 * to save the memory within it.
 *
 * KSM is stopped while the workers fill their memory, and started (run=1)
 * once they all have: the times count from then.
 *
 * -W SCANS instead lets KSM run first for SCANS full scans over the same
 * amount of memory with nothing to merge (each worker's image and zero
 * pages salted with its own id: VMs still booting), so that the scan-time
 * advisor has sized pages_to_scan to its budget. Then the workers load the
 * common image and zero their zero pages (the VMs reach the same state),
 * and the times count from when they begin to.
 * Without it, the advisor would spend the whole first scan at
 * advisor_min_pages_to_scan, whatever its budget.
 *
 * KSM settings come from the ksm.* parameters on the kernel command line.
 * Where the kernel did not take them at boot (a kernel without boot
 * parameter support), they are written to sysfs, so that both kernels run
 * with the same settings; "boot_params=applied|written" tells which.
 *
 * Exit status: 0 when KSM converged, 1 when it did not, 2 on error.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ksm-util.h"

#define MAX_WORKERS 64

static long page_size;

/* Does the knob show val? advisor_mode shows "none [scan-time]". */
static int knob_shows(const char *name, const char *val)
{
	char buf[128], want[600];

	if (read_knob_str(name, buf, sizeof(buf)))
		return 0;
	if (strchr(buf, '[')) {
		snprintf(want, sizeof(want), "[%s]", val);
		return strstr(buf, want) != NULL;
	}
	return strtol(buf, NULL, 10) == strtol(val, NULL, 10) && isdigit((unsigned char)val[0]);
}

/*
 * Apply the ksm.* parameters of /proc/cmdline through sysfs where the
 * kernel did not apply them itself. run goes last. Returns the number of
 * knobs that had to be written.
 */
static int apply_cmdline_knobs(void)
{
	static const char * const order[] = {
		"merge_across_nodes", "max_page_sharing", "use_zero_pages",
		"smart_scan", "advisor_mode", "pages_to_scan",
		"sleep_millisecs", "run",
	};
	char cmdline[4096], *tok, *save;
	char vals[8][64] = { { 0 } };
	unsigned int i;
	int written = 0;
	FILE *f = fopen("/proc/cmdline", "r");

	if (!f || !fgets(cmdline, sizeof(cmdline), f)) {
		if (f)
			fclose(f);
		return 0;
	}
	fclose(f);
	for (tok = strtok_r(cmdline, " \n", &save); tok; tok = strtok_r(NULL, " \n", &save)) {
		if (strncmp(tok, "ksm.", 4))
			continue;
		for (i = 0; i < 8; i++) {
			size_t l = strlen(order[i]);

			if (!strncmp(tok + 4, order[i], l) && tok[4 + l] == '=')
				snprintf(vals[i], sizeof(vals[i]), "%s", tok + 5 + l);
		}
	}
	for (i = 0; i < 8; i++) {
		if (!vals[i][0] || knob_shows(order[i], vals[i]))
			continue;
		if (write_knob(order[i], vals[i]))
			fprintf(stderr, "ksm-demo: cannot set %s=%s\n", order[i], vals[i]);
		written++;
	}
	return written;
}

static void fill_page(char *p, uint64_t seed)
{
	uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
	long i;

	for (i = 0; i < page_size / 8; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		((uint64_t *)p)[i] = x;
	}
}

static char *map_mergeable(size_t len)
{
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED) {
		perror("ksm-demo: mmap");
		exit(2);
	}
	if (madvise(p, len, MADV_MERGEABLE)) {
		perror("ksm-demo: madvise(MADV_MERGEABLE)");
		exit(2);
	}
	return p;
}

/* Pages of each kind per worker, and the -W handshake (shared memory). */
struct demo_pages {
	long dup, zero, uniq, chg;
	int salted;			/* fill the image with the id first */
	volatile int *load;		/* set by the parent: load the image */
	int *loaded;			/* workers that have */
};

static void fill_image(char *d, long dup, uint64_t salt)
{
	long i;

	for (i = 0; i < dup; i++)
		fill_page(d + i * page_size, salt << 32 | i);
}

static void worker(int id, int ready_fd, void *arg)
{
	const struct demo_pages *np = arg;
	long dup = np->dup, uniq = np->uniq, chg = np->chg;
	char *d = map_mergeable(dup * page_size);
	char *z = map_mergeable(np->zero * page_size);
	char *u = map_mergeable(uniq * page_size);
	char *c = map_mergeable(chg * page_size);
	uint64_t gen = 0;
	int salted = np->salted;
	long i;

	fill_image(d, dup, salted ? id + 1 : 0);
	for (i = 0; i < np->zero; i++) {
		if (salted)	/* zeroed when the image loads */
			fill_page(z + i * page_size, (uint64_t)(id + 1) << 56 | i);
		else
			z[i * page_size] = 0;	/* a zero page of its own, written */
	}
	for (i = 0; i < uniq; i++)
		fill_page(u + i * page_size, (uint64_t)(id + 1) << 40 | i);
	if (write(ready_fd, "r", 1) != 1)
		exit(2);
	close(ready_fd);
	/* Rewrite the changing pages until killed: KSM must never merge them. */
	for (;;) {
		if (salted && *np->load) {
			fill_image(d, dup, 0);
			memset(z, 0, np->zero * page_size);
			__atomic_add_fetch(np->loaded, 1, __ATOMIC_SEQ_CST);
			salted = 0;
		}
		for (i = 0; i < chg; i++)
			fill_page(c + i * page_size, (uint64_t)(id + 1) << 48 | gen << 20 | i);
		gen++;
		usleep(20000);
	}
}

static void stop_workers(long n, const pid_t *pids)
{
	long i;

	for (i = 0; i < n; i++)
		kill(pids[i], SIGKILL);
	for (i = 0; i < n; i++)
		waitpid(pids[i], NULL, 0);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ksm-demo [-n workers] [-d image MiB] [-z zero MiB] [-u unique MiB]\n"
		"                [-c changing MiB] [-t timeout s] [-p percent of ideal sharing]\n"
		"                [-A advisor_max_cpu] [-T advisor_target_scan_time]\n"
		"                [-W full scans before the image loads]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	long n = 4, dup_mb = 32, zero_mb = 0, uniq_mb = 8, chg_mb = 2, timeout = 300, pct = 95;
	long dup, zero, uniq, chg, ideal, sharing = 0, shared = 0, scans0, scans;
	long scanned0, scanned, mps, warm = 0, warm_scans = 0;
	double warm_s = 0;
	int *shm;
	const char *max_cpu = NULL, *target = NULL;
	double t0, t_conv = -1, cpu0, cpu, t;
	pid_t pids[MAX_WORKERS];
	struct demo_pages np;
	int written, opt, converged = 0;

	page_size = sysconf(_SC_PAGESIZE);
	while ((opt = getopt(argc, argv, "n:d:z:u:c:t:p:A:T:W:")) != -1) {
		switch (opt) {
		case 'n': n = atol(optarg); break;
		case 'd': dup_mb = atol(optarg); break;
		case 'z': zero_mb = atol(optarg); break;
		case 'A': max_cpu = optarg; break;
		case 'T': target = optarg; break;
		case 'u': uniq_mb = atol(optarg); break;
		case 'c': chg_mb = atol(optarg); break;
		case 't': timeout = atol(optarg); break;
		case 'p': pct = atol(optarg); break;
		case 'W': warm = atol(optarg); break;
		default: usage();
		}
	}
	if (n < 2 || n > MAX_WORKERS || dup_mb < 1 || zero_mb < 0 || uniq_mb < 0 || chg_mb < 0 ||
	    timeout < 1 || pct < 1 || pct > 100 || warm < 0)
		usage();
	if (access(KSM "run", W_OK)) {
		fprintf(stderr, "ksm-demo: no KSM in this kernel\n");
		return 4;
	}
	dup = dup_mb * (1 << 20) / page_size;
	uniq = uniq_mb * (1 << 20) / page_size;
	chg = chg_mb * (1 << 20) / page_size;
	zero = zero_mb * (1 << 20) / page_size;
	written = apply_cmdline_knobs();
	/*
	 * The image: one copy kept; the zero pages: one KSM page for each
	 * max_page_sharing of them.
	 */
	mps = read_knob("max_page_sharing");
	if (mps < 2)
		mps = 256;
	ideal = (n - 1) * dup + n * zero - (n * zero + mps - 1) / mps;
	if ((max_cpu && write_knob("advisor_max_cpu", max_cpu)) ||
	    (target && write_knob("advisor_target_scan_time", target))) {
		fprintf(stderr, "ksm-demo: cannot set the advisor's knobs\n");
		return 2;
	}
	shm = mmap(NULL, page_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (shm == MAP_FAILED) {
		perror("ksm-demo: mmap");
		return 2;
	}
	np = (struct demo_pages){ dup, zero, uniq, chg, warm > 0, &shm[0], &shm[1] };
	/* KSM waits until every worker has its memory: the clock starts then */
	if (write_knob("run", "0")) {
		fprintf(stderr, "ksm-demo: cannot stop KSM\n");
		return 2;
	}
	if (start_workers(n, pids, worker, &np))
		return 2;
	if (write_knob("run", "1")) {
		fprintf(stderr, "ksm-demo: cannot start KSM\n");
		stop_workers(n, pids);
		return 2;
	}
	if (warm) {
		/* Nothing to merge yet: the advisor sizes pages_to_scan. */
		t0 = now();
		scans0 = read_knob("full_scans");
		while (read_knob("full_scans") - scans0 < warm && now() - t0 < timeout)
			usleep(100000);
		warm_scans = read_knob("full_scans") - scans0;
		warm_s = now() - t0;
		printf("ksm-demo: warm_up_scans=%ld warm_up_s=%.2f pages_to_scan=%ld\n",
		       warm_scans, warm_s, read_knob("pages_to_scan"));
		if (warm_scans < warm) {
			fprintf(stderr, "ksm-demo: %ld of %ld warm-up scans in %ld s\n",
				warm_scans, warm, timeout);
			stop_workers(n, pids);
			return 1;
		}
	}

	t0 = now();
	cpu0 = ksmd_cpu();
	scans0 = read_knob("full_scans");
	scanned0 = read_knob("pages_scanned");
	if (warm) {
		shm[0] = 1;	/* load the image: the clock runs */
		while (__atomic_load_n(&shm[1], __ATOMIC_SEQ_CST) < n && now() - t0 < timeout)
			usleep(10000);
		if (__atomic_load_n(&shm[1], __ATOMIC_SEQ_CST) < n) {
			fprintf(stderr, "ksm-demo: %d of %ld workers loaded the image in %ld s\n",
				shm[1], n, timeout);
			stop_workers(n, pids);
			return 1;
		}
	}
	printf("ksm-demo: workers=%ld image_mb=%ld zero_mb=%ld unique_mb=%ld changing_mb=%ld "
	       "ideal_sharing=%ld warm_up_scans=%ld\n", n, dup_mb, zero_mb, uniq_mb, chg_mb, ideal,
	       warm);
	fflush(stdout);
	do {
		usleep(250000);
		t = now() - t0;
		sharing = read_knob("pages_sharing");
		shared = read_knob("pages_shared");
		printf("ksm-demo-sample: t=%.2f saved_mib=%.1f\n", t,
		       sharing * page_size / 1048576.0);
		if (!converged && sharing * 100 >= ideal * pct) {
			converged = 1;
			t_conv = t;
		}
	} while (!converged && t < timeout);
	cpu = ksmd_cpu() - cpu0;
	scans = read_knob("full_scans") - scans0;
	scanned = read_knob("pages_scanned") - scanned0;

	printf("ksm-demo: boot_params=%s pages_to_scan=%ld sleep_millisecs=%ld "
	       "pages_shared=%ld pages_sharing=%ld saved_mib=%.1f general_profit_mib=%.1f "
	       "full_scans=%ld pages_scanned=%ld ksmd_cpu_s=%.2f ksmd_us_per_page=%.3f "
	       "ksmd_cpu_pct=%.1f converged=%s converge_s=%.2f elapsed_s=%.2f\n",
	       written ? "written" : "applied", read_knob("pages_to_scan"),
	       read_knob("sleep_millisecs"), shared, sharing,
	       sharing * page_size / 1048576.0, read_knob("general_profit") / 1048576.0,
	       scans, scanned, cpu, scanned > 0 ? cpu * 1e6 / scanned : -1.0,
	       t > 0 ? cpu * 100 / t : 0.0, converged ? "yes" : "no", t_conv, t);
	stop_workers(n, pids);
	return converged ? 0 : 1;
}
