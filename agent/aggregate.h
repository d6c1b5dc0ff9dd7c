/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_AGGREGATE_H
#define KILN_AGGREGATE_H

#include <stdbool.h>
#include <stdint.h>
#include "pprof.h"
#include "sampler.h"
#include "symbolizer.h"

/* Turns drained kernel aggregates into symbolized pprof samples. */
struct aggregate {
	struct pprof *prof;		/* owned by the caller */
	struct symbolizer *sym;		/* owned by the caller */
	int64_t period;			/* nanoseconds per sample */
	bool per_thread;
	uint64_t samples;		/* counts added */
	uint64_t lost;			/* counts that failed to be added (no memory) */
};

/* sampler_entry_fn: symbolize one entry and add it. Never fails the drain:
 * what cannot be added is counted in ->lost. */
int aggregate__entry(void *ctx, const struct sampler_entry *e);

#endif
