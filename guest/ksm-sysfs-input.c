// SPDX-License-Identifier: GPL-2.0
/*
 * ksm-sysfs-input: bad values written to /sys/kernel/mm/ksm must be refused.
 *
 * For every file in /sys/kernel/mm/ksm:
 *  - read-only files must refuse to be opened for writing (EACCES);
 *  - writable files get a table of bad values: negative, non-numeric,
 *    empty, blank, trailing garbage, overflowing, huge, plus values out of
 *    each file's own range (run=3, merge_across_nodes=2, max_page_sharing=1,
 *    advisor_max_cpu=101, advisor_min_pages_to_scan above the maximum, ...).
 *    Each write must fail with EINVAL (ERANGE is accepted for an overflowing
 *    number) and the file must read back the value it had before.
 * Files this program does not know (a newer kernel's) still get the generic
 * table. Finally, the kernel log must have no new WARNING, BUG or Oops.
 *
 * A zero-byte write never reaches the kernel's store method, so "empty" is
 * the newline that `echo > file` writes.
 *
 * With lab.kernel=base on the kernel command line (the unpatched base
 * kernel), the cases that the series fixes are reported as TODO: they are
 * known bugs of the base kernel, not failures of this test.
 *
 * Output is kselftest TAP, one result per file and value. Exit status: 0
 * when all pass, 1 when one fails, 4 when there is no KSM.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KSM "/sys/kernel/mm/ksm"
#define MAX_FILES 64
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The series' patches that fix what the base kernel gets wrong. */
#define FIX_BOOL "mm/ksm: refuse trailing characters in boolean knobs"
#define FIX_ADVISOR "mm/ksm: range-check the advisor's sysfs knobs"

enum { E_INVAL = 1, E_RANGE = 2 };

struct bad {
	const char *value;
	int errnos;		/* E_INVAL, or E_INVAL | E_RANGE */
	const char *base_bug;	/* the base kernel accepts it; the series fixes it */
};

/* Bad for every writable file, whatever its type. */
static const struct bad generic[] = {
	{ "-1\n", E_INVAL },
	{ "abc\n", E_INVAL },
	{ "\n", E_INVAL },
	{ " \n", E_INVAL },
	{ "-\n", E_INVAL },
	{ "0x\n", E_INVAL },
	{ "1x\n", E_INVAL },
	{ "1 2\n", E_INVAL },
	{ "1\n2\n", E_INVAL },
	{ "18446744073709551616\n", E_INVAL | E_RANGE },	/* 2^64 */
	{ "99999999999999999999999999999999\n", E_INVAL | E_RANGE },
};

/* Bad only for some files. */
static const struct {
	const char *file;
	struct bad bad;
} specific[] = {
	{ "run", { "3\n", E_INVAL } },
	{ "run", { "4\n", E_INVAL } },		/* KSM_RUN_OFFLINE is internal */
	{ "run", { "4294967296\n", E_INVAL | E_RANGE } },
	{ "pages_to_scan", { "4294967296\n", E_INVAL | E_RANGE } },
	{ "sleep_millisecs", { "4294967296\n", E_INVAL | E_RANGE } },
	{ "stable_node_chains_prune_millisecs", { "4294967296\n", E_INVAL | E_RANGE } },
	{ "merge_across_nodes", { "2\n", E_INVAL } },
	{ "merge_across_nodes", { "4294967297\n", E_INVAL | E_RANGE } },
	{ "max_page_sharing", { "0\n", E_INVAL } },
	{ "max_page_sharing", { "1\n", E_INVAL } },
	{ "max_page_sharing", { "2147483648\n", E_INVAL | E_RANGE } },
	{ "use_zero_pages", { "2\n", E_INVAL } },
	{ "use_zero_pages", { "10\n", E_INVAL, FIX_BOOL } },
	{ "use_zero_pages", { "yes please\n", E_INVAL, FIX_BOOL } },
	{ "use_zero_pages", { "onx\n", E_INVAL, FIX_BOOL } },
	{ "smart_scan", { "2\n", E_INVAL } },
	{ "smart_scan", { "10\n", E_INVAL, FIX_BOOL } },
	{ "smart_scan", { "no thanks\n", E_INVAL, FIX_BOOL } },
	{ "smart_scan", { "offx\n", E_INVAL, FIX_BOOL } },
	{ "advisor_mode", { "scan-time-x\n", E_INVAL } },
	{ "advisor_mode", { "scan\n", E_INVAL } },
	{ "advisor_mode", { "NONE\n", E_INVAL } },
	{ "advisor_max_cpu", { "0\n", E_INVAL, FIX_ADVISOR } },
	{ "advisor_max_cpu", { "101\n", E_INVAL, FIX_ADVISOR } },
	{ "advisor_max_cpu", { "4294967297\n", E_INVAL | E_RANGE, FIX_ADVISOR } },
	{ "advisor_target_scan_time", { "0\n", E_INVAL } },
	{ "page_hash", { "nosuch\n", E_INVAL } },
	{ "page_hash", { "XXHASH\n", E_INVAL } },
	{ "page_hash", { "xxhash crc32c\n", E_INVAL } },
	{ "page_hash", { "[xxhash]\n", E_INVAL } },
};

