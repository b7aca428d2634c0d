// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-stress: prove that KSM never loses a write.
 *
 * Forks -n worker processes. Each maps -m MiB, half of it in 2 MiB aligned
 * MADV_HUGEPAGE regions and half in MADV_NOHUGEPAGE regions, and makes it
 * mergeable: even workers with madvise(MADV_MERGEABLE), odd workers with
 * prctl(PR_SET_MEMORY_MERGE) before mapping. The content class of page i
 * depends on the seed and i only: about 40% of the pages hold the same bytes
 * in every worker, 10% repeat a few contents within a worker, 20% are zero,
 * 20% are unique and 10% are volatile (rewritten on every loop iteration).
 *
 * Every worker keeps a full shadow copy of each page, XORed with a per-page
 * mask so that no shadow page can ever equal a real page or another shadow
 * page, in memory that is never mergeable. Until the deadline it picks
 * random actions: verify a page against its shadow, write a byte, rewrite
 * a page, fork a child that verifies everything and writes its own copies,
 * mremap a region elsewhere, munmap and mmap a range again, mprotect a range
 * read-only, MADV_DONTNEED a range, unmerge and re-merge a range, and move
 * pages to another NUMA node with move_pages(). Any byte that differs from
 * the shadow is reported as a "# MISMATCH" line and counted.
 *
 * Meanwhile the parent SIGKILLs a random worker about every -x seconds
 * (default 3.5) and starts a replacement, and (unless -K is given or the
 * knobs are not writable) flips a KSM knob about every -k seconds (default
 * 1): run, merge_across_nodes, use_zero_pages, max_page_sharing,
 * smart_scan, page_hash (when there is more than one page hash),
 * thp_split_threshold (0, 1, 8, 64 or 512, where the kernel has it) and
 * merge_nodes_distance (10, 12, 20, 32 or 255, where the kernel has it;
 * then merge_across_nodes too is flipped while pages are merged, without
 * run=2 first) and cold_scans (0, 1, 2 or 8, where the kernel has it: cold
 * pages merge across the groups, and back). It samples pages_sharing
 * every 100 ms and restores every knob it changed at the end, also after
 * SIGINT or SIGTERM.
 *
 * Output is TAP: one summary line "# ksm-stress: seed=..." for scripts, then
 * seven results: no mismatches; the peak pages_sharing reached -f percent of
 * the sharing the duplicate pages allow; every worker exited normally or by
 * our SIGKILL; the knobs read back their original values; pages were
 * swapped out and back in (when a swap device is on, unless -S); pages
 * moved between NUMA nodes (with two nodes, unless -M); the global
 * ksm_zero_pages is back to its value at the start once every worker has
 * exited (it drifted while fork() miscounted KSM zero pages). Run it inside a
 * memory cgroup whose limit is below the workers' memory, with swap on, to
 * swap KSM pages: guest/ksm-stress-run.sh does that.
 *
 * Exit status: 0 when all pass, 1 when one fails, 2 on usage errors,
 * 4 when the kernel has no KSM.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "ksm-util.h"

#ifndef PR_SET_MEMORY_MERGE
#define PR_SET_MEMORY_MERGE 67
#endif
#ifndef PR_GET_MEMORY_MERGE
#define PR_GET_MEMORY_MERGE 68
#endif
#ifndef MPOL_MF_MOVE_ALL
#define MPOL_MF_MOVE_ALL (1 << 2)
#endif

#define NODES_WITH_MEMORY "/sys/devices/system/node/has_memory"
#define MAX_WORKERS 64
#define MAX_PROCS 256		/* workers alive or not yet reaped */
#define MAX_NODES 64
#define NREGIONS 4		/* two THP regions, two plain ones */
#define HPAGE (2UL << 20)
#define NDUPP 4			/* distinct contents of the in-process duplicates */
#define RING 128		/* pages that left their class content, to restore */
#define MAX_RANGE 16		/* pages per range operation, usually */
#define BIG_RANGE 512		/* pages per range operation, sometimes */
#define MAX_DIAGS 40		/* diagnostics per worker incarnation */
#define MAX_MISMATCH_DIAGS 20	/* mismatch lines per worker incarnation */
#define MAX_KNOB_DIAGS 20
#define CHILD_BUDGET_S 5.0	/* a fork child checks pages for this long at most */
#define FORK_WAIT_S 60.0	/* a fork child still alive after this has hung */
#define FINAL_WAIT_S 15.0
#define EXIT_NOMEM 3		/* worker could not set up its memory */

enum { C_DUPX, C_DUPP, C_ZERO, C_UNIQ, C_VOL, NCLASSES };
static const char * const class_name[] = { "dup", "dup-in-process", "zero", "unique", "volatile" };

/* One per worker slot, shared with the parent; replacement workers add to it. */
struct wstats {
	long checked, writes, rewrites, vol_rewrites, heals, forks, child_fails, child_hangs;
	long migrations, migrate_tries, mremaps, remaps, mprotects, dontneeds;
	long toggles, mismatches, nomem, errors, iterations, starts;
} __attribute__((aligned(64)));

static struct {
	long nworkers, mib, duration, floor_pct;
	double knob_s;		/* mean seconds between knob flips */
	double kill_s;		/* mean seconds between SIGKILLs */
	uint64_t seed;
	int no_knobs, no_migrate, no_swap;
	long ps, npages, wpp;	/* page size, pages per worker, words per page */
	double deadline;
	struct wstats *stats;
	int nodes[MAX_NODES], nnodes;
	pid_t parent;
} g;

#define STAT_ADD(f, v) __atomic_fetch_add(&w.st->f, (v), __ATOMIC_RELAXED)
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * move_pages(2) without libnuma's wrapper: linking libnuma.a's move_pages()
 * pulls in its getaddrinfo() user and a static-linking warning with it.
 */
static long sys_move_pages(unsigned long count, void **pages, const int *nodes, int *status,
			   int flags)
{
	return syscall(SYS_move_pages, 0, count, pages, nodes, status, flags);
}

