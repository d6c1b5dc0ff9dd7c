// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: JIT perf map text (/tmp/perf-PID.map). */
#include <stdint.h>
#include <stdio.h>
#include "symbolizer_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	struct perfmap pm;

	if (!f)
		return 0;
	if (!perfmap__parse(f, &pm, 4096)) {
		for (size_t i = 0; i < pm.nr; i++) {
			perfmap__lookup(&pm, pm.syms[i].addr);
			perfmap__lookup(&pm, pm.syms[i].addr + pm.syms[i].size - 1);
			perfmap__lookup(&pm, pm.syms[i].addr + pm.syms[i].size);
		}
		perfmap__clear(&pm);
	}
	fclose(f);
	return 0;
}
