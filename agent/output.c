// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Text and HTML renderings of a pprof model: folded stacks, flame graph,
 * top lists for the summary. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "flags.h"
#include "output.h"
#include "util.h"

extern const char kiln_flamegraph_html[];
extern const unsigned long kiln_flamegraph_html_len;

const char *output__frame_name(const struct pprof *p, uint64_t loc, char *buf, size_t len,
			       bool *kernel)
{
	return output__frame_name_line(p, loc, 0, buf, len, kernel);
}

size_t output__frame_lines(const struct pprof *p, uint64_t loc)
{
	size_t n = pprof__location_nr_lines(p, loc);

	return n ? n : 1;
}

const char *output__frame_name_line(const struct pprof *p, uint64_t loc, size_t k, char *buf,
				    size_t len, bool *kernel)
{
	struct pprof_frame f;

	pprof__frame_line(p, loc, k, &f);
	*kernel = f.kernel;
	if (f.func) {
		snprintf(buf, len, "%s", f.func);
	} else if (f.file) {
		const char *base = strrchr(f.file, '/');

		snprintf(buf, len, "%s+0x%llx", base ? base + 1 : f.file,
			 (unsigned long long)f.file_offset);
	} else {
		snprintf(buf, len, "[unknown]");
	}
	/* ';' separates folded frames */
	for (char *c = buf; *c; c++)
		if (*c == ';')
			*c = ':';
	return buf;
}

/* Render with @fn into memory, then write atomically: stdio would lose the
 * errno of a failed buffered write (ENOSPC would read as EIO). */
static int write_atomic(const char *path, int (*fn)(FILE *f, void *ctx), void *ctx)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int err;

	if (!f)
		return -errno;
	err = fn(f, ctx);
	if (fclose(f) && !err)
		err = -ENOMEM;
	if (!err)
		err = write_file_atomic(path, buf, len);
	free(buf);
	return err;
}

int output__pprof_gz(const struct pprof *p, const char *path)
{
	uint8_t *gz = NULL;
	size_t len = 0;
	int err = pprof__encode_gz(p, &gz, &len);

	if (!err)
		err = write_file_atomic(path, gz, len);
	free(gz);
	return err;
}

/* --- folded -------------------------------------------------------------------- */

struct line {
	char *text;
	int64_t value;
};

static int line_cmp(const void *a, const void *b)
{
	return strcmp(((const struct line *)a)->text, ((const struct line *)b)->text);
}

struct folded_ctx {
	const struct pprof *p;
	size_t vi;
};

static int render_folded(FILE *f, void *vctx)
{
	struct folded_ctx *c = vctx;
	size_t n = pprof__nr_samples(c->p), nl = 0;
	struct line *lines = calloc(n + 1, sizeof(*lines));
	int err = 0;

	if (!lines)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		const uint64_t *locs;
		const int64_t *vals;
		size_t nr, cap = 256, len;
		const char *comm = pprof__sample_label_str(c->p, i, "comm");
		char *s;

		pprof__sample(c->p, i, &locs, &nr, &vals);
		if (!vals[c->vi])
			continue;
		s = malloc(cap);
		if (!s) {
			err = -ENOMEM;
			break;
		}
		len = (size_t)snprintf(s, cap, "%s", comm ? comm : "[unknown]");
		for (size_t j = nr; j-- > 0;) {
			/* inlined functions unfold into frames of their own, outermost first */
			for (size_t k = output__frame_lines(c->p, locs[j]); k-- > 0;) {
				char name[512];
				bool kernel;

				output__frame_name_line(c->p, locs[j], k, name, sizeof(name), &kernel);
				while (len + strlen(name) + 8 > cap) {
					char *ns = realloc(s, cap * 2);

					if (!ns) {
						free(s);
						err = -ENOMEM;
						goto out;
					}
					s = ns;
					cap *= 2;
				}
				len += (size_t)snprintf(s + len, cap - len, ";%s%s", name,
							kernel ? "_[k]" : "");
			}
		}
		lines[nl].text = s;
		lines[nl].value = vals[c->vi];
		nl++;
	}
	qsort(lines, nl, sizeof(*lines), line_cmp);
	for (size_t i = 0; i < nl;) {
		size_t j = i + 1;
		int64_t v = lines[i].value;

		while (j < nl && !strcmp(lines[j].text, lines[i].text))
			v += lines[j++].value;
		fprintf(f, "%s %lld\n", lines[i].text, (long long)v);
		i = j;
	}
out:
	for (size_t i = 0; i < nl; i++)
		free(lines[i].text);
	free(lines);
	return err;
}

int output__folded(const struct pprof *p, size_t value_index, const char *path)
{
	struct folded_ctx c = { p, value_index };

	return write_atomic(path, render_folded, &c);
}

