/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * engine.c - the policy engine: a chain of records and a request in, a
 * decision out. Pure: no I/O, no clock, no globals. Rules and their order are
 * DESIGN.md's "Decision rules"; the first failing rule gives the reason.
 */
#include "config.h"

#include <stdint.h>
#include <string.h>
#include <strings.h>

#include "agentid.h"
#include "internal.h"

static const char *const reason_names[AGENTID_REASON_MAX] = {
	[AGENTID_OK] = "ok",
	[AGENTID_NOT_AN_AGENT] = "not_an_agent",
	[AGENTID_CHAIN_CYCLE] = "chain_cycle",
	[AGENTID_CHAIN_TOO_DEEP] = "chain_too_deep",
	[AGENTID_OWNER_MISSING] = "owner_missing",
	[AGENTID_OWNER_INACTIVE] = "owner_inactive",
	[AGENTID_SUSPENDED] = "suspended",
	[AGENTID_REVOKED] = "revoked",
	[AGENTID_NOT_YET_VALID] = "not_yet_valid",
	[AGENTID_EXPIRED] = "expired",
	[AGENTID_LIFETIME_EXCEEDS_POLICY] = "lifetime_exceeds_policy",
	[AGENTID_SCOPE_SERVICE] = "scope_service",
	[AGENTID_SCOPE_HOST] = "scope_host",
	[AGENTID_SCOPE_FROM] = "scope_from",
	[AGENTID_CERT_MISMATCH] = "cert_mismatch",
	[AGENTID_CERT_REQUIRED] = "cert_required",
	[AGENTID_CERT_EXPIRED] = "cert_expired",
	[AGENTID_LDAP_UNAVAILABLE] = "ldap_unavailable",
	[AGENTID_DELETED] = "deleted",
};

/* The source's name as the audit trail writes it; NULL for none. */
const char *
agentid_source_name(enum agentid_source s)
{
	switch (s) {
	case AGENTID_SOURCE_REPLICA:
		return "replica";
	case AGENTID_SOURCE_DIRECTORY:
		return "directory";
	case AGENTID_SOURCE_OFFLINE:
		return "offline";
	default:
		return NULL;
	}
}

/* The reason's name as DESIGN.md spells it; "unknown" out of range. */
const char *
agentid_reason_name(enum agentid_reason r)
{
	if ((unsigned)r >= AGENTID_REASON_MAX)
		return "unknown";
	return reason_names[r];
}

/* Scope and certificate reasons: about the login, not the identity. */
bool
agentid_reason_is_login(enum agentid_reason r)
{
	return r == AGENTID_SCOPE_SERVICE || r == AGENTID_SCOPE_HOST ||
	    r == AGENTID_SCOPE_FROM || r == AGENTID_CERT_MISMATCH ||
	    r == AGENTID_CERT_REQUIRED || r == AGENTID_CERT_EXPIRED;
}

/* The reason named s, or AGENTID_REASON_MAX. */
enum agentid_reason
agentid_reason_parse(const char *s)
{
	int i;

	for (i = 0; s != NULL && i < AGENTID_REASON_MAX; i++)
		if (strcmp(reason_names[i], s) == 0)
			return (enum agentid_reason)i;
	return AGENTID_REASON_MAX;
}

/* Copies the policy settings out of a config. */
void
agentid_policy_from_config(struct agentid_policy *p,
    const struct agentid_config *cfg)
{
	p->max_delegation_depth = cfg->max_delegation_depth;
	p->clock_skew = cfg->clock_skew;
	p->max_lifetime = cfg->max_lifetime;
	p->require_scope = cfg->require_scope;
	p->require_cert = cfg->require_cert;
}

/* True when service is listed in require_cert. */
bool
agentid_requires_cert(const struct agentid_config *cfg, const char *service)
{
	size_t i;

	for (i = 0; service != NULL && i < cfg->n_require_cert; i++)
		if (strcmp(cfg->require_cert[i], service) == 0)
			return true;
	return false;
}

/* Is service listed in the policy's require_cert? */
static bool
cert_required_for(const struct agentid_policy *pol, const char *service)
{
	size_t i;

	for (i = 0; service != NULL && pol->require_cert != NULL &&
	    pol->require_cert[i] != NULL; i++)
		if (strcmp(pol->require_cert[i], service) == 0)
			return true;
	return false;
}

static void
deny(struct agentid_decision *out, enum agentid_reason r, size_t culprit)
{
	out->allow = false;
	out->reason = r;
	out->culprit = culprit;
}

/* Rule 2: cycle, depth, missing owner, inactive human. */
static bool
check_structure(const struct agentid_chain *c, const struct agentid_policy *pol,
    struct agentid_decision *out)
{
	size_t i, j, n = out->n_agents;

