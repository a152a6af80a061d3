/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_dn.c - fuzz target: the DN comparison (common/dn.c) on "A\nB".
 * Besides not crashing: a DN equals itself, equality is symmetric, and the
 * canonical form is a fixed point (canonicalising it again changes
 * nothing), so that comparing canonical forms is an equivalence.
 */
#include "config.h"

#include <stdio.h>

#include "agentid.h"
#include "internal.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *a, *b, *s = fuzz_split2(data, size, &a, &b), *c1, *c2;
	size_t la;

	if (s == NULL)
		return 0;
	if (!agentid_dn_equal(a, a) ||
	    agentid_dn_equal(a, b) != agentid_dn_equal(b, a))
		abort();
	la = strlen(a);
	c1 = malloc(la + 1);
	c2 = malloc(la + 1);
	if (c1 != NULL && c2 != NULL) {
		agentid_dn_canon(a, c1);
		if (strlen(c1) > la)
			abort();
		agentid_dn_canon(c1, c2);
		if (strcmp(c1, c2) != 0) {
			fprintf(stderr, "dn: canon not idempotent: \"%s\" -> \"%s\""
			    " -> \"%s\"\n", a, c1, c2);
			abort();
		}
	}
	free(c1);
	free(c2);
	free(s);
	return 0;
}
