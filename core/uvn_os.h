/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The only place core/ meets its environment: fixed-width types, memory
 * helpers and single-copy atomic access. Core code includes nothing else.
 * The Linux module builds core/ with __KERNEL__ defined; the macOS drivers
 * and the user-space tests use the compiler's own definitions.
 */
#ifndef UVN_OS_H
#define UVN_OS_H

#if defined(__KERNEL__)
#include <linux/types.h>
#include <linux/string.h>
#include <linux/compiler.h>
#define UVN_READ_ONCE(x)	READ_ONCE(x)
#define UVN_WRITE_ONCE(x, v)	WRITE_ONCE(x, v)
#else
#if __STDC_HOSTED__
#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#else
typedef __UINT8_TYPE__ uint8_t;
typedef __UINT16_TYPE__ uint16_t;
typedef __UINT32_TYPE__ uint32_t;
typedef __UINT64_TYPE__ uint64_t;
typedef __INT32_TYPE__ int32_t;
typedef __SIZE_TYPE__ size_t;
#ifndef __cplusplus
typedef _Bool bool;
#define true 1
#define false 0
#endif
#endif /* __STDC_HOSTED__ */
/* One load or store of the whole object, never torn or repeated. */
#define UVN_READ_ONCE(x)	(*(const volatile __typeof__(x) *)&(x))
#define UVN_WRITE_ONCE(x, v)	(*(volatile __typeof__(x) *)&(x) = (v))
#endif

#define uvn_memcpy(d, s, n)	__builtin_memcpy(d, s, n)
#define uvn_memset(d, c, n)	__builtin_memset(d, c, n)
#define uvn_memcmp(a, b, n)	__builtin_memcmp(a, b, n)

#ifndef NULL
#define NULL ((void *)0)
#endif

/* Errors returned by core functions, negated; the glue maps them to errno. */
enum uvn_err {
	UVN_OK = 0,
	UVN_EINVAL = 1,		/* an argument is out of range */
	UVN_EBUSY = 2,		/* the wanted slot is taken */
	UVN_ENOSPC = 3,		/* no free slot, or a table is full */
	UVN_ENOENT = 4,		/* no such slot or entry */
	UVN_EPERM = 5,		/* denied by the match rules */
};

#endif /* UVN_OS_H */
