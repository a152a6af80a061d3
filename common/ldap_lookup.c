/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_lookup.c - the live directory as a lookup source of the chain builder
 * (chain.h): the agent by uid (agent_filter under base), an owner by a
 * base-scope read of its DN. One read per owner: the filter
 * "(|(objectClass=agentIdentity)OWNER_FILTER)" answers both "does it exist"
 * and "is it somebody", so an OU, the base DN or a service account reads as
 * missing (owner_missing) without a second round trip.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "chain.h"
#include "ldap_internal.h"

/* Builds "(&(uid=ESCAPED)AGENT_FILTER)" into *out (malloc'd). */
static int
agent_filter(const struct agentid_config *cfg, const char *user, char **out)
{
	struct berval in, escaped = { 0, NULL };
	char *esc = NULL, *f = NULL;
	const char *extra = cfg->agent_filter ? cfg->agent_filter :
	    "(objectClass=agentIdentity)";
	size_t len;
	int r = ENOMEM;

	in.bv_val = (char *)user;
	in.bv_len = strlen(user);
	if (ldap_bv2escaped_filter_value(&in, &escaped) != 0 ||
	    escaped.bv_val == NULL)
		goto out;
	esc = escaped.bv_val;
	len = strlen(esc) + strlen(extra) + 16;
	if ((f = malloc(len)) == NULL)
		goto out;
	snprintf(f, len, "(&(uid=%s)%s)", esc, extra);
	*out = f;
	f = NULL;
	r = 0;
out:
	if (esc != NULL)
		ber_memfree(esc);
	free(f);
	return r;
}

/*
 * Base-scope read of dn with filter; *found false when the entry does not
 * exist or does not match. With rec, fills it from the entry.
 */
