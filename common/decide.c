/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * decide.c - one decision from the data, the way every front makes it:
 * pick the source (DESIGN.md's `source`), build the chain through the one
 * chain builder, run the engine. The fronts (PAM, `agentid check`,
 * `agentid principals`, the enforcer) gather the request and map the
 * reason; nothing here is specific to any of them.
 *
 * Sources: agentidd's records replica (common/records*.c) while it is fresh,
 * the live directory (the LDAP plugin, dir_source.c) otherwise, the replica
 * again when the directory is down and `offline cache` allows it. The NSS
 * replica is asked one more question, only when the source found no agent:
 * does this host serve the user as an agent? (An agent deleted from the
 * directory but still served here is denied as `deleted`, never passed
 * through as a human.) The engine reads known_agent in that case only, so
 * asking after the decision instead of before gives the same answer and
 * spares an agent's decision the NSS replica's open, trust check and map.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "chain.h"
#include "dir_source.h"
#include "records.h"

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

/* Decides req on chain; when that says not_an_agent and the caller did
 * not know the user as an agent, asks the NSS replica and decides again
 * with its answer (see the top of the file). */
static void
decide_chain(const struct agentid_config *cfg,
    const struct agentid_request *req, const struct agentid_chain *chain,
    struct agentid_decision *d)
{
	struct agentid_request known;
	struct agentid_policy pol;

	agentid_policy_from_config(&pol, cfg);
	agentid_decide(chain, req, &pol, d);
	if (d->reason != AGENTID_NOT_AN_AGENT || req->known_agent ||
	    !replica_serves(cfg, req->user))
		return;
	known = *req;
	known.known_agent = true;
	agentid_decide(chain, &known, &pol, d);
}

/* Builds user's chain from agentidd's records replica and decides. */
static int
from_records(const struct agentid_config *cfg,
    const struct agentid_request *req, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err)
{
	struct agentid_records_lookup_ctx ctx;
	struct agentid_records *rec = NULL;
	struct agentid_lookup lk;
	int r;

	if ((r = agentid_records_open(cfg->replica, &rec)) != 0)
		return agentid_seterr(err, r, "replica %s: records unreadable "
		    "(%s)", cfg->replica != NULL ? cfg->replica :
		    AGENTID_DEFAULT_REPLICA, strerror(r));
	ctx.r = rec;
	ctx.cfg = cfg;
	agentid_records_lookup(&ctx, &lk);
	if ((r = agentid_chain_build(&lk, cfg->max_delegation_depth, req->user,
	    chain, err)) == 0) {
		decide_chain(cfg, req, chain, d);
	}
	agentid_records_close(rec);
	return r;
}

/* Builds user's chain from the live directory (dir_source.c: the LDAP code
 * is loaded only now) and decides. */
static int
from_directory(const struct agentid_config *cfg,
    const struct agentid_request *req, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err)
{
	struct agentid_dir dir = { NULL, NULL, NULL };
	struct agentid_lookup lk;
	int r;

	if ((r = agentid_dir_open(cfg, &dir, err)) == 0) {
		agentid_dir_lookup(&dir, &lk);
		if ((r = agentid_chain_build(&lk, cfg->max_delegation_depth,
		    req->user, chain, err)) == 0) {
			decide_chain(cfg, req, chain, d);
		}
	}
	agentid_dir_close(&dir);
	return r;
}

/* Was the directory unreachable (as opposed to answering wrongly)? */
static bool
unreachable(int r)
{
	return r == EHOSTDOWN || r == ETIMEDOUT;
}

/*
 * The source DESIGN.md names: the replica while agentidd confirmed contact
 * within replica_max_age (source replica); else the directory; the
 * directory unreachable: the replica again with offline cache while it is
 * younger than offline_max_age, else ldap_unavailable.
 */
int
agentid_decide_user(const struct agentid_config *cfg,
    const struct agentid_request *in, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err)
{
	struct agentid_request req = *in;
	struct agentid_contact contact;
	bool have_contact;
	int r;

	memset(d, 0, sizeof(*d));
	d->allow = false;
	d->reason = AGENTID_LDAP_UNAVAILABLE;
	if ((r = agentid_name_valid(req.user, err)) != 0) {
		d->reason = AGENTID_NOT_AN_AGENT;
		return r;
	}
	/* a contact from the future (a clock stepped back) vouches for
	 * nothing: it would keep a stale replica fresh until the clock caught
	 * up (agentid_records_fresh's rule, one second of slack) */
	have_contact = agentid_records_contact(cfg->replica, &contact) == 0 &&
	    contact.last_contact <= req.now + 1;
	if (cfg->source == AGENTID_PREFER_REPLICA && have_contact &&
	    req.now - contact.last_contact <= cfg->replica_max_age &&
	    from_records(cfg, &req, chain, d, err) == 0) {
		d->source = AGENTID_SOURCE_REPLICA;
		return 0;
	}
	/* a replica that failed half way leaves nothing behind */
	agentid_chain_clear(chain);
	memset(d, 0, sizeof(*d));
	if ((r = from_directory(cfg, &req, chain, d, err)) == 0) {
		d->source = AGENTID_SOURCE_DIRECTORY;
		return 0;
	}
	if (unreachable(r) && cfg->offline == AGENTID_OFFLINE_CACHE &&
	    have_contact &&
	    req.now - contact.last_contact <= cfg->offline_max_age) {
		struct agentid_error oerr = { "" };

		agentid_chain_clear(chain);
		memset(d, 0, sizeof(*d));
		if (from_records(cfg, &req, chain, d, &oerr) == 0) {
			d->source = AGENTID_SOURCE_OFFLINE;
			return 0;
		}
	}
	/* fail closed: whatever was read, the answer is no */
	memset(d, 0, sizeof(*d));
	d->allow = false;
	d->reason = AGENTID_LDAP_UNAVAILABLE;
	d->source = AGENTID_SOURCE_NONE;
	return r;
}
