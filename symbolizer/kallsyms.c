// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE	/* qsort_r */
/* /proc/kallsyms: text symbols of the kernel, its modules and BPF programs,
 * held compactly (see struct ksyms). */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include "symbolizer_int.h"

/* A symbol as parsed, before packing: 16 bytes, as a parse holds 10^5 of
 * them besides their names (a reload happens while kiln runs, whenever a
 * BPF program appears, and this is its high-water mark). */
struct raw_ksym {
	uint64_t addr;
	uint32_t name;		/* offset into the parse's strtab */
	uint32_t module;	/* offset into ksyms.mods, 0 = core kernel */
};

/* Order of line numbers @a and @b: by address, aliases in line order.
 * Sorting 4-byte line numbers, not the symbols, keeps qsort's copy small. */
static int line_cmp(const void *a, const void *b, void *ctx)
{
	const struct raw_ksym *raw = ctx;
	uint32_t i = *(const uint32_t *)a, j = *(const uint32_t *)b;

	if (raw[i].addr != raw[j].addr)
		return raw[i].addr < raw[j].addr ? -1 : 1;
	return i < j ? -1 : i > j;
}

static bool is_text(char type)
{
	return type == 't' || type == 'T' || type == 'w' || type == 'W';
}

/* Remember the last module name so each module's string is stored once. */
struct mod_cache {
	char name[64];
	uint32_t off;
};

/* Read the text symbols of @f into @raw (names into @names). */
static int read_lines(FILE *f, struct ksyms *ks, struct raw_ksym **raw, size_t *nr,
		      struct strtab *names)
{
	struct mod_cache mc = { "", 0 };
	size_t cap = 0, linecap = 0;
	bool nonzero = false;
	char *line = NULL;
	ssize_t n;
	int err = 0;

	while ((n = getline(&line, &linecap, f)) > 0) {
		char *p = line, *end, *name, *mod;
		struct raw_ksym *sym;
		uint64_t addr;
		char type;

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		addr = strtoull(p, &end, 16);
		if (end == p || *end != ' ' || !end[1] || end[2] != ' ' || !end[3])
			continue;	/* not a symbol line; skip it rather than fail */
		type = end[1];
		name = end + 3;
		if (addr)
			nonzero = true;
		if (!is_text(type))
			continue;
		mod = strchr(name, '\t');
		if (mod) {
			*mod++ = '\0';
			if (*mod == '[') {
				char *close = strchr(++mod, ']');

				if (close)
					*close = '\0';
			}
		}
		if (!strcmp(name, "_stext"))
			ks->stext = addr;
		else if (!strcmp(name, "_etext"))
			ks->etext = addr;

		if (*nr == cap) {
			size_t ncap = cap ? cap * 2 : 65536;
			struct raw_ksym *ns = realloc(*raw, ncap * sizeof(*ns));

			if (!ns) {
				err = -ENOMEM;
				goto out;
			}
			*raw = ns;
			cap = ncap;
		}
		if (*nr == UINT32_MAX) {
			err = -E2BIG;
			goto out;
		}
		sym = &(*raw)[*nr];
		sym->addr = addr;
		sym->module = 0;
		err = strtab__add(names, name, strlen(name), &sym->name);
		if (err)
			goto out;
		if (mod && *mod) {
			if (strcmp(mc.name, mod)) {
				snprintf(mc.name, sizeof(mc.name), "%s", mod);
				err = strtab__add(&ks->mods, mod, strlen(mod), &mc.off);
				if (err)
					goto out;
			}
			sym->module = mc.off;
		}
		(*nr)++;
	}
	if (ferror(f))
		err = -EIO;
	else if (!*nr)
		err = -ENOENT;
	else if (!nonzero)
		err = -EPERM;	/* kptr_restrict hides the addresses */
out:
	free(line);
	return err;
}

/* Deflate @len bytes of names at @src as the next block. */
static int pack_block(struct ksyms *ks, size_t *cap, const char *src, size_t len)
{
	uLongf out = compressBound((uLong)len);

	if (ks->packed_len + out > *cap) {
		size_t ncap = *cap ? *cap * 2 : 256 * 1024;
		uint8_t *n;

		while (ncap < ks->packed_len + out)
			ncap *= 2;
		n = realloc(ks->packed, ncap);
		if (!n)
			return -ENOMEM;
		ks->packed = n;
		*cap = ncap;
	}
	if (ks->packed_len > UINT32_MAX ||
	    compress2(ks->packed + ks->packed_len, &out, (const Bytef *)src, (uLong)len, 6) != Z_OK)
		return -ENOMEM;
	ks->blocks[ks->nr_blocks++] = (struct ksyms_block){ (uint32_t)ks->packed_len,
							    (uint32_t)len };
	if (len > ks->buf_cap)
		ks->buf_cap = len;
	ks->packed_len += out;
	return 0;
}

/* Raw symbols, in the order of @order, into addresses, module runs and
 * deflated name blocks. */