	for (i = 0; i < n; i++)
		for (j = 0; j <= i; j++)
			if (agentid_dn_equal(c->rec[i].owner_dn, c->rec[j].dn)) {
				deny(out, AGENTID_CHAIN_CYCLE, i);
				return false;
			}
	if (n > pol->max_delegation_depth) {
		deny(out, AGENTID_CHAIN_TOO_DEEP, pol->max_delegation_depth);
		return false;
	}
	for (i = 0; i < n; i++) {
		/* each owner must be the next record the resolver found */
		if (c->rec[i].owner_dn == NULL || c->rec[i].owner_dn[0] == '\0' ||
		    i + 1 >= c->n || !agentid_dn_equal(c->rec[i].owner_dn, c->rec[i + 1].dn)) {
			deny(out, AGENTID_OWNER_MISSING, i);
			return false;
		}
	}
	out->owner = c->rec[n].dn;
	if (!c->rec[n].owner_match) {
		/* an OU, the base DN, a service account: nobody to answer */
		out->owner = NULL;
		deny(out, AGENTID_OWNER_MISSING, n);
		return false;
	}
	if (!c->rec[n].owner_active) {
		deny(out, AGENTID_OWNER_INACTIVE, n);
		return false;
	}
	return true;
}

/*
 * The effective window over the agents of the chain, computed before any
 * rule so that a deny for another reason still shows it (the inventory's
 * "expired" and "expiring" notes come from here). False when an agent has
 * no agentNotAfter; *at is then that agent.
 */
static bool
window(const struct agentid_chain *c, struct agentid_decision *out,
    size_t *nb_at, size_t *na_at, bool *have_nb)
{
	size_t i;

	out->not_before = 0;
	*have_nb = false;
	for (i = 0; i < out->n_agents; i++) {
		const struct agentid_record *r = &c->rec[i];

		if (r->has_not_before && (!*have_nb || r->not_before > out->not_before)) {
			out->not_before = r->not_before;
			*nb_at = i;
			*have_nb = true;
		}
		if (!r->has_not_after) {
			*na_at = i;
			return false;
		}
		if (i == 0 || r->not_after < out->not_after) {
			out->not_after = r->not_after;
			*na_at = i;
		}
	}
	return true;
}

/* Rules 3-5: status, validity window, lifetime. */
static bool
check_time_and_status(const struct agentid_chain *c,
    const struct agentid_request *req, const struct agentid_policy *pol,
    struct agentid_decision *out)
{
	size_t i, n = out->n_agents, nb_at = 0, na_at = 0;
	enum agentid_status bad[] = { AGENTID_STATUS_SUSPENDED, AGENTID_STATUS_REVOKED };
	enum agentid_reason why[] = { AGENTID_SUSPENDED, AGENTID_REVOKED };
	bool have_nb;

	out->has_window = window(c, out, &nb_at, &na_at, &have_nb);
	for (size_t k = 0; k < 2; k++)
		for (i = 0; i < n; i++)
			if (c->rec[i].status == bad[k]) {
				deny(out, why[k], i);
				return false;
			}
	if (!out->has_window) {
		/* schema says MUST: no agent lives forever */
		deny(out, AGENTID_EXPIRED, na_at);
		return false;
	}
	if (have_nb && req->now + pol->clock_skew < out->not_before) {
		deny(out, AGENTID_NOT_YET_VALID, nb_at);
		return false;
	}
	if (req->now - pol->clock_skew > out->not_after) {
		deny(out, AGENTID_EXPIRED, na_at);
		return false;
	}
	if (pol->max_lifetime > 0 &&
	    out->not_after - req->now > pol->max_lifetime) {
		deny(out, AGENTID_LIFETIME_EXCEEDS_POLICY, na_at);
		return false;
	}
	return true;
}

/* The window for a chain that rule 2 already refused: computed anyway when
 * the chain's agents are all there, for the inventory. */
static void
window_only(const struct agentid_chain *c, struct agentid_decision *out)
{
	size_t nb_at, na_at;
	bool have_nb;

	out->has_window = window(c, out, &nb_at, &na_at, &have_nb);
}

/*
 * Does record r grant the request for one scope kind? Grants of other kinds
 * are skipped; no grant of the kind passes unless the kind is required.
 */
static bool
grants(const struct agentid_record *r, unsigned kind, const char *prefix,
    const struct agentid_request *req, unsigned required)
{
	size_t i, plen = strlen(prefix);
	bool any = false;

	for (i = 0; i < r->n_scope; i++) {
		const char *g = r->scope[i];
		bool ok;

		if (strncasecmp(g, prefix, plen) != 0)
			continue;
		any = true;
		g += plen;
		if (kind == AGENTID_KIND_HOST)
			ok = agentid_scope_match_host(g, req->host);
		else if (kind == AGENTID_KIND_SERVICE)
			ok = agentid_scope_match_service(g, req->service);
		else
			ok = agentid_scope_match_from(g, req->rhost);
		if (ok)
			return true;
	}
	return !any && (required & kind) == 0;
}

