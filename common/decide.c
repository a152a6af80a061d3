/*
 * decide.c - one decision from the data, the way every front makes it:
 * pick the source, build the chain through the chain builder, run the
 * engine. The fronts (PAM, `agentid check`, `agentid principals`) gather the
 * request and map the reason; nothing here is specific to any of them.
 *
 * Today the only chain source is the live directory; the replica written by
 * agentid sync is asked one question: does this host serve the user as an
 * agent? (An agent deleted from the directory but still served here is
 * denied as `deleted`, never passed through as a human.)
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "chain.h"
#include "dir_source.h"

/* Does this host's replica serve user as an agent? No replica: no. */
static bool
replica_serves(const struct agentid_config *cfg, const char *user)
{
	struct agentid_replica_user u;
	struct agentid_replica *rp = NULL;
	bool found;

	if (agentid_replica_open(cfg->replica != NULL ? cfg->replica :
	    AGENTID_DEFAULT_REPLICA, &rp) != 0)
		return false;
	/* a corrupt record for this name still says the name is an agent's */
	found = agentid_replica_user_by_name(rp, user, &u) != ENOENT;
	agentid_replica_close(rp);
	return found;
}

/* Opens the directory (dir_source.c), resolves, decides, closes. */
int
agentid_decide_user(const struct agentid_config *cfg,
    const struct agentid_request *in, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err)
{
	struct agentid_request req = *in;
	struct agentid_dir dir = { NULL, NULL, NULL };
	struct agentid_lookup lk;
	struct agentid_policy pol;
	int r;

	memset(d, 0, sizeof(*d));
	d->allow = false;
	d->reason = AGENTID_LDAP_UNAVAILABLE;
	if ((r = agentid_name_valid(req.user, err)) != 0) {
		d->reason = AGENTID_NOT_AN_AGENT;
		return r;
	}
	req.known_agent = req.known_agent || replica_serves(cfg, req.user);
	/* the LDAP code is loaded only here (dir_source.h) */
	if ((r = agentid_dir_open(cfg, &dir, err)) != 0)
		goto out;
	agentid_dir_lookup(&dir, &lk);
	if ((r = agentid_chain_build(&lk, cfg->max_delegation_depth, req.user,
	    chain, err)) != 0)
		goto out;
	agentid_policy_from_config(&pol, cfg);
	agentid_decide(chain, &req, &pol, d);
	d->source = AGENTID_SOURCE_DIRECTORY;
out:
	agentid_dir_close(&dir);
	if (r != 0) {
		/* fail closed: whatever was read, the answer is no */
		d->allow = false;
		d->reason = AGENTID_LDAP_UNAVAILABLE;
		d->source = AGENTID_SOURCE_NONE;
	}
	return r;
}
