// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: /proc/PID/maps text. */
#include <stdint.h>
#include <stdio.h>
#include "symbolizer_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *f = fmemopen((void *)data, size, "r");
	struct procmaps pm;

	if (!f)
		return 0;
	if (!procmaps__parse(f, size & 1 ? PROCMAPS_EXEC : 0, &pm)) {
		for (size_t i = 0; i < pm.nr; i++)
			procmaps__find(&pm, pm.maps[i].start);
		procmaps__clear(&pm);
	}
	fclose(f);
	return 0;
}
