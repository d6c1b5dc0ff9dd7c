// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: kallsyms text. */
#include <stdint.h>
#include <stdio.h>
#include "symbolizer_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	struct ksyms *ks;

	if (!f)
		return 0;
	ks = ksyms__parse(f);
	fclose(f);
	if (ks) {
		for (size_t i = 0; i < ks->nr; i++) {
			ksyms__find(ks, ksyms__addr(ks, i) + 1);
			ksyms__name(ks, i);
			ksyms__module(ks, i);
		}
		ksyms__find(ks, 0);
		ksyms__find(ks, UINT64_MAX);
		ksyms__free(ks);
	}
	return 0;
}
