/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_RECORD_H
#define KILN_RECORD_H

#include <signal.h>

/* `kiln record`: returns a KILN_EXIT_* code. Stops early when *stop is set. */
int cmd_record(int argc, char **argv, volatile sig_atomic_t *stop);

#endif
