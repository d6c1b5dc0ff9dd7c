// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Service names from /proc/PID/cgroup contents as hosts write them: cgroup
 * v2 and v1, systemd services and sessions, docker, containerd (Kubernetes),
 * cri-o. This machine runs no containers, so the contents are fixtures. */
#include "check.h"
#include "cgroup.h"

#define ID64 "4a3c1f0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa9988"

static const struct {
	const char *what, *text, *unit, *container, *service;
} cases[] = {
	{ "v2 systemd service", "0::/system.slice/nginx.service\n",
	  "nginx.service", "", "nginx" },
	{ "v2 user session", "0::/user.slice/user-1000.slice/session-3.scope\n",
	  "session-3.scope", "", "myproc" },
	{ "v2 docker", "0::/system.slice/docker-" ID64 ".scope\n",
	  "docker-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d" },
	{ "v2 containerd (kubelet, systemd driver)",
	  "0::/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod1234_5678.slice/"
	  "cri-containerd-" ID64 ".scope\n",
	  "cri-containerd-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d" },
	{ "v2 cri-o", "0::/kubepods.slice/kubepods-burstable.slice/"
	  "kubepods-burstable-podabcd.slice/crio-" ID64 ".scope\n",
	  "crio-" ID64 ".scope", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d" },
	{ "v1 systemd service",
	  "12:pids:/system.slice/cron.service\n11:memory:/system.slice/cron.service\n"
	  "1:name=systemd:/system.slice/cron.service\n",
	  "cron.service", "", "cron" },
	{ "v1 docker (cgroupfs driver)",
	  "12:pids:/docker/" ID64 "\n4:cpu,cpuacct:/docker/" ID64 "\n"
	  "1:name=systemd:/docker/" ID64 "\n",
	  "", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d" },
	{ "v1 kubernetes (cgroupfs driver), id outside name=systemd",
	  "3:cpu,cpuacct:/kubepods/besteffort/pod1234/" ID64 "\n1:name=systemd:/\n",
	  "", "4a3c1f0e9b8d", "container-4a3c1f0e9b8d" },
	{ "hybrid: v2 line and v1 lines", "1:name=systemd:/system.slice/sshd.service\n"
	  "0::/system.slice/sshd.service\n", "sshd.service", "", "sshd" },
	{ "no systemd, no container", "0::/\n", "", "", "myproc" },
	{ "empty file", "", "", "", "myproc" },
	{ "garbage", "not a cgroup file\n:::\n", "", "", "myproc" },
	{ "63 hex digits are not an id", "0::/docker/" "4a3c1f0e9b8d7c6a5f4e3d2c1b0a99887766554433221100ffeeddccbbaa998" "\n",
	  "", "", "myproc" },
};

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cgroup_id id;
		char svc[128];

		cgroup_parse(cases[i].text, &id);
		cgroup_service_name(&id, "myproc", svc, sizeof(svc));
		fprintf(stderr, "%-55s unit '%s' container '%s' -> %s\n", cases[i].what, id.unit,
			id.container, svc);
		CHECK_STR(id.unit, cases[i].unit);
		CHECK_STR(id.container, cases[i].container);
		CHECK_STR(svc, cases[i].service);
	}
	CHECK_DONE();
}
