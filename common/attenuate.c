/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * attenuate.c - the write-time rules of the lifecycle commands (pure): a
 * delegate never holds more than its delegators, never outlives them, and
 * a narrow only takes away. The structure of a chain is judged by the
 * engine itself, so a write is refused for the same reasons a login would.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentid.h"
#include "internal.h"
#include "lifecycle.h"

/* Fills a refusal; printf-style message. */
static void __attribute__((format(printf, 3, 4)))
refuse(struct agentid_refusal *out, const char *rule, const char *fmt, ...)
{
	va_list ap;

	out->rule = rule;
	va_start(ap, fmt);
	vsnprintf(out->msg, sizeof(out->msg), fmt, ap);
	va_end(ap);
}

/* The kind bit of grant g and the pattern after its prefix; 0 if unknown. */
static unsigned
grant_kind(const char *g, const char **pattern)
{
	static const struct { const char *p; size_t n; unsigned k; } kinds[] = {
		{ "host:", 5, AGENTID_KIND_HOST },
		{ "service:", 8, AGENTID_KIND_SERVICE },
		{ "from:", 5, AGENTID_KIND_FROM },
	};
	size_t i;

	for (i = 0; g != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strncasecmp(g, kinds[i].p, kinds[i].n) == 0) {
			*pattern = g + kinds[i].n;
			return kinds[i].k;
		}
	return 0;
}

