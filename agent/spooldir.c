// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Spooled profiles on disk (see spooldir.h). */
#include <dirent.h>
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include "spooldir.h"
#include "util.h"

#define SPOOL_MAGIC_V1 "KILNSPL1"	/* no labels */
#define SPOOL_MAGIC "KILNSPL2"
#define SPOOL_SUFFIX ".kspool"
#define SPOOL_MAX_TYPES 16
#define SPOOL_MAX_BYTES (256u << 20)	/* no profile is near this: a bad file */

/* What precedes the profile in each file (host byte order: the files do not
 * travel between machines). */
struct spool_hdr {
	char magic[8];
	int32_t type;
	uint32_t pad;
	int64_t from_ns, until_ns;
	uint64_t len;
	char service[128];
	char labels[448];		/* KILNSPL2 on */
};
#define SPOOL_HDR_V1 offsetof(struct spool_hdr, labels)

int spooldir__open(const char *dir)
{
	char probe[4200];
	int fd;

	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	snprintf(probe, sizeof(probe), "%s/.kiln-probe", dir);
	fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	unlink(probe);
	return 0;
}

int spooldir__write(const char *dir, uint64_t seq, const struct spooled *meta, const void *data,
		    char *path, size_t path_len)
{
	struct spool_hdr h = { .magic = SPOOL_MAGIC, .type = meta->type, .from_ns = meta->from_ns,
			       .until_ns = meta->until_ns, .len = meta->len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)data, meta->len } };

	memcpy(h.magic, SPOOL_MAGIC, sizeof(h.magic));
	snprintf(h.service, sizeof(h.service), "%s", meta->service);
	snprintf(h.labels, sizeof(h.labels), "%s", meta->labels);
	snprintf(path, path_len, "%s/%020lld-%08llu" SPOOL_SUFFIX, dir, (long long)meta->until_ns,
		 (unsigned long long)seq);
	/* written as PATH.tmp, then renamed: scans skip what is not *.kspool */
	return write_file_atomicv(path, iov, 2);
}

static int read_hdr(int fd, struct spooled *meta)
{
	struct spool_hdr h = { 0 };
	size_t hlen = sizeof(h);
	struct stat st;

	if (fstat(fd, &st))
		return -errno;
	/* files of the last version (no labels) are read too */
	if (read(fd, &h, SPOOL_HDR_V1) != (ssize_t)SPOOL_HDR_V1)
		return -EBADMSG;
	if (!memcmp(h.magic, SPOOL_MAGIC_V1, 8))
		hlen = SPOOL_HDR_V1;
	else if (memcmp(h.magic, SPOOL_MAGIC, 8) ||
		 read(fd, h.labels, sizeof(h.labels)) != (ssize_t)sizeof(h.labels))
		return -EBADMSG;
	if (h.type < 0 || h.type >= SPOOL_MAX_TYPES || h.len > SPOOL_MAX_BYTES ||
	    (uint64_t)st.st_size != hlen + h.len || !memchr(h.service, 0, sizeof(h.service)) ||
	    !memchr(h.labels, 0, sizeof(h.labels)))
		return -EBADMSG;
	meta->type = h.type;
	memcpy(meta->service, h.service, sizeof(meta->service));
	memcpy(meta->labels, h.labels, sizeof(meta->labels));
	meta->from_ns = h.from_ns;
	meta->until_ns = h.until_ns;
	meta->len = (size_t)h.len;
	meta->file_bytes = (size_t)st.st_size;
	return 0;
}

int spooldir__read(const char *path, struct spooled *meta, uint8_t **data)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	uint8_t *buf;
	int err;

	*data = NULL;
	if (fd < 0)
		return -errno;
	err = read_hdr(fd, meta);
	if (err)
		goto out;
	buf = malloc(meta->len ? meta->len : 1);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	if (read(fd, buf, meta->len) != (ssize_t)meta->len) {
		free(buf);
		err = -EBADMSG;
		goto out;
	}
	*data = buf;
out:
	close(fd);
	return err;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int spooled_name(const struct dirent *d)
{
	size_t n = strlen(d->d_name), s = strlen(SPOOL_SUFFIX);

	return d->d_name[0] != '.' && n > s && !strcmp(d->d_name + n - s, SPOOL_SUFFIX);
}

int spooldir__scan(const char *dir, int (*fn)(void *ctx, const char *path,
					      const struct spooled *meta),
		   void *ctx, uint64_t *bad)
{
	struct dirent **names;
	int n = scandir(dir, &names, spooled_name, by_name), err = 0;

	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		char path[4352];
		struct spooled meta;
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			int e = read_hdr(fd, &meta);

			close(fd);
			if (e == -EBADMSG) {
				unlink(path);
				(*bad)++;
			} else if (!e && !err) {
				err = fn(ctx, path, &meta);
			}
		}
		free(names[i]);
	}
	free(names);
	return err;
}
