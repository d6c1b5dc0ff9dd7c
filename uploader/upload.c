// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* One profile, one HTTP request (libcurl). */
#define _GNU_SOURCE	/* asprintf */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <curl/curl.h>
#include "push.pb-c.h"
#include "upload.h"

struct uploader {
	struct upload_opts opts;
	CURL *curl;
	char *url;			/* copies: the options may not outlive us */
	char *tenant, *userpwd, *bearer, *ca, *cert, *key;
};

struct reply {
	char text[256];
	size_t len;
	long retry_after_s;
};

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

struct uploader *uploader__new(const struct upload_opts *opts)
{
	static bool curl_ready;
	struct uploader *u;

	if (!opts->url || strncmp(opts->url, "http", 4)) {
		errno = EINVAL;
		return NULL;
	}
	if (!curl_ready) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT)) {
			errno = ENOMEM;
			return NULL;
		}
		curl_ready = true;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return NULL;
	u->opts = *opts;
	u->url = strdup(opts->url);
	u->tenant = dup_or_null(opts->tenant_id);
	u->userpwd = dup_or_null(opts->basic_auth);
	u->bearer = dup_or_null(opts->bearer_token);
	u->ca = dup_or_null(opts->ca_file);
	u->cert = dup_or_null(opts->cert_file);
	u->key = dup_or_null(opts->key_file);
	u->curl = curl_easy_init();
	if (!u->url || !u->curl) {
		uploader__free(u);
		errno = ENOMEM;
		return NULL;
	}
	/* a trailing slash would double in the paths */
	while (strlen(u->url) > 1 && u->url[strlen(u->url) - 1] == '/')
		u->url[strlen(u->url) - 1] = '\0';
	return u;
}

void uploader__free(struct uploader *u)
{
	if (!u)
		return;
	if (u->curl)
		curl_easy_cleanup(u->curl);
	free(u->url);
	free(u->tenant);
	if (u->userpwd)
		explicit_bzero(u->userpwd, strlen(u->userpwd));
	free(u->userpwd);
	if (u->bearer)
		explicit_bzero(u->bearer, strlen(u->bearer));
	free(u->bearer);
	free(u->ca);
	free(u->cert);
	free(u->key);
	free(u);
}

/* A random (version 4) UUID: the server de-duplicates retried pushes by it. */
static void uuid4(char out[37])
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
		for (size_t i = 0; i < sizeof(b); i++)
			b[i] = (unsigned char)random();
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

int upload_push_body(const struct upload_item *it, uint8_t **out, size_t *len)
{
	Kiln__Push__PushRequest req = KILN__PUSH__PUSH_REQUEST__INIT;
	Kiln__Push__RawProfileSeries series = KILN__PUSH__RAW_PROFILE_SERIES__INIT;
	Kiln__Push__RawSample sample = KILN__PUSH__RAW_SAMPLE__INIT;
	Kiln__Push__RawProfileSeries *sp = &series;
	Kiln__Push__RawSample *smp = &sample;
	Kiln__Push__LabelPair *pairs, **pp;
	size_t n = it->nr_labels + 2;
	char id[37];

	pairs = calloc(n, sizeof(*pairs));
	pp = calloc(n, sizeof(*pp));
	if (!pairs || !pp) {
		free(pairs);
		free(pp);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		kiln__push__label_pair__init(&pairs[i]);
		pp[i] = &pairs[i];
	}
	pairs[0].name = (char *)"__name__";
	pairs[0].value = (char *)it->name;
	pairs[1].name = (char *)"service_name";
	pairs[1].value = (char *)it->service;
	for (size_t i = 0; i < it->nr_labels; i++) {
		pairs[i + 2].name = (char *)it->labels[i].name;
		pairs[i + 2].value = (char *)it->labels[i].value;
	}
	uuid4(id);
	sample.raw_profile.data = (uint8_t *)it->pprof;
	sample.raw_profile.len = it->len;
	sample.id = id;
	series.n_labels = n;
	series.labels = pp;
	series.n_samples = 1;
	series.samples = &smp;
	req.n_series = 1;
	req.series = &sp;
	*len = kiln__push__push_request__get_packed_size(&req);
	*out = malloc(*len ? *len : 1);
	if (*out)
		kiln__push__push_request__pack(&req, *out);
	free(pairs);
	free(pp);
	return *out ? 0 : -ENOMEM;
}

