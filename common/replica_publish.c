/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_publish.c - an agent's NSS entry from its chain, decided as
 * `agentid sync` decides it (replica_publish.h).
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "chain.h"
#include "replica_publish.h"

/* The NSS state of an agent from the engine's reason at publish time. */
static enum agentid_replica_state
state_of(const struct agentid_decision *d)
{
	switch (d->reason) {
	case AGENTID_SUSPENDED:
		return AGENTID_REPLICA_SUSPENDED;
	case AGENTID_REVOKED:
		return AGENTID_REPLICA_REVOKED;
	case AGENTID_CHAIN_CYCLE:
	case AGENTID_CHAIN_TOO_DEEP:
	case AGENTID_OWNER_MISSING:
	case AGENTID_OWNER_INACTIVE:
		return AGENTID_REPLICA_ORPHANED;
	case AGENTID_EXPIRED:
		/* no agentNotAfter at all: never valid */
		return d->has_window ? AGENTID_REPLICA_OK : AGENTID_REPLICA_POLICY;
	case AGENTID_LIFETIME_EXCEEDS_POLICY:
		return AGENTID_REPLICA_POLICY;
	default:
		/* ok, not yet valid, or a rule that depends on the login
		 * (agentid_reason_is_login): the window decides */
		return AGENTID_REPLICA_OK;
	}
}

/* Decides agent's chain and fills e: see replica_publish.h. */
int
agentid_replica_entry_decide(const struct agentid_config *cfg,
    const struct agentid_lookup *lk, const struct agentid_record *agent,
    int64_t now, struct agentid_replica_entry *e, enum agentid_reason *reason,
    struct agentid_error *err)
{
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_record *first;
	struct agentid_decision d;
	struct agentid_request req;
	struct agentid_policy pol;
	int rc;

	if (agent->ambiguous || !agent->is_agent)
		return agentid_seterr(err, ENOENT, "%s: more than one uid value: "
		    "not an agent entry, not served by NSS",
		    agent->dn != NULL ? agent->dn : "?");
	if (agent->uid == NULL || !agent->has_posix)
		return agentid_seterr(err, ENOENT, "%s: no uid or posixAccount "
		    "(uidNumber, gidNumber): not served by NSS",
		    agent->dn != NULL ? agent->dn : "?");
	if ((first = agentid_chain_add(&chain)) == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	if ((rc = agentid_record_copy(first, agent)) != 0) {
		chain.n--;
		agentid_chain_clear(&chain);
		return agentid_seterr(err, rc, "out of memory");
	}
	if ((rc = agentid_chain_extend(lk, cfg->max_delegation_depth, &chain,
	    err)) != 0) {
		agentid_chain_clear(&chain);
		return rc;
	}
	memset(&req, 0, sizeof(req));
	req.user = agent->uid;
	req.service = "";
	req.host = "";
	req.now = now;
	agentid_policy_from_config(&pol, cfg);
	pol.require_scope = 0;
	agentid_decide(&chain, &req, &pol, &d);
	agentid_chain_clear(&chain); /* d keeps no pointer that e needs */
	memset(e, 0, sizeof(*e));
	e->name = agent->uid;
	e->uid = agent->uid_number;
	e->gid = agent->gid_number;
	e->gecos = agent->gecos;
	e->home = agent->home;
	e->shell = agent->shell;
	e->state = state_of(&d);
	if (reason != NULL)
		*reason = d.reason;
	e->has_not_before = d.has_window && d.not_before != 0;
	e->not_before = d.not_before;
	e->not_after = d.has_window ? d.not_after : 0;
	return 0;
}