/* Rule 6: every agent of the chain must grant service, host and from. */
static bool
check_scope(const struct agentid_chain *c, const struct agentid_request *req,
    const struct agentid_policy *pol, struct agentid_decision *out)
{
	static const struct {
		unsigned kind;
		const char *prefix;
		enum agentid_reason reason;
	} kinds[] = {
		{ AGENTID_KIND_SERVICE, "service:", AGENTID_SCOPE_SERVICE },
		{ AGENTID_KIND_HOST, "host:", AGENTID_SCOPE_HOST },
		{ AGENTID_KIND_FROM, "from:", AGENTID_SCOPE_FROM },
	};
	size_t k, i;

	for (k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		/* a front that cannot know the remote host leaves from: to the
		 * account phase, which always knows it */
		if (kinds[k].kind == AGENTID_KIND_FROM && req->rhost_unknown)
			continue;
		for (i = 0; i < out->n_agents; i++)
			if (!grants(&c->rec[i], kinds[k].kind, kinds[k].prefix, req,
			    pol->require_scope)) {
				deny(out, kinds[k].reason, i);
				return false;
			}
	}
	return true;
}

/* Is fp one of the agent's agentKeyFingerprint values? */
static bool
bound_to(const struct agentid_record *a, const char *fp)
{
	size_t i;

	for (i = 0; fp != NULL && i < a->n_fingerprints; i++)
		if (strcmp(a->fingerprints[i], fp) == 0)
			return true;
	return false;
}

/* Does the certificate name the user among its principals (when known)? */
static bool
names_user(const struct agentid_credential *cr, const char *user)
{
	size_t i;

	if (cr->principals == NULL)
		return true; /* not known to this front; sshd checked them */
	for (i = 0; user != NULL && cr->principals[i] != NULL; i++)
		if (strcmp(cr->principals[i], user) == 0)
			return true;
	return false;
}

/*
 * Is the certificate valid at now, give or take clock_skew? As OpenSSH's
 * sshkey_cert_check_authority, the time is an argument: the enforcer asks
 * the same question later with a later now.
 */
static bool
cert_in_window(const struct agentid_credential *cr, int64_t now, int64_t skew)
{
	int64_t lo = now + skew, hi = now - skew;

	if (!cr->has_validity)
		return true;
	if (lo < 0 || (uint64_t)lo < cr->valid_after)
		return false;
	return hi < 0 || (uint64_t)hi < cr->valid_before;
}

/*
 * Rule 7, over every credential the login used: each must be bound to the
 * agent (certificate: a user certificate naming the user, CA or key among
 * agentKeyFingerprint when the agent lists any; plain key: among them when
 * it lists any; unreadable: never); a service in require_cert needs a
 * certificate; a certificate must be inside its validity.
 */
static bool
check_creds(const struct agentid_chain *c, const struct agentid_request *req,
    const struct agentid_policy *pol, struct agentid_decision *out)
{
	const struct agentid_record *a = &c->rec[0];
	size_t i, certs = 0;

	for (i = 0; i < req->n_creds; i++) {
		const struct agentid_credential *cr = &req->creds[i];
		bool ok;

		switch (cr->kind) {
		case AGENTID_CRED_CERT:
			certs++;
			ok = !cr->host_cert && names_user(cr, req->user) &&
			    (a->n_fingerprints == 0 || bound_to(a, cr->ca_fp) ||
			    bound_to(a, cr->key_fp));
			break;
		case AGENTID_CRED_KEY:
			ok = a->n_fingerprints == 0 || bound_to(a, cr->key_fp);
			break;
		default:
			ok = false;
			break;
		}
		if (!ok) {
			deny(out, AGENTID_CERT_MISMATCH, 0);
			out->cred = i;
			return false;
		}
	}
	if (req->creds_known && certs == 0 &&
	    cert_required_for(pol, req->service)) {
		deny(out, AGENTID_CERT_REQUIRED, 0);
		return false;
	}
	for (i = 0; i < req->n_creds; i++)
		if (req->creds[i].kind == AGENTID_CRED_CERT &&
		    !cert_in_window(&req->creds[i], req->now, pol->clock_skew)) {
			deny(out, AGENTID_CERT_EXPIRED, 0);
			out->cred = i;
			return false;
		}
	return true;
}

/* Decides req against chain; see DESIGN.md for the rules and their order. */
void
agentid_decide(const struct agentid_chain *chain,
    const struct agentid_request *req, const struct agentid_policy *pol,
    struct agentid_decision *out)
{
	size_t n = 0;

	memset(out, 0, sizeof(*out));
	out->allow = false;
	out->reason = AGENTID_NOT_AN_AGENT;
	if (chain == NULL || chain->n == 0 || !chain->rec[0].is_agent) {
		/* gone from the directory but still served here: never a
		 * pass-through (a plain key in ~/.ssh would then log it in) */
		if (req->known_agent)
			out->reason = AGENTID_DELETED;
		return;
	}
	while (n < chain->n && chain->rec[n].is_agent)
		n++;
	out->n_agents = n;
	if (!check_structure(chain, pol, out)) {
		window_only(chain, out);
		return;
	}
	if (!check_time_and_status(chain, req, pol, out) ||
	    !check_scope(chain, req, pol, out) ||
	    !check_creds(chain, req, pol, out))
		return;
	out->allow = true;
	out->reason = AGENTID_OK;
	out->culprit = 0;
}
