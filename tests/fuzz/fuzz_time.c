/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_time.c - fuzz target: GeneralizedTime, durations and strict decimals
 * (common/timeutil.c, common/util.c). What parses must format and parse
 * back to the same value.
 */
#include "config.h"

#include <stdio.h>

#include "agentid.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size), buf[128];
	int64_t t, t2;
	uint64_t u;

	if (s == NULL)
		return 0;
	if (agentid_parse_gentime(s, &t) == 0) {
		(void)agentid_format_time(t, buf, sizeof(buf));
		(void)agentid_format_time(t, buf, 8); /* truncating buffer */
	}
	if (agentid_parse_duration(s, &t) == 0) {
		if (t < 0)
			abort(); /* a duration is never negative */
		(void)agentid_format_duration(t, buf, sizeof(buf));
		if (agentid_parse_duration(buf, &t2) == 0 && t2 != t) {
			fprintf(stderr, "duration %s -> %lld -> %s -> %lld\n", s,
			    (long long)t, buf, (long long)t2);
			abort();
		}
		(void)agentid_format_duration(t, buf, 4);
	}
	(void)agentid_parse_decimal(s, UINT64_MAX, &u);
	(void)agentid_parse_decimal(s, 65535, &u);
	free(s);
	return 0;
}
