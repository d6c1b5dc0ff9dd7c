// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/PID/maps parser. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolizer_int.h"

/* Parse an unsigned number in @base at *p, which must be followed by @sep
 * (or any space when @sep is ' '); advances *p past the separator. */
static int field(char **p, int base, char sep, unsigned long long *out)
{
	char *end;

	if (!isxdigit((unsigned char)**p))
		return -EINVAL;
	errno = 0;
	*out = strtoull(*p, &end, base);
	if (errno || end == *p || (sep == ' ' ? !isspace((unsigned char)*end) && *end : *end != sep))
		return -EINVAL;
	*p = *end ? end + 1 : end;
	return 0;
}

/* "start-end perms offset major:minor inode   path", without sscanf: this
 * runs for every new process seen. */
static int parse_line(char *line, struct procmap *m)
{
	unsigned long long start, end, offset, major, minor, inode;
	char *p = line, *path;

	if (field(&p, 16, '-', &start) || field(&p, 16, ' ', &end))
		return -EINVAL;
	if (end < start || strlen(p) < 5 || p[4] != ' ')
		return -EINVAL;
	memcpy(m->perms, p, 4);
	m->perms[4] = '\0';
	p += 5;
	if (field(&p, 16, ' ', &offset) || field(&p, 16, ':', &major) ||
	    field(&p, 16, ' ', &minor) || field(&p, 10, ' ', &inode))
		return -EINVAL;
	path = p;
	while (*path == ' ' || *path == '\t')
		path++;
	m->start = start;
	m->end = end;
	m->offset = offset;
	m->inode = inode;
	m->dev_major = (unsigned int)major;
	m->dev_minor = (unsigned int)minor;
	m->path = strdup(path);
	return m->path ? 0 : -ENOMEM;
}

int procmaps__parse(FILE *f, unsigned int flags, struct procmaps *out)
{
	size_t cap = 0, linecap = 0;
	char *line = NULL;
	ssize_t n;
	int err = 0;

	out->maps = NULL;
	out->nr = 0;
	while ((n = getline(&line, &linecap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (out->nr == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct procmap *nm = realloc(out->maps, ncap * sizeof(*nm));

			if (!nm) {
				err = -ENOMEM;
				break;
			}
			out->maps = nm;
			cap = ncap;
		}
		err = parse_line(line, &out->maps[out->nr]);
		if (err)
			break;
		if ((flags & PROCMAPS_EXEC) && out->maps[out->nr].perms[2] != 'x') {
			free(out->maps[out->nr].path);
			continue;
		}
		out->nr++;
	}
	if (!err && ferror(f))
		err = -EIO;
	free(line);
	if (err || !out->nr) {
		procmaps__clear(out);	/* none kept: nothing to free either */
	} else if (out->nr < cap) {
		/* a snapshot is kept for as long as its process lives */
		struct procmap *nm = realloc(out->maps, out->nr * sizeof(*nm));

		if (nm)
			out->maps = nm;
	}
	return err;
}

void procmaps__clear(struct procmaps *pm)
{
	for (size_t i = 0; i < pm->nr; i++)
		free(pm->maps[i].path);
	free(pm->maps);
	pm->maps = NULL;
	pm->nr = 0;
}

const struct procmap *procmaps__find(const struct procmaps *pm, uint64_t addr)
{
	/* the kernel lists mappings in address order, without overlaps */
	long i = addr_floor(pm->maps, pm->nr, sizeof(*pm->maps), addr);

	return i >= 0 && addr < pm->maps[i].end ? &pm->maps[i] : NULL;
}
