/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Inventory of the host's BPF programs: what each is, where its JIT-ed code
 * lives, what it is attached to and which processes hold it. Snapshots are
 * merged, so a program unloaded during a recording keeps its record (its
 * kallsyms entry is gone by then). */
#ifndef KILN_BPFPROGS_H
#define KILN_BPFPROGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BPFPROGS_MAX 4096		/* programs kept; the rest counted */
#define BPFPROG_OWNERS_MAX 8
#define BPFPROG_ATTACH_MAX 8
#define BPFLINKS_MAX 4096

struct bpf_owner {
	uint32_t pid;
	char comm[17];
	char unit[96];			/* systemd unit or scope; "" if none */
	char container[16];		/* container id (12 hex); "" if none */
};

struct bpf_attach {
	char kind[32];			/* "raw_tracepoint", "kprobe", "tracing/trace_raw_tp", ... */
	char target[160];		/* "sys_enter", "tcp_sendmsg+0x0", "sched_switch" */
	uint32_t link_id;		/* 0: not through a link (perf event fd, legacy attach) */
};

struct bpf_prog_rec {
	uint32_t id;
	char type[32];
	char name[17];
	char tag[17];
	char btf_target[128];		/* attach_btf_id's name for tracing programs */
	uint32_t uid;
	uint64_t load_time_ns;		/* since boot */
	uint64_t *ksyms;		/* JIT-ed (sub)program starts */
	uint32_t *lens;
	uint32_t nr_ksyms;
	uint64_t run_time_ns, run_cnt, recursion_misses;
	struct bpf_owner owners[BPFPROG_OWNERS_MAX];
	uint32_t nr_owners, owners_dropped;
	struct bpf_attach attach[BPFPROG_ATTACH_MAX];
	uint32_t nr_attach, attach_dropped;
	bool gone;			/* not loaded at the last snapshot */
	bool seen;			/* internal: seen by the current snapshot */
};

struct bpf_link_rec {
	uint32_t id, prog_id;
	char type[32];
	char target[160];
	char missing[96];		/* what this build or kernel cannot tell */
};

struct bpfprogs {
	struct bpf_prog_rec *progs;
	size_t nr, cap;
	struct bpf_link_rec *links;
	size_t nr_links, cap_links;
	uint64_t progs_dropped, links_dropped;	/* past the bounds */
	uint64_t snapshots;
	uint64_t refreshed_ns;		/* a caller's rate limit for snapshots on demand */
	int err;			/* first error of the last snapshot, -errno */
};

/* Take a snapshot: every loaded program (info, JIT ranges, run-time stats),
 * every link, and the owners found in /proc/[pid]/fd. Merges into @p: new
 * programs are added, known ones updated, missing ones marked gone. With
 * @owners false /proc is not walked. Returns 0 or -errno (EPERM without
 * CAP_SYS_ADMIN). Blocks while it reads /proc. */
int bpfprogs__snapshot(struct bpfprogs *p, bool owners);

/* The program whose JIT-ed code covers @addr, or NULL. */
const struct bpf_prog_rec *bpfprogs__find_addr(const struct bpfprogs *p, uint64_t addr);
const struct bpf_prog_rec *bpfprogs__find_id(const struct bpfprogs *p, uint32_t id);

/* "1234 hotprog (unit x.service)": owners of @r, or "no process holds it". */
void bpfprogs__owners_str(const struct bpf_prog_rec *r, char *buf, size_t len);
/* Is process @pid among the program's owners? */
bool bpfprogs__owned_by(const struct bpf_prog_rec *r, uint32_t pid);
/* "raw_tracepoint sys_enter (link 7)", ..., or what is unknown. */
void bpfprogs__attach_str(const struct bpf_prog_rec *r, char *buf, size_t len);

/* Whether kernel.bpf_stats_enabled is on (run_time_ns/run_cnt counting). */
bool bpfprogs__stats_enabled(void);

void bpfprogs__free(struct bpfprogs *p);

#endif
