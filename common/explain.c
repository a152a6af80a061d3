/* SPDX-License-Identifier: BSD-2-Clause */
/* explain.c - a decision in words a sysadmin understands. */
#include "config.h"

#include <stdio.h>

#include "agentid.h"

/* What the record at fault did, for each reason. */
static const char *
phrase(enum agentid_reason r)
{
	switch (r) {
	case AGENTID_OK:
		return "is allowed";
	case AGENTID_NOT_AN_AGENT:
		return "is not an agent";
	case AGENTID_CHAIN_CYCLE:
		return "has an owner chain that loops back on itself";
	case AGENTID_CHAIN_TOO_DEEP:
		return "is delegated through more agents than max_delegation_depth allows";
	case AGENTID_OWNER_MISSING:
		return "names an owner that does not exist";
	case AGENTID_OWNER_INACTIVE:
		return "is the human owner and is not active (owner_active_filter)";
	case AGENTID_SUSPENDED:
		return "is suspended";
	case AGENTID_REVOKED:
		return "is revoked";
	case AGENTID_NOT_YET_VALID:
		return "is not valid yet";
	case AGENTID_EXPIRED:
		return "has expired";
	case AGENTID_LIFETIME_EXCEEDS_POLICY:
		return "is valid for longer than max_lifetime allows";
	case AGENTID_SCOPE_SERVICE:
		return "is not granted this service";
	case AGENTID_SCOPE_HOST:
		return "is not granted this host";
	case AGENTID_SCOPE_FROM:
		return "is not granted logins from this remote host";
	case AGENTID_CERT_MISMATCH:
		return "did not log in with a certificate bound to it";
	case AGENTID_CERT_REQUIRED:
		return "showed no valid certificate, which this service requires "
		    "(require_cert)";
	case AGENTID_CERT_EXPIRED:
		return "logged in with a certificate whose validity has ended";
	case AGENTID_DELETED:
		return "is no longer an agent in the directory, but this host "
		    "still knows it as one";
	case AGENTID_LDAP_UNAVAILABLE:
	default:
		return "cannot be checked: the directory is unavailable";
	}
}

/*
 * "allowed: ok — uid=bot,... owned by cn=Alice,..." or
 * "denied: revoked — uid=orch,... (delegator of uid=bot,...) is revoked".
 */
char *
agentid_explain(const struct agentid_chain *chain,
    const struct agentid_decision *d, char *buf, size_t len)
{
	const char *who = "the user", *agent = NULL;
	char role[64] = "";

	if (chain != NULL && chain->n > 0) {
		agent = chain->rec[0].dn;
		if (d->culprit < chain->n)
			who = chain->rec[d->culprit].dn;
		if (d->culprit > 0 && d->culprit < d->n_agents)
			snprintf(role, sizeof(role), d->culprit == 1 ?
			    "delegator" : "delegator's delegator");
		else if (d->culprit > 0)
			snprintf(role, sizeof(role), "owner");
	}
	if (d->allow) {
		snprintf(buf, len, "allowed: ok — %s, owned by %s", agent ? agent : "?",
		    d->owner ? d->owner : "?");
	} else if (role[0] != '\0' && agent != NULL) {
		snprintf(buf, len, "denied: %s — %s (%s of %s) %s",
		    agentid_reason_name(d->reason), who, role, agent, phrase(d->reason));
	} else {
		snprintf(buf, len, "denied: %s — %s %s",
		    agentid_reason_name(d->reason), who, phrase(d->reason));
	}
	return buf;
}
