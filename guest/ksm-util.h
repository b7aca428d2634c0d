/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The helpers the guest's C programs share (the shell programs have
 * lib.sh): the time, files and KSM's sysfs knobs, ksmd's CPU time, starting
 * worker processes, /proc counters, TAP results and page patterns. Static
 * functions: each program is one static binary.
 */
#ifndef KSM_UTIL_H
#define KSM_UTIL_H

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define KSM "/sys/kernel/mm/ksm/"

static __attribute__((unused)) double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The first line of the file at @path, without its newline: 0, or -1. */
static __attribute__((unused)) int read_file_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -1;
	ok = fgets(buf, len, f) != NULL;
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
	return ok ? 0 : -1;
}

static __attribute__((unused)) int read_knob_str(const char *name, char *buf, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), KSM "%s", name);
	return read_file_str(path, buf, len);
}

/* A numeric knob's value, or -1. */
static __attribute__((unused)) long read_knob(const char *name)
{
	char buf[64];

	return read_knob_str(name, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

/* The number the file at @path starts with, or -1. */
static __attribute__((unused)) long read_file_long(const char *path)
{
	char buf[64];

	return read_file_str(path, buf, sizeof(buf)) ? -1 : strtol(buf, NULL, 10);
}

/*
 * Write @val to @path in one write(): 0, or -errno when the open, the
 * write or the close fails (EIO for a short write).
 */
static __attribute__((unused)) int write_file(const char *path, const char *val)
{
	size_t len = strlen(val);
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	r = write(fd, val, len);
	if (r < 0)
		err = -errno;
	else if ((size_t)r != len)
		err = -EIO;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

static __attribute__((unused)) int write_knob(const char *name, const char *val)
{
	char path[256];

	snprintf(path, sizeof(path), KSM "%s", name);
	return write_file(path, val);
}

/* ksmd's CPU time in seconds, from /proc/<pid>/stat. */
static __attribute__((unused)) double ksmd_cpu(void)
{
	static char path[300];
	unsigned long ut, st;
	char buf[512], *p;
	FILE *f;

	if (!path[0]) {
		DIR *d = opendir("/proc");
		struct dirent *e;

		while (d && (e = readdir(d))) {
			char comm[64] = "";

			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			snprintf(buf, sizeof(buf), "/proc/%s/comm", e->d_name);
			f = fopen(buf, "r");
			if (!f)
				continue;
			if (fgets(comm, sizeof(comm), f) && !strcmp(comm, "ksmd\n"))
				snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
			fclose(f);
		}
		if (d)
			closedir(d);
		if (!path[0])
			return -1;
	}
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	p = strrchr(buf, ')');
	/* fields after comm: state(3) ... utime(14) stime(15) */
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

/*
 * Fork @n workers into @pids: worker i runs @fn(i, ready_fd, @arg), which
 * sets up its memory, writes one byte to ready_fd and never returns.
 * Returns 0 once every worker is ready, -1 on an error.
 */
static __attribute__((unused)) int start_workers(int n, pid_t *pids,
						 void (*fn)(int id, int ready_fd, void *arg),
						 void *arg)
{
	int pfd[2], i;
	char c;

	if (pipe(pfd))
		return -1;
	for (i = 0; i < n; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return -1;
		if (!pids[i]) {
			close(pfd[0]);
			fn(i, pfd[1], arg);
			_exit(2);
		}
	}
	close(pfd[1]);
	for (i = 0; i < n; i++)
		if (read(pfd[0], &c, 1) != 1)
			return -1;
	close(pfd[0]);
	return 0;
}

/*
 * The number after @key in a "key value" or "key: value" file such as
 * /proc/vmstat, /proc/meminfo or /proc/self/smaps_rollup: -1 when the
 * file or the key is missing.
 */
static __attribute__((unused)) long read_proc_field(const char *path, const char *key)
{
	char line[256];
	size_t len = strlen(key);
	long v = -1;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, len) && (line[len] == ':' || line[len] == ' ')) {
			v = strtol(line + len + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

/* TAP results so far, and how many of them failed */
static int tap_results, tap_failures;

/* One TAP result: "ok N <what>" or "not ok N <what>" */
static __attribute__((unused, format(printf, 2, 3))) void tap(int ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++tap_results);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failures++;
}

/*
 * Fill the @size bytes at @p with pattern @i of family @seed: no other
 * (@i, @seed) gives the same bytes.
 */
static __attribute__((unused)) void fill_pattern(char *p, long size, long i, uint64_t seed)
{
	uint64_t *w = (uint64_t *)p;
	uint64_t x = 0x9e3779b97f4a7c15ULL * (i + 1) ^ seed * 0xbf58476d1ce4e5b9ULL;
	long k;

	for (k = 0; k < size / 8; k++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		w[k] = x;
	}
}

#endif /* KSM_UTIL_H */
