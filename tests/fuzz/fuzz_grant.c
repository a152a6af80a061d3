/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_grant.c - fuzz target: scope grants as the lifecycle commands check
 * them (common/attenuate.c) and the LDIF they print (common/ldif.c). The
 * input is "DELEGATOR_GRANT\nGRANT": both are validated, the coverage of
 * one by the other is computed, and the pair goes into a change's LDIF.
 */
#include "config.h"

#include "agentid.h"
#include "lifecycle.h"
#include "fuzz_util.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *d, *g, *s = fuzz_split2(data, size, &d, &g), *ldif;
	struct agentid_error err;
	struct agentid_record del;
	struct agentid_change ch;
	char *scope[2];

	if (s == NULL)
		return 0;
	(void)agentid_grant_valid(d, &err);
	(void)agentid_grant_valid(g, &err);
	(void)agentid_grant_covers(d, g);
	(void)agentid_grant_covers(g, d);
	(void)agentid_grant_covers(d, d);
	memset(&del, 0, sizeof(del));
	scope[0] = d;
	scope[1] = NULL;
	del.scope = scope;
	del.n_scope = 1;
	(void)agentid_grants_cover(&del, g, AGENTID_KIND_HOST);
	if (agentid_change_init(&ch, AGENTID_CHANGE_MODIFY, d) == 0) {
		if (agentid_change_value(&ch, AGENTID_MOD_REPLACE, "agentScope", g) == 0 &&
		    agentid_change_value(&ch, AGENTID_MOD_ADD, "description", d) == 0 &&
		    (ldif = agentid_change_ldif(&ch)) != NULL)
			free(ldif);
		agentid_change_clear(&ch);
	}
	free(s);
	return 0;
}
