/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_UTIL_H
#define KILN_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Exit codes shared by every command. */
enum {
	KILN_EXIT_OK = 0,
	KILN_EXIT_RUNTIME = 1,		/* PID not found, BPF load, I/O, privileges */
	KILN_EXIT_USAGE = 2,		/* bad flag, value or config */
};

extern int kiln_verbose;

/* "kiln: <message>" on stderr. */
__attribute__((format(printf, 1, 2))) void p_err(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void p_warn(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void p_info(const char *fmt, ...);
__attribute__((format(printf, 1, 2))) void p_debug(const char *fmt, ...);

uint64_t now_mono_ns(void);
int64_t now_real_ns(void);

#define FNV1A_INIT 0xcbf29ce484222325ULL
/* 64-bit FNV-1a of @n bytes at @p, continuing from @h (FNV1A_INIT to start). */
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* Parse a whole decimal number in [min, max]. Returns 0 or -EINVAL/-ERANGE. */
int parse_long(const char *s, long min, long max, long *out);

/* One usage error line for `kiln CMD` (@fmt has one %s for @arg); returns
 * KILN_EXIT_USAGE. */
int usage_error_cmd(const char *cmd, const char *fmt, const char *arg);
/* Where the option being parsed came from ("FILE", "KILN_X"); NULL: the
 * command line. usage_error_cmd() names it. */
extern const char *kiln_arg_origin;
/* getopt_long's result @c for the options every command shares (-v, -h) and
 * its errors. Returns 0 after -v, -1 after printing @usage for -h, or
 * KILN_EXIT_USAGE after an error line. */
int common_option(int c, char **argv, const char *cmd, const char *usage);
/* -p PID: append to @pids (at most @max). -F HZ: 1-10000 and at most
 * kernel.perf_event_max_sample_rate. Return 0 or KILN_EXIT_USAGE after an
 * error line. */
int option_pid(const char *cmd, const char *arg, uint32_t *pids, size_t *nr, size_t max);
int option_freq(const char *cmd, const char *arg, long *freq);
/* --cgroup PATH: a cgroup v2 directory, absolute or relative to
 * /sys/fs/cgroup (or /sys/fs/cgroup/unified on hybrid hosts), resolved
 * into @paths[*nr]. */
int option_cgroup(const char *cmd, const char *arg, char (*paths)[512], size_t *nr, size_t max);
/* --comm NAME: a process name (at most 15 characters, as the kernel keeps it). */
int option_comm(const char *cmd, const char *arg, const char **comms, size_t *nr, size_t max);
/* --dwarf-mb N (0-4096; 0: no bound) into bytes. */
int option_dwarf_mb(const char *cmd, const char *arg, size_t *bytes);

/* Write @s as a JSON string literal, escaping '<' too so it can sit in HTML. */
void json_str(FILE *f, const char *s);

/* Write @len bytes to @path through "@path.tmp", fsync and rename, so a
 * failure (-ENOSPC, ...) leaves no partial file. Returns 0 or -errno. */
int write_file_atomic(const char *path, const void *buf, size_t len);
struct iovec;
/* The same for the pieces of @iov, one after the other. */
int write_file_atomicv(const char *path, const struct iovec *iov, int iovcnt);

/* Read a small text file into @buf (NUL-terminated, trailing newline cut). */
int read_file_str(const char *path, char *buf, size_t len);

/* CPU time all CPUs spent not idle (user, nice, system, irq, softirq; not
 * iowait or steal) since boot, from /proc/stat. Returns 0 or -errno. */
int cpu_busy_seconds(double *out);

#endif
