// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* libFuzzer target: Go function tables (.gopclntab). */
#include <stdint.h>
#include <string.h>
#include "symbolizer_int.h"

static int check_func(void *ctx, uint64_t start, uint64_t end, const char *name, size_t len)
{
	volatile size_t *sum = ctx;

	/* touch every byte of the name the parser vouched for */
	for (size_t i = 0; i < len; i++)
		*sum += (unsigned char)name[i];
	return start < end ? 0 : 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t sum = 0;

	gopclntab__parse(data, size, 0x401000, check_func, &sum);
	return 0;
}
