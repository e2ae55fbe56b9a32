/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/* A minimal harness: each TEST prints "PASS core: <name>" or "FAIL core: <name>". */
#ifndef UVN_UNIT_H
#define UVN_UNIT_H

#include <stdio.h>
#include <stdlib.h>

static int unit_failed;
static int unit_case_failed;

#define EXPECT(cond)                                                            \
	do {                                                                    \
		if (!(cond)) {                                                  \
			printf("    %s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
			unit_case_failed = 1;                                   \
		}                                                               \
	} while (0)

#define EXPECT_EQ(a, b)                                                         \
	do {                                                                    \
		long long _a = (long long)(a), _b = (long long)(b);             \
		if (_a != _b) {                                                 \
			printf("    %s:%d: %s == %lld, expected %s == %lld\n",      \
			       __FILE__, __LINE__, #a, _a, #b, _b);             \
			unit_case_failed = 1;                                   \
		}                                                               \
	} while (0)

#define RUN(fn)                                                                 \
	do {                                                                    \
		unit_case_failed = 0;                                           \
		fn();                                                           \
		printf("%s core: %s\n", unit_case_failed ? "FAIL" : "PASS", #fn); \
		unit_failed |= unit_case_failed;                                \
	} while (0)

#define UNIT_EXIT() return unit_failed ? EXIT_FAILURE : EXIT_SUCCESS

#endif