/* 0 for a grant the engine can use; EINVAL (err) otherwise. */
int
agentid_grant_valid(const char *g, struct agentid_error *err)
{
	const unsigned char *p;
	const char *pat;

	if (grant_kind(g, &pat) == 0)
		return agentid_seterr(err, EINVAL, "scope %s: expected host:, "
		    "service: or from: followed by a pattern", g);
	if (*pat == '\0')
		return agentid_seterr(err, EINVAL, "scope %s: empty pattern", g);
	for (p = (const unsigned char *)g; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return agentid_seterr(err, EINVAL, "scope: control "
			    "character in a grant");
	return 0;
}

/* fnmatch's special characters: a pattern without them is a literal. */
static bool
is_meta(char c)
{
	return c == '*' || c == '?' || c == '[' || c == ']' || c == '\\';
}

static bool
has_meta(const char *s)
{
	for (; *s != '\0'; s++)
		if (is_meta(*s))
			return true;
	return false;
}

/* Length of s's literal head (before its first special character). */
static size_t
lit_head(const char *s)
{
	size_t n = 0;

	while (s[n] != '\0' && !is_meta(s[n]))
		n++;
	return n;
}

/* Length of s's literal tail (after its last special character). */
static size_t
lit_tail(const char *s)
{
	size_t len = strlen(s), n = 0;

	while (n < len && !is_meta(s[len - 1 - n]))
		n++;
	return n;
}

/* Equal bytes, ignoring ASCII case when ci. */
static bool
same(const char *a, const char *b, size_t n, bool ci)
{
	return ci ? strncasecmp(a, b, n) == 0 : strncmp(a, b, n) == 0;
}

/*
 * Glob against glob: d covers g when d is "*", or "PRE*SUF" (one star, no
 * other special character) and every string g matches starts with PRE and
 * ends with SUF: g's literal head starts with PRE and its literal tail ends
 * with SUF (g has a special character, so head and tail do not overlap in
 * what it matches, which is then at least |PRE| + |SUF| long). Anything else
 * is unproven unless the two patterns are the same text.
 */
static enum agentid_coverage
glob_covers(const char *d, const char *g, bool ci)
{
	const char *star = strchr(d, '*');
	size_t pre, suf, gh, gt, gl = strlen(g);

	if ((ci ? strcasecmp(d, g) : strcmp(d, g)) == 0)
		return AGENTID_COVERED;
	if (star == NULL || strchr(star + 1, '*') != NULL)
		return AGENTID_UNPROVEN;
	pre = (size_t)(star - d);
	suf = strlen(star + 1);
	if (lit_head(d) != pre || lit_tail(d) != suf)
		return AGENTID_UNPROVEN; /* another special character in d */
	gh = lit_head(g);
	gt = lit_tail(g);
	if (gh >= pre && same(g, d, pre, ci) && gt >= suf &&
	    same(g + gl - suf, star + 1, suf, ci))
		return AGENTID_COVERED;
	/* the literal parts disagree: g matches something d does not,
	 * unless g's own globbing makes them agree; we cannot tell */
	return AGENTID_UNPROVEN;
}

/* Coverage of one from: pattern by another (scope.c's matching rules). */
static enum agentid_coverage
from_covers(const char *d, const char *g)
{
	unsigned char dn[16], gn[16];
	unsigned dl, gl;
	int df, gf;
	bool dc = agentid_cidr_parse(d, &df, dn, &dl) == 0;
	bool gc = agentid_cidr_parse(g, &gf, gn, &gl) == 0;

	if (dc && gc)
		return df == gf && dl <= gl && agentid_prefix_equal(dn, gn, dl) ?
		    AGENTID_COVERED : AGENTID_NOT_COVERED;
	if (strcmp(d, "*") == 0)
		return AGENTID_COVERED; /* a glob on any rhost text */
	if (dc != gc)
		return AGENTID_NOT_COVERED; /* addresses vs host names */
	if (!has_meta(g))
		return fnmatch(d, g, FNM_CASEFOLD) == 0 ? AGENTID_COVERED :
		    AGENTID_NOT_COVERED;
	return glob_covers(d, g, true);
}

/* Does delegator grant d cover grant g (same kind)? */
enum agentid_coverage
agentid_grant_covers(const char *d, const char *g)
{
	const char *dp, *gp;
	unsigned dk = grant_kind(d, &dp), gk = grant_kind(g, &gp);

	if (dk == 0 || gk == 0 || *gp == '\0')
		return AGENTID_NOT_COVERED;
	if (dk != gk)
		return AGENTID_NOT_COVERED;
	switch (gk) {
	case AGENTID_KIND_HOST:
		/* a literal name is covered when the delegator's glob takes
		 * it, as a login would try it (FQDN or short name) */
		if (!has_meta(gp))
			return agentid_scope_match_host(dp, gp) ?
			    AGENTID_COVERED : AGENTID_NOT_COVERED;
		return glob_covers(dp, gp, true);
	case AGENTID_KIND_SERVICE:
		if (!has_meta(gp))
			return agentid_scope_match_service(dp, gp) ?
			    AGENTID_COVERED : AGENTID_NOT_COVERED;
		return glob_covers(dp, gp, false);
	default:
		return from_covers(dp, gp);
	}
}

/* Is g covered by one of del's grants? */
enum agentid_coverage
agentid_grants_cover(const struct agentid_record *del, const char *g,
    unsigned require_scope)
{
	enum agentid_coverage best = AGENTID_NOT_COVERED, c;
	const char *gp, *dp;
	unsigned kind = grant_kind(g, &gp);
	bool any = false;
	size_t i;

	if (kind == 0)
		return AGENTID_NOT_COVERED;
	for (i = 0; i < del->n_scope; i++) {
		if (grant_kind(del->scope[i], &dp) != kind)
			continue;
		any = true;
		if ((c = agentid_grant_covers(del->scope[i], g)) == AGENTID_COVERED)
			return c;
		if (c == AGENTID_UNPROVEN)
			best = c;
	}
	/* the engine: no grant of a kind passes unless the kind is required */
	if (!any)
		return (require_scope & kind) ? AGENTID_NOT_COVERED : AGENTID_COVERED;
	return best;
}

/* Checks rec[0] as it will be written; see lifecycle.h. */
void
agentid_check_write(const struct agentid_chain *chain,
    const struct agentid_policy *pol, int64_t now, unsigned flags,
    struct agentid_refusal *out)
{
	struct agentid_chain skel = { NULL, 0 };
	struct agentid_policy sp = *pol;
	struct agentid_request req;
	struct agentid_decision d;
	const struct agentid_record *a, *del;
	char t1[40], t2[40];
	enum agentid_coverage c;
	size_t i, j;

	memset(out, 0, sizeof(*out));
	if (chain->n == 0 || !chain->rec[0].is_agent) {
		refuse(out, "not_an_agent", "no agent entry to check");
		return;
	}
	a = &chain->rec[0];
	if (chain->n == 1) {
		refuse(out, "owner_missing", "owner %s does not exist",
		    a->owner_dn != NULL ? a->owner_dn : "(none)");
		return;
	}
	/*
	 * The structure, decided by the engine on a copy that keeps only the
	 * links: every window open now, no grants, nothing required, so the
	 * engine's answer can only be about cycle, depth and owner.
	 */
	if ((skel.rec = calloc(chain->n, sizeof(*skel.rec))) == NULL) {
		refuse(out, "error", "out of memory");
		return;
	}
	skel.n = chain->n;
	for (i = 0; i < chain->n; i++) {
		skel.rec[i].dn = chain->rec[i].dn;
		skel.rec[i].is_agent = chain->rec[i].is_agent;
		skel.rec[i].uid = chain->rec[i].uid;
		skel.rec[i].owner_dn = chain->rec[i].owner_dn;
		skel.rec[i].has_not_after = true;
		skel.rec[i].not_after = now;
		skel.rec[i].owner_match = chain->rec[i].owner_match;
		skel.rec[i].owner_active = chain->rec[i].owner_active;
	}
	sp.require_scope = 0;
	sp.require_cert = NULL;
	sp.max_lifetime = 0;
	memset(&req, 0, sizeof(req));
	req.user = a->uid;
	req.now = now;
	agentid_decide(&skel, &req, &sp, &d);
	free(skel.rec);
	if (!d.allow) {
		const struct agentid_record *at = d.culprit < chain->n ?
		    &chain->rec[d.culprit] : a;

		refuse(out, agentid_reason_name(d.reason), "%s: %s",
		    agentid_reason_name(d.reason),
		    d.reason == AGENTID_CHAIN_TOO_DEEP ? "more agents in the chain "
		    "than max_delegation_depth" : d.reason == AGENTID_CHAIN_CYCLE ?
		    "the owners form a loop" : d.reason == AGENTID_OWNER_INACTIVE ?
		    "the human owner is not active (owner_active_filter)" :
		    at->is_agent ? "the chain does not end at a person" :
		    "the owner is neither an agent nor a person (owner_filter)");
		return;
	}
	/* revoked is final: nothing is written under a revoked agent */
	for (i = 0; i < chain->n && chain->rec[i].is_agent; i++)
		if (chain->rec[i].status == AGENTID_STATUS_REVOKED) {
			refuse(out, "revoked", "%s is revoked", chain->rec[i].dn);
			return;
		}
	if (!a->has_not_after) {
		refuse(out, "not_after_missing", "no agentNotAfter: no agent "
		    "lives forever");
		return;
	}
	if (pol->max_lifetime > 0 && a->not_after - now > pol->max_lifetime) {
		agentid_format_duration(pol->max_lifetime, t1, sizeof(t1));
		refuse(out, "lifetime_exceeds_policy", "notAfter %s is more than "
		    "max_lifetime %s from now",
		    agentid_format_time(a->not_after, t2, sizeof(t2)), t1);
		return;
	}
	for (i = 1; i < chain->n && chain->rec[i].is_agent; i++) {
		del = &chain->rec[i];
		if (!del->has_not_after || del->not_after < a->not_after) {
			refuse(out, "exceeds_delegator_lifetime", "notAfter %s is "
			    "after the notAfter %s of delegator %s",
			    agentid_format_time(a->not_after, t1, sizeof(t1)),
			    del->has_not_after ? agentid_format_time(del->not_after,
			    t2, sizeof(t2)) : "(none)", del->dn);
			return;
		}
	}
	if (!(flags & AGENTID_CHECK_SCOPE))
		return;
	for (j = 0; j < a->n_scope; j++)
		for (i = 1; i < chain->n && chain->rec[i].is_agent; i++) {
			del = &chain->rec[i];
			c = agentid_grants_cover(del, a->scope[j], pol->require_scope);
			if (c == AGENTID_COVERED)
				continue;
			refuse(out, "scope_not_covered", "%s: %s by the grants of "
			    "delegator %s", a->scope[j], c == AGENTID_UNPROVEN ?
			    "cannot prove coverage" : "not covered", del->dn);
			return;
		}
}

/* Is g (exactly, kind prefix in any case) among v? */
static bool
holds(char *const *v, size_t n, const char *g)
{
	const char *gp, *vp;
	unsigned k = grant_kind(g, &gp);
	size_t i;

	for (i = 0; i < n; i++)
		if (grant_kind(v[i], &vp) == k && strcmp(vp, gp) == 0)
			return true;
	return false;
}

/* Does v hold a grant of kind k? */
static bool
has_kind(char *const *v, size_t n, unsigned k)
{
	const char *p;
	size_t i;

	for (i = 0; i < n; i++)
		if (grant_kind(v[i], &p) == k)
			return true;
	return false;
}

/* Checks a narrow; see lifecycle.h. */
void
agentid_check_narrow(const struct agentid_record *old, char *const *scope,
    size_t n_scope, bool has_na, int64_t na, unsigned require_scope,
    struct agentid_refusal *out)
{
	static const struct { unsigned k; const char *name; } kinds[] = {
		{ AGENTID_KIND_HOST, "host" }, { AGENTID_KIND_SERVICE, "service" },
		{ AGENTID_KIND_FROM, "from" },
	};
	char t1[40], t2[40];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (old->status == AGENTID_STATUS_REVOKED) {
		refuse(out, "revoked", "%s is revoked", old->dn);
		return;
	}
	if (scope != NULL) {
		for (i = 0; i < n_scope; i++)
			if (!holds(old->scope, old->n_scope, scope[i])) {
				refuse(out, "narrow_widens", "%s is not one of the "
				    "agent's grants: narrow only removes", scope[i]);
				return;
			}
		/* no grant of a kind means "any" unless the kind is required */
		for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
			if (!(require_scope & kinds[i].k) &&
			    has_kind(old->scope, old->n_scope, kinds[i].k) &&
			    !has_kind(scope, n_scope, kinds[i].k)) {
				refuse(out, "narrow_widens", "removing every %s: "
				    "grant would allow any %s (%s is not in "
				    "require_scope)", kinds[i].name, kinds[i].name,
				    kinds[i].name);
				return;
			}
	}
	if (has_na && (!old->has_not_after || na > old->not_after)) {
		refuse(out, "narrow_widens", "notAfter %s is later than %s: narrow "
		    "only shortens (renew extends)",
		    agentid_format_time(na, t1, sizeof(t1)), old->has_not_after ?
		    agentid_format_time(old->not_after, t2, sizeof(t2)) : "(none)");
		return;
	}
}
