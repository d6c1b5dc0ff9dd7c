// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* Alertmanager delivery on a thread of its own (see alertsend.h). */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "alertsend.h"
#include "util.h"

#define RETRY_MAX_MS 30000u

struct body {
	char *text;
	size_t len, nr;
};

struct alertsend {
	struct alertsend_opts o;
	struct uploader *http;
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	struct body q[ALERTSEND_QUEUE];	/* a ring: q[head] is the oldest */
	size_t head, nr;
	bool stop;
	struct alertsend_stats st;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Wait on the queue's condition until @until_ms (monotonic) or a signal.
 * Called with the mutex held. */
static void wait_until(struct alertsend *a, uint64_t until_ms)
{
	struct timespec ts = { .tv_sec = (time_t)(until_ms / 1000),
			       .tv_nsec = (long)(until_ms % 1000) * 1000000 };

	pthread_cond_timedwait(&a->cond, &a->mu, &ts);
}

/* POST @b once, without the mutex. Returns 0, -EAGAIN (worth a retry) or
 * another -errno. */
static int post(struct alertsend *a, const struct body *b)
{
	struct upload_result r;
	int err;

	err = uploader__post(a->http, "/api/v2/alerts", "application/json", b->text, b->len, &r);
	if (err)
		/* logged each time: an alert not delivered is worth a line */
		p_warn("failed to send %zu alert(s) to %s: %s", b->nr, a->o.http.url,
		       r.error[0] ? r.error : strerror(-err));
	return err;
}

static void *sender_thread(void *arg)
{
	struct alertsend *a = arg;
	unsigned int attempts = a->o.attempts ? a->o.attempts : 4;
	unsigned int retry_ms = a->o.retry_ms ? a->o.retry_ms : 1000;

	pthread_mutex_lock(&a->mu);
	while (!a->stop) {
		struct body b;
		unsigned int tries = 0, delay = retry_ms;
		int err;

		if (!a->nr) {
			pthread_cond_wait(&a->cond, &a->mu);
			continue;
		}
		b = a->q[a->head];
		a->q[a->head].text = NULL;
		a->head = (a->head + 1) % ALERTSEND_QUEUE;
		a->nr--;
		for (;;) {
			pthread_mutex_unlock(&a->mu);
			err = post(a, &b);
			pthread_mutex_lock(&a->mu);
			tries++;
			if (!err) {
				a->st.ok++;
				break;
			}
			a->st.failed++;
			if (err != -EAGAIN || tries >= attempts || a->stop) {
				a->st.dropped++;
				break;
			}
			for (uint64_t until = mono_ms() + delay; !a->stop && mono_ms() < until;)
				wait_until(a, until);	/* a push wakes it too */
			delay = delay * 2 < RETRY_MAX_MS ? delay * 2 : RETRY_MAX_MS;
			if (a->stop) {
				a->st.dropped++;
				break;
			}
			a->st.retried++;
		}
		free(b.text);
	}
	pthread_mutex_unlock(&a->mu);
	return NULL;
}

int alertsend__new(const struct alertsend_opts *o, struct alertsend **out)
{
	struct alertsend *a = calloc(1, sizeof(*a));
	pthread_condattr_t ca;
	int err;

	*out = NULL;
	if (!a) {
		p_err("failed to set up alerts to %s: %s", o->http.url, strerror(ENOMEM));
		return -ENOMEM;
	}
	a->o = *o;
	a->http = uploader__new(&o->http);
	if (!a->http) {
		err = -errno;
		p_err("failed to set up alerts to %s: %s", o->http.url, strerror(-err));
		free(a);
		return err;
	}
	pthread_mutex_init(&a->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&a->cond, &ca);
	pthread_condattr_destroy(&ca);
	err = -pthread_create(&a->thread, NULL, sender_thread, a);
	if (err) {
		p_err("failed to start the alert sender: %s", strerror(-err));
		pthread_cond_destroy(&a->cond);
		pthread_mutex_destroy(&a->mu);
		uploader__free(a->http);
		free(a);
		return err;
	}
	*out = a;
	return 0;
}

void alertsend__push(struct alertsend *a, char *body, size_t len, size_t nr)
{
	size_t tail;

	pthread_mutex_lock(&a->mu);
	if (a->nr == ALERTSEND_QUEUE) {
		/* full: Alertmanager has been slow for a while; the oldest goes
		 * (its active alerts are in the newer bodies too) */
		free(a->q[a->head].text);
		a->q[a->head].text = NULL;
		a->head = (a->head + 1) % ALERTSEND_QUEUE;
		a->nr--;
		a->st.dropped++;
	}
	tail = (a->head + a->nr) % ALERTSEND_QUEUE;
	a->q[tail] = (struct body){ .text = body, .len = len, .nr = nr };
	a->nr++;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->mu);
}

void alertsend__stats(struct alertsend *a, struct alertsend_stats *st)
{
	pthread_mutex_lock(&a->mu);
	*st = a->st;
	st->queued = a->nr;
	pthread_mutex_unlock(&a->mu);
}

void alertsend__free(struct alertsend *a)
{
	if (!a)
		return;
	pthread_mutex_lock(&a->mu);
	a->stop = true;
	pthread_cond_signal(&a->cond);
	pthread_mutex_unlock(&a->mu);
	pthread_join(a->thread, NULL);
	/* the newest body says what is active and resolved now: one try */
	if (a->nr) {
		size_t last = (a->head + a->nr - 1) % ALERTSEND_QUEUE;

		if (post(a, &a->q[last]))
			a->st.failed++;
		else
			a->st.ok++;
		a->st.dropped += a->nr - 1;
	}
	for (size_t i = 0; i < ALERTSEND_QUEUE; i++)
		free(a->q[i].text);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->mu);
	uploader__free(a->http);
	free(a);
}
