/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Flags: which kernel machinery a stack burns its time in. One table of
 * symbol names (flags.c) says what each known function is; the classifier
 * walks a kernel stack from the leaf outward and the first flagged frame
 * names the sample's flag. No dependencies beyond libc: the unit tests build
 * it alone. */
#ifndef KILN_FLAGS_H
#define KILN_FLAGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The fixed set, carried as the pprof label "flag". */
enum kiln_flag {
	KILN_FLAG_NONE,
	KILN_FLAG_SPINLOCK_SLOWPATH,	/* spinning in a queued spin/rw lock slowpath */
	KILN_FLAG_KPROBE,		/* kprobe/kretprobe/rethook/fprobe machinery */
	KILN_FLAG_BPF_TRAMPOLINE,	/* BPF trampolines, dispatchers, program runners */
	KILN_FLAG_BPF_PROG,		/* a BPF program's body and the helpers it calls */
	KILN_FLAG__MAX,
};

/* What a known function is (one row of the table). */
enum flag_role {
	ROLE_NONE,
	ROLE_SLOWPATH,
	ROLE_KPROBE,
	ROLE_BPF_TRAMPOLINE,
	ROLE_BPF_PROG,
	ROLE_BPF_MAP,		/* BPF map code: context only, never a flag */
	ROLE_LOCK_ENTRY,	/* spin lock fast paths: skipped in "from" chains */
	ROLE_BOUNDARY,		/* interrupt entry: what lies outward ran before it */
};

/* What the stack passes through outward of the flagged frame, up to the
 * first interrupt boundary. */
enum {
	KILN_UNDER_KPROBE = 1 << 0,
	KILN_UNDER_BPF_TRAMPOLINE = 1 << 1,
	KILN_UNDER_BPF_PROG = 1 << 2,
	KILN_UNDER_BPF_MAP = 1 << 3,
	KILN_UNDER__COUNT = 4,
};

struct flag_match {
	enum kiln_flag flag;
	int frame;		/* index of the flagged frame; -1 when none */
	int prog_frame;		/* first BPF program frame from ->frame outward; -1 */
	unsigned int under;	/* KILN_UNDER_* */
};

/* "spinlock_slowpath", ...; "" for KILN_FLAG_NONE. */
const char *flags__name(enum kiln_flag f);
/* "kprobe machinery", ...: the words the summary uses. */
const char *flags__title(enum kiln_flag f);
const char *flags__under_name(unsigned int bit_index);

/* The table's role for one function name (compiler clone suffixes such as
 * ".constprop.0" ignored). NULL names have no role. */
enum flag_role flags__role(const char *name);
/* The flag a frame of this name would give a sample; KILN_FLAG_NONE if none. */
enum kiln_flag flags__frame_flag(const char *name);

/* True for "bpf_prog_<16 hex digits>" optionally followed by "_<name>". */
bool flags__is_bpf_prog_symbol(const char *name);

/* Classify one kernel stack given leaf-first function names (NULL where a
 * frame is unresolved). Pure, no allocation. */
void flags__classify(const char *const *names, size_t n, struct flag_match *out);
/* The same from the frames' roles (flags__role() of each name). */
void flags__classify_roles(const enum flag_role *roles, size_t n, struct flag_match *out);

/* Up to @max names outward of the flagged frame for a "from" chain: lock fast
 * paths skipped, stops at an interrupt boundary. Writes indexes into @idx and
 * returns how many. */
size_t flags__chain(const char *const *names, size_t n, const struct flag_match *m,
		    size_t *idx, size_t max);

#endif
