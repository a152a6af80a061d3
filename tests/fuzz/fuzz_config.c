/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_config.c - fuzz target: agentid.conf text through
 * agentid_config_parse, then what the fronts derive from a parsed config.
 */
#include "config.h"

#include "agentid.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;
	struct agentid_policy pol;

	if (agentid_config_new(&c) != 0)
		return 0;
	if (agentid_config_parse(c, (const char *)data, size, "fuzz", &err) == 0) {
		agentid_policy_from_config(&pol, c);
		(void)agentid_requires_cert(c, "sshd");
		(void)agentid_requires_cert(c, "");
	} else if (memchr(err.msg, '\0', sizeof(err.msg)) == NULL) {
		abort(); /* the message must always be terminated */
	}
	agentid_config_free(c);
	return 0;
}
