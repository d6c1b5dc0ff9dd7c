/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* kiln run's host-wide watch: each interval's CPU in spinlock slowpaths and
 * kprobe/BPF machinery (per program, with its owner) and lock waits (per
 * lock), as /metrics series with bounded labels, fed to the spike detector
 * (alerts.h); alerts go to the log as JSON lines and, optionally, to
 * Alertmanager's v2 API. See docs/alerts.md. */
#ifndef KILN_HOSTWATCH_H
#define KILN_HOSTWATCH_H

#include <stdint.h>
#include <sys/types.h>
#include "aggregate.h"
#include "alerts.h"
#include "alertsend.h"
#include "metrics.h"

#define HOSTWATCH_TOPK 32	/* label values per series; the rest is "other" */

struct hostwatch_opts {
	unsigned int interval_s;
	int ncpus;
	int64_t period_ns;		/* CPU time per sample */
	const char *hostname;
	struct alertsend *am;		/* NULL: no Alertmanager */
	bool alerts;			/* false: series only */
	struct alert_opts alert;
	struct symbolizer *sym;
	struct bpfprogs *progs;
	pid_t self;			/* kiln's own programs do not alert */
};

struct hostwatch;

struct hostwatch *hostwatch__new(const struct hostwatch_opts *o);
void hostwatch__free(struct hostwatch *hw);
/* Where the interval's aggregates count their flags (CPU, lock waits). */
struct flag_summary *hostwatch__cpu_flags(struct hostwatch *hw);
struct flag_summary *hostwatch__lock_flags(struct hostwatch *hw);
/* A drained lock-wait entry. */
void hostwatch__lock_wait(struct hostwatch *hw, const struct wait_entry *e);
/* The interval of @seconds ending at @now_ns (wall clock): figures, alerts,
 * delivery; then a fresh interval. */
void hostwatch__interval(struct hostwatch *hw, int64_t now_ns, double seconds);
/* Append the series to the /metrics page. */
void hostwatch__metrics(const struct hostwatch *hw, struct mbuf *b);

#endif /* KILN_HOSTWATCH_H */
