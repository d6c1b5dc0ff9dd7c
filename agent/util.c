// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <errno.h>
#include <getopt.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include "util.h"
#include "kfeatures.h"

static void vlog(const char *prefix, const char *fmt, va_list ap)
{
	char buf[1024];

	vsnprintf(buf, sizeof(buf), fmt, ap);
	fprintf(stderr, "kiln: %s%s\n", prefix, buf);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void p_info(const char *fmt, ...)
{
	va_list ap;

	if (kiln_verbose < 1)
		return;
	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (kiln_verbose < 2)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

uint64_t now_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

int64_t now_real_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtol(s, &end, 10);
	if (*end || end == s)
		return -EINVAL;
	if (errno == ERANGE || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '<': fputs("\\u003c", f); break;
		case '>': fputs("\\u003e", f); break;
		case '&': fputs("\\u0026", f); break;
		default:
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

int write_file_atomicv(const char *path, const struct iovec *iov, int iovcnt)
{
	char tmp[4096];
	int fd, err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	for (int i = 0; i < iovcnt && !err; i++) {
		const char *p = iov[i].iov_base;
		size_t len = iov[i].iov_len;

		while (len && !err) {
			ssize_t n = write(fd, p, len);

			if (n < 0 && errno != EINTR)
				err = -errno;
			else if (n > 0) {
				p += n;
				len -= (size_t)n;
			}
		}
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

int write_file_atomic(const char *path, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return write_file_atomicv(path, &iov, 1);
}

int read_file_str(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return (int)n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

int cpu_busy_seconds(double *out)
{
	unsigned long long v[8] = { 0 };
	char buf[512];
	long hz = sysconf(_SC_CLK_TCK);
	int err = read_file_str("/proc/stat", buf, sizeof(buf));

	if (err)
		return err;
	/* cpu user nice system idle iowait irq softirq steal */
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) != 8 || hz <= 0)
		return -EINVAL;
	*out = (double)(v[0] + v[1] + v[2] + v[5] + v[6]) / (double)hz;
	return 0;
}

const char *kiln_arg_origin;

int usage_error_cmd(const char *cmd, const char *fmt, const char *arg)
{
	char msg[512];

	snprintf(msg, sizeof(msg), fmt, arg);
	if (kiln_arg_origin)
		p_err("%s: %s (see 'kiln %s --help')", kiln_arg_origin, msg, cmd);
	else
		p_err("%s (see 'kiln %s --help')", msg, cmd);
	return KILN_EXIT_USAGE;
}

int common_option(int c, char **argv, const char *cmd, const char *usage)
{
	switch (c) {
	case 'v':
		kiln_verbose++;
		return 0;
	case 'h':
		fputs(usage, stdout);
		return -1;
	case ':':
		return usage_error_cmd(cmd, "option '%s' needs a value", argv[optind - 1]);
	default:
		return usage_error_cmd(cmd, "unknown option '%s'", argv[optind - 1]);
	}
}

int option_pid(const char *cmd, const char *arg, uint32_t *pids, size_t *nr, size_t max)
{
	long v;

	if (parse_long(arg, 1, 0x7fffffff, &v))
		return usage_error_cmd(cmd, "invalid pid '%s'", arg);
	if (*nr == max)
		return usage_error_cmd(cmd, "too many pids: '%s'", arg);
	pids[(*nr)++] = (uint32_t)v;
	return 0;
}

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif

static int cgroup2_dir(const char *path)
{
	struct statfs sf;
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (statfs(path, &sf))
		return -errno;
	return sf.f_type == CGROUP2_SUPER_MAGIC ? 0 : -EMEDIUMTYPE;
}

int option_cgroup(const char *cmd, const char *arg, char (*paths)[512], size_t *nr, size_t max)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	int err = -ENOENT;

	if (*nr == max)
		return usage_error_cmd(cmd, "too many --cgroup options (at most 8): '%s'", arg);
	for (size_t i = 0; i < (arg[0] == '/' ? 1 : 2); i++) {
		int n = arg[0] == '/' ? snprintf(paths[*nr], 512, "%s", arg) :
			snprintf(paths[*nr], 512, "%s/%s", roots[i], arg);

		if (n < 0 || n >= 512)
			return usage_error_cmd(cmd, "invalid --cgroup '%s': path too long", arg);
		err = cgroup2_dir(paths[*nr]);
		if (!err) {
			(*nr)++;
			return 0;
		}
		if (err == -EMEDIUMTYPE)
			break;
	}
	if (err == -EMEDIUMTYPE)
		return usage_error_cmd(cmd, "invalid --cgroup '%s': not a cgroup v2 directory "
				       "(cgroup v1 hierarchies cannot be filtered on)", arg);
	return usage_error_cmd(cmd, "invalid --cgroup '%s': no such cgroup v2 directory", arg);
}

int option_comm(const char *cmd, const char *arg, const char **comms, size_t *nr, size_t max)
{
	if (!arg[0] || strlen(arg) > 15)
		return usage_error_cmd(cmd, "invalid --comm '%s': expected a process name of "
				       "1-15 characters", arg);
	if (*nr == max)
		return usage_error_cmd(cmd, "too many --comm options (at most 64): '%s'", arg);
	comms[(*nr)++] = arg;
	return 0;
}

int option_dwarf_mb(const char *cmd, const char *arg, size_t *bytes)
{
	long v;

	if (parse_long(arg, 0, 4096, &v))
		return usage_error_cmd(cmd, "invalid --dwarf-mb '%s': expected 0-4096 MiB", arg);
	*bytes = (size_t)v << 20;
	return 0;
}

int option_freq(const char *cmd, const char *arg, long *freq)
{
	int max_rate;

	if (parse_long(arg, 1, 10000, freq))
		return usage_error_cmd(cmd, "invalid frequency '%s': expected 1-10000 Hz", arg);
	max_rate = features__max_sample_rate();
	if (max_rate > 0 && *freq > max_rate) {
		p_err("frequency %s Hz is above kernel.perf_event_max_sample_rate (%d) "
		      "(see 'kiln %s --help')", arg, max_rate, cmd);
		return KILN_EXIT_USAGE;
	}
	return 0;
}
