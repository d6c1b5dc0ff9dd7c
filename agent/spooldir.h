/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* kiln run --spool-dir: encoded profiles kept in files while they wait to
 * be sent, so that a restart sends what the last run could not. One file
 * per profile, "<until ns>-<seq>.kspool", written under a temporary name
 * and renamed, so a crash leaves whole files or none. */
#ifndef KILN_SPOOLDIR_H
#define KILN_SPOOLDIR_H

#include <stddef.h>
#include <stdint.h>

struct spooled {
	int type;			/* the agent's profile type index */
	char service[128];
	char labels[448];		/* "k=v" lines: the service's Kubernetes names */
	int64_t from_ns, until_ns;	/* wall clock */
	size_t len;			/* profile bytes */
	size_t file_bytes;		/* on disk, header included */
};

/* Create @dir (0700) if needed and check it can be written. 0 or -errno. */
int spooldir__open(const char *dir);
/* Write one profile; its path goes to @path. 0 or -errno (ENOSPC, ...). */
int spooldir__write(const char *dir, uint64_t seq, const struct spooled *meta, const void *data,
		    char *path, size_t path_len);
/* Read the profile at @path into a malloc'ed buffer (*@data, meta->len bytes).
 * 0, or -errno (-EBADMSG for a file that is not a whole spooled profile). */
int spooldir__read(const char *path, struct spooled *meta, uint8_t **data);
/* Call @fn for each spooled profile of @dir, oldest first (file name
 * order); a file that is not a whole profile is removed and counted in
 * *@bad. Returns 0 or -errno. */
int spooldir__scan(const char *dir, int (*fn)(void *ctx, const char *path,
					      const struct spooled *meta),
		   void *ctx, uint64_t *bad);

#endif