/* --- flame graph tree ------------------------------------------------------------ */

struct node {
	char *name;
	char kind;			/* r p u k s */
	int64_t value;
	struct node **kids;
	size_t nr_kids, cap_kids;
};

static struct node *node_child(struct node *n, const char *name, char kind)
{
	struct node *c;

	for (size_t i = 0; i < n->nr_kids; i++)
		if (n->kids[i]->kind == kind && !strcmp(n->kids[i]->name, name))
			return n->kids[i];
	if (n->nr_kids == n->cap_kids) {
		size_t ncap = n->cap_kids ? n->cap_kids * 2 : 4;
		struct node **nk = realloc(n->kids, ncap * sizeof(*nk));

		if (!nk)
			return NULL;
		n->kids = nk;
		n->cap_kids = ncap;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->name = strdup(name);
	if (!c->name) {
		free(c);
		return NULL;
	}
	c->kind = kind;
	n->kids[n->nr_kids++] = c;
	return c;
}

static void node_free(struct node *n)
{
	for (size_t i = 0; i < n->nr_kids; i++)
		node_free(n->kids[i]);
	free(n->kids);
	free(n->name);
	free(n);
}

static void node_json(FILE *f, const struct node *n)
{
	fputs("{\"n\":", f);
	json_str(f, n->name);
	fprintf(f, ",\"k\":\"%c\",\"v\":%lld", n->kind, (long long)n->value);
	if (n->kind == 'k' && flags__frame_flag(n->name) != KILN_FLAG_NONE)
		fprintf(f, ",\"x\":\"%s\"", flags__name(flags__frame_flag(n->name)));
	if (n->nr_kids) {
		fputs(",\"c\":[", f);
		for (size_t i = 0; i < n->nr_kids; i++) {
			if (i)
				fputc(',', f);
			node_json(f, n->kids[i]);
		}
		fputc(']', f);
	}
	fputc('}', f);
}

static struct node *build_tree(const struct pprof *p, size_t vi)
{
	struct node *root = calloc(1, sizeof(*root));

