/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chain.c - the chain builder: the agent by uid, then each agentOwner by DN,
 * through a lookup interface (chain.h), up to the first entry that is not an
 * agent (the human). Every front decides through this walk, whatever the
 * source.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "chain.h"
#include "internal.h"

/* Follows agentOwner from the last record of chain up to the human. */
int
agentid_chain_extend(const struct agentid_lookup *lk, unsigned max_depth,
    struct agentid_chain *chain, struct agentid_error *err)
{
	struct agentid_record *rec;
	const char *owner;
	size_t i, agents = 0;
	bool found;
	int r;

	for (i = 0; i < chain->n; i++)
		if (chain->rec[i].is_agent)
			agents++;
	while (chain->n > 0 && chain->rec[chain->n - 1].is_agent) {
		owner = chain->rec[chain->n - 1].owner_dn;
		/* the engine says chain_too_deep once it has depth + 1 agents */
		if (agents > max_depth)
			break;
		if (owner == NULL || owner[0] == '\0')
			break; /* the engine says owner_missing */
		for (i = 0; i < chain->n; i++)
			if (agentid_dn_equal(owner, chain->rec[i].dn))
				return 0; /* the engine says chain_cycle */
		if ((rec = agentid_chain_add(chain)) == NULL)
			return ENOMEM;
		/* rec may have moved the array: read the owner again */
		owner = chain->rec[chain->n - 2].owner_dn;
		if ((r = lk->entry(lk->ctx, owner, rec, &found, err)) != 0) {
			agentid_record_clear(rec);
			chain->n--;
			return r;
		}
		if (!found) { /* the engine says owner_missing */
			agentid_record_clear(rec);
			chain->n--;
			break;
		}
		if (rec->is_agent)
			agents++;
	}
	return 0;
}

/* Resolves user's chain; empty when user is not an agent. */
int
agentid_chain_build(const struct agentid_lookup *lk, unsigned max_depth,
    const char *user, struct agentid_chain *chain, struct agentid_error *err)
{
	struct agentid_record *rec;
	bool found = false;
	int r;

	if ((r = agentid_name_valid(user, err)) != 0)
		return r;
	if ((rec = agentid_chain_add(chain)) == NULL)
		return ENOMEM;
	if ((r = lk->agent(lk->ctx, user, rec, &found, err)) != 0 || !found ||
	    !rec->is_agent) {
		agentid_chain_clear(chain);
		return r;
	}
	return agentid_chain_extend(lk, max_depth, chain, err);
}
