// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* pprof builder and encoder (protobuf-c, zlib). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "pprof.h"
#include "profile.pb-c.h"

#define MAX_TYPES 4

/* Open-addressing index from a 64-bit hash to an entry number; equality is
 * decided by the caller, so one index type serves every table below. */
struct index {
	uint32_t *slots;		/* entry + 1, 0 = empty */
	uint64_t *hashes;
	size_t cap, n;
};

typedef bool (*index_eq_fn)(const struct pprof *p, uint32_t entry, const void *key);

struct str_ent { uint32_t off; uint32_t len; };

struct mapping_key {
	uint64_t start, limit, offset;
	int64_t file, build_id;		/* string indexes */
	uint64_t kernel;
};

struct mapping {
	struct mapping_key key;		/* identity: hashed and compared */
	bool has_functions;
};

struct function {
	int64_t name, filename;		/* string indexes */
};

struct line {
	uint64_t function;		/* id */
	int64_t line;			/* 0: unknown */
};

struct location {
	uint64_t mapping;		/* id, 0 = none */
	uint64_t address;
	size_t lines;			/* offset into p->lines; innermost first */
	size_t nr_lines;		/* 0 = unresolved */
};

/* A location being interned: its lines are not stored yet. */
struct location_key {
	uint64_t mapping, address;
	const struct line *lines;
	size_t nr_lines;
};

struct label { int64_t key, str, num, unit; };

struct sample {
	size_t locs;			/* offset into p->locs */
	size_t nr_locs;
	size_t labels;			/* offset into p->labels */
	size_t nr_labels;
	size_t values;			/* offset into p->values */
};

struct pprof {
	size_t nr_types;
	int64_t types[MAX_TYPES][2];
	int64_t period_type[2];
	int64_t period, time_nanos, duration_nanos, default_type;

	char *strbuf;
	size_t strbuf_len, strbuf_cap;
	struct str_ent *strs;
	size_t nr_strs, strs_cap;
	struct index str_idx;

	struct mapping *mappings;
	size_t nr_mappings, mappings_cap;
	struct index mapping_idx;
	uint64_t last_mapping;		/* id asked for last (0: none yet): a
					 * stack's frames mostly share one */

	struct function *functions;	/* per function id - 1 */
	size_t nr_functions, functions_cap;
	struct index function_idx;

	struct location *locations;
	size_t nr_locations, locations_cap;
	struct index location_idx;
	struct line *lines;
	size_t nr_lines, lines_cap;

	struct sample *samples;
	size_t nr_samples, samples_cap;
	struct index sample_idx;
	uint64_t *locs;
	size_t nr_locs_all, locs_cap;
	struct label *labels;
	size_t nr_labels_all, labels_cap;
	int64_t *values;
	size_t nr_values_all, values_cap;

	int64_t *comments;
	size_t nr_comments, comments_cap;
};

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
	h *= 0xff51afd7ed558ccdULL;
	return h ^ (h >> 33);
}

