/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Who a process belongs to, from /proc/PID/cgroup: its systemd unit and its
 * container, for BPF program owners and for service names on upload. */
#ifndef KILN_CGROUP_H
#define KILN_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

struct cgroup_id {
	char unit[96];		/* innermost "*.service" or "*.scope"; "" if none */
	char container[16];	/* first 12 hex digits of a container id; "" if none */
	char pod_uid[40];	/* Kubernetes pod UID (8-4-4-4-12, '-'); "" if none */
};

/* Parse /proc/PID/cgroup text (cgroup v2 "0::/path" and v1
 * "N:controllers:/path" lines; the v2 line, else name=systemd, else any
 * line with a container id). Never fails: what is not there stays "". */
void cgroup_parse(const char *text, struct cgroup_id *out);
/* Read and parse /proc/@pid/cgroup. Returns 0 or -errno. */
int cgroup_of(pid_t pid, struct cgroup_id *out);
/* Kubernetes names of a container, from the kubelet's log links. */
struct k8s_names {
	char ns[64], pod[254], container[64];
};
/* Find container @id (its first 12 hex digits) in @logdir/containers,
 * where the kubelet links "<pod>_<namespace>_<container>-<64 hex id>.log";
 * else pod @uid in @logdir/pods ("<namespace>_<pod>_<uid>", container
 * unknown). Returns 0, or -ENOENT. */
int k8s_names_find(const char *logdir, const char *id, const char *uid, struct k8s_names *out);
/* The service a process reports under: "container-<id>" inside a container,
 * else its systemd service without ".service", else @comm. */
void cgroup_service_name(const struct cgroup_id *id, const char *comm, char *buf, size_t len);

#endif
