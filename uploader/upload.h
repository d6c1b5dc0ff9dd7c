/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Sending one pprof profile to a Pyroscope-compatible server over libcurl
 * (and any other POST with the same options: alerts to Alertmanager):
 * the Connect push API (POST /push.v1.PusherService/Push, our own push.proto)
 * or the legacy ingest API (POST /ingest?name=...&format=pprof). One request
 * per call, no retries here: the caller decides (see agent/run.c). Never
 * prints; credentials are never part of an error message. */
#ifndef KILN_UPLOAD_H
#define KILN_UPLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum upload_api { UPLOAD_PUSH, UPLOAD_INGEST };

struct upload_opts {
	const char *url;		/* server base, e.g. http://127.0.0.1:4040 */
	enum upload_api api;
	const char *tenant_id;		/* X-Scope-OrgID; NULL: none */
	const char *basic_auth;		/* "user:password"; NULL: none */
	const char *bearer_token;	/* NULL: none */
	const char *ca_file;		/* NULL: the system's */
	const char *cert_file, *key_file; /* client certificate; NULL: none */
	bool insecure;			/* do not verify the server's certificate */
	long timeout_ms;		/* whole request; 0: 30 s */
};

struct upload_label {
	const char *name, *value;
};

/* One profile of one series. */
struct upload_item {
	const char *name;		/* __name__: process_cpu, offcpu, block */
	const char *service;		/* service_name */
	const struct upload_label *labels; /* more series labels */
	size_t nr_labels;
	int64_t from_ns, until_ns;	/* the interval it covers */
	const uint8_t *pprof;		/* encoded profile, gzipped */
	size_t len;
	uint32_t sample_rate;		/* ingest: samples per second */
};

struct upload_result {
	long status;			/* HTTP status; 0: no reply (connection error) */
	long retry_after_s;		/* Retry-After in seconds; -1: none */
	uint64_t bytes_sent;		/* request body */
	char error[256];		/* one line: curl's error, or the reply's start */
};

struct uploader;

/* NULL with errno set (ENOMEM, or EINVAL for a URL libcurl cannot use). */
struct uploader *uploader__new(const struct upload_opts *opts);
void uploader__free(struct uploader *u);

/* Send @it once. Returns 0 when the server took it (2xx); -EAGAIN when a
 * retry may succeed (no connection, timeout, 408, 429, 5xx); -EINVAL when it
 * will not (other replies); -ENOMEM. @r says what happened. */
int uploader__send(struct uploader *u, const struct upload_item *it, struct upload_result *r);

/* POST @len bytes of @body (@content_type) to the server's @path ("/api/v2/
 * alerts"), with the same options and results as uploader__send(). */
int uploader__post(struct uploader *u, const char *path, const char *content_type,
		   const void *body, size_t len, struct upload_result *r);

/* The bytes of the push request for @it (protobuf), malloc'ed; for tests. */
int upload_push_body(const struct upload_item *it, uint8_t **out, size_t *len);

#endif
