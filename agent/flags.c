// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#include <ctype.h>
#include <string.h>
#include "flags.h"

enum match { M_EXACT, M_PREFIX, M_TAG, M_DIGITS };

struct rule {
	const char *pattern;
	enum match match;
	enum flag_role role;
	const char *kernels;
};

/*
 * The table. Kernel versions are where the name exists (mainline, x86 unless
 * said); a name absent from a kernel costs nothing. Not covered: x86 ticket
 * spinlocks before 4.2 (spinning inlined into _raw_spin_lock, no slowpath
 * symbol) and virt_spin_lock (inlined into the slowpath's caller).
 */
static const struct rule rules[] = {
	/* queued spinlocks (4.2+) and queued rwlocks (3.16+) */
	{ "native_queued_spin_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "4.2+ with PARAVIRT_SPINLOCKS, on bare metal" },
	{ "__pv_queued_spin_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "4.2+ paravirt guests (KVM, Xen, Hyper-V)" },
	{ "pv_queued_spin_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "paravirt builds naming it without underscores" },
	{ "queued_spin_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "4.2+ without paravirt spinlocks; arm64 4.19+, riscv, loongarch" },
	{ "queued_read_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "3.16+ (qrwlock)" },
	{ "queued_write_lock_slowpath", M_EXACT, ROLE_SLOWPATH, "3.16+ (qrwlock)" },

	/* spin lock entry points: the fast path, and what a "from" chain skips */
	{ "_raw_spin_lock", M_PREFIX, ROLE_LOCK_ENTRY, "all (_bh, _irq, _irqsave, _nested variants)" },
	{ "_raw_read_lock", M_PREFIX, ROLE_LOCK_ENTRY, "all" },
	{ "_raw_write_lock", M_PREFIX, ROLE_LOCK_ENTRY, "all" },
	{ "do_raw_spin_lock", M_PREFIX, ROLE_LOCK_ENTRY, "CONFIG_DEBUG_SPINLOCK" },
	{ "kvm_wait", M_EXACT, ROLE_LOCK_ENTRY, "4.2+ KVM guests: the slowpath's halt" },
	{ "pv_wait", M_EXACT, ROLE_LOCK_ENTRY, "4.2+ paravirt" },

	/* kprobes, kretprobes and their successors */
	{ "kprobe_int3_handler", M_EXACT, ROLE_KPROBE, "4.x+ (int3 probes)" },
	{ "kprobe_ftrace_handler", M_EXACT, ROLE_KPROBE, "4.0+ (probes on ftrace sites)" },
	{ "kprobe_breakpoint_handler", M_EXACT, ROLE_KPROBE, "arm64" },
	{ "optimized_callback", M_EXACT, ROLE_KPROBE, "2.6.34+ (x86 jump-optimized probes)" },
	{ "opt_pre_handler", M_EXACT, ROLE_KPROBE, "2.6.34+" },
	{ "aggr_pre_handler", M_EXACT, ROLE_KPROBE, "2.6.x+ (several probes on one address)" },
	{ "aggr_post_handler", M_EXACT, ROLE_KPROBE, "2.6.x+" },
	{ "kprobe_dispatcher", M_EXACT, ROLE_KPROBE, "2.6.33+ (kprobe events: perf, BPF, ftrace)" },
	{ "kretprobe_dispatcher", M_EXACT, ROLE_KPROBE, "2.6.33+" },
	{ "kprobe_perf_func", M_EXACT, ROLE_KPROBE, "2.6.33+" },
	{ "kretprobe_perf_func", M_EXACT, ROLE_KPROBE, "2.6.33+" },
	{ "kprobe_trace_func", M_EXACT, ROLE_KPROBE, "2.6.33+" },
	{ "kretprobe_trace_func", M_EXACT, ROLE_KPROBE, "2.6.33+" },
	{ "pre_handler_kretprobe", M_EXACT, ROLE_KPROBE, "2.6.x+ (arms a kretprobe at function entry)" },
	{ "kretprobe_trampoline", M_EXACT, ROLE_KPROBE, "up to 5.14 (x86 return trampoline)" },
	{ "__kretprobe_trampoline", M_EXACT, ROLE_KPROBE, "5.15+ where rethook is not used" },
	{ "trampoline_handler", M_EXACT, ROLE_KPROBE, "up to 5.18 (x86)" },
	{ "kretprobe_trampoline_handler", M_EXACT, ROLE_KPROBE, "5.11-5.18" },
	{ "__kretprobe_trampoline_handler", M_EXACT, ROLE_KPROBE, "5.11-5.18" },
	{ "kretprobe_hash_lock", M_EXACT, ROLE_KPROBE, "up to 5.10 (the kretprobe hash; removed in 5.11)" },
	{ "kretprobe_table_lock", M_EXACT, ROLE_KPROBE, "up to 5.10" },
	{ "kretprobe_hash_unlock", M_EXACT, ROLE_KPROBE, "up to 5.10" },
	{ "recycle_rp_inst", M_EXACT, ROLE_KPROBE, "up to 5.10" },
	{ "arch_rethook_trampoline", M_EXACT, ROLE_KPROBE, "5.19+ x86, 6.0+ arm64 and others (rethook)" },
	{ "arch_rethook_trampoline_callback", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "rethook_trampoline_handler", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "rethook_try_get", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "rethook_hook", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "rethook_recycle", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "kretprobe_rethook_handler", M_EXACT, ROLE_KPROBE, "5.19+" },
	{ "objpool_pop", M_EXACT, ROLE_KPROBE, "6.7+ lockless pool of kretprobe/rethook instances, where not inlined" },
	{ "objpool_push", M_EXACT, ROLE_KPROBE, "6.7+, where not inlined" },
	{ "fprobe_handler", M_EXACT, ROLE_KPROBE, "5.18+ (fprobe: BPF kprobe.multi)" },
	{ "fprobe_exit_handler", M_EXACT, ROLE_KPROBE, "5.18+" },
	{ "fprobe_entry", M_EXACT, ROLE_KPROBE, "6.14+ (fprobe on fgraph)" },
	{ "fprobe_return", M_EXACT, ROLE_KPROBE, "6.14+" },
	{ "kprobe_multi_link_handler", M_EXACT, ROLE_KPROBE, "5.18+" },
	{ "kprobe_multi_link_exit_handler", M_EXACT, ROLE_KPROBE, "5.18+" },
	{ "kprobe_multi_link_prog_run", M_EXACT, ROLE_KPROBE, "5.18+" },

	/* BPF trampolines, dispatchers and the code that runs programs */
	{ "bpf_trampoline_", M_DIGITS, ROLE_BPF_TRAMPOLINE, "5.5+ (JIT image, [bpf])" },
	{ "bpf_dispatcher_xdp", M_EXACT, ROLE_BPF_TRAMPOLINE, "5.7+ (JIT image, [bpf])" },
	{ "bpf_dispatcher_xdp_func", M_EXACT, ROLE_BPF_TRAMPOLINE, "5.7+" },
	{ "__bpf_prog_enter", M_PREFIX, ROLE_BPF_TRAMPOLINE, "5.5+ (_recur, _sleepable, _lsm_cgroup variants)" },
	{ "__bpf_prog_exit", M_PREFIX, ROLE_BPF_TRAMPOLINE, "5.5+" },
	{ "__bpf_tramp_enter", M_EXACT, ROLE_BPF_TRAMPOLINE, "5.10+" },
	{ "__bpf_tramp_exit", M_EXACT, ROLE_BPF_TRAMPOLINE, "5.10+" },
	{ "bpf_trace_run", M_PREFIX, ROLE_BPF_TRAMPOLINE, "4.17+ (raw_tp and tp_btf programs)" },
	{ "__bpf_trace_", M_PREFIX, ROLE_BPF_TRAMPOLINE, "4.17+" },
	{ "trace_call_bpf", M_EXACT, ROLE_BPF_TRAMPOLINE, "4.1+ (kprobe and tracepoint programs)" },
	{ "perf_trace_run_bpf_submit", M_EXACT, ROLE_BPF_TRAMPOLINE, "4.7+" },
	{ "___bpf_prog_run", M_EXACT, ROLE_BPF_TRAMPOLINE, "4.x+ (interpreter, JIT off)" },
	{ "__bpf_prog_run", M_PREFIX, ROLE_BPF_TRAMPOLINE, "4.x+ (interpreter entries)" },

	/* JIT-ed programs: "bpf_prog_<tag>_<name>" in kallsyms, module [bpf] */
	{ "bpf_prog_", M_TAG, ROLE_BPF_PROG, "4.15+ (4.11-4.14 without the name)" },

	/* BPF map code: context for a slowpath ("BPF map locking") */
	{ "htab_", M_PREFIX, ROLE_BPF_MAP, "all (hash maps; bucket lock)" },
	{ "__htab_", M_PREFIX, ROLE_BPF_MAP, "all" },
	{ "bpf_lru_", M_PREFIX, ROLE_BPF_MAP, "4.10+ (LRU maps)" },
	{ "pcpu_freelist_", M_PREFIX, ROLE_BPF_MAP, "4.6+" },
	{ "__pcpu_freelist_", M_PREFIX, ROLE_BPF_MAP, "4.6+" },
	{ "___pcpu_freelist_", M_PREFIX, ROLE_BPF_MAP, "5.x+" },
	{ "bpf_map_", M_PREFIX, ROLE_BPF_MAP, "all (map helpers and syscall side)" },
	{ "bpf_ringbuf_", M_PREFIX, ROLE_BPF_MAP, "5.8+ (ring buffer spinlock)" },
	{ "__bpf_ringbuf_", M_PREFIX, ROLE_BPF_MAP, "5.8+" },
	{ "bpf_spin_lock", M_EXACT, ROLE_BPF_MAP, "5.1+" },
	{ "__bpf_spin_lock", M_PREFIX, ROLE_BPF_MAP, "5.1+" },
	{ "bpf_local_storage_", M_PREFIX, ROLE_BPF_MAP, "5.10+" },
	{ "trie_update_elem", M_EXACT, ROLE_BPF_MAP, "4.11+ (LPM trie)" },
	{ "trie_delete_elem", M_EXACT, ROLE_BPF_MAP, "4.11+" },
	{ "queue_stack_map_", M_PREFIX, ROLE_BPF_MAP, "4.20+" },
	{ "__queue_map_", M_PREFIX, ROLE_BPF_MAP, "4.20+" },
	{ "__stack_map_", M_PREFIX, ROLE_BPF_MAP, "4.20+" },

	/* interrupt entries: a sample above one belongs to the interrupt, not
	 * to the code it interrupted */
	{ "asm_sysvec_", M_PREFIX, ROLE_BOUNDARY, "5.8+ x86" },
	{ "asm_common_interrupt", M_EXACT, ROLE_BOUNDARY, "5.8+ x86" },
	{ "asm_exc_nmi", M_EXACT, ROLE_BOUNDARY, "5.8+ x86" },
	{ "apic_timer_interrupt", M_EXACT, ROLE_BOUNDARY, "up to 5.7 x86" },
	{ "common_interrupt", M_EXACT, ROLE_BOUNDARY, "x86" },
	{ "el1h_64_irq", M_EXACT, ROLE_BOUNDARY, "5.13+ arm64" },
	{ "el1_irq", M_EXACT, ROLE_BOUNDARY, "up to 5.12 arm64" },
	{ "__do_softirq", M_EXACT, ROLE_BOUNDARY, "up to 6.7" },
	{ "handle_softirqs", M_EXACT, ROLE_BOUNDARY, "6.8+" },
};

#define NR_RULES (sizeof(rules) / sizeof(rules[0]))

static const char *const flag_names[KILN_FLAG__MAX] = {
	[KILN_FLAG_NONE] = "",
	[KILN_FLAG_SPINLOCK_SLOWPATH] = "spinlock_slowpath",
	[KILN_FLAG_KPROBE] = "kprobe",
	[KILN_FLAG_BPF_TRAMPOLINE] = "bpf_trampoline",
	[KILN_FLAG_BPF_PROG] = "bpf_prog",
};

static const char *const flag_titles[KILN_FLAG__MAX] = {
	[KILN_FLAG_NONE] = "",
	[KILN_FLAG_SPINLOCK_SLOWPATH] = "spinlock slowpath",
	[KILN_FLAG_KPROBE] = "kprobe machinery",
	[KILN_FLAG_BPF_TRAMPOLINE] = "BPF trampolines and program runners",
	[KILN_FLAG_BPF_PROG] = "BPF programs",
};

static const char *const under_names[KILN_UNDER__COUNT] = {
	"kprobe", "bpf_trampoline", "bpf_prog", "bpf_map",
};

const char *flags__name(enum kiln_flag f)
{
	return f < KILN_FLAG__MAX ? flag_names[f] : "";
}

const char *flags__title(enum kiln_flag f)
{
	return f < KILN_FLAG__MAX ? flag_titles[f] : "";
}

const char *flags__under_name(unsigned int i)
{
	return i < KILN_UNDER__COUNT ? under_names[i] : "";
}

/* Length of @name without a compiler clone suffix (".constprop.0", ".cold"). */
static size_t base_len(const char *name)
{
	const char *dot = strchr(name, '.');

	return dot ? (size_t)(dot - name) : strlen(name);
}

static bool rule_matches(const struct rule *r, const char *name, size_t len)
{
	size_t plen = strlen(r->pattern);
	const char *rest = name + plen;

	switch (r->match) {
	case M_EXACT:
		return len == plen && !strncmp(name, r->pattern, plen);
	case M_PREFIX:
		return len >= plen && !strncmp(name, r->pattern, plen);
	case M_DIGITS:
		if (len <= plen || strncmp(name, r->pattern, plen))
			return false;
		for (; rest < name + len; rest++)
			if (!isdigit((unsigned char)*rest))
				return false;
		return true;
	case M_TAG:
		if (len < plen + 16 || strncmp(name, r->pattern, plen))
			return false;
		for (int i = 0; i < 16; i++)
			if (!isxdigit((unsigned char)rest[i]))
				return false;
		return len == plen + 16 || rest[16] == '_';
	}
	return false;
}

enum flag_role flags__role(const char *name)
{
	size_t len;

	if (!name)
		return ROLE_NONE;
	len = base_len(name);
	for (size_t i = 0; i < NR_RULES; i++)
		if (rule_matches(&rules[i], name, len))
			return rules[i].role;
	return ROLE_NONE;
}

bool flags__is_bpf_prog_symbol(const char *name)
{
	return flags__role(name) == ROLE_BPF_PROG;
}

static enum kiln_flag role_flag(enum flag_role r)
{
	switch (r) {
	case ROLE_SLOWPATH: return KILN_FLAG_SPINLOCK_SLOWPATH;
	case ROLE_KPROBE: return KILN_FLAG_KPROBE;
	case ROLE_BPF_TRAMPOLINE: return KILN_FLAG_BPF_TRAMPOLINE;
	case ROLE_BPF_PROG: return KILN_FLAG_BPF_PROG;
	default: return KILN_FLAG_NONE;
	}
}

enum kiln_flag flags__frame_flag(const char *name)
{
	return role_flag(flags__role(name));
}

static unsigned int role_under(enum flag_role r)
{
	switch (r) {
	case ROLE_KPROBE: return KILN_UNDER_KPROBE;
	case ROLE_BPF_TRAMPOLINE: return KILN_UNDER_BPF_TRAMPOLINE;
	case ROLE_BPF_PROG: return KILN_UNDER_BPF_PROG;
	case ROLE_BPF_MAP: return KILN_UNDER_BPF_MAP;
	default: return 0;
	}
}

void flags__classify(const char *const *names, size_t n, struct flag_match *m)
{
	enum flag_role roles[256];

	if (n > 256)
		n = 256;
	for (size_t i = 0; i < n; i++)
		roles[i] = flags__role(names[i]);
	flags__classify_roles(roles, n, m);
}

void flags__classify_roles(const enum flag_role *roles, size_t n, struct flag_match *m)
{
	*m = (struct flag_match){ .frame = -1, .prog_frame = -1 };
	for (size_t i = 0; i < n; i++) {
		enum flag_role r = roles[i];

		if (r == ROLE_BOUNDARY)
			return;
		if (m->frame < 0) {
			if (role_flag(r) == KILN_FLAG_NONE)
				continue;
			m->flag = role_flag(r);
			m->frame = (int)i;
		} else {
			m->under |= role_under(r);
		}
		if (r == ROLE_BPF_PROG && m->prog_frame < 0)
			m->prog_frame = (int)i;
	}
}

size_t flags__chain(const char *const *names, size_t n, const struct flag_match *m,
		    size_t *idx, size_t max)
{
	size_t k = 0;

	if (m->frame < 0)
		return 0;
	for (size_t i = (size_t)m->frame + 1; i < n && k < max; i++) {
		enum flag_role r = flags__role(names[i]);

		if (r == ROLE_BOUNDARY)
			break;
		if (r == ROLE_LOCK_ENTRY || !names[i])
			continue;
		idx[k++] = i;
	}
	return k;
}