/* All output goes through write(2): no stdio buffers to duplicate on fork. */
static void __attribute__((format(printf, 1, 2))) out(const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	size_t len, off = 0;
	ssize_t r;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	len = (size_t)n < sizeof(buf) - 1 ? (size_t)n : sizeof(buf) - 2;
	buf[len++] = '\n';
	while (off < len) {
		r = write(STDOUT_FILENO, buf + off, len - off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return;
		off += r;
	}
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xBF58476D1CE4E5B9ULL;
	x ^= x >> 27;
	x *= 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static uint64_t hash3(uint64_t tag, uint64_t a, uint64_t b)
{
	return mix64(mix64(mix64(g.seed + tag) ^ a) ^ b);
}

static uint64_t xorshift(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/* The class of page i is the same in every worker. */
static int page_class(long i)
{
	unsigned int c = hash3(0xC1A55, i, 0) % 100;

	if (c < 40)
		return C_DUPX;
	if (c < 50)
		return C_DUPP;
	if (c < 70)
		return C_ZERO;
	if (c < 90)
		return C_UNIQ;
	return C_VOL;
}

static unsigned int dupp_base(long i)
{
	return hash3(0xD0B, i, 0) % NDUPP;
}

/* ---------------------------------------------------------------- worker */

struct region {
	long first, n;
	int thp;
};

static struct {
	int id, prctl, in_child, diags, mdiags, thp_warned;
	long np, nvol, nholes;
	char **addr;		/* where page i is mapped now */
	uint32_t *gen;
	unsigned char *cls, *hole;
	char *shadow;		/* expected bytes of page i, XOR smask(i) */
	uint64_t *tmp;
	long *vol;
	char *book;		/* one mapping for all of the above */
	size_t booklen;
	uint64_t salt, rng;
	struct region reg[NREGIONS];
	long ring[RING];
	int ring_head, ring_cnt;
	int mpol;
	double next_fork, next_mremap, next_prctl;
	struct wstats *st;
} w;

static uint64_t rnd(void)
{
	return xorshift(&w.rng);
}

static void __attribute__((format(printf, 1, 2))) wdiag(const char *fmt, ...)
{
	char buf[768];
	va_list ap;

	if (w.diags++ >= MAX_DIAGS)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	out("# worker=%d pid=%d%s: %s", w.id, getpid(), w.in_child ? " (fork child)" : "", buf);
}

/* A failed syscall: report it, count ENOMEM/EAGAIN apart, carry on. */
static void werr(const char *what, int err)
{
	if (err == ENOMEM || err == EAGAIN)
		STAT_ADD(nomem, 1);
	else
		STAT_ADD(errors, 1);
	wdiag("%s: %s", what, strerror(err));
}

static uint64_t smask(long i)
{
	return mix64(w.salt ^ (uint64_t)i);
}

#define WMASK(j) ((uint64_t)(j) * 0xD1B54A32D192ED03ULL)

static uint64_t *shadow_of(long i)
{
	return (uint64_t *)(w.shadow + i * g.ps);
}

static void store_shadow(long i, const uint64_t *src)
{
	uint64_t mk = smask(i), *s = shadow_of(i);
	long j;

	for (j = 0; j < g.wpp; j++)
		s[j] = src[j] ^ mk ^ WMASK(j);
}

/* The kernel zeroed page i (fresh mapping, MADV_DONTNEED). */
static void shadow_zero(long i)
{
	memset(w.tmp, 0, g.ps);
	store_shadow(i, w.tmp);
}

static void make_content(long i, uint64_t *buf)
{
	uint64_t key, gen = w.gen[i];
	long j;

	switch (w.cls[i]) {
	case C_ZERO:
		memset(buf, 0, g.ps);
		return;
	case C_DUPX:
		key = hash3(1, i, gen & 1);
		break;
	case C_DUPP:
		key = hash3(2, w.id, (dupp_base(i) + gen) % NDUPP);
		break;
	case C_UNIQ:
		key = hash3(3, (uint64_t)w.id << 32 | i, gen);
		break;
	default:
		key = hash3(4, (uint64_t)w.id << 32 | i, gen);
		break;
	}
	for (j = 0; j < g.wpp; j++)
		buf[j] = (key ^ (j * 0x9E3779B97F4A7C15ULL)) * 0xBF58476D1CE4E5B9ULL;
}

/* Write the class content of page i for its generation, to memory and shadow. */
static void write_page(long i)
{
	make_content(i, w.tmp);
	memcpy(w.addr[i], w.tmp, g.ps);
	store_shadow(i, w.tmp);
}

static void write_byte(long i, long off, unsigned char v)
{
	uint64_t mk = smask(i), *s = shadow_of(i), e;
	long j = off / 8;
	unsigned char b[8];

	w.addr[i][off] = v;
	e = s[j] ^ mk ^ WMASK(j);
	memcpy(b, &e, 8);
	b[off % 8] = v;
	memcpy(&e, b, 8);
	s[j] = e ^ mk ^ WMASK(j);
}

static void heal_one(void);

/* Page i no longer holds its class content: restore it later. */
static void ring_push(long i)
{
	if (w.cls[i] == C_VOL)
		return;
	if (w.ring_cnt == RING)
		heal_one();
	w.ring[(w.ring_head + w.ring_cnt) % RING] = i;
	w.ring_cnt++;
}

/* Compare page i with its shadow; report and resynchronise on a mismatch. */
static int verify_page(long i, const char *op)
{
	const uint64_t *r = (const uint64_t *)w.addr[i];
	uint64_t mk = smask(i), *s = shadow_of(i);
	long j, k, first = -1, nbytes = 0;
	unsigned char eb = 0, ab = 0;

	STAT_ADD(checked, 1);
	for (j = 0; j < g.wpp; j++)
		if ((r[j] ^ mk ^ WMASK(j)) != s[j])
			break;
	if (j == g.wpp)
		return 0;
	for (; j < g.wpp; j++) {
		uint64_t e = s[j] ^ mk ^ WMASK(j), a = r[j];
		unsigned char ea[8], aa[8];

		if (e == a)
			continue;
		memcpy(ea, &e, 8);
		memcpy(aa, &a, 8);
		for (k = 0; k < 8; k++) {
			if (ea[k] == aa[k])
				continue;
			if (first < 0) {
				first = j * 8 + k;
				eb = ea[k];
				ab = aa[k];
			}
			nbytes++;
		}
		s[j] = a ^ mk ^ WMASK(j);	/* report each corruption once */
	}
	/* A fork child's failure is counted by its parent. */
	if (!w.in_child)
		STAT_ADD(mismatches, 1);
	if (w.mdiags++ < MAX_MISMATCH_DIAGS)
		out("# MISMATCH worker=%d pid=%d addr=%p page=%ld offset=%ld expected=0x%02x "
		    "actual=0x%02x op=%s class=%s bytes=%ld%s", w.id, getpid(),
		    (void *)w.addr[i], i, first, eb, ab, op, class_name[w.cls[i]],
		    nbytes, w.in_child ? " fork_child=1" : "");
	ring_push(i);
	return 1;
}

static void heal_one(void)
{
	long i;

	if (!w.ring_cnt)
		return;
	i = w.ring[w.ring_head];
	w.ring_head = (w.ring_head + 1) % RING;
	w.ring_cnt--;
	if (w.hole[i])
		return;
	verify_page(i, "heal");
	write_page(i);
	STAT_ADD(heals, 1);
}

static struct region *region_of(long i)
{
	int r;

	for (r = 0; r < NREGIONS - 1; r++)
		if (i < w.reg[r].first + w.reg[r].n)
			break;
	return &w.reg[r];
}

/* A random page that is mapped, or -1. */
static long rnd_page(void)
{
	int t;

	for (t = 0; t < 16; t++) {
		long i = rnd() % w.np;

		if (!w.hole[i])
			return i;
	}
	return -1;
}

/* Number of mapped, address-contiguous pages from i, at most max, in i's region. */
static long run_len(long i, long max)
{
	struct region *r = region_of(i);
	long n = 1;

	if (w.hole[i])
		return 0;
	if (max > r->first + r->n - i)
		max = r->first + r->n - i;
	while (n < max && !w.hole[i + n] && w.addr[i + n] == w.addr[i] + n * g.ps)
		n++;
	return n;
}

static long pick_range(long *start)
{
	long i = rnd_page(), max = 1 + rnd() % MAX_RANGE;

	if (i < 0)
		return 0;
	if (!(rnd() % 32)) {
		struct region *r = region_of(i);

		max = BIG_RANGE;
		i = r->first + ((i - r->first) & ~(long)(BIG_RANGE - 1));
	}
	*start = i;
	return run_len(i, max);
}

static int verify_range(long i, long n, const char *op)
{
	int bad = 0;

	while (n--)
		bad += verify_page(i++, op);
	return bad;
}

/* Give a new mapping the flags of the region it belongs to. */
static void prep_mapping(char *p, size_t len, int thp)
{
	if (madvise(p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE)) {
		if (errno != EINVAL)
			werr("madvise(MADV_[NO]HUGEPAGE)", errno);
		else if (!w.thp_warned++)
			wdiag("no THP madvise support (EINVAL), continuing");
	}
	if (!w.prctl && madvise(p, len, MADV_MERGEABLE))
		werr("madvise(MADV_MERGEABLE)", errno);
}

/* prctl(PR_SET_MEMORY_MERGE) made every VMA mergeable: not the bookkeeping. */
static void book_unmergeable(void)
{
	if (madvise(w.book, w.booklen, MADV_UNMERGEABLE))
		werr("madvise(shadow, MADV_UNMERGEABLE)", errno);
}

static void rewrite_volatile(void)
{
	long k;

	for (k = 0; k < w.nvol; k++) {
		long i = w.vol[k];

		if (w.hole[i])
			continue;
		w.gen[i]++;
		write_page(i);
	}
	STAT_ADD(vol_rewrites, w.nvol);
}

/* Map a hole left by a failed mmap again, wherever the kernel likes. */
static void refill_hole(void)
{
	long i, k;
	char *p;

	for (k = 0, i = rnd() % w.np; k < w.np; k++, i = (i + 1) % w.np)
		if (w.hole[i])
			break;
	if (k == w.np) {
		w.nholes = 0;
		return;
	}
	p = mmap(w.addr[i], g.ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		werr("mmap(hole)", errno);
		return;
	}
	prep_mapping(p, g.ps, region_of(i)->thp);
	w.addr[i] = p;
	w.hole[i] = 0;
	w.nholes--;
	shadow_zero(i);
	verify_page(i, "refill-zero");
	write_page(i);
}

static void act_verify(void)
{
	long i = rnd_page();

	if (i >= 0)
		verify_page(i, "verify");
}

static void act_verify_range(void)
{
	long i = 0, n = pick_range(&i);

	verify_range(i, n, "verify-range");
}

static void act_write_byte(void)
{
	long i = rnd_page();

	if (i < 0)
		return;
	write_byte(i, rnd() % g.ps, rnd());
	STAT_ADD(writes, 1);
	ring_push(i);
	if (!(rnd() % 4))
		verify_page(i, "write-byte");
}

static void act_rewrite(void)
{
	long i = rnd_page();

	if (i < 0)
		return;
	verify_page(i, "pre-rewrite");
	w.gen[i]++;
	write_page(i);
	STAT_ADD(rewrites, 1);
	if (!(rnd() % 4))
		verify_page(i, "rewrite");
}

/*
 * The child checks the pages it inherited, from a random one on, all of them
 * or as many as it can in CHILD_BUDGET_S (a debug kernel that swaps is slow),
 * then writes its own copies. It exits 1 when a page was wrong.
 */
static void __attribute__((noreturn)) fork_child(pid_t parent)
{
	double t0 = now();
	long i, j, k;
	int bad = 0;

	w.in_child = 1;
	w.diags = 0;
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != parent)
		_exit(0);
	k = rnd() % w.np;
	for (j = 0; j < w.np; j++) {
		i = (k + j) % w.np;
		if (!w.hole[i])
			bad += verify_page(i, "fork-child");
		if (!(j % 64) && now() - t0 > CHILD_BUDGET_S)
			break;
	}
	for (k = 0; k < 8; k++) {
		i = rnd_page();
		if (i < 0)
			continue;
		write_byte(i, rnd() % g.ps, rnd());
		bad += verify_page(i, "fork-child-write");
		w.gen[i]++;
		write_page(i);
		bad += verify_page(i, "fork-child-rewrite");
	}
	_exit(bad ? 1 : 0);
}

static void act_fork(void)
{
	double t0 = now();
	int st = 0, k, done = 0;
	pid_t pid, me = getpid();

	if (t0 < w.next_fork)
		return act_verify();
	w.next_fork = t0 + 0.1;
	pid = fork();
	if (pid < 0)
		return werr("fork", errno);
	if (!pid)
		fork_child(me);
	STAT_ADD(forks, 1);
	while (!done) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid) {
			done = 1;
		} else if (r < 0 && errno != EINTR) {
			werr("waitpid(fork child)", errno);
			st = -1;
			done = 1;
		} else if (now() - t0 > FORK_WAIT_S + 5) {
			wdiag("fork child %d cannot be reaped", pid);
			st = -1;
			done = 1;
		} else {
			if (st != -2 && now() - t0 > FORK_WAIT_S && kill(pid, SIGKILL) == 0) {
				wdiag("fork child %d hangs, killed it", pid);
				st = -2;
			}
			sleep_ms(1);
		}
	}
	/* A child that found a wrong page is a mismatch; one that hung or died is not. */
	if (st == -2 || st == -1) {
		STAT_ADD(child_hangs, 1);
	} else if (WIFEXITED(st) && WEXITSTATUS(st) != 0) {
		STAT_ADD(mismatches, 1);
		wdiag("fork child %d found mismatches (exit %d)", pid, WEXITSTATUS(st));
	} else if (WIFSIGNALED(st)) {
		STAT_ADD(child_fails, 1);
		wdiag("fork child %d died of signal %d", pid, WTERMSIG(st));
	}
	for (k = 0; k < 32; k++)
		act_verify();
}

