// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* JIT symbol files, /tmp/perf-PID.map: one "START SIZE NAME" line per
 * function, hex numbers (with or without 0x), the name to the end of the
 * line. Written by Node (--perf-basic-prof), JVM agents, LuaJIT and others. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolizer_int.h"

static int parse_hex(const char **p, uint64_t *out)
{
	const char *s = *p;
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		s += 2;
	if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F')))
		return -EINVAL;
	errno = 0;
	*out = strtoull(s, &end, 16);
	if (errno || (*end != ' ' && *end != '\t'))
		return -EINVAL;
	*p = end;
	return 0;
}

/* A line into @sym; -EINVAL when it is not one (skipped and counted). */
static int parse_line(struct perfmap *pm, const char *line, struct perfmap_sym *sym)
{
	const char *p = line, *name;
	size_t len;

	if (parse_hex(&p, &sym->addr))
		return -EINVAL;
	p += strspn(p, " \t");
	if (parse_hex(&p, &sym->size))
		return -EINVAL;
	name = p + strspn(p, " \t");
	len = strlen(name);
	while (len && (name[len - 1] == ' ' || name[len - 1] == '\t' || name[len - 1] == '\r'))
		len--;
	if (!len || !sym->size || sym->addr + sym->size < sym->addr)
		return -EINVAL;
	if (len > PERFMAP_NAME_MAX)
		len = PERFMAP_NAME_MAX;
	return strtab__add(&pm->strs, name, len, &sym->name) ? -ENOMEM : 0;
}

static int sym_cmp(const void *a, const void *b)
{
	const struct perfmap_sym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	/* the same start twice: the later line (code replaced) last */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

int perfmap__parse(FILE *f, struct perfmap *pm, size_t max_entries)
{
	size_t cap = 0, linecap = 0;
	char *line = NULL;
	ssize_t n;
	int err = 0;

	memset(pm, 0, sizeof(*pm));
	while ((n = getline(&line, &linecap, f)) > 0) {
		struct perfmap_sym sym = { 0 };

		if (line[n - 1] == '\n')
			line[--n] = '\0';
		if (strlen(line) != (size_t)n) {	/* a NUL inside: not text */
			pm->bad_lines++;
			continue;
		}
		err = parse_line(pm, line, &sym);
		if (err == -ENOMEM)
			break;
		if (err) {
			err = 0;
			pm->bad_lines++;
			continue;
		}
		if (pm->nr == max_entries) {
			pm->dropped++;
			continue;
		}
		if (pm->nr == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			struct perfmap_sym *ns = realloc(pm->syms, ncap * sizeof(*ns));

			if (!ns) {
				err = -ENOMEM;
				break;
			}
			pm->syms = ns;
			cap = ncap;
		}
		sym.seq = (uint32_t)pm->nr;
		pm->syms[pm->nr++] = sym;
	}
	free(line);
	if (!err && ferror(f))
		err = -EIO;
	if (err) {
		perfmap__clear(pm);
		return err;
	}
	if (pm->nr)
		qsort(pm->syms, pm->nr, sizeof(*pm->syms), sym_cmp);
	return 0;
}

const char *perfmap__lookup(const struct perfmap *pm, uint64_t addr)
{
	long i = addr_floor(pm->syms, pm->nr, sizeof(*pm->syms), addr);

	if (i < 0)
		return NULL;
	/* among entries with this start, addr_floor gives the last: the newest */
	if (addr >= pm->syms[i].addr + pm->syms[i].size)
		return NULL;
	return pm->strs.buf + pm->syms[i].name;
}

void perfmap__clear(struct perfmap *pm)
{
	free(pm->syms);
	free(pm->strs.buf);
	memset(pm, 0, sizeof(*pm));
}
