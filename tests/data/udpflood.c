// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Fixture: SENDERS processes send small UDP datagrams on 127.0.0.1 to one
 * socket that this process reads, for SECONDS. Loopback delivers each
 * datagram in the NET_RX softirq, run when the sender's system call
 * re-enables bottom halves, on the CPU's interrupt stack; waking the reader
 * there contends on runqueue locks with the other CPU: lock waits in
 * interrupt context, in the middle of a system call.
 * Usage: fixture_udpflood SENDERS SECONDS */
#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

__attribute__((noinline)) static void kiln_fixture_udp_send(const struct sockaddr_in *to, double end)
{
	int s = socket(AF_INET, SOCK_DGRAM, 0);
	char msg[64] = { 0 };

	if (s < 0)
		return;
	while (now() < end)
		for (int i = 0; i < 256; i++)
			sendto(s, msg, sizeof(msg), 0, (const struct sockaddr *)to, sizeof(*to));
	close(s);
}

int main(int argc, char **argv)
{
	int senders = argc > 1 ? atoi(argv[1]) : 2;
	double end = now() + (argc > 2 ? atof(argv[2]) : 5.0);
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct timeval tv = { .tv_usec = 200000 };
	socklen_t len = sizeof(addr);
	char buf[2048];
	int r = socket(AF_INET, SOCK_DGRAM, 0);

	if (r < 0 || bind(r, (struct sockaddr *)&addr, sizeof(addr)) ||
	    getsockname(r, (struct sockaddr *)&addr, &len) ||
	    setsockopt(r, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return 1;
	for (int i = 0; i < senders && i < 16; i++)
		if (fork() == 0) {
			kiln_fixture_udp_send(&addr, end);
			_exit(0);
		}
	while (now() < end)
		recv(r, buf, sizeof(buf), 0);
	while (wait(NULL) > 0)
		;
	return 0;
}