/* Move region r to a new address, one address-contiguous run at a time. */
static void act_mremap(void)
{
	struct region *r = &w.reg[rnd() % NREGIONS];
	size_t len = r->n * g.ps;
	uintptr_t ph, dst, end;
	long j, m, k;
	void *p;

	if (now() < w.next_mremap)
		return act_verify();
	w.next_mremap = now() + 0.25;
	p = mmap(NULL, len + HPAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return werr("mmap(mremap target)", errno);
	/* Keep the offset within 2 MiB, so that huge pages can move as they are. */
	ph = (uintptr_t)p;
	dst = ((ph + HPAGE - 1) & ~(HPAGE - 1)) + ((uintptr_t)w.addr[r->first] & (HPAGE - 1));
	if (dst > ph + HPAGE)
		dst -= HPAGE;
	end = ph + len + HPAGE;
	if (dst > ph && munmap(p, dst - ph))
		werr("munmap(mremap target head)", errno);
	if (end > dst + len && munmap((void *)(dst + len), end - dst - len))
		werr("munmap(mremap target tail)", errno);

	for (j = r->first; j < r->first + r->n; j += m) {
		char *to = (char *)dst + (j - r->first) * g.ps;

		if (w.hole[j]) {
			if (munmap(to, g.ps))
				werr("munmap(mremap target hole)", errno);
			m = 1;
			continue;
		}
		m = run_len(j, r->first + r->n - j);
		for (;;) {
			p = mremap(w.addr[j], m * g.ps, m * g.ps,
				   MREMAP_MAYMOVE | MREMAP_FIXED, to);
			/* EFAULT: the run spans VMAs that older kernels cannot move at once */
			if (p != MAP_FAILED || errno != EFAULT || m == 1)
				break;
			m /= 2;
		}
		if (p == MAP_FAILED) {
			werr("mremap", errno);
			if (munmap(to, dst + len - (uintptr_t)to))
				werr("munmap(mremap target rest)", errno);
			break;
		}
		for (k = 0; k < m; k++)
			w.addr[j + k] = to + k * g.ps;
	}
	if (j >= r->first + r->n)
		STAT_ADD(mremaps, 1);
	for (k = 0; k < 64; k++) {
		j = r->first + rnd() % r->n;
		if (!w.hole[j])
			verify_page(j, "mremap");
	}
}

/* munmap a range and map it again: it reads as zeros, then gets its content back. */
static void act_remap(void)
{
	long i = 0, n = pick_range(&i), k;
	char *a, *p;

	if (!n)
		return;
	verify_range(i, n, "pre-munmap");
	a = w.addr[i];
	if (munmap(a, n * g.ps))
		return werr("munmap", errno);
	p = mmap(a, n * g.ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		 -1, 0);
	if (p == MAP_FAILED) {
		werr("mmap(MAP_FIXED) after munmap", errno);
		for (k = 0; k < n; k++)
			w.hole[i + k] = 1;
		w.nholes += n;
		return;
	}
	prep_mapping(p, n * g.ps, region_of(i)->thp);
	STAT_ADD(remaps, 1);
	/* All shadows first: a mismatch may heal a page of this very range. */
	for (k = 0; k < n; k++)
		shadow_zero(i + k);
	verify_range(i, n, "remap-zero");
	for (k = 0; k < n; k++)
		write_page(i + k);
	verify_range(i, n, "remap");
}

static void act_mprotect(void)
{
	long i = 0, n = pick_range(&i);
	int t;

	if (!n)
		return;
	if (mprotect(w.addr[i], n * g.ps, PROT_READ))
		return werr("mprotect(PROT_READ)", errno);
	STAT_ADD(mprotects, 1);
	verify_range(i, n, "mprotect-ro");
	for (t = 0; mprotect(w.addr[i], n * g.ps, PROT_READ | PROT_WRITE); t++) {
		if (t == 0)
			werr("mprotect(PROT_READ|PROT_WRITE)", errno);
		if (t == 100) {
			wdiag("cannot make %p writable again, giving up", (void *)w.addr[i]);
			_exit(2);
		}
		sleep_ms(10);
	}
}

static void act_dontneed(void)
{
	long i = 0, n = pick_range(&i), k;

	if (!n)
		return;
	verify_range(i, n, "pre-dontneed");
	if (madvise(w.addr[i], n * g.ps, MADV_DONTNEED))
		return werr("madvise(MADV_DONTNEED)", errno);
	STAT_ADD(dontneeds, 1);
	/* All shadows first: ring_push() may heal a page of this very range. */
	for (k = 0; k < n; k++)
		shadow_zero(i + k);
	verify_range(i, n, "dontneed");
	for (k = 0; k < n; k++)
		ring_push(i + k);
}

/* Unmerge and merge again: a range by madvise, the whole process by prctl. */
static void act_toggle(void)
{
	long i = 0, n = pick_range(&i);

	if (!n)
		return;
	STAT_ADD(toggles, 1);
	if (w.prctl && now() >= w.next_prctl) {
		w.next_prctl = now() + 3;
		if (prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0))
			werr("prctl(PR_SET_MEMORY_MERGE, 0)", errno);
		verify_range(i, n, "prctl-unmerge");
		if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0))
			werr("prctl(PR_SET_MEMORY_MERGE, 1)", errno);
		book_unmergeable();
		verify_range(i, n, "prctl-merge");
		return;
	}
	if (madvise(w.addr[i], n * g.ps, MADV_UNMERGEABLE))
		werr("madvise(MADV_UNMERGEABLE)", errno);
	verify_range(i, n, "unmergeable");
	if (madvise(w.addr[i], n * g.ps, MADV_MERGEABLE))
		werr("madvise(MADV_MERGEABLE)", errno);
	verify_range(i, n, "mergeable");
}

