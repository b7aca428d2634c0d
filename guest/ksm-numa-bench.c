// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-numa-bench: where KSM places merged pages on a NUMA machine, what it
 * saves, and what a change of policy costs (make bench-numa).
 *
 *   ksm-numa-bench [-p PROCS] [-m MIB] [-H PCT] [-d DIST] PHASE...
 *
 * Starts PROCS processes (default 2) on every node with memory, each with
 * MIB MiB (default 16) of its node's memory, bound there with mbind(), all
 * holding the same bytes: page i is equal in every process.  PCT percent
 * of each process's pages (default 0) are hot: the process reads them again
 * and again; the others are cold, untouched after they are written.  Each
 * PHASE then sets the KSM policy and lets ksmd merge until pages_sharing
 * stays put for two full scans:
 *
 *   KNOB=VALUE            write the knob (merge_across_nodes,
 *                         merge_nodes_distance or cold_scans) and run ksmd
 *   unmerged:KNOB=VALUE   switch as the base kernel must: run=2 to unmerge
 *                         everything, write the knob, run=1
 *   live:KNOB=VALUE       write the knob while pages stay merged
 *
 * After each phase it prints one line, "ksm-numa-bench: phase=... key=value
 * ...", with the memory saved (pages_sharing), the share of all mappings
 * and of the hot ones whose page sits on a node more than DIST (default 12,
 * the lab's distance within a group) away from the process's node, the
 * largest share of those remote mappings any one process holds, the same
 * two for pages on any other node than the process's (off_node), and for a
 * switch, its time and its peak extra memory: the largest drop of
 * pages_sharing below its value before the switch, sampled every 20 ms
 * (every page stays mapped, so a page less shared is a page more in use;
 * nothing else in the guest merges).  MemFree would not do: pages freed
 * to and taken from the per-CPU lists leave it as it is.
 */
#define _GNU_SOURCE
#include <limits.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <linux/mempolicy.h>

#include "ksm-util.h"

#define MAX_NODES	8
#define MAX_PROCS	64
#define SETTLE_TIMEOUT_S	900

static int nodes[MAX_NODES], nr_nodes;
static int dist[MAX_NODES][MAX_NODES];
static int procs_per_node = 2, hot_pct, far = 12;
static long npages;
static size_t page_size;
static char *regions;		/* one region of npages for each process */
static pid_t pids[MAX_PROCS];
static int proc_node[MAX_PROCS], nr_procs;

static int read_list(const char *path, int *list, int max)
{
	char buf[256], *p = buf;
	int n = 0, a, b;

	if (read_file_str(path, buf, sizeof(buf)))
		return -1;
	while (*p) {
		a = strtol(p, &p, 10);
		b = *p == '-' ? strtol(p + 1, &p, 10) : a;
		for (; a <= b && n < max; a++)
			list[n++] = a;
		if (*p == ',')
			p++;
		else
			break;
	}
	return n;
}

static int read_distances(void)
{
	char path[96];
	int i, j;

	nr_nodes = read_list("/sys/devices/system/node/has_memory", nodes, MAX_NODES);
	if (nr_nodes < 2)
		return -1;
	for (i = 0; i < nr_nodes; i++) {
		int row[64], k = 0, online[64], nr_online;
		FILE *f;

		nr_online = read_list("/sys/devices/system/node/online", online, 64);
		snprintf(path, sizeof(path), "/sys/devices/system/node/node%d/distance", nodes[i]);
		f = fopen(path, "r");
		if (!f)
			return -1;
		while (k < nr_online && fscanf(f, "%d", &row[k]) == 1)
			k++;
		fclose(f);
		for (j = 0; j < nr_nodes; j++)
			for (k = 0; k < nr_online; k++)
				if (online[k] == nodes[j])
					dist[i][j] = row[k];
	}
	return 0;
}

static int node_index(int node)
{
	int i;

	for (i = 0; i < nr_nodes; i++)
		if (nodes[i] == node)
			return i;
	return -1;
}

static char *region(int proc)
{
	return regions + (size_t)proc * npages * page_size;
}

static void worker(int proc)
{
	unsigned long mask[MAX_NODES / (8 * sizeof(long)) + 1] = { 0 };
	long hot = npages * hot_pct / 100, i;
	char *r = region(proc);
	volatile char sink;

	mask[0] = 1UL << proc_node[proc];
	if (syscall(__NR_mbind, r, npages * page_size, MPOL_BIND, mask, MAX_NODES + 1, 0))
		_exit(3);
	for (i = 0; i < npages; i++)
		fill_pattern(r + i * page_size, page_size, i, 1);
	if (madvise(r, npages * page_size, MADV_MERGEABLE))
		_exit(4);
	if (write(3, "r", 1) != 1)
		_exit(5);
	for (;;) {
		for (i = 0; i < hot; i++)
			sink = r[i * page_size + (i % 64) * 8];
		(void)sink;
		usleep(hot ? 20000 : 1000000);
	}
}

static void start(void)
{
	int pfd[2], p, n;
	char c;

	regions = mmap(NULL, (size_t)MAX_PROCS * npages * page_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (regions == MAP_FAILED || pipe(pfd)) {
		perror("ksm-numa-bench: setup");
		exit(1);
	}
	for (n = 0; n < nr_nodes; n++)
		for (p = 0; p < procs_per_node; p++)
			proc_node[nr_procs++] = nodes[n];
	for (p = 0; p < nr_procs; p++) {
		pids[p] = fork();
		if (!pids[p]) {
			close(pfd[0]);
			dup2(pfd[1], 3);
			worker(p);
		}
	}
	close(pfd[1]);
	for (p = 0; p < nr_procs; p++)
		if (read(pfd[0], &c, 1) != 1) {
			fprintf(stderr, "ksm-numa-bench: a worker failed\n");
			exit(1);
		}
	close(pfd[0]);
}

static void stop(void)
{
	int p;

	for (p = 0; p < nr_procs; p++)
		kill(pids[p], SIGKILL);
	while (wait(NULL) > 0)
		;
}

/*
 * Let ksmd run until pages_sharing is the same at the ends of two full
 * scans in a row, and of cold_scans more, the scans after which pages can
 * turn cold; meanwhile track the lowest pages_sharing.  Returns the
 * seconds it took, or -1 on a timeout.
 */
static double settle(long *min_sharing)
{
	double t0 = now();
	long scans = read_knob("full_scans"), last = -1, sharing;
	long cold = read_knob("cold_scans");
	int same = 0;

	while (now() - t0 < SETTLE_TIMEOUT_S) {
		sharing = read_knob("pages_sharing");
		if (sharing >= 0 && sharing < *min_sharing)
			*min_sharing = sharing;
		usleep(20000);
		if (read_knob("full_scans") == scans)
			continue;
		scans = read_knob("full_scans");
		sharing = read_knob("pages_sharing");
		same = sharing == last ? same + 1 : 0;
		last = sharing;
		if (same >= 2 + (cold > 0 ? cold : 0))
			return now() - t0;
	}
	return -1;
}

/* Where each process's pages sit, and the line for the phase */
static void report(const char *phase, double switch_s, long peak_kib)
{
	long hot = npages * hot_pct / 100, remote = 0, remote_hot = 0, most = 0;
	long off_node = 0, most_off_node = 0;
	long total = (long)nr_procs * npages;
	int *status = malloc(npages * sizeof(int));
	void **addrs = malloc(npages * sizeof(void *));
	int p, a, b;
	long i;

	for (p = 0; p < nr_procs; p++) {
		long mine = 0, mine_off_node = 0;

		for (i = 0; i < npages; i++)
			addrs[i] = region(p) + i * page_size;
		if (syscall(__NR_move_pages, pids[p], npages, addrs, NULL, status, 0)) {
			perror("ksm-numa-bench: move_pages");
			exit(1);
		}
		a = node_index(proc_node[p]);
		for (i = 0; i < npages; i++) {
			b = node_index(status[i]);
			mine_off_node += b >= 0 && b != a;
			if (b < 0 || dist[a][b] <= far)
				continue;
			mine++;
			remote_hot += i < hot;
		}
		remote += mine;
		if (mine > most)
			most = mine;
		off_node += mine_off_node;
		if (mine_off_node > most_off_node)
			most_off_node = mine_off_node;
	}
	printf("# ksm-numa-bench: phase=%s procs=%d mib=%ld hot_pct=%d saved_mib=%.1f "
	       "remote_pct=%.1f remote_hot_pct=%.1f max_proc_share_pct=%.1f fair_share_pct=%.1f "
	       "off_node_pct=%.1f max_proc_off_node_pct=%.1f "
	       "switch_s=%.1f peak_extra_mib=%.1f pages_shared=%ld pages_sharing=%ld\n",
	       phase, nr_procs, npages * (long)page_size >> 20, hot_pct,
	       read_knob("pages_sharing") * (double)page_size / (1 << 20),
	       100.0 * remote / total,
	       hot ? 100.0 * remote_hot / ((long)nr_procs * hot) : 0.0,
	       remote ? 100.0 * most / remote : 0.0, 100.0 / nr_procs,
	       100.0 * off_node / total,
	       off_node ? 100.0 * most_off_node / off_node : 0.0,
	       switch_s, peak_kib / 1024.0, read_knob("pages_shared"),
	       read_knob("pages_sharing"));
	fflush(stdout);
	free(status);
	free(addrs);
}

static int phase(const char *spec)
{
	const char *kv = strchr(spec, ':') ? strchr(spec, ':') + 1 : spec;
	char knob[64], val[32];
	long before, least;
	double t0, s;
	int err;

	if (sscanf(kv, "%63[^=]=%31s", knob, val) != 2)
		return -EINVAL;
	before = least = read_knob("pages_sharing");
	t0 = now();
	if (!strncmp(spec, "unmerged:", 9)) {
		err = write_knob("run", "2");
		/* run=2 unmerges everything before it returns */
		if (read_knob("pages_sharing") < least)
			least = read_knob("pages_sharing");
		if (!err)
			err = write_knob(knob, val);
		if (!err)
			err = write_knob("run", "1");
	} else {
		err = write_knob(knob, val);
		if (!err)
			err = write_knob("run", "1");
	}
	if (err) {
		printf("# ksm-numa-bench: %s: %s\n", spec, strerror(-err));
		return err;
	}
	s = settle(&least);
	if (s < 0) {
		printf("# ksm-numa-bench: %s: pages_sharing did not settle in %d s\n",
		       spec, SETTLE_TIMEOUT_S);
		return -ETIMEDOUT;
	}
	if (spec == kv)
		report(spec, 0, 0);
	else
		report(spec, now() - t0, (before - least) * (long)page_size / 1024);
	return 0;
}

int main(int argc, char **argv)
{
	long mib = 16;
	int opt, i, fails = 0;

	while ((opt = getopt(argc, argv, "p:m:H:d:")) != -1) {
		switch (opt) {
		case 'p': procs_per_node = atoi(optarg); break;
		case 'm': mib = atol(optarg); break;
		case 'H': hot_pct = atoi(optarg); break;
		case 'd': far = atoi(optarg); break;
		default:
			fprintf(stderr, "usage: %s [-p PROCS] [-m MIB] [-H PCT] [-d DIST] PHASE...\n",
				argv[0]);
			return 2;
		}
	}
	page_size = getpagesize();
	npages = (mib << 20) / page_size;
	if (read_distances()) {
		printf("ok 1 # SKIP ksm-numa-bench needs 2 nodes with memory\n");
		return 0;
	}
	if ((long)procs_per_node * nr_nodes > MAX_PROCS || procs_per_node < 1 || optind >= argc) {
		fprintf(stderr, "ksm-numa-bench: 1 to %d processes, and a phase\n", MAX_PROCS);
		return 2;
	}
	write_knob("run", "2");
	write_knob("advisor_mode", "none");
	write_knob("pages_to_scan", "5000");
	write_knob("sleep_millisecs", "0");
	write_knob("max_page_sharing", "256");
	/* Not on the base kernel */
	write_knob("cold_scans", "0");
	start();
	for (i = optind; i < argc; i++)
		fails += phase(argv[i]) != 0;
	stop();
	write_knob("run", "2");
	tap(!fails, "ksm-numa-bench -H %d: %d phases", hot_pct, argc - optind);
	return 0;
}
