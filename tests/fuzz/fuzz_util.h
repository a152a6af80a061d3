/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_util.h - helpers shared by the fuzz targets (tests/fuzz/fuzz_*.c):
 * the parsers take C strings, the fuzzer hands over bytes.
 */
#ifndef AGENTID_FUZZ_UTIL_H
#define AGENTID_FUZZ_UTIL_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A NUL-terminated copy of the input (stops at an embedded NUL, as any C
 * caller would); NULL when out of memory. */
static inline char *
fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (s != NULL) {
		memcpy(s, data, size);
		s[size] = '\0';
	}
	return s;
}

/* Splits a copy of the input at its first NUL or newline into two strings:
 * *a (before) and *b (after, "" when there is no separator). Returns the
 * buffer to free, or NULL when out of memory. */
static inline char *
fuzz_split2(const uint8_t *data, size_t size, char **a, char **b)
{
	char *s = fuzz_cstr(data, size), *p;
	size_t i;

	if (s == NULL)
		return NULL;
	*a = s;
	*b = s + size; /* the terminating NUL */
	for (i = 0; i < size; i++) {
		if (data[i] == '\0' || data[i] == '\n') {
			s[i] = '\0';
			p = s + i + 1;
			*b = p;
			break;
		}
	}
	return s;
}

#endif
