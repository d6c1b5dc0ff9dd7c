/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_RUN_H
#define KILN_RUN_H

#include <signal.h>

/* `kiln run`: returns a KILN_EXIT_* code. Stops (and flushes) when *stop is set. */
int cmd_run(int argc, char **argv, volatile sig_atomic_t *stop);

#endif
