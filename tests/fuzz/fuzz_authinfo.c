/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_authinfo.c - fuzz target: the SSH_AUTH_INFO_0 text sshd hands to
 * PAM ("publickey TYPE BASE64" lines) through agentid_ssh_authinfo_parse,
 * which base64-decodes, parses and verifies every certificate in it.
 */
#include "config.h"

#include "agentid_sshcert.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentid_ssh_authinfo ai;
	struct agentid_error err;
	unsigned char *out = NULL;
	size_t outlen, i;
	char *s = fuzz_cstr(data, size);

	if (s == NULL)
		return 0;
	if (agentid_ssh_authinfo_parse(s, &ai, &err) == 0) {
		for (i = 0; i < ai.n_certs; i++)
			(void)agentid_sshcert_check(ai.certs[i], "bot", 1800000000,
			    &err);
		agentid_ssh_authinfo_clear(&ai);
	}
	if (agentid_base64_decode(s, size, 4096, &out, &outlen) == 0)
		free(out);
	free(s);
	return 0;
}