/* name{k=v,...} for /ingest, URL-encoded. */
static char *ingest_url(struct uploader *u, const struct upload_item *it)
{
	char name[2048], *enc, *url;
	size_t at;

	at = (size_t)snprintf(name, sizeof(name), "%s{", it->service);
	for (size_t i = 0; i < it->nr_labels && at < sizeof(name); i++)
		at += (size_t)snprintf(name + at, sizeof(name) - at, "%s%s=%s", i ? "," : "",
				       it->labels[i].name, it->labels[i].value);
	if (at < sizeof(name))
		snprintf(name + at, sizeof(name) - at, "}");
	enc = curl_easy_escape(u->curl, name, 0);
	if (!enc)
		return NULL;
	if (asprintf(&url, "%s/ingest?name=%s&from=%lld&until=%lld&format=pprof&sampleRate=%u&spyName=kiln",
		     u->url, enc, (long long)(it->from_ns / 1000000000LL),
		     (long long)(it->until_ns / 1000000000LL), it->sample_rate) < 0)
		url = NULL;
	curl_free(enc);
	return url;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct reply *r = ctx;
	size_t n = size * nmemb, room = sizeof(r->text) - 1 - r->len;

	if (room) {
		memcpy(r->text + r->len, data, n < room ? n : room);
		r->len += n < room ? n : room;
		r->text[r->len] = '\0';
	}
	return n;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct reply *r = ctx;
	size_t n = size * nmemb;

	if (n > 12 && !strncasecmp(data, "Retry-After:", 12)) {
		char *end;
		long v = strtol(data + 12, &end, 10);

		if (end != data + 12 && v >= 0)
			r->retry_after_s = v;	/* an HTTP date is left to the backoff */
	}
	return n;
}

/* One line of the reply, printable. */
static void reply_line(const char *in, char *out, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; in[i] && j + 1 < len; i++)
		out[j++] = (in[i] == '\n' || in[i] == '\r' || (unsigned char)in[i] < 0x20) ? ' ' : in[i];
	out[j] = '\0';
}

/* POST @len bytes of @body to @url with @hdrs (the content type; the tenant,
 * token and our own headers are added here), with the TLS and auth options. */