static int tests, failed, on_base;

/*
 * The base kernel parses its boolean knobs with kstrtobool(), which reads
 * only the first one or two characters: "1x", "10" and "yes please" are all
 * "true" there.
 */
static const char *bool_base_bug(const char *file, const char *value)
{
	if (strcmp(file, "use_zero_pages") && strcmp(file, "smart_scan"))
		return NULL;
	if (strchr("yYtT1nNfF0", value[0]) ||
	    ((value[0] == 'o' || value[0] == 'O') && strchr("nNfF", value[1])))
		return FIX_BOOL;
	return NULL;
}

static void result(int ok, const char *base_bug, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d ", ok ? "ok" : "not ok", ++tests);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok && on_base && base_bug)
		printf(" # TODO base kernel bug, fixed by \"%s\"", base_bug);
	else if (!ok)
		failed++;
	putchar('\n');
}

/* The value as C source, for the test names. */
static const char *quote(const char *s)
{
	static char buf[4][96];
	static int n;
	char *b = buf[n++ % 4], *p = b;

	*p++ = '"';
	for (; *s && p < b + sizeof(buf[0]) - 4; s++) {
		if (*s == '\n') {
			*p++ = '\\';
			*p++ = 'n';
		} else {
			*p++ = *s;
		}
	}
	*p++ = '"';
	*p = 0;
	return b;
}

static int read_file(const char *name, char *buf, size_t size)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), KSM "/%s", name);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return 0;
}

/* Returns 0 when the write was accepted, else the errno. */
static int write_file(const char *name, const char *value)
{
	char path[256];
	ssize_t n;
	int fd, err = 0;

	snprintf(path, sizeof(path), KSM "/%s", name);
	fd = open(path, O_WRONLY);
	if (fd < 0)
		return errno;
	n = write(fd, value, strlen(value));
	if (n < 0)
		err = errno;
	close(fd);
	return err;
}

static const char *errnos_name(int errnos)
{
	return errnos == E_INVAL ? "EINVAL" : "EINVAL or ERANGE";
}

static void check_bad(const char *file, const struct bad *bad)
{
	char before[256], after[256];
	const char *base_bug = bad->base_bug ? : bool_base_bug(file, bad->value);
	int err, ok_errno, unchanged;

	if (read_file(file, before, sizeof(before))) {
		result(0, NULL, "%s: cannot read: %s", file, strerror(errno));
		return;
	}
	err = write_file(file, bad->value);
	ok_errno = (err == EINVAL && (bad->errnos & E_INVAL)) ||
		   (err == ERANGE && (bad->errnos & E_RANGE));
	if (read_file(file, after, sizeof(after)))
		strcpy(after, "(unreadable)\n");
	unchanged = !strcmp(before, after);
	before[strcspn(before, "\n")] = 0;
	after[strcspn(after, "\n")] = 0;
	if (!ok_errno || !unchanged)
		printf("# %s <- %s: %s (want %s), value '%s' -> '%s'\n", file, quote(bad->value),
		       err ? strerror(err) : "accepted", errnos_name(bad->errnos), before, after);
	result(ok_errno && unchanged, base_bug, "%s <- %s: %s, value stays '%s'", file,
	       quote(bad->value), errnos_name(bad->errnos), before);
	/* A base kernel that took the value gets the old one back. */
	if (!unchanged) {
		strcat(before, "\n");
		write_file(file, before);
	}
}

static long read_long(const char *file)
{
	char buf[64];

	return read_file(file, buf, sizeof(buf)) ? -1 : atol(buf);
}