static void act_migrate(void)
{
	void *pages[8];
	int nodes[8], status[8], cnt = 1 + rnd() % 8, k, j, moved = 0;
	long idx[8];
	long r;

	for (k = 0; k < cnt; k++) {
		idx[k] = rnd_page();
		if (idx[k] < 0)
			return;
		pages[k] = w.addr[idx[k]];
	}
	if (sys_move_pages(cnt, pages, NULL, status, 0) < 0) {
		if (errno == ENOSYS) {
			wdiag("move_pages: ENOSYS, no more migrations");
			g.nnodes = 0;
			return;
		}
		return werr("move_pages(query)", errno);
	}
	for (k = 0; k < cnt; k++) {
		nodes[k] = g.nodes[rnd() % g.nnodes];
		for (j = 0; j < g.nnodes; j++)
			if (g.nodes[j] == status[k])
				nodes[k] = g.nodes[(j + 1) % g.nnodes];
	}
	r = sys_move_pages(cnt, pages, nodes, status, w.mpol);
	if (r < 0 && errno == EPERM && w.mpol == MPOL_MF_MOVE_ALL) {
		w.mpol = MPOL_MF_MOVE;
		r = sys_move_pages(cnt, pages, nodes, status, w.mpol);
	}
	STAT_ADD(migrate_tries, cnt);
	if (r < 0) {
		werr("move_pages", errno);
	} else {
		for (k = 0; k < cnt; k++)
			moved += status[k] == nodes[k];
		STAT_ADD(migrations, moved);
	}
	for (k = 0; k < cnt; k++)
		verify_page(idx[k], "migrate");
}

/* Map region memory; a THP region starts on a 2 MiB boundary. */
static char *map_region(long n, int thp)
{
	size_t len = n * g.ps, extra = thp ? HPAGE : 0;
	uintptr_t raw, a;
	char *p;

	p = mmap(NULL, len + extra, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	raw = (uintptr_t)p;
	a = thp ? (raw + HPAGE - 1) & ~(HPAGE - 1) : raw;
	if (a > raw && munmap(p, a - raw))
		werr("munmap(align head)", errno);
	if (raw + len + extra > a + len && munmap((void *)(a + len), raw + extra - a))
		werr("munmap(align tail)", errno);
	prep_mapping((char *)a, len, thp);
	return (char *)a;
}

static void __attribute__((noreturn)) worker_main(int id, long incarnation)
{
	long P = g.npages, i, q, off;
	size_t shadow_len = P * g.ps;
	double t0;
	int r;

	memset(&w, 0, sizeof(w));
	w.id = id;
	w.np = P;
	w.st = &g.stats[id];
	w.rng = mix64(g.seed ^ mix64(id + 1) ^ mix64(incarnation << 32 | 0x5EED)) | 1;
	w.salt = mix64(w.rng ^ getpid());
	w.mpol = MPOL_MF_MOVE_ALL;
	STAT_ADD(starts, 1);

	/* Shadow, scratch page and bookkeeping in one never-merged mapping. */
	w.booklen = shadow_len + g.ps + P * (sizeof(char *) + sizeof(uint32_t) + 2 + sizeof(long));
	w.booklen = (w.booklen + g.ps - 1) / g.ps * g.ps;
	w.book = mmap(NULL, w.booklen, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (w.book == MAP_FAILED) {
		werr("mmap(shadow)", errno);
		_exit(EXIT_NOMEM);
	}
	w.shadow = w.book;
	w.tmp = (uint64_t *)(w.book + shadow_len);
	w.addr = (char **)(w.book + shadow_len + g.ps);
	w.vol = (long *)(w.addr + P);
	w.gen = (uint32_t *)(w.vol + P);
	w.cls = (unsigned char *)(w.gen + P);
	w.hole = w.cls + P;

	if (id % 2) {
		w.prctl = 1;
		if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0)) {
			if (incarnation == 0)
				wdiag("prctl(PR_SET_MEMORY_MERGE): %s, using MADV_MERGEABLE",
				      strerror(errno));
			w.prctl = 0;
		} else if (prctl(PR_GET_MEMORY_MERGE, 0, 0, 0, 0) != 1) {
			wdiag("PR_GET_MEMORY_MERGE does not return 1 after PR_SET_MEMORY_MERGE");
			STAT_ADD(errors, 1);
		}
		if (w.prctl)
			book_unmergeable();
	}

	q = P / NREGIONS;
	for (r = 0, off = 0; r < NREGIONS; r++) {
		char *a;

		w.reg[r].first = off;
		w.reg[r].n = r == NREGIONS - 1 ? P - off : q;
		w.reg[r].thp = r < NREGIONS / 2;
		a = map_region(w.reg[r].n, w.reg[r].thp);
		if (!a) {
			werr("mmap(region)", errno);
			_exit(EXIT_NOMEM);
		}
		for (i = 0; i < w.reg[r].n; i++)
			w.addr[off + i] = a + i * g.ps;
		off += w.reg[r].n;
	}
	for (i = 0; i < P; i++) {
		w.cls[i] = page_class(i);
		if (w.cls[i] == C_VOL)
			w.vol[w.nvol++] = i;
		write_page(i);
	}

	while ((t0 = now()) < g.deadline) {
		unsigned int a = rnd() % 1000;
		long us;

		STAT_ADD(iterations, 1);
		rewrite_volatile();
		if (w.ring_cnt > RING / 4)
			heal_one();
		if (w.nholes)
			refill_hole();
		if (a < 300)
			act_verify();
		else if (a < 550)
			act_write_byte();
		else if (a < 650)
			act_rewrite();
		else if (a < 750)
			act_verify_range();
		else if (a < 760)
			act_fork();
		else if (a < 770)
			act_mremap();
		else if (a < 810)
			act_remap();
		else if (a < 850)
			act_mprotect();
		else if (a < 890)
			act_dontneed();
		else if (a < 920)
			act_toggle();
		else if (g.nnodes >= 2)
			act_migrate();
		else
			act_verify();
		/* Work a third of the time at most: 2 vCPUs are shared with ksmd. */
		us = (now() - t0) * 2e6;
		usleep(us < 100 ? 100 : us > 20000 ? 20000 : us);
	}
	_exit(0);
}

/* ---------------------------------------------------------------- parent */

enum { K_RUN, K_PTS, K_SLEEP, K_MAN, K_UZP, K_MPS, K_SMART, K_HASH, K_THP, K_MND, K_COLD,
       NKNOBS };
static const char * const knob_name[NKNOBS] = {
	"run", "pages_to_scan", "sleep_millisecs", "merge_across_nodes",
	"use_zero_pages", "max_page_sharing", "smart_scan", "page_hash",
	"thp_split_threshold", "merge_nodes_distance", "cold_scans",
};

static struct {
	int enabled, run_paused, diags;
	int present[NKNOBS];
	char orig[NKNOBS][64];
	long flips, refused, errors;
} ctl;

struct proc {
	pid_t pid;
	int slot, killed, alive;
};

static struct proc procs[MAX_PROCS];
static pid_t slot_pid[MAX_WORKERS];
static double slot_dead_since[MAX_WORKERS];
static long slot_incarnation[MAX_WORKERS];
static long kills, unexpected, nomem_exits;
static uint64_t prng;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = sig;
}

/* Write a knob and count the outcome; EBUSY is an accepted refusal. */
static int knob_set(int k, const char *val)
{
	int err = -write_knob(knob_name[k], val);

	if (!err) {
		ctl.flips++;
		return 0;
	}
	if (err == EBUSY || (k == K_PTS && err == EINVAL)) {
		ctl.refused++;
		if (ctl.diags++ < MAX_KNOB_DIAGS)
			out("# knob write refused: %s=%s: %s", knob_name[k], val, strerror(err));
	} else {
		ctl.errors++;
		if (ctl.diags++ < MAX_KNOB_DIAGS)
			out("# knob write error: %s=%s: %s", knob_name[k], val, strerror(err));
	}
	return err;
}

