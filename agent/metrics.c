// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
#define _GNU_SOURCE	/* accept4, pipe2 */
/* GET /metrics over a minimal HTTP/1.0 responder: one request per
 * connection, a bounded read, a 2 s socket timeout, anything but GET
 * /metrics answered 404 or 405. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include "metrics.h"
#include "util.h"

struct metrics {
	int fd;
	int wake[2];			/* a write ends the thread */
	pthread_t thread;
	pthread_mutex_t mu;
	char *page;
	size_t len;
};

void mbuf_printf(struct mbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->buf ? b->buf + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = 1;
			return;
		}
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		{
			size_t cap = b->cap ? b->cap * 2 : 4096;
			char *nb;

			while (cap - b->len <= (size_t)n)
				cap *= 2;
			nb = realloc(b->buf, cap);
			if (!nb) {
				b->failed = 1;
				return;
			}
			b->buf = nb;
			b->cap = cap;
		}
	}
}

void mbuf_header(struct mbuf *b, const char *name, const char *type, const char *help)
{
	mbuf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void reply(int c, const char *status, const char *type, const char *body, size_t len)
{
	char head[256];
	int n = snprintf(head, sizeof(head), "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
			 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, type, len);

	if (send(c, head, (size_t)n, MSG_NOSIGNAL) != n)
		return;
	while (len) {
		ssize_t w = send(c, body, len, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		body += w;
		len -= (size_t)w;
	}
}

static void serve(struct metrics *m, int c)
{
	struct timeval tv = { .tv_sec = 2 };
	char req[2048];
	size_t got = 0;

	setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	/* the request line is all we need */
	while (got < sizeof(req) - 1 && !memchr(req, '\n', got)) {
		ssize_t n = recv(c, req + got, sizeof(req) - 1 - got, 0);

		if (n <= 0)
			return;
		got += (size_t)n;
	}
	req[got] = '\0';
	if (strncmp(req, "GET ", 4)) {
		reply(c, "405 Method Not Allowed", "text/plain", "GET only\n", 9);
		return;
	}
	if (strncmp(req + 4, "/metrics ", 9) && strncmp(req + 4, "/metrics?", 9) &&
	    strncmp(req + 4, "/metrics\r", 9)) {
		reply(c, "404 Not Found", "text/plain", "see /metrics\n", 13);
		return;
	}
	pthread_mutex_lock(&m->mu);
	reply(c, "200 OK", "text/plain; version=0.0.4; charset=utf-8", m->page ? m->page : "",
	      m->page ? m->len : 0);
	pthread_mutex_unlock(&m->mu);
}

static void *metrics_thread(void *arg)
{
	struct metrics *m = arg;
	struct pollfd pf[2] = { { .fd = m->fd, .events = POLLIN }, { .fd = m->wake[0], .events = POLLIN } };

	for (;;) {
		int c;

		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[1].revents)
			break;
		c = accept4(m->fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0)
			continue;
		serve(m, c);
		close(c);
	}
	return NULL;
}

struct metrics *metrics__start(const char *addr)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *colon = strrchr(addr, ':');
	struct metrics *m;
	int one = 1, err;

	if (!colon || colon == addr || !colon[1] || (size_t)(colon - addr) >= sizeof(host)) {
		p_err("failed to listen for metrics on '%s': expected HOST:PORT", addr);
		return NULL;
	}
	snprintf(host, sizeof(host), "%.*s", (int)(colon - addr), addr);
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		memmove(host, host + 1, strlen(host));
		host[strlen(host) - 1] = '\0';
	}
	err = getaddrinfo(host, colon + 1, &hints, &ai);
	if (err) {
		p_err("failed to listen for metrics on '%s': %s", addr, gai_strerror(err));
		return NULL;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		freeaddrinfo(ai);
		return NULL;
	}
	m->wake[0] = m->wake[1] = -1;
	pthread_mutex_init(&m->mu, NULL);
	m->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (m->fd < 0 || setsockopt(m->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(m->fd, ai->ai_addr, ai->ai_addrlen) || listen(m->fd, 16) ||
	    pipe2(m->wake, O_CLOEXEC)) {
		p_err("failed to listen for metrics on %s: %s", addr, strerror(errno));
		freeaddrinfo(ai);
		metrics__stop(m);
		return NULL;
	}
	freeaddrinfo(ai);
	if (pthread_create(&m->thread, NULL, metrics_thread, m)) {
		p_err("failed to start the metrics thread: %s", strerror(errno));
		close(m->wake[1]);
		m->wake[1] = -1;
		metrics__stop(m);
		return NULL;
	}
	return m;
}

void metrics__publish(struct metrics *m, const char *text, size_t len)
{
	char *copy = malloc(len + 1);

	if (!copy)
		return;	/* the last page stays */
	memcpy(copy, text, len);
	copy[len] = '\0';
	pthread_mutex_lock(&m->mu);
	free(m->page);
	m->page = copy;
	m->len = len;
	pthread_mutex_unlock(&m->mu);
}

void metrics__stop(struct metrics *m)
{
	if (!m)
		return;
	if (m->wake[1] >= 0) {
		if (write(m->wake[1], "x", 1) == 1)
			pthread_join(m->thread, NULL);
		close(m->wake[1]);
	}
	if (m->wake[0] >= 0)
		close(m->wake[0]);
	if (m->fd >= 0)
		close(m->fd);
	pthread_mutex_destroy(&m->mu);
	free(m->page);
	free(m);
}
