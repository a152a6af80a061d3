/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sshcert.c - fuzz target: an OpenSSH certificate blob (the decoded
 * second field of a -cert.pub line) through agentid_sshcert_parse, then the
 * CA signature check and the validity and principal checks.
 */
#include "config.h"

#include "agentid_sshcert.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentid_sshcert *c = NULL;
	struct agentid_error err;
	char fp[AGENTID_SSH_FP_SIZE];
	size_t i;

	(void)agentid_sshkey_fingerprint(data, size, fp, sizeof(fp));
	(void)agentid_sshkey_fingerprint(data, size, fp, 10);
	if (agentid_sshcert_parse(data, size, &c, &err) != 0)
		return 0;
	if (c->principals == NULL || c->extensions == NULL ||
	    c->principals[c->n_principals] != NULL ||
	    c->extensions[c->n_extensions] != NULL)
		abort(); /* the header promises NULL-terminated vectors */
	(void)agentid_sshcert_verify(c, &err);
	(void)agentid_sshcert_check(c, NULL, 1800000000, &err);
	for (i = 0; i < c->n_principals; i++) {
		if (!agentid_sshcert_has_principal(c, c->principals[i]))
			abort();
		(void)agentid_sshcert_check(c, c->principals[i], 1800000000, &err);
	}
	(void)agentid_sshcert_has_principal(c, "");
	agentid_sshcert_free(c);
	return 0;
}
