/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_scope.c - fuzz target: scope patterns (common/scope.c). The input is
 * "PATTERN\nSUBJECT": the pattern is matched as a host glob, a service glob
 * and a from: CIDR/address against the subject, and against fixed subjects
 * of each kind.
 */
#include "config.h"

#include "agentid.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *pat, *subj, *s = fuzz_split2(data, size, &pat, &subj);
	struct agentid_error err;

	if (s == NULL)
		return 0;
	(void)agentid_scope_match_host(pat, subj);
	(void)agentid_scope_match_service(pat, subj);
	(void)agentid_scope_match_from(pat, subj);
	(void)agentid_scope_match_host(pat, "build-7.example.com");
	(void)agentid_scope_match_service(pat, "sshd");
	(void)agentid_scope_match_from(pat, "10.1.2.3");
	(void)agentid_scope_match_from(pat, "2001:db8::1");
	(void)agentid_scope_match_from(pat, "::ffff:10.1.2.3");
	(void)agentid_scope_match_from("10.0.0.0/8", subj);
	(void)agentid_scope_match_from("2001:db8::/32", subj);
	(void)agentid_name_valid(pat, &err);
	free(s);
	return 0;
}
