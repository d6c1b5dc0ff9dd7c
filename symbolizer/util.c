// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Helpers shared by the symbolizer's tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "symbolizer_int.h"

int strtab__add(struct strtab *t, const char *s, size_t len, uint32_t *off)
{
	if (t->len + len + 1 > t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 4096;
		char *n;

		while (ncap < t->len + len + 1)
			ncap *= 2;
		n = realloc(t->buf, ncap);
		if (!n)
			return -ENOMEM;
		t->buf = n;
		t->cap = ncap;
	}
	if (t->len > UINT32_MAX)
		return -E2BIG;
	*off = (uint32_t)t->len;
	memcpy(t->buf + t->len, s, len);
	t->buf[t->len + len] = '\0';
	t->len += len + 1;
	return 0;
}

void strtab__shrink(struct strtab *t)
{
	char *n;

	if (t->len && t->len < t->cap && (n = realloc(t->buf, t->len))) {
		t->buf = n;
		t->cap = t->len;
	}
}

long addr_floor(const void *arr, size_t nr, size_t stride, uint64_t addr)
{
	const char *base = arr;
	size_t lo = 0, hi = nr;

	/* first element above addr, then one back */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t a;

		memcpy(&a, base + mid * stride, sizeof(a));
		if (a <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}