static int pack(struct ksyms *ks, const struct raw_ksym *raws, const uint32_t *order, size_t nr,
		const struct strtab *names)
{
	size_t packed_cap = 0, blk_len = 0, blk_cap = 0;
	char *blk = NULL;
	int err = 0;

	ks->base = raws[order[0]].addr;
	ks->addrs = malloc(nr * sizeof(*ks->addrs));
	ks->blocks = malloc((nr / KSYMS_BLOCK + 1) * sizeof(*ks->blocks));
	if (!ks->addrs || !ks->blocks)
		return -ENOMEM;
	for (size_t i = 0; i < nr; i++) {
		const struct raw_ksym *raw = &raws[order[i]];
		const char *name = names->buf + raw->name;
		size_t len = strlen(name) + 1;

		if (raw->addr - ks->base > UINT32_MAX) {
			ks->out_of_range++;
			continue;
		}
		if (!ks->nr_runs || ks->runs[ks->nr_runs - 1].module != raw->module) {
			struct ksyms_run *r = realloc(ks->runs, (ks->nr_runs + 1) * sizeof(*r));

			if (!r) {
				err = -ENOMEM;
				break;
			}
			ks->runs = r;
			ks->runs[ks->nr_runs++] = (struct ksyms_run){ (uint32_t)ks->nr, raw->module };
		}
		if (blk_len + len > blk_cap) {
			size_t ncap = (blk_len + len) * 2;
			char *n = realloc(blk, ncap);

			if (!n) {
				err = -ENOMEM;
				break;
			}
			blk = n;
			blk_cap = ncap;
		}
		memcpy(blk + blk_len, name, len);
		blk_len += len;
		ks->addrs[ks->nr++] = (uint32_t)(raw->addr - ks->base);
		if (ks->nr % KSYMS_BLOCK == 0) {
			err = pack_block(ks, &packed_cap, blk, blk_len);
			if (err)
				break;
			blk_len = 0;
		}
	}
	if (!err && ks->nr % KSYMS_BLOCK)
		err = pack_block(ks, &packed_cap, blk, blk_len);
	free(blk);
	if (!err) {
		/* grown by doubling: give back what is unused */
		uint8_t *p = realloc(ks->packed, ks->packed_len ? ks->packed_len : 1);
		uint32_t *a = realloc(ks->addrs, ks->nr * sizeof(*a));

		if (p)
			ks->packed = p;
		if (a)
			ks->addrs = a;
	}
	return err;
}

struct ksyms *ksyms__parse(FILE *f)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	struct strtab names = { 0 };
	struct raw_ksym *raw = NULL;
	uint32_t *order = NULL, empty;
	size_t nr = 0;
	int err;

	if (!ks)
		return NULL;
	ks->buf_block = -1;
	err = strtab__add(&ks->mods, "", 0, &empty);
	if (!err)
		err = read_lines(f, ks, &raw, &nr, &names);
	if (!err) {
		order = malloc(nr * sizeof(*order));
		if (!order)
			err = -ENOMEM;
	}
	if (!err) {
		for (size_t i = 0; i < nr; i++)
			order[i] = (uint32_t)i;
		qsort_r(order, nr, sizeof(*order), line_cmp, raw);
		err = pack(ks, raw, order, nr, &names);
	}
	free(order);
	free(raw);
	free(names.buf);
	if (!err) {
		strtab__shrink(&ks->mods);
		ks->buf = malloc(ks->buf_cap ? ks->buf_cap : 1);
		if (!ks->buf)
			err = -ENOMEM;
	}
	if (err) {
		ksyms__free(ks);
		errno = -err;
		return NULL;
	}
	return ks;
}

void ksyms__free(struct ksyms *ks)
{
	if (!ks)
		return;
	free(ks->addrs);
	free(ks->packed);
	free(ks->blocks);
	free(ks->runs);
	free(ks->mods.buf);
	free(ks->buf);
	free(ks->cache);
	free(ks);
}

long ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	size_t lo = 0, hi = ks->nr;
	uint64_t off;

	if (!ks->nr || addr < ks->base)
		return -1;
	off = addr - ks->base;
	if (off > UINT32_MAX)
		return (long)ks->nr - 1;
	/* first symbol above, then one back: the last of aliases */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->addrs[mid] <= off)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

const char *ksyms__name(struct ksyms *ks, size_t i)
{
	size_t h = (i * 2654435761u) % KSYMS_CACHE, b = i / KSYMS_BLOCK;
	const struct ksyms_block *blk;
	const char *p, *end;
	uLongf len;

	if (i >= ks->nr)
		return NULL;
	if (ks->cache && ks->cache[h].idx1 == i + 1)
		return ks->cache[h].name;
	blk = &ks->blocks[b];
	if ((long)b != ks->buf_block) {
		size_t in = (b + 1 < ks->nr_blocks ? ks->blocks[b + 1].off : ks->packed_len) - blk->off;

		len = blk->raw;
		ks->buf_block = -1;
		if (uncompress((Bytef *)ks->buf, &len, ks->packed + blk->off, (uLong)in) != Z_OK ||
		    len != blk->raw)
			return NULL;
		ks->buf_block = (long)b;
	}
	p = ks->buf;
	end = ks->buf + blk->raw;
	for (size_t k = i % KSYMS_BLOCK; k && p < end; k--)
		p += strnlen(p, (size_t)(end - p)) + 1;
	if (p >= end)
		return NULL;
	len = strnlen(p, (size_t)(end - p));
	if (len < KSYMS_CACHED_NAME) {
		if (!ks->cache)
			ks->cache = calloc(KSYMS_CACHE, sizeof(*ks->cache));
		if (ks->cache) {
			memcpy(ks->cache[h].name, p, len + 1);
			ks->cache[h].idx1 = (uint32_t)i + 1;
		}
	}
	return p;
}

const char *ksyms__module(const struct ksyms *ks, size_t i)
{
	size_t lo = 0, hi = ks->nr_runs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ks->runs[mid].first <= i)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!lo || !ks->runs[lo - 1].module)
		return NULL;
	return ks->mods.buf + ks->runs[lo - 1].module;
}

size_t ksyms__bytes(const struct ksyms *ks)
{
	return sizeof(*ks) + ks->nr * sizeof(*ks->addrs) + ks->packed_len +
	       ks->nr_blocks * sizeof(*ks->blocks) + ks->nr_runs * sizeof(*ks->runs) +
	       ks->mods.cap + ks->buf_cap + (ks->cache ? KSYMS_CACHE * sizeof(*ks->cache) : 0);
}
