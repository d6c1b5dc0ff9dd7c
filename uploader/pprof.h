/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* pprof profile builder: interns strings, mappings, functions and locations,
 * merges samples with the same stack and labels, and encodes the result as a
 * perftools.profiles.Profile (optionally gzipped). It is also the model the
 * agent's text and HTML outputs read back. Never prints, never blocks on
 * anything but memory. */
#ifndef KILN_PPROF_H
#define KILN_PPROF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pprof;

struct pprof_value_type {
	const char *type;
	const char *unit;
};

struct pprof_opts {
	const struct pprof_value_type *sample_types;
	size_t nr_sample_types;		/* 1..4 */
	struct pprof_value_type period_type;
	int64_t period;
	int64_t time_nanos;		/* start, Unix epoch */
	int64_t duration_nanos;
	const char *default_sample_type; /* NULL: the last one */
};

/* A sample label: a string value when str is non-NULL, else num (with an
 * optional unit). */
struct pprof_label {
	const char *key;
	const char *str;
	int64_t num;
	const char *unit;
};

/* Returns NULL with errno set. Free with pprof__free(). */
struct pprof *pprof__new(const struct pprof_opts *opts);
void pprof__free(struct pprof *p);
void pprof__set_duration(struct pprof *p, int64_t duration_nanos);
/* Add a free-text comment (e.g. the sampling event); copied. */
int pprof__add_comment(struct pprof *p, const char *text);

/* Intern a mapping; returns its id (>= 1) or 0 on allocation failure.
 * @kernel marks kernel mappings for the outputs (not part of pprof). */
uint64_t pprof__mapping(struct pprof *p, uint64_t start, uint64_t limit, uint64_t offset,
			const char *file, const char *build_id, bool kernel);
/* Intern a location at @address in mapping @mapping_id (0: none). @func is
 * the function name, or NULL when unresolved. Returns its id (>= 1) or 0. */
uint64_t pprof__location(struct pprof *p, uint64_t mapping_id, uint64_t address,
			 const char *func);

#define PPROF_LINES_MAX 32

/* One function of a location: the innermost inlined function first, the
 * function the code physically belongs to last (pprof's Line order). */
struct pprof_line {
	const char *func;
	const char *file;		/* source file; NULL when unknown */
	int64_t line;			/* 0 when unknown */
};

/* Intern a location with @nr_lines lines (0: unresolved, at most
 * PPROF_LINES_MAX). Returns its id (>= 1) or 0. */
uint64_t pprof__location_lines(struct pprof *p, uint64_t mapping_id, uint64_t address,
			       const struct pprof_line *lines, size_t nr_lines);
/* Add @values (one per sample type) to the sample with this stack (leaf
 * first) and these labels, creating it if new. Returns 0 or -ENOMEM. */
int pprof__add_sample(struct pprof *p, const uint64_t *locs, size_t nr_locs,
		      const int64_t *values, const struct pprof_label *labels,
		      size_t nr_labels);

/* Read-back, for outputs. Pointers stay valid until the next change. */
struct pprof_frame {
	const char *func;		/* NULL when unresolved */
	const char *src_file;		/* source file of the line, NULL if unknown */
	int64_t src_line;		/* 0 if unknown */
	const char *file;		/* mapping's file, NULL without mapping */
	uint64_t file_offset;		/* address's offset in that file */
	bool kernel;
};
size_t pprof__nr_samples(const struct pprof *p);
size_t pprof__nr_sample_types(const struct pprof *p);
/* Sample @i: its stack (leaf first) as location ids, its values and labels. */
void pprof__sample(const struct pprof *p, size_t i, const uint64_t **locs, size_t *nr_locs,
		   const int64_t **values);
/* Value of string label @key of sample @i, or NULL. Numeric: returns false if absent. */
const char *pprof__sample_label_str(const struct pprof *p, size_t i, const char *key);
bool pprof__sample_label_num(const struct pprof *p, size_t i, const char *key, int64_t *num);
/* The innermost line of location @loc_id (and its mapping). */
void pprof__frame(const struct pprof *p, uint64_t loc_id, struct pprof_frame *out);
/* How many lines location @loc_id has (0: unresolved), and line @k of it
 * (0 = innermost inlined function). */
size_t pprof__location_nr_lines(const struct pprof *p, uint64_t loc_id);
void pprof__frame_line(const struct pprof *p, uint64_t loc_id, size_t k, struct pprof_frame *out);

/* Encode as protobuf. *buf is malloc'ed; the caller frees it. Returns 0 or -errno. */
int pprof__encode(const struct pprof *p, uint8_t **buf, size_t *len);
/* Encode and gzip: *out is malloc'ed; the caller frees it. Returns 0 or -errno. */
int pprof__encode_gz(const struct pprof *p, uint8_t **out, size_t *out_len);

#endif /* KILN_PPROF_H */