	if (!root)
		return NULL;
	root->name = strdup("all");
	root->kind = 'r';
	if (!root->name)
		goto fail;
	for (size_t i = 0; i < pprof__nr_samples(p); i++) {
		const char *comm = pprof__sample_label_str(p, i, "comm");
		const uint64_t *locs;
		const int64_t *vals;
		struct node *n;
		size_t nr;

		pprof__sample(p, i, &locs, &nr, &vals);
		if (!vals[vi])
			continue;
		root->value += vals[vi];
		n = node_child(root, comm ? comm : "[unknown]", 'p');
		if (!n)
			goto fail;
		n->value += vals[vi];
		for (size_t j = nr; j-- > 0;) {
			struct pprof_frame fr;

			pprof__frame(p, locs[j], &fr);	/* the mapping: one per location */
			for (size_t k = output__frame_lines(p, locs[j]); k-- > 0;) {
				char name[512];
				bool kernel;
				char kind;

				output__frame_name_line(p, locs[j], k, name, sizeof(name), &kernel);
				kind = kernel ? 'k' : (!fr.file && name[0] == '[' ? 's' : 'u');
				n = node_child(n, name, kind);
				if (!n)
					goto fail;
				n->value += vals[vi];
			}
		}
	}
	return root;
fail:
	node_free(root);
	return NULL;
}

/* "flag":total pairs of the samples labelled with a flag. */
static void flag_totals_json(FILE *f, const struct pprof *p, size_t vi)
{
	int64_t total[KILN_FLAG__MAX] = { 0 };
	bool first = true;

	for (size_t i = 0; i < pprof__nr_samples(p); i++) {
		const char *flag = pprof__sample_label_str(p, i, "flag");
		const uint64_t *locs;
		const int64_t *vals;
		size_t nr;

		if (!flag)
			continue;
		pprof__sample(p, i, &locs, &nr, &vals);
		for (int k = 1; k < KILN_FLAG__MAX; k++)
			if (!strcmp(flag, flags__name(k)))
				total[k] += vals[vi];
	}
	for (int k = 1; k < KILN_FLAG__MAX; k++) {
		if (!total[k])
			continue;
		fprintf(f, "%s\"%s\":%lld", first ? "" : ",", flags__name(k), (long long)total[k]);
		first = false;
	}
}

struct html_ctx {
	const struct flame_view *views;
	size_t nr;
	const char *title, *subtitle;
	struct node **trees;
};

static int render_html(FILE *f, void *vctx)
{
	struct html_ctx *c = vctx;
	const char *marker = "/*KILN_DATA*/";
	const char *at = strstr(kiln_flamegraph_html, marker);

	if (!at)
		return -EINVAL;
	fwrite(kiln_flamegraph_html, 1, (size_t)(at - kiln_flamegraph_html), f);
	fputs("{\"title\":", f);
	json_str(f, c->title);
	fputs(",\"subtitle\":", f);
	json_str(f, c->subtitle);
	fputs(",\"profiles\":[", f);
	for (size_t i = 0; i < c->nr; i++) {
		if (i)
			fputc(',', f);
		fputs("{\"id\":", f);
		json_str(f, c->views[i].id);
		fputs(",\"label\":", f);
		json_str(f, c->views[i].label);
		fputs(",\"unit\":", f);
		json_str(f, c->views[i].unit);
		fputs(",\"flags\":{", f);
		flag_totals_json(f, c->views[i].prof, c->views[i].value_index);
		fputs("},\"tree\":", f);
		node_json(f, c->trees[i]);
		fputc('}', f);
	}
	fputs("]}", f);
	fputs(at + strlen(marker), f);
	return 0;
}

int output__flamegraph(const struct flame_view *views, size_t nr_views, const char *title,
		       const char *subtitle, const char *path)
{
	struct html_ctx c = { views, nr_views, title, subtitle, NULL };
	int err = 0;

	c.trees = calloc(nr_views, sizeof(*c.trees));
	if (!c.trees)
		return -ENOMEM;
	for (size_t i = 0; i < nr_views && !err; i++) {
		c.trees[i] = build_tree(views[i].prof, views[i].value_index);
		if (!c.trees[i])
			err = -ENOMEM;
	}
	if (!err)
		err = write_atomic(path, render_html, &c);
	for (size_t i = 0; i < nr_views; i++)
		if (c.trees[i])
			node_free(c.trees[i]);
	free(c.trees);
	return err;
}

/* --- top lists ------------------------------------------------------------------ */

static int top_cmp(const void *a, const void *b)
{
	const struct top_entry *x = a, *y = b;

	if (x->value != y->value)
		return x->value < y->value ? 1 : -1;
	return strcmp(x->name, y->name);
}

/* Add @v to @name in a growable list. */
static int top_add(struct top_entry **list, size_t *nr, size_t *cap, const char *name, uint64_t v)
{
	for (size_t i = 0; i < *nr; i++) {
		if (!strcmp((*list)[i].name, name)) {
			(*list)[i].value += v;
			return 0;
		}
	}
	if (*nr == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		struct top_entry *n = realloc(*list, ncap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		*list = n;
		*cap = ncap;
	}
	snprintf((*list)[*nr].name, sizeof((*list)[*nr].name), "%s", name);
	(*list)[*nr].value = v;
	(*nr)++;
	return 0;
}

static size_t top_finish(struct top_entry *list, size_t nr, struct top_entry *out, size_t max)
{
	if (nr)
		qsort(list, nr, sizeof(*list), top_cmp);
	if (nr > max)
		nr = max;
	if (nr)
		memcpy(out, list, nr * sizeof(*out));
	free(list);
	return nr;
}

size_t output__top_functions(const struct pprof *p, size_t vi, size_t skip,
			     struct top_entry *out, size_t max)
{
	struct top_entry *list = NULL;
	size_t nr = 0, cap = 0;

	for (size_t i = 0; i < pprof__nr_samples(p); i++) {
		const uint64_t *locs;
		const int64_t *vals;
		char name[256];
		size_t n;
		bool kernel;

		pprof__sample(p, i, &locs, &n, &vals);
		if (n <= skip || !vals[vi])
			continue;
		output__frame_name(p, locs[skip], name, sizeof(name), &kernel);
		if (top_add(&list, &nr, &cap, name, (uint64_t)vals[vi]))
			break;
	}
	return top_finish(list, nr, out, max);
}

size_t output__top_processes(const struct pprof *p, size_t vi, struct top_entry *out, size_t max,
			     size_t *nr_processes)
{
	struct top_entry *list = NULL, *pids = NULL;
	size_t nr = 0, cap = 0, npids = 0, pcap = 0;

	for (size_t i = 0; i < pprof__nr_samples(p); i++) {
		const char *comm = pprof__sample_label_str(p, i, "comm");
		const uint64_t *locs;
		const int64_t *vals;
		char key[32];
		int64_t pid = 0;
		size_t n;

		pprof__sample(p, i, &locs, &n, &vals);
		pprof__sample_label_num(p, i, "pid", &pid);
		snprintf(key, sizeof(key), "%lld", (long long)pid);
		if (top_add(&pids, &npids, &pcap, key, 1) ||
		    top_add(&list, &nr, &cap, comm ? comm : "[unknown]", (uint64_t)vals[vi]))
			break;
	}
	free(pids);
	*nr_processes = npids;
	return top_finish(list, nr, out, max);
}