static uint64_t hash_bytes(const void *data, size_t len)
{
	const unsigned char *b = data;
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Grow @*arr to hold @need elements of @size bytes. */
static int grow(void **arr, size_t *cap, size_t need, size_t size)
{
	size_t ncap;
	void *n;

	if (need <= *cap)
		return 0;
	ncap = *cap ? *cap : 16;
	while (ncap < need)
		ncap *= 2;
	n = realloc(*arr, ncap * size);
	if (!n)
		return -ENOMEM;
	*arr = n;
	*cap = ncap;
	return 0;
}

#define GROW(arr, cap, need) grow((void **)&(arr), &(cap), (need), sizeof(*(arr)))

static int index_rehash(struct index *ix)
{
	size_t ncap = ix->cap ? ix->cap * 2 : 64;
	uint32_t *slots = calloc(ncap, sizeof(*slots));
	uint64_t *hashes = calloc(ncap, sizeof(*hashes));

	if (!slots || !hashes) {
		free(slots);
		free(hashes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < ix->cap; i++) {
		size_t j;

		if (!ix->slots[i])
			continue;
		for (j = ix->hashes[i] & (ncap - 1); slots[j]; j = (j + 1) & (ncap - 1))
			;
		slots[j] = ix->slots[i];
		hashes[j] = ix->hashes[i];
	}
	free(ix->slots);
	free(ix->hashes);
	ix->slots = slots;
	ix->hashes = hashes;
	ix->cap = ncap;
	return 0;
}

/* Find the entry equal to @key; returns entry + 1, or 0 with *slot set to
 * where a new one goes (after growing the table if needed). */
static uint32_t index_find(const struct pprof *p, struct index *ix, uint64_t h,
			   index_eq_fn eq, const void *key, size_t *slot)
{
	size_t j;

	if ((ix->n + 1) * 4 >= ix->cap * 3 && index_rehash(ix))
		return UINT32_MAX;
	for (j = h & (ix->cap - 1); ix->slots[j]; j = (j + 1) & (ix->cap - 1))
		if (ix->hashes[j] == h && eq(p, ix->slots[j] - 1, key))
			return ix->slots[j];
	*slot = j;
	return 0;
}

static void index_put(struct index *ix, size_t slot, uint64_t h, uint32_t entry)
{
	ix->slots[slot] = entry + 1;
	ix->hashes[slot] = h;
	ix->n++;
}

static void index_free(struct index *ix)
{
	free(ix->slots);
	free(ix->hashes);
}

/* --- strings ---------------------------------------------------------------- */

struct str_key { const char *s; size_t len; };

static bool str_eq(const struct pprof *p, uint32_t e, const void *k)
{
	const struct str_key *key = k;

	return p->strs[e].len == key->len &&
	       !memcmp(p->strbuf + p->strs[e].off, key->s, key->len);
}

/* Index of @s in the string table, or -1 on allocation failure. */
static int64_t intern(struct pprof *p, const char *s)
{
	struct str_key key = { s ? s : "", s ? strlen(s) : 0 };
	uint64_t h = hash_bytes(key.s, key.len);
	size_t slot = 0;
	uint32_t e = index_find(p, &p->str_idx, h, str_eq, &key, &slot);

	if (e == UINT32_MAX)
		return -1;
	if (e)
		return e - 1;
	if (GROW(p->strs, p->strs_cap, p->nr_strs + 1) ||
	    GROW(p->strbuf, p->strbuf_cap, p->strbuf_len + key.len + 1))
		return -1;
	memcpy(p->strbuf + p->strbuf_len, key.s, key.len);
	p->strbuf[p->strbuf_len + key.len] = '\0';
	p->strs[p->nr_strs].off = (uint32_t)p->strbuf_len;
	p->strs[p->nr_strs].len = (uint32_t)key.len;
	p->strbuf_len += key.len + 1;
	index_put(&p->str_idx, slot, h, (uint32_t)p->nr_strs);
	return (int64_t)p->nr_strs++;
}

static const char *str_at(const struct pprof *p, int64_t i)
{
	return p->strbuf + p->strs[i].off;
}

/* --- construction ------------------------------------------------------------ */

struct pprof *pprof__new(const struct pprof_opts *o)
{
	struct pprof *p;

	if (!o || !o->nr_sample_types || o->nr_sample_types > MAX_TYPES) {
		errno = EINVAL;
		return NULL;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	if (intern(p, "") != 0)
		goto nomem;
	p->nr_types = o->nr_sample_types;
	p->default_type = 0;
	for (size_t i = 0; i < p->nr_types; i++) {
		p->types[i][0] = intern(p, o->sample_types[i].type);
		p->types[i][1] = intern(p, o->sample_types[i].unit);
		if (p->types[i][0] < 0 || p->types[i][1] < 0)
			goto nomem;
		if (o->default_sample_type && !strcmp(o->default_sample_type, o->sample_types[i].type))
			p->default_type = p->types[i][0];
	}
	p->period_type[0] = intern(p, o->period_type.type);
	p->period_type[1] = intern(p, o->period_type.unit);
	if (p->period_type[0] < 0 || p->period_type[1] < 0)
		goto nomem;
	p->period = o->period;
	p->time_nanos = o->time_nanos;
	p->duration_nanos = o->duration_nanos;
	return p;
nomem:
	pprof__free(p);
	errno = ENOMEM;
	return NULL;
}

void pprof__free(struct pprof *p)
{
	if (!p)
		return;
	free(p->strbuf);
	free(p->strs);
	index_free(&p->str_idx);
	free(p->mappings);
	index_free(&p->mapping_idx);
	free(p->functions);
	index_free(&p->function_idx);
	free(p->locations);
	index_free(&p->location_idx);
	free(p->lines);
	free(p->samples);
	index_free(&p->sample_idx);
	free(p->locs);
	free(p->labels);
	free(p->values);
	free(p->comments);
	free(p);
}

void pprof__set_duration(struct pprof *p, int64_t duration_nanos)
{
	p->duration_nanos = duration_nanos;
}

int pprof__add_comment(struct pprof *p, const char *text)
{
	int64_t s = intern(p, text);

	if (s < 0 || GROW(p->comments, p->comments_cap, p->nr_comments + 1))
		return -ENOMEM;
	p->comments[p->nr_comments++] = s;
	return 0;
}

static bool mapping_eq(const struct pprof *p, uint32_t e, const void *k)
{
	return !memcmp(&p->mappings[e].key, k, sizeof(struct mapping_key));
}

/* Is @l the mapping of these arguments? Compares the strings, not their
 * pointers: a caller's buffer may hold another name by now. */
static bool same_mapping(const struct pprof *p, const struct mapping_key *l, uint64_t start,
			 uint64_t limit, uint64_t offset, const char *file, const char *build_id,
			 bool kernel)
{
	return l->start == start && l->limit == limit && l->offset == offset &&
	       l->kernel == kernel && !strcmp(str_at(p, l->file), file ? file : "") &&
	       !strcmp(str_at(p, l->build_id), build_id ? build_id : "");
}

uint64_t pprof__mapping(struct pprof *p, uint64_t start, uint64_t limit, uint64_t offset,
			const char *file, const char *build_id, bool kernel)
{
	struct mapping_key m;
	size_t slot = 0;
	uint64_t h;
	uint32_t e;

	if (p->last_mapping && same_mapping(p, &p->mappings[p->last_mapping - 1].key, start, limit,
					    offset, file, build_id, kernel))
		return p->last_mapping;
	m = (struct mapping_key){
		.start = start, .limit = limit, .offset = offset,
		.file = intern(p, file), .build_id = intern(p, build_id), .kernel = kernel,
	};
	if (m.file < 0 || m.build_id < 0)
		return 0;
	h = hash_bytes(&m, sizeof(m));
	e = index_find(p, &p->mapping_idx, h, mapping_eq, &m, &slot);
	if (e == UINT32_MAX)
		return 0;
	if (!e) {
		if (GROW(p->mappings, p->mappings_cap, p->nr_mappings + 1))
			return 0;
		p->mappings[p->nr_mappings].key = m;
		p->mappings[p->nr_mappings].has_functions = false;
		index_put(&p->mapping_idx, slot, h, (uint32_t)p->nr_mappings);
		e = (uint32_t)++p->nr_mappings;
	}
	p->last_mapping = e;
	return e;
}

static bool function_eq(const struct pprof *p, uint32_t e, const void *k)
{
	const struct function *f = k;

	return p->functions[e].name == f->name && p->functions[e].filename == f->filename;
}

static uint64_t function_id(struct pprof *p, const char *name, const char *file)
{
	struct function f = { intern(p, name), file ? intern(p, file) : 0 };
	size_t slot = 0;
	uint64_t h;
	uint32_t e;

	if (f.name < 0 || f.filename < 0)
		return 0;
	h = mix(mix(0, (uint64_t)f.name), (uint64_t)f.filename);
	e = index_find(p, &p->function_idx, h, function_eq, &f, &slot);
	if (e == UINT32_MAX)
		return 0;
	if (e)
		return e;
	if (GROW(p->functions, p->functions_cap, p->nr_functions + 1))
		return 0;
	p->functions[p->nr_functions] = f;
	index_put(&p->function_idx, slot, h, (uint32_t)p->nr_functions);
	return ++p->nr_functions;
}

static bool location_eq(const struct pprof *p, uint32_t e, const void *k)
{
	const struct location *a = &p->locations[e];
	const struct location_key *b = k;

	if (a->mapping != b->mapping || a->address != b->address || a->nr_lines != b->nr_lines)
		return false;
	for (size_t i = 0; i < a->nr_lines; i++)
		if (p->lines[a->lines + i].function != b->lines[i].function ||
		    p->lines[a->lines + i].line != b->lines[i].line)
			return false;
	return true;
}

uint64_t pprof__location_lines(struct pprof *p, uint64_t mapping_id, uint64_t address,
			       const struct pprof_line *lines, size_t nr_lines)
{
	struct line ls[PPROF_LINES_MAX];
	struct location_key key = { mapping_id, address, ls, nr_lines };
	size_t slot = 0;
	uint64_t h;
	uint32_t e;

	if (mapping_id > p->nr_mappings || nr_lines > PPROF_LINES_MAX)
		return 0;
	h = mix(mix(1, mapping_id), address);
	for (size_t i = 0; i < nr_lines; i++) {
		ls[i].function = function_id(p, lines[i].func, lines[i].file);
		ls[i].line = lines[i].line;
		if (!ls[i].function)
			return 0;
		h = mix(mix(h, ls[i].function), (uint64_t)ls[i].line);
	}
	if (nr_lines && mapping_id)
		p->mappings[mapping_id - 1].has_functions = true;
	e = index_find(p, &p->location_idx, h, location_eq, &key, &slot);
	if (e == UINT32_MAX)
		return 0;
	if (e)
		return e;
	if (GROW(p->locations, p->locations_cap, p->nr_locations + 1) ||
	    GROW(p->lines, p->lines_cap, p->nr_lines + nr_lines))
		return 0;
	memcpy(p->lines + p->nr_lines, ls, nr_lines * sizeof(*ls));
	p->locations[p->nr_locations] = (struct location){ mapping_id, address, p->nr_lines,
							   nr_lines };
	p->nr_lines += nr_lines;
	index_put(&p->location_idx, slot, h, (uint32_t)p->nr_locations);
	return ++p->nr_locations;
}

uint64_t pprof__location(struct pprof *p, uint64_t mapping_id, uint64_t address,
			 const char *func)
{
	struct pprof_line l = { .func = func };

	return pprof__location_lines(p, mapping_id, address, &l, func ? 1 : 0);
}

struct sample_key {
	const uint64_t *locs;
	size_t nr_locs;
	const struct label *labels;
	size_t nr_labels;
};

static bool sample_eq(const struct pprof *p, uint32_t e, const void *k)
{
	const struct sample *s = &p->samples[e];
	const struct sample_key *key = k;

	return s->nr_locs == key->nr_locs && s->nr_labels == key->nr_labels &&
	       !memcmp(p->locs + s->locs, key->locs, key->nr_locs * sizeof(*key->locs)) &&
	       !memcmp(p->labels + s->labels, key->labels, key->nr_labels * sizeof(*key->labels));
}

#define MAX_LABELS 16

int pprof__add_sample(struct pprof *p, const uint64_t *locs, size_t nr_locs,
		      const int64_t *values, const struct pprof_label *labels,
		      size_t nr_labels)
{
	struct label lb[MAX_LABELS];
	struct sample_key key;
	struct sample *s;
	size_t slot = 0;
	uint64_t h;
	uint32_t e;

	if (nr_labels > MAX_LABELS)
		return -E2BIG;
	memset(lb, 0, sizeof(lb));
	for (size_t i = 0; i < nr_labels; i++) {
		lb[i].key = intern(p, labels[i].key);
		lb[i].str = labels[i].str ? intern(p, labels[i].str) : 0;
		lb[i].num = labels[i].str ? 0 : labels[i].num;
		lb[i].unit = labels[i].unit ? intern(p, labels[i].unit) : 0;
		if (lb[i].key < 0 || lb[i].str < 0 || lb[i].unit < 0)
			return -ENOMEM;
	}
	key = (struct sample_key){ locs, nr_locs, lb, nr_labels };
	h = hash_bytes(locs, nr_locs * sizeof(*locs));
	h = mix(h, hash_bytes(lb, nr_labels * sizeof(*lb)));
	e = index_find(p, &p->sample_idx, h, sample_eq, &key, &slot);
	if (e == UINT32_MAX)
		return -ENOMEM;
	if (e) {
		int64_t *v = p->values + p->samples[e - 1].values;

		for (size_t i = 0; i < p->nr_types; i++)
			v[i] += values[i];
		return 0;
	}
	if (GROW(p->samples, p->samples_cap, p->nr_samples + 1) ||
	    GROW(p->locs, p->locs_cap, p->nr_locs_all + nr_locs) ||
	    GROW(p->labels, p->labels_cap, p->nr_labels_all + nr_labels) ||
	    GROW(p->values, p->values_cap, p->nr_values_all + p->nr_types))
		return -ENOMEM;
	s = &p->samples[p->nr_samples];
	s->locs = p->nr_locs_all;
	s->nr_locs = nr_locs;
	s->labels = p->nr_labels_all;
	s->nr_labels = nr_labels;
	s->values = p->nr_values_all;
	memcpy(p->locs + s->locs, locs, nr_locs * sizeof(*locs));
	memcpy(p->labels + s->labels, lb, nr_labels * sizeof(*lb));
	memcpy(p->values + s->values, values, p->nr_types * sizeof(*values));
	p->nr_locs_all += nr_locs;
	p->nr_labels_all += nr_labels;
	p->nr_values_all += p->nr_types;
	index_put(&p->sample_idx, slot, h, (uint32_t)p->nr_samples);
	p->nr_samples++;
	return 0;
}

/* --- read-back ----------------------------------------------------------------- */

size_t pprof__nr_samples(const struct pprof *p)
{
	return p->nr_samples;
}

size_t pprof__nr_sample_types(const struct pprof *p)
{
	return p->nr_types;
}

void pprof__sample(const struct pprof *p, size_t i, const uint64_t **locs, size_t *nr_locs,
		   const int64_t **values)
{
	const struct sample *s = &p->samples[i];

	*locs = p->locs + s->locs;
	*nr_locs = s->nr_locs;
	*values = p->values + s->values;
}

static const struct label *find_label(const struct pprof *p, size_t i, const char *key)
{
	const struct sample *s = &p->samples[i];

	for (size_t j = 0; j < s->nr_labels; j++) {
		const struct label *l = &p->labels[s->labels + j];

		if (!strcmp(str_at(p, l->key), key))
			return l;
	}
	return NULL;
}

const char *pprof__sample_label_str(const struct pprof *p, size_t i, const char *key)
{
	const struct label *l = find_label(p, i, key);

	return l && l->str ? str_at(p, l->str) : NULL;
}

bool pprof__sample_label_num(const struct pprof *p, size_t i, const char *key, int64_t *num)
{
	const struct label *l = find_label(p, i, key);

	if (!l || l->str)
		return false;
	*num = l->num;
	return true;
}

size_t pprof__location_nr_lines(const struct pprof *p, uint64_t loc_id)
{
	return p->locations[loc_id - 1].nr_lines;
}

void pprof__frame_line(const struct pprof *p, uint64_t loc_id, size_t k, struct pprof_frame *out)
{
	const struct location *l = &p->locations[loc_id - 1];

	pprof__frame(p, loc_id, out);
	if (k < l->nr_lines) {
		const struct line *ln = &p->lines[l->lines + k];
		const struct function *f = &p->functions[ln->function - 1];

		out->func = str_at(p, f->name);
		out->src_file = f->filename ? str_at(p, f->filename) : NULL;
		out->src_line = ln->line;
	}
}

void pprof__frame(const struct pprof *p, uint64_t loc_id, struct pprof_frame *out)
{
	const struct location *l = &p->locations[loc_id - 1];

	memset(out, 0, sizeof(*out));
	if (l->nr_lines) {
		const struct line *ln = &p->lines[l->lines];
		const struct function *f = &p->functions[ln->function - 1];

		out->func = str_at(p, f->name);
		out->src_file = f->filename ? str_at(p, f->filename) : NULL;
		out->src_line = ln->line;
	}
	if (l->mapping) {
		const struct mapping_key *m = &p->mappings[l->mapping - 1].key;

		out->file = str_at(p, m->file);
		out->file_offset = l->address - m->start + m->offset;
		out->kernel = m->kernel;
	}
}

/* --- encoding --------------------------------------------------------------------- */

/* The profile is written as a stream of its fields, each message packed by
 * protobuf-c on its own: a serialized message is the concatenation of its
 * fields, and repeated fields may come in any order. The scalars go first
 * as a Profile of their own, then one field per sample, mapping, location,
 * function and string. Only one message is in memory at a time, not a copy
 * of the whole profile as protobuf-c structures plus its packed bytes: for
 * a big service that was megabytes at every upload. */

enum {
	FIELD_SAMPLE = 2, FIELD_MAPPING = 3, FIELD_LOCATION = 4, FIELD_FUNCTION = 5,
	FIELD_STRING = 6,
};

/* A growing byte buffer: a packed message, or the output. */
struct out_buf {
	uint8_t *buf;
	size_t len, cap;
};

static int out_grow(struct out_buf *o, size_t need)
{
	size_t ncap = o->cap ? o->cap : 64 << 10;
	uint8_t *nb;

	while (ncap < need)
		ncap *= 2;
	if (ncap == o->cap)
		return 0;
	nb = realloc(o->buf, ncap);
	if (!nb)
		return -ENOMEM;
	o->buf = nb;
	o->cap = ncap;
	return 0;
}

typedef int (*emit_fn)(void *ctx, const uint8_t *buf, size_t len);

struct enc {
	emit_fn emit;
	void *ctx;
	struct out_buf msg;		/* one packed message */
	Perftools__Profiles__Line *lines;	/* one location's */
	Perftools__Profiles__Line **linep;
	size_t lines_cap;
};

static size_t put_varint(uint8_t *p, uint64_t v)
{
	size_t n = 0;

	while (v >= 0x80) {
		p[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	p[n++] = (uint8_t)v;
	return n;
}

/* Field @field, length-delimited: its key, its length, and @msg packed (or,
 * without @msg, the @len bytes at @data). */
static int enc_field(struct enc *e, unsigned int field, const ProtobufCMessage *msg,
		     const void *data, size_t len)
{
	uint8_t head[20];
	size_t n;
	int err;

	if (msg) {
		len = protobuf_c_message_get_packed_size(msg);
		err = out_grow(&e->msg, len);
		if (err)
			return err;
		protobuf_c_message_pack(msg, e->msg.buf);
		data = e->msg.buf;
	}
	n = put_varint(head, (uint64_t)field << 3 | 2);
	n += put_varint(head + n, len);
	err = e->emit(e->ctx, head, n);
	return err || !len ? err : e->emit(e->ctx, data, len);
}

static int enc_header(struct enc *e, const struct pprof *p)
{
	Perftools__Profiles__Profile prof = PERFTOOLS__PROFILES__PROFILE__INIT;
	Perftools__Profiles__ValueType vts[MAX_TYPES], *vtp[MAX_TYPES], period_type;
	size_t len;
	int err;

	for (size_t i = 0; i < p->nr_types; i++) {
		perftools__profiles__value_type__init(&vts[i]);
		vts[i].type = p->types[i][0];
		vts[i].unit = p->types[i][1];
		vtp[i] = &vts[i];
	}
	perftools__profiles__value_type__init(&period_type);
	period_type.type = p->period_type[0];
	period_type.unit = p->period_type[1];
	prof.n_sample_type = p->nr_types;
	prof.sample_type = vtp;
	prof.time_nanos = p->time_nanos;
	prof.duration_nanos = p->duration_nanos;
	prof.period_type = &period_type;
	prof.period = p->period;
	prof.n_comment = p->nr_comments;
	prof.comment = p->comments;
	prof.default_sample_type = p->default_type;
	len = perftools__profiles__profile__get_packed_size(&prof);
	err = out_grow(&e->msg, len);
	if (err)
		return err;
	perftools__profiles__profile__pack(&prof, e->msg.buf);
	return e->emit(e->ctx, e->msg.buf, len);
}

static int enc_sample(struct enc *e, const struct pprof *p, const struct sample *s)
{
	Perftools__Profiles__Sample m = PERFTOOLS__PROFILES__SAMPLE__INIT;
	Perftools__Profiles__Label labels[MAX_LABELS], *labelp[MAX_LABELS];

	for (size_t i = 0; i < s->nr_labels && i < MAX_LABELS; i++) {
		const struct label *l = &p->labels[s->labels + i];

		perftools__profiles__label__init(&labels[i]);
		labels[i].key = l->key;
		labels[i].str = l->str;
		labels[i].num = l->num;
		labels[i].num_unit = l->unit;
		labelp[i] = &labels[i];
	}
	m.n_location_id = s->nr_locs;
	m.location_id = p->locs + s->locs;
	m.n_value = p->nr_types;
	m.value = p->values + s->values;
	m.n_label = s->nr_labels < MAX_LABELS ? s->nr_labels : MAX_LABELS;
	m.label = labelp;
	return enc_field(e, FIELD_SAMPLE, &m.base, NULL, 0);
}

static int enc_location(struct enc *e, const struct pprof *p, size_t i)
{
	Perftools__Profiles__Location m = PERFTOOLS__PROFILES__LOCATION__INIT;
	const struct location *l = &p->locations[i];

	if (l->nr_lines > e->lines_cap) {
		size_t n = l->nr_lines;
		void *a = realloc(e->lines, n * sizeof(*e->lines));

		if (a)
			e->lines = a;
		a = a ? realloc(e->linep, n * sizeof(*e->linep)) : NULL;
		if (!a)
			return -ENOMEM;
		e->linep = a;
		e->lines_cap = n;
	}
	for (size_t k = 0; k < l->nr_lines; k++) {
		perftools__profiles__line__init(&e->lines[k]);
		e->lines[k].function_id = p->lines[l->lines + k].function;
		e->lines[k].line = p->lines[l->lines + k].line;
		e->linep[k] = &e->lines[k];
	}
	m.id = i + 1;
	m.mapping_id = l->mapping;
	m.address = l->address;
	m.n_line = l->nr_lines;
	m.line = l->nr_lines ? e->linep : NULL;
	return enc_field(e, FIELD_LOCATION, &m.base, NULL, 0);
}

static int encode_stream(const struct pprof *p, emit_fn emit, void *ctx)
{
	struct enc e = { .emit = emit, .ctx = ctx };
	int err = enc_header(&e, p);

	for (size_t i = 0; !err && i < p->nr_samples; i++)
		err = enc_sample(&e, p, &p->samples[i]);
	for (size_t i = 0; !err && i < p->nr_mappings; i++) {
		Perftools__Profiles__Mapping m = PERFTOOLS__PROFILES__MAPPING__INIT;
		const struct mapping_key *k = &p->mappings[i].key;

		m.id = i + 1;
		m.memory_start = k->start;
		m.memory_limit = k->limit;
		m.file_offset = k->offset;
		m.filename = k->file;
		m.build_id = k->build_id;
		m.has_functions = p->mappings[i].has_functions;
		err = enc_field(&e, FIELD_MAPPING, &m.base, NULL, 0);
	}
	for (size_t i = 0; !err && i < p->nr_locations; i++)
		err = enc_location(&e, p, i);
	for (size_t i = 0; !err && i < p->nr_functions; i++) {
		Perftools__Profiles__Function m = PERFTOOLS__PROFILES__FUNCTION__INIT;

		m.id = i + 1;
		m.name = p->functions[i].name;
		m.system_name = p->functions[i].name;
		m.filename = p->functions[i].filename;
		err = enc_field(&e, FIELD_FUNCTION, &m.base, NULL, 0);
	}
	/* every string, the empty one at index 0 included */
	for (size_t i = 0; !err && i < p->nr_strs; i++)
		err = enc_field(&e, FIELD_STRING, NULL, p->strbuf + p->strs[i].off, p->strs[i].len);
	free(e.msg.buf);
	free(e.lines);
	free(e.linep);
	return err;
}

static int emit_raw(void *ctx, const uint8_t *buf, size_t len)
{
	struct out_buf *o = ctx;
	int err = out_grow(o, o->len + len);

	if (err)
		return err;
	memcpy(o->buf + o->len, buf, len);
	o->len += len;
	return 0;
}

/* Hand back @o's bytes, trimmed to size. */
static void out_take(struct out_buf *o, uint8_t **buf, size_t *len)
{
	uint8_t *nb = o->len ? realloc(o->buf, o->len) : NULL;

	*buf = nb ? nb : o->buf;
	*len = o->len;
}

int pprof__encode(const struct pprof *p, uint8_t **buf, size_t *len)
{
	struct out_buf o = { 0 };
	int err = encode_stream(p, emit_raw, &o);

	*buf = NULL;
	*len = 0;
	if (!err)
		err = out_grow(&o, 1);	/* an empty profile still has a buffer */
	if (err) {
		free(o.buf);
		return err;
	}
	out_take(&o, buf, len);
	return 0;
}

struct gz_out {
	z_stream zs;
	struct out_buf o;
};

/* Deflate @len bytes (flushing with Z_FINISH when @buf is NULL). */
static int emit_gz(void *ctx, const uint8_t *buf, size_t len)
{
	struct gz_out *g = ctx;
	int flush = buf ? Z_NO_FLUSH : Z_FINISH, ret;

	g->zs.next_in = (Bytef *)buf;
	g->zs.avail_in = (uInt)len;
	do {
		if (g->o.len == g->o.cap && out_grow(&g->o, g->o.cap + 1))
			return -ENOMEM;
		g->zs.next_out = g->o.buf + g->o.len;
		g->zs.avail_out = (uInt)(g->o.cap - g->o.len);
		ret = deflate(&g->zs, flush);
		g->o.len = g->o.cap - g->zs.avail_out;
		if (ret == Z_STREAM_ERROR)
			return -EIO;
	} while (g->zs.avail_in || (flush == Z_FINISH ? ret != Z_STREAM_END : !g->zs.avail_out));
	return 0;
}

int pprof__encode_gz(const struct pprof *p, uint8_t **out, size_t *out_len)
{
	struct gz_out g;
	int err;

	*out = NULL;
	*out_len = 0;
	memset(&g, 0, sizeof(g));
	/* windowBits 15 + 16: a gzip wrapper, as `go tool pprof` expects */
	if (deflateInit2(&g.zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8,
			 Z_DEFAULT_STRATEGY) != Z_OK)
		return -ENOMEM;
	err = encode_stream(p, emit_gz, &g);
	if (!err)
		err = emit_gz(&g, NULL, 0);
	deflateEnd(&g.zs);
	if (err) {
		free(g.o.buf);
		return err;
	}
	out_take(&g.o, out, out_len);
	return 0;
}