/* advisor_min_pages_to_scan <= advisor_max_pages_to_scan must always hold. */
static void check_advisor_bounds(void)
{
	static char value[2][32];
	static struct bad bad[2] = {
		{ value[0], E_INVAL, FIX_ADVISOR },
		{ value[1], E_INVAL, FIX_ADVISOR },
	};
	long min = read_long("advisor_min_pages_to_scan");
	long max = read_long("advisor_max_pages_to_scan");

	if (min < 0 || max < 0)
		return;
	snprintf(value[0], sizeof(value[0]), "%ld\n", max + 1);
	check_bad("advisor_min_pages_to_scan", &bad[0]);
	if (min > 0) {
		snprintf(value[1], sizeof(value[1]), "%ld\n", min - 1);
		check_bad("advisor_max_pages_to_scan", &bad[1]);
	}
}

static int kmsg_fd = -1;

static void kmsg_start(void)
{
	kmsg_fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK);
	if (kmsg_fd >= 0)
		lseek(kmsg_fd, 0, SEEK_END);
}

static void kmsg_check(void)
{
	static const char * const reports[] = {
		"WARNING:", "BUG:", "Oops", "Call Trace", "KASAN", "UBSAN", "general protection",
	};
	char rec[8192];
	int bad = 0;
	ssize_t n;
	size_t i;

	if (kmsg_fd < 0) {
		result(0, NULL, "kernel log stays clean: cannot open /dev/kmsg: %s",
		       strerror(errno));
		return;
	}
	while ((n = read(kmsg_fd, rec, sizeof(rec) - 1)) != 0) {
		if (n < 0) {
			if (errno == EPIPE)	/* overwritten records */
				continue;
			break;		/* EAGAIN: no more records */
		}
		rec[n] = 0;
		for (i = 0; i < ARRAY_SIZE(reports); i++) {
			if (strstr(rec, reports[i])) {
				printf("# kernel log: %s", strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
				bad++;
				break;
			}
		}
	}
	result(!bad, NULL, "kernel log stays clean (%d reports)", bad);
}

static int cmp(const void *a, const void *b)
{
	return strcmp(*(char * const *)a, *(char * const *)b);
}

int main(void)
{
	char *files[MAX_FILES], cmdline[4096] = "";
	int nfiles = 0, i, fd, err;
	struct dirent *d;
	size_t j, k;
	struct stat st;
	char path[256];
	DIR *dir;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("TAP version 13\n");
	dir = opendir(KSM);
	if (!dir) {
		printf("1..0 # SKIP no " KSM " (CONFIG_KSM=n)\n");
		return 4;
	}
	while ((d = readdir(dir)) && nfiles < MAX_FILES)
		if (d->d_name[0] != '.')
			files[nfiles++] = strdup(d->d_name);
	closedir(dir);
	qsort(files, nfiles, sizeof(files[0]), cmp);

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd >= 0) {
		if (read(fd, cmdline, sizeof(cmdline) - 1) < 0)
			cmdline[0] = 0;
		close(fd);
	}
	on_base = strstr(cmdline, "lab.kernel=base") != NULL;
	if (on_base)
		printf("# base kernel (lab.kernel=base): the series' fixes are TODO\n");
	if (geteuid())
		printf("# not root: writes fail with EACCES, results are meaningless\n");

	kmsg_start();
	for (i = 0; i < nfiles; i++) {
		snprintf(path, sizeof(path), KSM "/%s", files[i]);
		if (stat(path, &st)) {
			result(0, NULL, "%s: stat: %s", files[i], strerror(errno));
			continue;
		}
		if (!(st.st_mode & 0222)) {
			err = write_file(files[i], "0\n");
			if (err != EACCES)
				printf("# %s: %s (want EACCES)\n", files[i],
				       err ? strerror(err) : "accepted");
			result(err == EACCES, NULL, "%s is read-only: EACCES", files[i]);
			continue;
		}
		for (j = 0; j < ARRAY_SIZE(generic); j++)
			check_bad(files[i], &generic[j]);
		for (k = 0; k < ARRAY_SIZE(specific); k++)
			if (!strcmp(specific[k].file, files[i]))
				check_bad(files[i], &specific[k].bad);
	}
	if (access(KSM "/advisor_min_pages_to_scan", F_OK) == 0)
		check_advisor_bounds();
	kmsg_check();

	printf("1..%d\n", tests);
	printf("# ksm-sysfs-input: %d files, %d results, %d failed\n", nfiles, tests, failed);
	return failed ? 1 : 0;
}
