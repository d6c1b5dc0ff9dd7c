// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* /proc/kallsyms: text symbols of the kernel, its modules and BPF programs. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "symbolizer_int.h"

static int ksym_cmp(const void *a, const void *b)
{
	const struct ksym *x = a, *y = b;

	if (x->addr != y->addr)
		return x->addr < y->addr ? -1 : 1;
	return 0;
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

struct ksyms *ksyms__parse(FILE *f)
{
	struct ksyms *ks = calloc(1, sizeof(*ks));
	struct mod_cache mc = { "", 0 };
	size_t syms_cap = 0, linecap = 0;
	bool nonzero = false;
	char *line = NULL;
	uint32_t empty;
	ssize_t n;
	int err = 0;

	if (!ks)
		return NULL;
	err = strtab__add(&ks->strs, "", 0, &empty);
	if (err)
		goto out;

	while ((n = getline(&line, &linecap, f)) > 0) {
		char *p = line, *end, *name, *mod;
		struct ksym *sym;
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

		if (ks->nr == syms_cap) {
			size_t ncap = syms_cap ? syms_cap * 2 : 65536;
			struct ksym *ns = realloc(ks->syms, ncap * sizeof(*ns));

			if (!ns) {
				err = -ENOMEM;
				goto out;
			}
			ks->syms = ns;
			syms_cap = ncap;
		}
		sym = &ks->syms[ks->nr];
		sym->addr = addr;
		sym->module = 0;
		err = strtab__add(&ks->strs, name, strlen(name), &sym->name);
		if (err)
			goto out;
		if (mod && *mod) {
			if (strcmp(mc.name, mod)) {
				snprintf(mc.name, sizeof(mc.name), "%s", mod);
				err = strtab__add(&ks->strs, mod, strlen(mod), &mc.off);
				if (err)
					goto out;
			}
			sym->module = mc.off;
		}
		ks->nr++;
	}
	if (ferror(f)) {
		err = -EIO;
		goto out;
	}
	if (!ks->nr) {
		err = -ENOENT;
		goto out;
	}
	if (!nonzero) {
		err = -EPERM;	/* kptr_restrict hides the addresses */
		goto out;
	}
	qsort(ks->syms, ks->nr, sizeof(*ks->syms), ksym_cmp);
	{
		/* grown by doubling: give back the unused half */
		struct ksym *fit = realloc(ks->syms, ks->nr * sizeof(*fit));

		if (fit)
			ks->syms = fit;
		strtab__shrink(&ks->strs);
	}
out:
	free(line);
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
	free(ks->syms);
	free(ks->strs.buf);
	free(ks);
}

const struct ksym *ksyms__find(const struct ksyms *ks, uint64_t addr)
{
	long i = addr_floor(ks->syms, ks->nr, sizeof(*ks->syms), addr);

	return i < 0 ? NULL : &ks->syms[i];
}
