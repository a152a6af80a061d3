/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * records_lookup.c - the records replica as a lookup source of the chain
 * builder (chain.h). It answers every question as ldap_lookup.c answers it
 * from the live directory, from what agentidd evaluated against the
 * directory when each entry last changed (agent_filter, owner_filter,
 * owner_active_filter), so that a decision from a caught-up replica equals
 * a decision from the directory, reason for reason.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "chain.h"
#include "internal.h"
#include "records.h"

struct agent_hits {
	const char *base;
	struct agentid_stored first;
	size_t n;
};

/* Keeps the first entry under agent_filter with the uid; counts them.
 * Only entries under base: the directory's agent search is scoped to it,
 * and agentidd replicates the whole naming context (owners beside base).
 * agentidd flags no entry outside base; this check keeps a replica
 * written for another base from answering until it is refreshed. */
static int
agent_hit(struct agentid_stored *s, void *arg)
{
	struct agent_hits *h = arg;

	if (!(s->flags & AGENTID_STORED_AGENT_FILTER) ||
	    (h->base != NULL && !agentid_dn_under(s->rec.dn, h->base)))
		return 0;
	if (h->n++ == 0) {
		h->first = *s;
		memset(s, 0, sizeof(*s)); /* moved */
	}
	return 0;
}

/* lookup.agent: as ldap_lookup.c's lookup_agent. */
static int
records_agent(void *ctx, const char *user, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct agentid_records_lookup_ctx *c = ctx;
	struct agent_hits h;
	size_t i;
	bool exact = false;
	int r;

	*found = false;
	memset(&h, 0, sizeof(h));
	h.base = c->cfg != NULL ? c->cfg->base : NULL;
	if ((r = agentid_records_by_uid(c->r, user, agent_hit, &h)) != 0) {
		agentid_seterr(err, r, "replica: uid=%s: unreadable record", user);
		goto out;
	}
	if (h.n > 1) {
		r = agentid_seterr(err, EBADMSG, "replica: uid=%s matches more "
		    "than one agent entry", user);
		goto out;
	}
	if (h.n == 0)
		goto out;
	if (h.first.flags & AGENTID_STORED_MALFORMED) {
		/* the live search would fail on this entry too */
		r = agentid_seterr(err, EBADMSG, "replica: uid=%s: malformed "
		    "agent entry", user);
		goto out;
	}
	/* uid matching is case-insensitive in LDAP; user names are not */
	for (i = 0; i < h.first.n_uids; i++)
		if (strcmp(h.first.uids[i], user) == 0)
			exact = true;
	if (!exact || !h.first.rec.is_agent)
		goto out;
	*rec = h.first.rec;
	memset(&h.first.rec, 0, sizeof(h.first.rec));
	free(rec->uid);
	if ((rec->uid = strdup(user)) == NULL) {
		agentid_record_clear(rec);
		r = ENOMEM;
		goto out;
	}
	*found = true;
out:
	agentid_stored_clear(&h.first);
	return r;
}

/* How lookup.entry sees the stored entry s (records.h): the one rule set
 * of the records lookup and of agentidd's lookup over its store. */
int
agentid_records_entry_judge(const struct agentid_config *cfg,
    const struct agentid_stored *s, bool *found, bool *owner_match,
    bool *owner_active, struct agentid_error *err)
{
	*found = false;
	*owner_match = false;
	*owner_active = true;
	/* the directory's filter: (|(objectClass=agentIdentity)OWNER_FILTER) */
	if (!(s->flags & (AGENTID_STORED_AGENT_CLASS | AGENTID_STORED_OWNER_FILTER)))
		return 0;
	if (s->flags & AGENTID_STORED_MALFORMED)
		return agentid_seterr(err, EBADMSG, "replica: %s: malformed entry",
		    s->rec.dn != NULL ? s->rec.dn : "?");
	if (!s->rec.is_agent) {
		*owner_match = !s->rec.ambiguous;
		if (*owner_match && cfg->owner_active_filter != NULL)
			*owner_active = (s->flags & AGENTID_STORED_OWNER_ACTIVE) != 0;
	}
	*found = true;
	return 0;
}

/* lookup.entry: as ldap_lookup.c's lookup_entry. */
static int
records_entry(void *ctx, const char *dn, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct agentid_records_lookup_ctx *c = ctx;
	struct agentid_stored s;
	bool hit, match, active;
	int r;

	*found = false;
	if ((r = agentid_records_by_dn(c->r, dn, &s, &hit)) != 0)
		return agentid_seterr(err, r, "replica: %s: unreadable record", dn);
	if (!hit)
		return 0;
	if ((r = agentid_records_entry_judge(c->cfg, &s, &hit, &match, &active,
	    err)) != 0 || !hit) {
		agentid_stored_clear(&s);
		return r;
	}
	*rec = s.rec;
	memset(&s.rec, 0, sizeof(s.rec));
	rec->owner_match = match;
	rec->owner_active = active;
	agentid_stored_clear(&s);
	*found = true;
	return 0;
}

/* The lookup interface over an open records replica. */
void
agentid_records_lookup(struct agentid_records_lookup_ctx *ctx,
    struct agentid_lookup *lk)
{
	lk->agent = records_agent;
	lk->entry = records_entry;
	lk->ctx = ctx;
}
