/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_OUTPUT_H
#define KILN_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "pprof.h"

/* One view of the flame graph page. */
struct flame_view {
	const char *id;			/* "cpu" */
	const char *label;		/* "CPU" */
	const char *unit;		/* "samples" */
	const struct pprof *prof;
	size_t value_index;		/* which sample value to draw */
};

/* gzipped pprof, written atomically. Returns 0 or -errno. */
int output__pprof_gz(const struct pprof *p, const char *path);
/* Folded stacks: "comm;outer;...;leaf COUNT", kernel frames suffixed _[k].
 * Written via a temporary file. Returns 0 or -errno. */
int output__folded(const struct pprof *p, size_t value_index, const char *path);
/* Self-contained HTML flame graph. Returns 0 or -errno. */
int output__flamegraph(const struct flame_view *views, size_t nr_views, const char *title,
		       const char *subtitle, const char *path);

/* The display name of a location: function, else file+0xoffset, else [unknown].
 * Writes into @buf and returns it. */
const char *output__frame_name(const struct pprof *p, uint64_t loc, char *buf, size_t len,
			       bool *kernel);
/* Frames location @loc stands for: its lines (inlined functions), at least 1. */
size_t output__frame_lines(const struct pprof *p, uint64_t loc);
/* The name of line @k of @loc (0 = innermost), as output__frame_name(). */
const char *output__frame_name_line(const struct pprof *p, uint64_t loc, size_t k, char *buf,
				    size_t len, bool *kernel);

struct top_entry {
	char name[256];
	uint64_t value;
};

/* Sum of value @vi by leaf function (self; the first @skip leaf frames
 * skipped) and by comm, biggest first. Returns the number of entries filled
 * (at most @max each). */
size_t output__top_functions(const struct pprof *p, size_t vi, size_t skip,
			     struct top_entry *out, size_t max);
size_t output__top_processes(const struct pprof *p, size_t vi, struct top_entry *out, size_t max,
			     size_t *nr_processes);

#endif
