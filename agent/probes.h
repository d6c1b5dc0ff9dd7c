/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
#ifndef KILN_PROBES_H
#define KILN_PROBES_H

#include "bpfprogs.h"

/* kiln probes [--json]: returns the process exit code. */
int cmd_probes(int argc, char **argv);

/* One program as a JSON object on stdout (shared with record --json). */
void probes__print_prog_json(const struct bpf_prog_rec *r);

#endif