static long knob_now(int k)
{
	return read_knob(knob_name[k]);
}

static void ctl_start(void)
{
	char path[128];
	int k, err;

	for (k = 0; k < NKNOBS; k++) {
		snprintf(path, sizeof(path), KSM "%s", knob_name[k]);
		ctl.present[k] = !read_file_str(path, ctl.orig[k], sizeof(ctl.orig[k]));
	}
	if (g.no_knobs) {
		out("# controller disabled (-K): KSM knobs are left as they are");
		return;
	}
	/* Writing run's own value back tells whether we may write at all. */
	err = -write_knob("run", ctl.orig[K_RUN]);
	if (err) {
		out("# controller disabled: cannot write " KSM "run (%s); not flipping knobs",
		    strerror(err));
		return;
	}
	ctl.enabled = 1;
	out("# knobs at start: run=%s pages_to_scan=%s sleep_millisecs=%s merge_across_nodes=%s "
	    "use_zero_pages=%s max_page_sharing=%s smart_scan=%s page_hash=%s "
	    "thp_split_threshold=%s merge_nodes_distance=%s cold_scans=%s",
	    ctl.present[K_RUN] ? ctl.orig[K_RUN] : "-", ctl.present[K_PTS] ? ctl.orig[K_PTS] : "-",
	    ctl.present[K_SLEEP] ? ctl.orig[K_SLEEP] : "-",
	    ctl.present[K_MAN] ? ctl.orig[K_MAN] : "-", ctl.present[K_UZP] ? ctl.orig[K_UZP] : "-",
	    ctl.present[K_MPS] ? ctl.orig[K_MPS] : "-",
	    ctl.present[K_SMART] ? ctl.orig[K_SMART] : "-",
	    ctl.present[K_HASH] ? ctl.orig[K_HASH] : "-",
	    ctl.present[K_THP] ? ctl.orig[K_THP] : "-",
	    ctl.present[K_MND] ? ctl.orig[K_MND] : "-",
	    ctl.present[K_COLD] ? ctl.orig[K_COLD] : "-");
	if (ctl.present[K_PTS])
		knob_set(K_PTS, "1000");
	if (ctl.present[K_SLEEP])
		knob_set(K_SLEEP, "0");
	knob_set(K_RUN, "1");
}

/* Knobs that can only change while nothing is merged: unmerge, write, run again. */
static void ctl_unmerged_write(int k, const char *val)
{
	knob_set(K_RUN, "2");
	knob_set(k, val);
	knob_set(K_RUN, "1");
}

/*
 * page_hash reads "a [b] c": the names in @list, the one in use in
 * brackets. Copy the @n-th name (counting from 0, -1 for the one in use)
 * to @out; false when there is no such name.
 */
static int hash_name(const char *list, int n, char *out, size_t len)
{
	char buf[64], *tok, *save;
	int i = 0;

	snprintf(buf, sizeof(buf), "%s", list);
	for (tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save), i++) {
		int used = tok[0] == '[';

		if (n == i || (n < 0 && used)) {
			snprintf(out, len, "%.*s", (int)strcspn(tok + used, "]"), tok + used);
			return 1;
		}
	}
	return 0;
}

/* Switch to another page hash, at random, when there is another. */
static void ctl_flip_hash(void)
{
	char list[64], cur[32], name[32];
	int n, tries;

	if (read_file_str(KSM "page_hash", list, sizeof(list)) || !hash_name(list, -1, cur, sizeof(cur)))
		return;
	for (n = 0; hash_name(list, n, name, sizeof(name)); n++)
		;
	if (n < 2)
		return;
	for (tries = 0; tries < 16; tries++) {
		hash_name(list, xorshift(&prng) % n, name, sizeof(name));
		if (strcmp(name, cur)) {
			knob_set(K_HASH, name);
			return;
		}
	}
}

/* One of the @n values at @vals, at random, other than knob @k's now */
static const char *other_value(int k, const char * const *vals, int n)
{
	long cur = knob_now(k);
	const char *v;

	do {
		v = vals[xorshift(&prng) % n];
	} while (strtol(v, NULL, 10) == cur);
	return v;
}

static void ctl_flip(void)
{
	static const char * const mnd[] = { "10", "12", "20", "32", "255" };
	static const char * const mps[] = { "2", "16", "256" };
	static const char * const thp[] = { "0", "1", "8", "64", "512" };
	static const char * const cold[] = { "0", "1", "2", "8" };
	unsigned int c = xorshift(&prng) % 100;

	if (ctl.run_paused) {
		knob_set(K_RUN, "1");
		ctl.run_paused = 0;
		return;
	}
	if (c >= 10 && c < 20 && ctl.present[K_THP]) {
		knob_set(K_THP, other_value(K_THP, thp, ARRAY_SIZE(thp)));
	} else if (c >= 20 && c < 30 && ctl.present[K_HASH]) {
		ctl_flip_hash();
	} else if (c >= 30 && c < 50 && ctl.present[K_UZP]) {
		knob_set(K_UZP, knob_now(K_UZP) == 1 ? "0" : "1");
	} else if (c >= 60 && c < 70 && ctl.present[K_COLD]) {
		/* Cold pages merge across the groups, or go back */
		knob_set(K_COLD, other_value(K_COLD, cold, ARRAY_SIZE(cold)));
	} else if (c >= 50 && c < 70 && ctl.present[K_SMART]) {
		knob_set(K_SMART, knob_now(K_SMART) == 1 ? "0" : "1");
	} else if (c >= 70 && c < 80 && ctl.present[K_MND]) {
		/* The grouping of nodes changes while pages are merged */
		knob_set(K_MND, other_value(K_MND, mnd, ARRAY_SIZE(mnd)));
	} else if (c >= 80 && c < 85 && ctl.present[K_MND]) {
		knob_set(K_MAN, knob_now(K_MAN) == 1 ? "0" : "1");
	} else if (c >= 70 && c < 85 && ctl.present[K_MAN]) {
		ctl_unmerged_write(K_MAN, knob_now(K_MAN) == 1 ? "0" : "1");
	} else if (c >= 85 && ctl.present[K_MPS]) {
		ctl_unmerged_write(K_MPS, other_value(K_MPS, mps, ARRAY_SIZE(mps)));
	} else {
		/* run: stop or unmerge everything, until the next flip */
		knob_set(K_RUN, xorshift(&prng) % 4 ? "0" : "2");
		ctl.run_paused = 1;
	}
}

