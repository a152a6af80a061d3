/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * chain.h - the one chain builder of libagentid and the lookup interface it
 * reads through. A source (the live directory, the replica, sync's listing)
 * implements two lookups; the builder walks agentOwner from the agent to the
 * first entry that is not an agent. The engine, not the builder, judges the
 * chain: the builder only stops where walking further cannot change the
 * engine's answer (a repeated DN, a missing owner, one agent past
 * max_delegation_depth). Not part of the ABI.
 */
#ifndef AGENTID_CHAIN_H
#define AGENTID_CHAIN_H

#include <stdbool.h>

#include "agentid.h"

struct agentid_lookup {
	/*
	 * The agent entry of user: uid exactly user (byte for byte), one uid
	 * value, agent_filter. *found false when there is none. rec is zeroed
	 * and filled (deep) when found.
	 */
	int (*agent)(void *ctx, const char *user, struct agentid_record *rec,
	    bool *found, struct agentid_error *err);
	/*
	 * The entry at dn. *found false when it does not exist. For an entry
	 * that is not an agent, owner_match (owner_filter) and owner_active
	 * (owner_active_filter) are evaluated.
	 */
	int (*entry)(void *ctx, const char *dn, struct agentid_record *rec,
	    bool *found, struct agentid_error *err);
	void *ctx;
};

/* Resolves user's chain: agent, delegators, human. Empty chain when user has
 * no agent entry. */
int agentid_chain_build(const struct agentid_lookup *lk, unsigned max_depth,
    const char *user, struct agentid_chain *chain, struct agentid_error *err);
/* Follows agentOwner from the last record of chain (one agent or more). */
int agentid_chain_extend(const struct agentid_lookup *lk, unsigned max_depth,
    struct agentid_chain *chain, struct agentid_error *err);
/* Deep copy of src into a zeroed dst; 0 or ENOMEM (dst then cleared). */
int agentid_record_copy(struct agentid_record *dst,
    const struct agentid_record *src);

#endif
