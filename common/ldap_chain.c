/*
 * ldap_chain.c - resolving a user's delegation chain from the directory:
 * the agent by uid, then each agentOwner by a base-scope read, up to the
 * first entry that is not an agentIdentity (the human). The engine, not
 * this file, judges the chain; this file only stops on a repeated DN, a
 * missing owner or past max_delegation_depth + 1 agents.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
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

/* True when one of the entry's uid values is exactly user (byte for byte). */
static bool
uid_exact(LDAP *ld, LDAPMessage *e, const char *user)
{
	struct berval **v;
	size_t i, len = strlen(user);
	bool found = false;

	if ((v = ldap_get_values_len(ld, e, "uid")) == NULL)
		return false;
	for (i = 0; v[i] != NULL; i++)
		if (v[i]->bv_len == len && memcmp(v[i]->bv_val, user, len) == 0)
			found = true;
	ldap_value_free_len(v);
	return found;
}

/* Searches the agent entry of user; chain stays empty if there is none. */
static int
find_agent(struct agentid_ldap *l, const char *user,
    struct agentid_chain *chain, struct agentid_error *err)
{
	struct timeval tv = aidl_timeout(l);
	LDAPMessage *res = NULL, *e;
	struct agentid_record *rec;
	char *filter = NULL;
	int rc, r;

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
	if (!uid_exact(l->ld, e, user))
		goto out;
	if ((rec = agentid_chain_add(chain)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	if ((r = aidl_entry_record(l->ld, e, rec)) != 0) {
		agentid_seterr(err, r, "%s: agent %s: malformed entry", l->uri, user);
		goto out;
	}
	if (!rec->is_agent) { /* agent_filter let a non-agent through */
		agentid_chain_clear(chain);
		goto out;
	}
	free(rec->uid);
	if ((rec->uid = strdup(user)) == NULL)
		r = ENOMEM;
out:
	free(filter);
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* Follows agentOwner from the last record of chain up to the human. */
static int
follow_owners(struct agentid_ldap *l, struct agentid_chain *chain,
    struct agentid_error *err)
{
	const struct agentid_config *cfg = l->cfg;
	struct agentid_record *rec, *last;
	size_t i, agents = chain->n;
	bool found, repeated;
	char *owner = NULL;
	int r = 0;

	while (chain->n > 0 && chain->rec[chain->n - 1].is_agent) {
		last = &chain->rec[chain->n - 1];
		/* the engine says chain_too_deep once it has depth + 1 agents */
		if (agents > cfg->max_delegation_depth)
			break;
		if (last->owner_dn == NULL || last->owner_dn[0] == '\0')
			break;
		repeated = false;
		for (i = 0; i < chain->n; i++)
			if (aidl_dn_equal(last->owner_dn, chain->rec[i].dn))
				repeated = true;
		if (repeated) /* the engine says chain_cycle */
			break;
		free(owner);
		if ((owner = strdup(last->owner_dn)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		if ((rec = agentid_chain_add(chain)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		if ((r = read_entry(l, owner, "(objectClass=*)", &found, rec,
		    err)) != 0)
			goto out;
		if (!found) { /* the engine says owner_missing */
			agentid_record_clear(rec);
			chain->n--;
			break;
		}
		if (rec->is_agent) {
			agents++;
			continue;
		}
		/* the human: match owner_active_filter when one is set */
		rec->owner_active = true;
		if (cfg->owner_active_filter != NULL) {
			if ((r = read_entry(l, rec->dn, cfg->owner_active_filter,
			    &found, NULL, err)) != 0)
				goto out;
			rec->owner_active = found;
		}
		break;
	}
out:
	free(owner);
	return r;
}

/* Resolves user's chain: agent, delegators, human. */
int
agentid_ldap_chain(struct agentid_ldap *l, const char *user,
    struct agentid_chain *chain, struct agentid_error *err)
{
	int r;

	if ((r = agentid_name_valid(user, err)) != 0)
		return r;
	if ((r = find_agent(l, user, chain, err)) != 0 || chain->n == 0)
		return r;
	return follow_owners(l, chain, err);
}

/* Resolves the chain above an agent record already read. */
int
agentid_ldap_chain_from(struct agentid_ldap *l,
    const struct agentid_record *agent, struct agentid_chain *chain,
    struct agentid_error *err)
{
	struct agentid_record *rec;
	int r;

	if (!agent->is_agent)
		return 0;
	if ((rec = agentid_chain_add(chain)) == NULL)
		return ENOMEM;
	if ((r = aidl_record_copy(rec, agent)) != 0) {
		chain->n--;
		return r;
	}
	return follow_owners(l, chain, err);
}

/* Opens, resolves, decides, closes; unreachable = deny ldap_unavailable. */
int
agentid_decide_user(const struct agentid_config *cfg,
    const struct agentid_request *req, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err)
{
	struct agentid_ldap *l = NULL;
	struct agentid_policy pol;
	struct aidl_sigpipe sp;
	int r;

	aidl_sigpipe_block(&sp);
	memset(d, 0, sizeof(*d));
	d->allow = false;
	d->reason = AGENTID_LDAP_UNAVAILABLE;
	if ((r = agentid_name_valid(req->user, err)) != 0) {
		d->reason = AGENTID_NOT_AN_AGENT;
		goto out;
	}
	if ((r = agentid_ldap_open(cfg, &l, err)) != 0)
		goto out;
	if ((r = agentid_ldap_chain(l, req->user, chain, err)) != 0)
		goto out;
	agentid_policy_from_config(&pol, cfg);
	agentid_decide(chain, req, &pol, d);
out:
	agentid_ldap_close(l);
	aidl_sigpipe_restore(&sp);
	if (r != 0) {
		/* fail closed: whatever was read, the answer is no */
		d->allow = false;
		if (aidl_unreachable(r))
			d->reason = AGENTID_LDAP_UNAVAILABLE;
	}
	return r;
}
