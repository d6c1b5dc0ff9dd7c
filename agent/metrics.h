/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* A Prometheus text-format endpoint (GET /metrics) served by one thread from
 * a snapshot the agent refreshes: serving never touches the agent's state. */
#ifndef KILN_METRICS_H
#define KILN_METRICS_H

#include <stddef.h>

struct metrics;

/* Listen on @addr ("HOST:PORT", numeric host). Returns NULL after printing one
 * error line. */
struct metrics *metrics__start(const char *addr);
/* Replace the page served (text exposition format, copied). */
void metrics__publish(struct metrics *m, const char *text, size_t len);
void metrics__stop(struct metrics *m);

/* Appending to a growing page. */
struct mbuf {
	char *buf;
	size_t len, cap;
	int failed;			/* out of memory: the page is incomplete */
};

void mbuf_printf(struct mbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* "# HELP name help\n# TYPE name type\n" */
void mbuf_header(struct mbuf *b, const char *name, const char *type, const char *help);

#endif
