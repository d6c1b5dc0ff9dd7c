/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Alerts to Alertmanager from a thread of their own. Each interval hands
 * over one body (every active alert, and the ones resolved in it) and goes
 * on; the thread POSTs the bodies in order, retrying what may succeed, so a
 * slow or dead Alertmanager delays neither drains nor uploads, and a
 * Pyroscope outage does not delay alerts. Alertmanager has HTTP options of
 * its own: Pyroscope's credentials are never sent to it. */
#ifndef KILN_ALERTSEND_H
#define KILN_ALERTSEND_H

#include <stddef.h>
#include <stdint.h>
#include "upload.h"

#define ALERTSEND_QUEUE 8	/* bodies waiting; the oldest goes first when full */

struct alertsend_opts {
	struct upload_opts http;	/* .url: Alertmanager's base URL */
	unsigned int attempts;		/* per body, retries included (0: 4) */
	unsigned int retry_ms;		/* before the first retry, doubled each time (0: 1000) */
};

struct alertsend_stats {
	uint64_t ok, failed;		/* POSTs */
	uint64_t retried;		/* of them, retries */
	uint64_t dropped;		/* bodies never delivered: given up, or pushed out */
	uint64_t queued;		/* waiting now */
};

struct alertsend;

/* Start the thread. Returns 0 or -errno (after printing why). */
int alertsend__new(const struct alertsend_opts *o, struct alertsend **out);
/* Hand @body (malloc'ed, @len bytes, @nr alerts) to the thread, which frees
 * it. Never blocks on the network. */
void alertsend__push(struct alertsend *a, char *body, size_t len, size_t nr);
void alertsend__stats(struct alertsend *a, struct alertsend_stats *st);
/* Stop: what is in flight ends within its timeout, the newest body waiting
 * is tried once; the rest is counted as dropped. */
void alertsend__free(struct alertsend *a);

#endif /* KILN_ALERTSEND_H */