/* A process's state and where in the kernel it waits (/proc/PID/stack). */
static void log_task(int pid)
{
	char path[64], line[256];
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (f && fgets(line, sizeof(line), f))
		out("#     stat: %.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
	snprintf(path, sizeof(path), "/proc/%d/stack", pid);
	f = fopen(path, "r");
	while (f && n++ < 12 && fgets(line, sizeof(line), f))
		out("#     %.*s", (int)strcspn(line, "\n"), line);
	if (f)
		fclose(f);
}

/* Who else is still in our cgroup (a process that may map KSM pages). */
static void log_cgroup_procs(void)
{
	char line[512], path[600], comm[64];
	FILE *f = fopen("/proc/self/cgroup", "r");
	int pid;

	if (!f)
		return;
	if (!fgets(line, sizeof(line), f) || strncmp(line, "0::", 3)) {
		fclose(f);
		return;
	}
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	snprintf(path, sizeof(path), "/sys/fs/cgroup%s/cgroup.procs", line + 3);
	f = fopen(path, "r");
	if (!f)
		return;
	while (fscanf(f, "%d", &pid) == 1) {
		snprintf(path, sizeof(path), "/proc/%d/comm", pid);
		if (read_file_str(path, comm, sizeof(comm)))
			snprintf(comm, sizeof(comm), "?");
		out("#   in our cgroup: pid %d %s%s", pid, comm,
		    pid == getpid() ? " (this controller)" : "");
		if (pid != getpid())
			log_task(pid);
	}
	fclose(f);
}

/*
 * Every KSM page that is still mapped (/proc/kpageflags, /proc/kpagecount)
 * and which processes map it (/proc/PID/pagemap): who keeps a stable node
 * busy once our workers are gone.
 */
#ifndef KPF_KSM
#define KPF_KSM 21
#endif
#define MAX_MAPPED 16
static void log_mappers(const unsigned long *pfns, int n);

static void log_ksm_mappers(void)
{
	unsigned long pfns[MAX_MAPPED], pfn;
	uint64_t flags[512], cnt;
	int ff, fc, n = 0, i;
	ssize_t r;

	ff = open("/proc/kpageflags", O_RDONLY);
	fc = open("/proc/kpagecount", O_RDONLY);
	if (ff < 0 || fc < 0) {
		out("#   no /proc/kpageflags or /proc/kpagecount");
		goto out_fds;
	}
	for (pfn = 0; (r = pread(ff, flags, sizeof(flags), pfn * 8)) > 0; pfn += r / 8)
		for (i = 0; i < r / 8; i++) {
			if (!(flags[i] >> KPF_KSM & 1))
				continue;
			if (pread(fc, &cnt, 8, (pfn + i) * 8) != 8 || !cnt)
				continue;
			if (n < MAX_MAPPED) {
				out("#   ksm page pfn %#lx mapcount %llu kpageflags %#llx",
				    pfn + i, (unsigned long long)cnt,
				    (unsigned long long)flags[i]);
				pfns[n] = pfn + i;
			}
			n++;
		}
	if (n > MAX_MAPPED)
		out("#   %d ksm pages mapped, looking for the first %d", n, MAX_MAPPED);
	else
		out("#   %d ksm pages mapped", n);
	log_mappers(pfns, n < MAX_MAPPED ? n : MAX_MAPPED);
out_fds:
	if (ff >= 0)
		close(ff);
	if (fc >= 0)
		close(fc);
}

/*
 * Call @fn for every page that process @pid ("self" or a number) has
 * present: its address, its page frame and its line of /proc/PID/maps.
 * -1 when the process's maps or pagemap cannot be read.
 */
static int for_each_present_page(const char *pid,
				 void (*fn)(unsigned long addr, unsigned long pfn,
					    const char *line, void *arg),
				 void *arg)
{
	unsigned long start, end, a;
	char path[64], line[512];
	uint64_t pm[512];
	FILE *maps;
	ssize_t r;
	int fp, i;

	snprintf(path, sizeof(path), "/proc/%s/maps", pid);
	maps = fopen(path, "r");
	snprintf(path, sizeof(path), "/proc/%s/pagemap", pid);
	fp = open(path, O_RDONLY);
	while (maps && fp >= 0 && fgets(line, sizeof(line), maps)) {
		if (sscanf(line, "%lx-%lx", &start, &end) != 2)
			continue;
		line[strcspn(line, "\n")] = '\0';
		for (a = start; a < end; a += r / 8 * g.ps) {
			r = pread(fp, pm, sizeof(pm), a / g.ps * 8);
			if (r <= 0)
				break;
			for (i = 0; i < r / 8 && a + i * g.ps < end; i++)
				if (pm[i] >> 63)
					fn(a + i * g.ps, pm[i] & ((1ULL << 55) - 1), line, arg);
		}
	}
	i = maps && fp >= 0 ? 0 : -1;
	if (maps)
		fclose(maps);
	if (fp >= 0)
		close(fp);
	return i;
}

struct mappers {
	const unsigned long *pfns;
	int n, pid, hit;
	char comm[64];
};

static void log_mapper(unsigned long addr, unsigned long pfn, const char *line, void *arg)
{
	struct mappers *m = arg;
	int j;

	for (j = 0; j < m->n; j++)
		if (pfn == m->pfns[j]) {
			m->hit = 1;
			out("#   pfn %#lx mapped by pid %d %s at %#lx in %s", pfn, m->pid,
			    m->comm, addr, line);
		}
}

/* Which processes map one of these n page frames (/proc/PID/pagemap). */
static void log_mappers(const unsigned long *pfns, int n)
{
	struct mappers m = { .pfns = pfns, .n = n };
	struct dirent *de;
	char path[64];
	DIR *d;

	if (!n)
		return;
	d = opendir("/proc");
	while (d && (de = readdir(d))) {
		m.pid = atoi(de->d_name);
		if (m.pid <= 0)
			continue;
		m.hit = 0;
		snprintf(path, sizeof(path), "/proc/%d/comm", m.pid);
		if (read_file_str(path, m.comm, sizeof(m.comm)))
			snprintf(m.comm, sizeof(m.comm), "?");
		for_each_present_page(de->d_name, log_mapper, &m);
		if (m.hit)
			log_task(m.pid);
	}
	if (d)
		closedir(d);
}

struct ksm_count {
	int kpageflags;
	long n;
};

static void count_ksm_page(unsigned long addr, unsigned long pfn, const char *line, void *arg)
{
	struct ksm_count *c = arg;
	uint64_t fl;

	(void)addr;
	(void)line;
	if (pread(c->kpageflags, &fl, 8, pfn * 8) == 8 && fl >> KPF_KSM & 1)
		c->n++;
}

/* How many KSM pages this process maps (/proc/self/pagemap, /proc/kpageflags). */
static long own_ksm_pages(void)
{
	struct ksm_count c = { .kpageflags = open("/proc/kpageflags", O_RDONLY) };

	if (c.kpageflags < 0)
		return -1;
	if (for_each_present_page("self", count_ksm_page, &c))
		c.n = -1;
	close(c.kpageflags);
	return c.n;
}

/*
 * The workers are forked from this controller, and a merge-any worker
 * (PR_SET_MEMORY_MERGE) makes every page it inherited mergeable, pages it
 * still shares copy-on-write with us included. KSM turns such a page into
 * a KSM page in place, and our page table then maps it too. We never asked
 * for KSM, so run=2 does not unmerge our mm: a KSM page we map keeps
 * max_page_sharing and merge_across_nodes busy (-EBUSY) until we exit.
 * Once the workers are gone, unmerge our own pages: turning merge-any on
 * and off again unmerges every VMA.
 */
static void unmerge_own_pages(void)
{
	long n = own_ksm_pages();

	if (n <= 0)
		return;
	if (prctl(PR_SET_MEMORY_MERGE, 1, 0, 0, 0) || prctl(PR_SET_MEMORY_MERGE, 0, 0, 0, 0))
		out("# controller: prctl(PR_SET_MEMORY_MERGE): %s", strerror(errno));
	out("# the controller mapped %ld KSM pages inherited by merge-any workers; "
	    "%ld after unmerging them", n, own_ksm_pages());
}

/* Put every knob back; true when all read back their original value. */
static int ctl_restore(void)
{
	static const int busy[] = { K_MAN, K_MPS },
		order[] = { K_COLD, K_MND, K_UZP, K_SMART, K_THP, K_PTS, K_SLEEP };
	char path[128], buf[64];
	int k, t, ok = 1;
	unsigned int o;

	for (o = 0; o < ARRAY_SIZE(busy); o++) {
		k = busy[o];
		if (!ctl.present[k] || knob_now(k) == strtol(ctl.orig[k], NULL, 10))
			continue;
		/*
		 * run_store() acts only on a change of run: go through 0 so
		 * that every try unmerges again, in case a mapper was still
		 * exiting the time before.  Up to 10 s; while busy, log what
		 * is still shared, who is still in our cgroup and which
		 * processes map the KSM pages that keep the knob busy.
		 */
		for (t = 0; t < 100; t++) {
			write_knob("run", "0");
			write_knob("run", "2");
			if (-write_knob(knob_name[k], ctl.orig[k]) != EBUSY)
				break;
			/* A worker's fork child may have died only just now. */
			unmerge_own_pages();
			if (t % 20 == 19) {
				out("# %s busy after %d s: pages_shared=%ld stable_node_dups=%ld",
				    knob_name[k], (t + 1) / 10, read_knob("pages_shared"),
				    read_knob("stable_node_dups"));
				log_cgroup_procs();
				if (t == 19)
					log_ksm_mappers();
			}
			sleep_ms(100);
		}
	}
	for (o = 0; o < ARRAY_SIZE(order); o++)
		if (ctl.present[order[o]])
			write_knob(knob_name[order[o]], ctl.orig[order[o]]);
	if (ctl.present[K_HASH] && hash_name(ctl.orig[K_HASH], -1, buf, sizeof(buf)))
		write_knob(knob_name[K_HASH], buf);
	write_knob("run", ctl.orig[K_RUN]);
	for (k = 0; k < NKNOBS; k++) {
		if (!ctl.present[k])
			continue;
		snprintf(path, sizeof(path), KSM "%s", knob_name[k]);
		if (read_file_str(path, buf, sizeof(buf)) || strcmp(buf, ctl.orig[k])) {
			out("# knob %s not restored: is %s, was %s", knob_name[k], buf,
			    ctl.orig[k]);
			ok = 0;
		}
	}
	return ok;
}

/* Parse the node list "0-1,3" of NODES_WITH_MEMORY into g.nodes. */
static void read_nodes(void)
{
	char buf[256], *p = buf, *e;
	long a, b;

	if (read_file_str(NODES_WITH_MEMORY, buf, sizeof(buf)))
		return;
	while (*p) {
		a = strtol(p, &e, 10);
		if (e == p)
			return;
		b = a;
		p = e;
		if (*p == '-') {
			b = strtol(p + 1, &e, 10);
			if (e == p + 1)
				return;
			p = e;
		}
		for (; a <= b && g.nnodes < MAX_NODES; a++)
			g.nodes[g.nnodes++] = a;
		if (*p == ',')
			p++;
		else if (*p)
			return;
	}
}

static void spawn(int slot)
{
	struct proc *p = NULL;
	pid_t pid;
	int k;

	for (k = 0; k < MAX_PROCS; k++)
		if (!procs[k].alive) {
			p = &procs[k];
			break;
		}
	if (!p) {
		out("# too many unreaped workers, not starting worker %d", slot);
		return;
	}
	pid = fork();
	if (pid < 0) {
		out("# fork(worker %d): %s", slot, strerror(errno));
		slot_dead_since[slot] = now();
		return;
	}
	if (!pid) {
		/* The parent ends its workers; they die with it (PDEATHSIG). */
		signal(SIGINT, SIG_IGN);
		signal(SIGTERM, SIG_IGN);
		signal(SIGHUP, SIG_IGN);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) || getppid() != g.parent)
			_exit(0);
		worker_main(slot, slot_incarnation[slot]);
	}
	slot_incarnation[slot]++;
	p->pid = pid;
	p->slot = slot;
	p->killed = 0;
	p->alive = 1;
	slot_pid[slot] = pid;
}