static int
read_entry(struct agentid_ldap *l, const char *dn, const char *filter,
    bool *found, struct agentid_record *rec, struct agentid_error *err)
{
	struct timeval tv = aidl_timeout(l);
	LDAPMessage *res = NULL, *e;
	char *attrs_none[] = { LDAP_NO_ATTRS, NULL };
	int rc, r = 0;

	*found = false;
	rc = ldap_search_ext_s(l->ld, dn, LDAP_SCOPE_BASE, filter,
	    rec ? aidl_record_attrs : attrs_none, 0, NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_NO_SUCH_OBJECT || rc == LDAP_INVALID_DN_SYNTAX)
		goto out;
	if (rc != LDAP_SUCCESS) {
		r = aidl_seterr(l, rc, err, "reading an owner");
		goto out;
	}
	if ((e = ldap_first_entry(l->ld, res)) == NULL)
		goto out;
	*found = true;
	if (rec != NULL && (r = aidl_entry_record(l->ld, e, rec)) != 0)
		agentid_seterr(err, r, "%s: %s: malformed entry", l->uri, dn);
out:
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/*
 * *exact: one of the entry's uid values is exactly user (byte for byte).
 * EBADMSG when the entry shows no uid to compare: the server said it
 * matches (uid=user), so an entry that does not decode, or hides its uid,
 * is an error; taken as "no such agent" it would pass the agent through
 * PAM as a human.
 */
static int
uid_exact(LDAP *ld, LDAPMessage *e, const char *user, bool *exact)
{
	struct berval **v;
	size_t i, len = strlen(user);

	*exact = false;
	if ((v = ldap_get_values_len(ld, e, "uid")) == NULL)
		return EBADMSG;
	for (i = 0; v[i] != NULL; i++)
		if (v[i]->bv_len == len && memcmp(v[i]->bv_val, user, len) == 0)
			*exact = true;
	ldap_value_free_len(v);
	return 0;
}

/* lookup.agent: the agent entry of user, if there is exactly one. */
static int
lookup_agent(void *ctx, const char *user, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct agentid_ldap *l = ctx;
	struct timeval tv = aidl_timeout(l);
	LDAPMessage *res = NULL, *e;
	char *filter = NULL;
	bool exact;
	int rc, r;

	*found = false;
	if ((r = agent_filter(l->cfg, user, &filter)) != 0)
		return r;
	rc = ldap_search_ext_s(l->ld, l->cfg->base, LDAP_SCOPE_SUBTREE, filter,
	    aidl_record_attrs, 0, NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_SIZELIMIT_EXCEEDED) {
		r = agentid_seterr(err, EBADMSG, "%s: uid=%s matches more than one "
		    "agent entry under %s", l->uri, user, l->cfg->base);
		goto out;
	}
	if (rc == LDAP_NO_SUCH_OBJECT) {
		r = agentid_seterr(err, ENOENT, "%s: base %s does not exist",
		    l->uri, l->cfg->base);
		goto out;
	}
	if (rc != LDAP_SUCCESS) {
		r = aidl_seterr(l, rc, err, "searching the agent");
		goto out;
	}
	if ((e = ldap_first_entry(l->ld, res)) == NULL)
		goto out;
	if (ldap_next_entry(l->ld, e) != NULL) {
		r = agentid_seterr(err, EBADMSG, "%s: uid=%s matches more than one "
		    "agent entry under %s", l->uri, user, l->cfg->base);
		goto out;
	}
	/* uid matching is case-insensitive in LDAP; user names are not */
	if ((r = uid_exact(l->ld, e, user, &exact)) != 0) {
		agentid_seterr(err, r, "%s: uid=%s: malformed entry (no uid "
		    "to compare)", l->uri, user);
		goto out;
	}
	if (!exact)
		goto out;
	if ((r = aidl_entry_record(l->ld, e, rec)) != 0) {
		agentid_seterr(err, r, "%s: agent %s: malformed entry", l->uri, user);
		goto out;
	}
	/* not an agent after all (agent_filter let it through), or an entry
	 * with two uid values (ambiguous): nobody's agent */
	if (!rec->is_agent) {
		agentid_record_clear(rec);
		goto out;
	}
	free(rec->uid);
	if ((rec->uid = strdup(user)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	*found = true;
out:
	free(filter);
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* lookup.entry: an owner, with owner_filter and owner_active_filter. */
static int
lookup_entry(void *ctx, const char *dn, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct agentid_ldap *l = ctx;
	const struct agentid_config *cfg = l->cfg;
	const char *who = cfg->owner_filter != NULL ? cfg->owner_filter :
	    "(objectClass=person)";
	char *filter;
	size_t len;
	int r;

	len = strlen(who) + 40;
	if ((filter = malloc(len)) == NULL)
		return ENOMEM;
	snprintf(filter, len, "(|(objectClass=agentIdentity)%s)", who);
	r = read_entry(l, dn, filter, found, rec, err);
	free(filter);
	if (r != 0 || !*found)
		return r;
	if (rec->is_agent)
		return 0;
	/* matched the owner filter, unless it is an ambiguous agent entry */
	rec->owner_match = !rec->ambiguous;
	rec->owner_active = true;
	if (rec->owner_match && cfg->owner_active_filter != NULL) {
		bool active;

		if ((r = read_entry(l, rec->dn, cfg->owner_active_filter,
		    &active, NULL, err)) != 0)
			return r;
		rec->owner_active = active;
	}
	return 0;
}

/* The lookup interface over an open connection. */
void
aidl_lookup(struct agentid_ldap *l, struct agentid_lookup *lk)
{
	lk->agent = lookup_agent;
	lk->entry = lookup_entry;
	lk->ctx = l;
}

/* Resolves user's chain: agent, delegators, human. */
int
agentid_ldap_chain(struct agentid_ldap *l, const char *user,
    struct agentid_chain *chain, struct agentid_error *err)
{
	struct agentid_lookup lk;

	/* a tool resolving chain after chain: each gets the whole timeout */
	aidl_deadline_restart(l);
	aidl_lookup(l, &lk);
	return agentid_chain_build(&lk, l->cfg->max_delegation_depth, user,
	    chain, err);
}

/* Resolves the chain above an agent record already read. */
int
agentid_ldap_chain_from(struct agentid_ldap *l,
    const struct agentid_record *agent, struct agentid_chain *chain,
    struct agentid_error *err)
{
	struct agentid_lookup lk;
	struct agentid_record *rec;
	int r;

	if (!agent->is_agent)
		return 0;
	if ((rec = agentid_chain_add(chain)) == NULL)
		return ENOMEM;
	if ((r = agentid_record_copy(rec, agent)) != 0) {
		chain->n--;
		return r;
	}
	aidl_deadline_restart(l);
	aidl_lookup(l, &lk);
	return agentid_chain_extend(&lk, l->cfg->max_delegation_depth, chain,
	    err);
}
