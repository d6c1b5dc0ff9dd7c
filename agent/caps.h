/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* The capabilities kiln uses, checked at start: one line naming what is
 * missing, before anything fails late. See docs/deploy.md. */
#ifndef KILN_CAPS_H
#define KILN_CAPS_H

#include <stdbool.h>
#include <stdint.h>

/* Effective capabilities from /proc/self/status (bit n: capability n). */
uint64_t caps__effective(void);
/* Check @eff (with the kernel.kptr_restrict and perf_event_paranoid
 * sysctls, struct features) for what record/run need. Prints one error line and returns
 * -1 when a capability kiln cannot do without is missing; a warning line
 * for each one whose absence only degrades the profile; 0 otherwise. */
int caps__check(uint64_t eff, int kptr_restrict, int perf_event_paranoid);

#endif