static void note_exit(struct proc *p, int st)
{
	p->alive = 0;
	if (slot_pid[p->slot] == p->pid) {
		slot_pid[p->slot] = 0;
		slot_dead_since[p->slot] = now();
	}
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL && p->killed)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return;
	if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_NOMEM) {
		nomem_exits++;
		out("# worker %d pid %d could not map its memory, will retry", p->slot, p->pid);
		return;
	}
	unexpected++;
	if (WIFEXITED(st))
		out("# worker %d pid %d exited with status %d", p->slot, p->pid, WEXITSTATUS(st));
	else if (WIFSIGNALED(st))
		out("# worker %d pid %d killed by signal %d (%s)%s", p->slot, p->pid,
		    WTERMSIG(st), strsignal(WTERMSIG(st)), p->killed ? " after our SIGKILL" : "");
}

static void reap(void)
{
	pid_t pid;
	int st, k;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (k = 0; k < MAX_PROCS; k++)
			if (procs[k].alive && procs[k].pid == pid) {
				note_exit(&procs[k], st);
				break;
			}
}

static int alive_count(void)
{
	int k, n = 0;

	for (k = 0; k < MAX_PROCS; k++)
		n += procs[k].alive;
	return n;
}

static void kill_proc(struct proc *p)
{
	if (kill(p->pid, SIGKILL) && errno != ESRCH)
		out("# kill(%d): %s", p->pid, strerror(errno));
	p->killed = 1;
}

static void kill_one(void)
{
	int slot = xorshift(&prng) % g.nworkers, k;

	if (!slot_pid[slot])
		return;
	for (k = 0; k < MAX_PROCS; k++)
		if (procs[k].alive && procs[k].pid == slot_pid[slot])
			break;
	if (k == MAX_PROCS || procs[k].killed)
		return;
	kill_proc(&procs[k]);
	kills++;
	slot_pid[slot] = 0;
	spawn(slot);
}

/* Wait for the workers to stop, SIGKILLing the ones that do not. */
static void wait_workers(void)
{
	double t0 = now();
	int k, killed = 0;

	for (;;) {
		reap();
		if (!alive_count())
			return;
		if (!killed && (stop || now() - t0 > FINAL_WAIT_S)) {
			for (k = 0; k < MAX_PROCS; k++) {
				struct proc *p = &procs[k];

				if (!p->alive)
					continue;
				if (!stop && !p->killed) {
					out("# worker %d pid %d still running %.0f s after the "
					    "end, killing it", p->slot, p->pid, FINAL_WAIT_S);
					unexpected++;
				}
				kill_proc(p);
			}
			killed = 1;
			t0 = now();
		}
		if (killed && now() - t0 > 5) {
			for (k = 0; k < MAX_PROCS; k++)
				if (procs[k].alive) {
					out("# worker %d pid %d cannot be reaped", procs[k].slot,
					    procs[k].pid);
					unexpected++;
				}
			return;
		}
		sleep_ms(50);
	}
}

static void usage(void)
{
	fprintf(stderr,
		"usage: ksm-stress [-n workers] [-m MiB] [-t seconds] [-s seed] [-f floor]\n"
		"                  [-k seconds] [-x seconds] [-K] [-M] [-S]\n"
		"  -n N  worker processes (default 4, at most %d)\n"
		"  -m M  MiB per worker, half THP, half plain (default 16)\n"
		"  -t T  run time in seconds (default 60)\n"
		"  -s S  random seed (default: from the clock; always printed)\n"
		"  -f F  peak pages_sharing must reach F%% of the expected sharing (default 30)\n"
		"  -k S  mean seconds between knob flips (default 1)\n"
		"  -x S  mean seconds between SIGKILLs of a worker (default 3.5)\n"
		"  -K    do not change the KSM knobs in " KSM "\n"
		"  -M    do not migrate pages between NUMA nodes\n"
		"  -S    do not require swapping even when a swap device is on\n", MAX_WORKERS);
	exit(2);
}

