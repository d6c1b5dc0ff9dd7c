// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Go's function table (.gopclntab), read from its documented layouts so that
 * stripped Go binaries (-ldflags='-s -w') still name their functions.
 * Supported: Go 1.16-1.17 (magic 0xfffffffa), 1.18-1.19 (0xfffffff0), 1.20 and
 * later (0xfffffff1). Earlier layouts are refused. Every offset read from the
 * table is checked against its length: the input is untrusted. */
#include <errno.h>
#include <string.h>
#include "symbolizer_int.h"

#define GO116_MAGIC 0xfffffffau
#define GO118_MAGIC 0xfffffff0u
#define GO120_MAGIC 0xfffffff1u

static int rd(const uint8_t *d, size_t len, uint64_t off, unsigned int size, uint64_t *out)
{
	uint32_t v32;

	if (off > len || size > len - off)
		return -EINVAL;
	if (size == 8) {
		memcpy(out, d + off, 8);
	} else {
		memcpy(&v32, d + off, 4);
		*out = v32;
	}
	return 0;
}

int gopclntab__version(const uint8_t *d, size_t len)
{
	uint64_t magic;

	if (len < 16 || rd(d, len, 0, 4, &magic) || d[4] || d[5] ||
	    (d[6] != 1 && d[6] != 2 && d[6] != 4) || (d[7] != 4 && d[7] != 8))
		return 0;
	switch ((uint32_t)magic) {
	case GO116_MAGIC: return 116;
	case GO118_MAGIC: return 118;
	case GO120_MAGIC: return 120;
	default: return 0;
	}
}

int gopclntab__parse(const uint8_t *d, size_t len, uint64_t text_addr, gopclntab_fn fn,
		     void *ctx)
{
	int ver = gopclntab__version(d, len);
	unsigned int ps;
	uint64_t nfunc, text = text_addr, nameoff_base, functab, h = 8;
	uint64_t prev_entry = 0;
	const char *prev_name = NULL;
	size_t prev_len = 0;
	int count = 0;

	if (!ver)
		return -EINVAL;
	ps = d[7];
	if (rd(d, len, h, ps, &nfunc))
		return -EINVAL;
	h += 2 * ps;					/* nfunc, nfiles */
	if (ver >= 118) {
		uint64_t ts;

		if (rd(d, len, h, ps, &ts))
			return -EINVAL;
		if (ts)
			text = ts;	/* PIE files may leave it to a relocation: then .text */
		h += ps;
	}
	if (rd(d, len, h, ps, &nameoff_base) || rd(d, len, h + 4 * ps, ps, &functab))
		return -EINVAL;			/* funcnameOffset ... pclnOffset */
	if (nameoff_base >= len || functab >= len)
		return -EINVAL;
	/* entries: {entryoff u32, funcoff u32} (1.18+) or {entry, funcoff} uintptr */
	for (uint64_t i = 0; i <= nfunc; i++) {
		unsigned int es = ver >= 118 ? 4 : ps;
		uint64_t entry, funcoff, nameoff;
		const char *name;
		size_t nlen;

		if (i > (len / (2 * es)) || rd(d, len, functab + i * 2 * es, es, &entry) ||
		    rd(d, len, functab + i * 2 * es + es, es, &funcoff))
			return -EINVAL;
		if (ver >= 118)
			entry += text;
		if (prev_name && entry > prev_entry) {
			int err = fn(ctx, prev_entry, entry, prev_name, prev_len);

			if (err)
				return err;
			count++;
		}
		prev_name = NULL;
		if (i == nfunc)
			break;			/* the last entry only ends the one before */
		/* _func: entryOff u32 (or entry uintptr), then nameOff int32 */
		if (functab + funcoff < functab ||
		    rd(d, len, functab + funcoff + es, 4, &nameoff))
			return -EINVAL;
		if ((int32_t)nameoff < 0 || nameoff_base + nameoff >= len)
			return -EINVAL;
		name = (const char *)d + nameoff_base + nameoff;
		nlen = strnlen(name, len - (nameoff_base + nameoff));
		if (nlen == len - (nameoff_base + nameoff) || !nlen)
			return -EINVAL;	/* not NUL-terminated inside the table */
		prev_entry = entry;
		prev_name = name;
		prev_len = nlen;
	}
	return count;
}
