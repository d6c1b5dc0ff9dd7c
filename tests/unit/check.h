/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* Minimal assertions for kiln's C unit tests: each failure prints its place
 * and the test exits non-zero at the end. */
#ifndef KILN_CHECK_H
#define KILN_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond) do {							\
	if (!(cond)) {								\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++;						\
	}									\
} while (0)

#define CHECK_STR(a, b) do {							\
	const char *_a = (a), *_b = (b);					\
	if (!_a || !_b || strcmp(_a, _b)) {					\
		fprintf(stderr, "%s:%d: expected \"%s\", got \"%s\"\n", __FILE__, __LINE__, \
			_b ? _b : "(null)", _a ? _a : "(null)");		\
		check_failures++;						\
	}									\
} while (0)

#define CHECK_INT(a, b) do {							\
	long long _a = (long long)(a), _b = (long long)(b);			\
	if (_a != _b) {								\
		fprintf(stderr, "%s:%d: %s: expected %lld, got %lld\n", __FILE__, __LINE__, \
			#a, _b, _a);						\
		check_failures++;						\
	}									\
} while (0)

#define CHECK_DONE() do {							\
	if (check_failures) {							\
		fprintf(stderr, "%d check(s) failed\n", check_failures);	\
		return 1;							\
	}									\
	printf("all checks passed\n");						\
	return 0;								\
} while (0)

#endif