int main(int argc, char **argv)
{
	long npc[NCLASSES] = { 0 }, expected, floor_pages, peak = 0, sharing, i;
	long swpin0, swpout0, swpin, swpout, swcopy0, zp0, zp1, sum[sizeof(struct wstats) / sizeof(long)];
	double t, next_knob, next_kill;
	int opt, k, dupp_seen[NDUPP] = { 0 }, dupp_distinct = 0, restored = 0, fail = 0;
	struct sigaction sa;
	struct timespec ts;
	char *end;

	g.nworkers = 4;
	g.mib = 16;
	g.duration = 60;
	g.floor_pct = 30;
	g.knob_s = 1;
	g.kill_s = 3.5;
	clock_gettime(CLOCK_REALTIME, &ts);
	g.seed = mix64((uint64_t)ts.tv_sec << 30 ^ ts.tv_nsec ^ (uint64_t)getpid() << 48);
	g.seed %= 1000000007;	/* short enough to type back in with -s */
	while ((opt = getopt(argc, argv, "n:m:t:s:f:k:x:KMS")) != -1) {
		switch (opt) {
		case 'n':
			g.nworkers = atol(optarg);
			break;
		case 'm':
			g.mib = atol(optarg);
			break;
		case 't':
			g.duration = atol(optarg);
			break;
		case 's':
			g.seed = strtoull(optarg, &end, 0);
			if (*end || !*optarg)
				usage();
			break;
		case 'f':
			g.floor_pct = atol(optarg);
			break;
		case 'k':
			g.knob_s = atof(optarg);
			break;
		case 'x':
			g.kill_s = atof(optarg);
			break;
		case 'K':
			g.no_knobs = 1;
			break;
		case 'M':
			g.no_migrate = 1;
			break;
		case 'S':
			g.no_swap = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || g.nworkers < 1 || g.nworkers > MAX_WORKERS || g.mib < 1 ||
	    g.mib > 4096 || g.duration < 1 || g.floor_pct < 0 || g.floor_pct > 100 || g.knob_s < 0.1 || g.kill_s < 0.5)
		usage();

	out("TAP version 13");
	if (access(KSM "run", F_OK)) {
		out("1..0 # SKIP KSM not available (no " KSM "run)");
		return 4;
	}
	out("1..7");
	g.ps = sysconf(_SC_PAGESIZE);
	g.wpp = g.ps / 8;
	g.npages = g.mib * (1L << 20) / g.ps;
	g.parent = getpid();
	prng = mix64(g.seed ^ 0xC0FFEE) | 1;

	for (i = 0; i < g.npages; i++) {
		int c = page_class(i);

		npc[c]++;
		if (c == C_DUPP && !dupp_seen[dupp_base(i)]++)
			dupp_distinct++;
	}
	expected = (g.nworkers - 1) * npc[C_DUPX] + g.nworkers * (npc[C_DUPP] - dupp_distinct);
	floor_pages = expected * g.floor_pct / 100;
	out("# seed=%llu duration=%ld workers=%ld mib=%ld floor=%ld%% knob_interval=%.1fs",
	    (unsigned long long)g.seed,
	    g.duration, g.nworkers, g.mib, g.floor_pct, g.knob_s);
	out("# pages per worker: %ld (dup %ld, dup-in-process %ld, zero %ld, unique %ld, "
	    "volatile %ld); expected_sharing=%ld floor=%ld", g.npages, npc[C_DUPX], npc[C_DUPP],
	    npc[C_ZERO], npc[C_UNIQ], npc[C_VOL], expected, floor_pages);

	g.stats = mmap(NULL, MAX_WORKERS * sizeof(struct wstats), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (g.stats == MAP_FAILED) {
		out("# mmap(stats): %s", strerror(errno));
		out("not ok 1 no mismatches # could not start");
		return 1;
	}

	if (g.no_migrate) {
		out("# migration disabled (-M)");
	} else {
		read_nodes();
		if (g.nnodes < 2) {
			out("# migration skipped: fewer than two NUMA nodes with memory");
			g.nnodes = 0;
		} else {
			out("# migration between %d NUMA nodes", g.nnodes);
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	swpin0 = read_proc_field("/proc/vmstat", "pswpin");
	swpout0 = read_proc_field("/proc/vmstat", "pswpout");
	swcopy0 = read_proc_field("/proc/vmstat", "ksm_swpin_copy");
	zp0 = read_knob("ksm_zero_pages");
	ctl_start();

	t = now();
	g.deadline = t + g.duration;
	next_knob = t + g.knob_s;
	next_kill = t + g.kill_s * (0.57 + xorshift(&prng) % 858 / 1000.0);
	for (k = 0; k < g.nworkers; k++)
		spawn(k);

	while (!stop && (t = now()) < g.deadline) {
		sleep_ms(100);
		reap();
		sharing = read_knob("pages_sharing");
		if (sharing > peak)
			peak = sharing;
		t = now();
		if (ctl.enabled && t >= next_knob) {
			ctl_flip();
			next_knob = t + g.knob_s * (0.7 + xorshift(&prng) % 600 / 1000.0);
		}
		if (t >= next_kill && t < g.deadline - 1) {
			kill_one();
			next_kill = t + g.kill_s * (0.57 + xorshift(&prng) % 858 / 1000.0);
		}
		for (k = 0; k < g.nworkers; k++)
			if (!slot_pid[k] && t - slot_dead_since[k] >= 1 && t < g.deadline - 1)
				spawn(k);
	}
	if (stop)
		out("# interrupted by signal %d, cleaning up", (int)stop);
	/* full_scans is not a delta: run=2 resets it */
	out("# ksm at end: full_scans=%ld pages_shared=%ld pages_sharing=%ld pages_unshared=%ld "
	    "pages_volatile=%ld ksm_zero_pages=%ld stable_node_chains=%ld stable_node_dups=%ld",
	    read_knob("full_scans"), read_knob("pages_shared"), read_knob("pages_sharing"),
	    read_knob("pages_unshared"), read_knob("pages_volatile"), read_knob("ksm_zero_pages"),
	    read_knob("stable_node_chains"), read_knob("stable_node_dups"));
	wait_workers();
	unmerge_own_pages();
	if (ctl.enabled)
		restored = ctl_restore();
	/* Our zero pages are gone with the workers: the count must be back. */
	zp1 = read_knob("ksm_zero_pages");

	memset(sum, 0, sizeof(sum));
	for (k = 0; k < g.nworkers; k++)
		for (i = 0; i < (long)(sizeof(sum) / sizeof(long)); i++)
			sum[i] += __atomic_load_n(&((long *)&g.stats[k])[i], __ATOMIC_RELAXED);
#define SUM(f) sum[offsetof(struct wstats, f) / sizeof(long)]
	out("# details: rewrites=%ld volatile_rewrites=%ld heals=%ld remaps=%ld mprotects=%ld "
	    "dontneeds=%ld toggles=%ld migrate_tries=%ld child_deaths=%ld child_hangs=%ld iterations=%ld "
	    "worker_starts=%ld nomem=%ld syscall_errors=%ld nomem_exits=%ld knob_errors=%ld "
	    "ksm_swpin_copy=%ld", SUM(rewrites), SUM(vol_rewrites), SUM(heals), SUM(remaps),
	    SUM(mprotects), SUM(dontneeds), SUM(toggles), SUM(migrate_tries), SUM(child_fails),
	    SUM(child_hangs), SUM(iterations), SUM(starts), SUM(nomem), SUM(errors), nomem_exits, ctl.errors,
	    swcopy0 < 0 ? -1 : read_proc_field("/proc/vmstat", "ksm_swpin_copy") - swcopy0);
	out("# ksm-stress: seed=%llu duration=%ld workers=%ld mib=%ld pages_checked=%ld writes=%ld "
	    "peak_pages_sharing=%ld expected_sharing=%ld forks=%ld migrations=%ld mremaps=%ld "
	    "kills=%ld knob_flips=%ld knob_refused=%ld swapin=%ld swapout=%ld mismatches=%ld",
	    (unsigned long long)g.seed, g.duration, g.nworkers, g.mib, SUM(checked),
	    SUM(writes) + SUM(rewrites), peak, expected, SUM(forks), SUM(migrations),
	    SUM(mremaps), kills, ctl.flips, ctl.refused,
	    swpin0 < 0 ? -1 : read_proc_field("/proc/vmstat", "pswpin") - swpin0,
	    swpout0 < 0 ? -1 : read_proc_field("/proc/vmstat", "pswpout") - swpout0, SUM(mismatches));

	if (SUM(mismatches)) {
		out("# %ld mismatches (pages that lost a write or changed by themselves, as "
		    "seen by workers and fork children)", SUM(mismatches));
		fail = 1;
	}
	out("%s 1 no mismatches", SUM(mismatches) ? "not ok" : "ok");
	if (peak < floor_pages)
		fail = 1;
	out("%s 2 merging happened: peak pages_sharing %ld >= floor %ld", peak < floor_pages ?
	    "not ok" : "ok", peak, floor_pages);
	if (unexpected || SUM(child_fails) || SUM(child_hangs))
		fail = 1;
	out("%s 3 all workers and fork children exited as expected (%ld unexpected, %ld children "
	    "died, %ld hung)", unexpected || SUM(child_fails) || SUM(child_hangs) ? "not ok" : "ok",
	    unexpected, SUM(child_fails), SUM(child_hangs));
	if (!ctl.enabled) {
		out("ok 4 knobs restored # SKIP controller disabled");
	} else {
		fail |= !restored;
		out("%s 4 knobs restored", restored ? "ok" : "not ok");
	}
	swpin = swpin0 < 0 ? -1 : read_proc_field("/proc/vmstat", "pswpin") - swpin0;
	swpout = swpout0 < 0 ? -1 : read_proc_field("/proc/vmstat", "pswpout") - swpout0;
	if (g.no_swap) {
		out("ok 5 swapping # SKIP not required (-S)");
	} else if (read_proc_field("/proc/meminfo", "SwapTotal") <= 0) {
		out("ok 5 swapping # SKIP no swap device is on");
	} else {
		int swapped = swpin > 0 && swpout > 0;

		fail |= !swapped;
		out("%s 5 pages were swapped out (%ld) and in (%ld)", swapped ? "ok" : "not ok",
		    swpout, swpin);
	}
	if (!g.nnodes) {
		out("ok 6 migration # SKIP %s", g.no_migrate ? "disabled (-M)" :
		    "fewer than two NUMA nodes with memory");
	} else {
		fail |= !SUM(migrations);
		out("%s 6 pages moved between NUMA nodes (%ld)", SUM(migrations) ? "ok" : "not ok",
		    SUM(migrations));
	}
	if (zp0 < 0 || zp1 < 0) {
		out("ok 7 ksm_zero_pages # SKIP no " KSM "ksm_zero_pages");
	} else {
		fail |= zp1 != zp0;
		out("%s 7 ksm_zero_pages back to %ld once the workers exited (%ld)",
		    zp1 == zp0 ? "ok" : "not ok", zp0, zp1);
	}
	return fail;
}