static int perform(struct uploader *u, const char *url, struct curl_slist *hdrs,
		   const void *body, size_t len, struct upload_result *res)
{
	struct reply rep = { .retry_after_s = -1 };
	char errbuf[CURL_ERROR_SIZE] = "", hdr[512];
	CURLcode cc;
	int err = -ENOMEM;

	if (u->tenant) {
		snprintf(hdr, sizeof(hdr), "X-Scope-OrgID: %s", u->tenant);
		hdrs = curl_slist_append(hdrs, hdr);
	}
	if (u->bearer) {
		char *h;

		if (asprintf(&h, "Authorization: Bearer %s", u->bearer) < 0)
			goto out;
		hdrs = curl_slist_append(hdrs, h);
		explicit_bzero(h, strlen(h));
		free(h);
	}
	hdrs = curl_slist_append(hdrs, "Expect:");	/* no 100-continue round trip */
	if (!hdrs)
		goto out;

	curl_easy_reset(u->curl);
	curl_easy_setopt(u->curl, CURLOPT_URL, url);
	curl_easy_setopt(u->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDS, (const char *)body);
	curl_easy_setopt(u->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(u->curl, CURLOPT_TIMEOUT_MS, u->opts.timeout_ms ? u->opts.timeout_ms : 30000L);
	curl_easy_setopt(u->curl, CURLOPT_CONNECTTIMEOUT_MS, 10000L);
	curl_easy_setopt(u->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(u->curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(u->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(u->curl, CURLOPT_WRITEDATA, &rep);
	curl_easy_setopt(u->curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(u->curl, CURLOPT_HEADERDATA, &rep);
	curl_easy_setopt(u->curl, CURLOPT_USERAGENT, "kiln/" KILN_UPLOAD_VERSION);
	curl_easy_setopt(u->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (u->userpwd) {
		curl_easy_setopt(u->curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(u->curl, CURLOPT_USERPWD, u->userpwd);
	}
	if (u->ca)
		curl_easy_setopt(u->curl, CURLOPT_CAINFO, u->ca);
	if (u->cert)
		curl_easy_setopt(u->curl, CURLOPT_SSLCERT, u->cert);
	if (u->key)
		curl_easy_setopt(u->curl, CURLOPT_SSLKEY, u->key);
	if (u->opts.insecure) {
		curl_easy_setopt(u->curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(u->curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	cc = curl_easy_perform(u->curl);
	res->bytes_sent = len;
	res->retry_after_s = rep.retry_after_s;
	if (cc != CURLE_OK) {
		snprintf(res->error, sizeof(res->error), "%s",
			 errbuf[0] ? errbuf : curl_easy_strerror(cc));
		/* a bad CA or client key file will not get better by retrying */
		err = cc == CURLE_SSL_CACERT_BADFILE || cc == CURLE_SSL_CERTPROBLEM ||
		      cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_URL_MALFORMAT ? -EINVAL : -EAGAIN;
		goto out;
	}
	curl_easy_getinfo(u->curl, CURLINFO_RESPONSE_CODE, &res->status);
	if (res->status >= 200 && res->status < 300) {
		err = 0;
	} else {
		reply_line(rep.text, res->error, sizeof(res->error));
		err = res->status == 408 || res->status == 429 || res->status >= 500 ? -EAGAIN : -EINVAL;
	}
out:
	/* the options point at our buffers: forget them */
	curl_easy_setopt(u->curl, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(u->curl, CURLOPT_USERPWD, NULL);
	curl_slist_free_all(hdrs);
	return err;
}

int uploader__send(struct uploader *u, const struct upload_item *it, struct upload_result *res)
{
	struct curl_slist *hdrs = NULL;
	uint8_t *body = NULL;
	size_t body_len = 0;
	char *url = NULL;
	int err = -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (u->opts.api == UPLOAD_PUSH) {
		if (upload_push_body(it, &body, &body_len))
			return -ENOMEM;
		if (asprintf(&url, "%s/push.v1.PusherService/Push", u->url) < 0)
			url = NULL;
		hdrs = curl_slist_append(hdrs, "Content-Type: application/proto");
		hdrs = curl_slist_append(hdrs, "Connect-Protocol-Version: 1");
	} else {
		url = ingest_url(u, it);
		hdrs = curl_slist_append(hdrs, "Content-Type: application/octet-stream");
	}
	if (url && hdrs)
		err = perform(u, url, hdrs, body ? body : it->pprof, body ? body_len : it->len, res);
	else
		curl_slist_free_all(hdrs);
	free(url);
	free(body);
	return err;
}

int uploader__post(struct uploader *u, const char *path, const char *content_type,
		   const void *body, size_t len, struct upload_result *res)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL, *ct = NULL;
	int err = -ENOMEM;

	memset(res, 0, sizeof(*res));
	res->retry_after_s = -1;
	if (asprintf(&url, "%s%s", u->url, path) < 0)
		url = NULL;
	if (asprintf(&ct, "Content-Type: %s", content_type) < 0)
		ct = NULL;
	if (ct)
		hdrs = curl_slist_append(hdrs, ct);
	if (url && hdrs)
		err = perform(u, url, hdrs, body, len, res);
	else
		curl_slist_free_all(hdrs);
	free(url);
	free(ct);
	return err;
}
