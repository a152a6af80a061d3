/* SPDX-License-Identifier: BSD-2-Clause */
/* test_engine.c - the policy engine: every reason, rule order, boundaries. */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentid.h"

#define NOW   1800000000LL
#define DAY   86400LL
#define HUMAN "uid=alice,ou=people,dc=example,dc=com"
#define BOT   "uid=build-bot,ou=agents,dc=example,dc=com"
#define ORCH  "uid=orch,ou=agents,dc=example,dc=com"

struct t {
	struct agentid_chain c;
	struct agentid_request req;
	struct agentid_policy pol;
	struct agentid_decision d;
};

static int
setup(void **state)
{
	struct t *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	t->req.user = "build-bot";
	t->req.service = "sshd";
	t->req.host = "build-7.example.com";
	t->req.rhost = "10.1.2.3";
	t->req.now = NOW;
	t->pol.max_delegation_depth = 4;
	t->pol.clock_skew = 60;
	t->pol.max_lifetime = 0;
	t->pol.require_scope = AGENTID_KIND_HOST | AGENTID_KIND_SERVICE;
	*state = t;
	return 0;
}

static int
teardown(void **state)
{
	struct t *t = *state;

	agentid_chain_clear(&t->c);
	free(t);
	return 0;
}

static void
add_strv(char ***v, size_t *n, const char *s)
{
	*n = 0;
	*v = calloc(1, sizeof(char *));
	assert_non_null(*v);
	if (s == NULL)
		return;
	/* space-separated list */
	while (*s != '\0') {
		size_t len = strcspn(s, " ");

		*v = realloc(*v, (*n + 2) * sizeof(char *));
		assert_non_null(*v);
		(*v)[*n] = strndup(s, len);
		(*n)++;
		(*v)[*n] = NULL;
		s += len;
		while (*s == ' ')
			s++;
	}
}

/* Appends an agent valid from now-1d to now+1d, active, with grants. */
static struct agentid_record *
agent(struct t *t, const char *dn, const char *owner, const char *scope)
{
	struct agentid_record *r = agentid_chain_add(&t->c);

	assert_non_null(r);
	r->dn = strdup(dn);
	r->is_agent = true;
	r->owner_dn = owner ? strdup(owner) : NULL;
	add_strv(&r->scope, &r->n_scope, scope);
	add_strv(&r->fingerprints, &r->n_fingerprints, NULL);
	r->has_not_before = true;
	r->not_before = NOW - DAY;
	r->has_not_after = true;
	r->not_after = NOW + DAY;
	r->status = AGENTID_STATUS_ACTIVE;
	return r;
}

static struct agentid_record *
human(struct t *t, const char *dn)
{
	struct agentid_record *r = agentid_chain_add(&t->c);

	assert_non_null(r);
	r->dn = strdup(dn);
	r->is_agent = false;
	r->owner_match = true;
	return r;
}

#define FULL "host:build-* service:sshd"

/* The common case: one agent owned by a human. */
static void
simple(struct t *t, const char *scope)
{
	agent(t, BOT, HUMAN, scope);
	human(t, HUMAN);
}

static enum agentid_reason
decide(struct t *t)
{
	agentid_decide(&t->c, &t->req, &t->pol, &t->d);
	assert_int_equal(t->d.allow, t->d.reason == AGENTID_OK);
	return t->d.reason;
}

#define assert_reason(t, r) do { \
	enum agentid_reason got_ = decide(t); \
	if (got_ != (r)) \
		fail_msg("reason %s, expected %s", agentid_reason_name(got_), \
		    agentid_reason_name(r)); \
} while (0)

/* ---- allow ---- */

static void
test_allow(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	assert_reason(t, AGENTID_OK);
	assert_true(t->d.allow);
	assert_string_equal(t->d.owner, HUMAN);
	assert_int_equal(t->d.n_agents, 1);
	assert_true(t->d.has_window);
	assert_int_equal(t->d.not_before, NOW - DAY);
	assert_int_equal(t->d.not_after, NOW + DAY);
}

static void
test_allow_delegated(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, HUMAN, "host:* service:*");
	human(t, HUMAN);
	assert_reason(t, AGENTID_OK);
	assert_string_equal(t->d.owner, HUMAN);
	assert_int_equal(t->d.n_agents, 2);
}

/* ---- rule 1 ---- */

static void
test_not_an_agent_empty(void **state)
{
	struct t *t = *state;

	assert_reason(t, AGENTID_NOT_AN_AGENT);
	assert_null(t->d.owner);
	agentid_decide(NULL, &t->req, &t->pol, &t->d);
	assert_int_equal(t->d.reason, AGENTID_NOT_AN_AGENT);
}

static void
test_not_an_agent_human(void **state)
{
	struct t *t = *state;

	human(t, HUMAN);
	assert_reason(t, AGENTID_NOT_AN_AGENT);
}

/* ---- rule 2 ---- */

static void
test_chain_cycle(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, BOT, FULL);
	assert_reason(t, AGENTID_CHAIN_CYCLE);
	assert_int_equal(t->d.culprit, 1);
}

static void
test_chain_cycle_self(void **state)
{
	struct t *t = *state;

	agent(t, BOT, BOT, FULL);
	assert_reason(t, AGENTID_CHAIN_CYCLE);
	assert_int_equal(t->d.culprit, 0);
}

static void
test_chain_cycle_dn_case(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, "UID=Build-Bot,OU=agents,DC=example,DC=com", FULL);
	assert_reason(t, AGENTID_CHAIN_CYCLE);
}

static void
test_cycle_before_depth(void **state)
{
	struct t *t = *state;
	char dn[8][64];
	int i;

	t->pol.max_delegation_depth = 2;
	for (i = 0; i < 3; i++)
		snprintf(dn[i], sizeof(dn[i]), "uid=a%d,dc=x", i);
	agent(t, dn[0], dn[1], FULL);
	agent(t, dn[1], dn[2], FULL);
	agent(t, dn[2], dn[0], FULL);
	assert_reason(t, AGENTID_CHAIN_CYCLE);
}

/* A chain of n agents under a human. */
static void
chain_of(struct t *t, int n)
{
	char dn[16][64];
	int i;

	for (i = 0; i <= n; i++)
		snprintf(dn[i], sizeof(dn[i]), "uid=a%d,ou=agents,dc=example,dc=com", i);
	for (i = 0; i < n; i++)
		agent(t, dn[i], i + 1 < n ? dn[i + 1] : HUMAN, FULL);
	human(t, HUMAN);
}

static void
test_depth_at_limit(void **state)
{
	struct t *t = *state;

	chain_of(t, 4);
	assert_reason(t, AGENTID_OK);
	assert_int_equal(t->d.n_agents, 4);
}

static void
test_depth_one_past(void **state)
{
	struct t *t = *state;

	chain_of(t, 5);
	assert_reason(t, AGENTID_CHAIN_TOO_DEEP);
}

static void
test_depth_configured(void **state)
{
	struct t *t = *state;

	t->pol.max_delegation_depth = 1;
	chain_of(t, 2);
	assert_reason(t, AGENTID_CHAIN_TOO_DEEP);
	agentid_chain_clear(&t->c);
	chain_of(t, 1);
	assert_reason(t, AGENTID_OK);
}

static void
test_owner_missing(void **state)
{
	struct t *t = *state;

	agent(t, BOT, "uid=gone,ou=people,dc=example,dc=com", FULL);
	assert_reason(t, AGENTID_OWNER_MISSING);
	assert_int_equal(t->d.culprit, 0);
}

static void
test_owner_missing_delegator(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, "uid=gone,dc=x", FULL);
	assert_reason(t, AGENTID_OWNER_MISSING);
	assert_int_equal(t->d.culprit, 1);
}

static void
test_owner_missing_no_owner(void **state)
{
	struct t *t = *state;

	agent(t, BOT, NULL, FULL);
	human(t, HUMAN);
	assert_reason(t, AGENTID_OWNER_MISSING);
}

static void
test_owner_missing_wrong_link(void **state)
{
	struct t *t = *state;

	/* the record after the agent is not the owner it names */
	agent(t, BOT, HUMAN, FULL);
	human(t, "uid=bob,ou=people,dc=example,dc=com");
	assert_reason(t, AGENTID_OWNER_MISSING);
}

static void
test_owner_inactive(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[1].owner_active = false;
	assert_reason(t, AGENTID_OWNER_INACTIVE);
	assert_int_equal(t->d.culprit, 1);
	assert_string_equal(t->d.owner, HUMAN);
}

/* ---- rule 3 ---- */

static void
test_suspended(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].status = AGENTID_STATUS_SUSPENDED;
	assert_reason(t, AGENTID_SUSPENDED);
}

static void
test_revoked(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].status = AGENTID_STATUS_REVOKED;
	assert_reason(t, AGENTID_REVOKED);
	assert_int_equal(t->d.culprit, 0);
}

static void
test_revoked_delegator_cascades(void **state)
{
	struct t *t = *state;
	char buf[512];

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, HUMAN, FULL)->status = AGENTID_STATUS_REVOKED;
	human(t, HUMAN);
	assert_reason(t, AGENTID_REVOKED);
	assert_int_equal(t->d.culprit, 1);
	agentid_explain(&t->c, &t->d, buf, sizeof(buf));
	assert_string_equal(buf, "denied: revoked — " ORCH " (delegator of " BOT
	    ") is revoked");
}

static void
test_revoked_and_expired_is_revoked(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].status = AGENTID_STATUS_REVOKED;
	t->c.rec[0].not_after = NOW - 30 * DAY;
	assert_reason(t, AGENTID_REVOKED);
}

static void
test_suspended_before_revoked(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL)->status = AGENTID_STATUS_REVOKED;
	agent(t, ORCH, HUMAN, FULL)->status = AGENTID_STATUS_SUSPENDED;
	human(t, HUMAN);
	assert_reason(t, AGENTID_SUSPENDED);
	assert_int_equal(t->d.culprit, 1);
}

static void
test_structure_before_status(void **state)
{
	struct t *t = *state;

	agent(t, BOT, "uid=gone,dc=x", FULL)->status = AGENTID_STATUS_REVOKED;
	assert_reason(t, AGENTID_OWNER_MISSING);
}

static void
test_status_parse(void **state)
{
	(void)state;
	assert_int_equal(agentid_status_parse(NULL), AGENTID_STATUS_ACTIVE);
	assert_int_equal(agentid_status_parse("active"), AGENTID_STATUS_ACTIVE);
	assert_int_equal(agentid_status_parse("Active"), AGENTID_STATUS_ACTIVE);
	assert_int_equal(agentid_status_parse("revoked"), AGENTID_STATUS_REVOKED);
	assert_int_equal(agentid_status_parse("suspended"), AGENTID_STATUS_SUSPENDED);
	/* fail closed on values nobody defined */
	assert_int_equal(agentid_status_parse("disabled"), AGENTID_STATUS_SUSPENDED);
	assert_int_equal(agentid_status_parse(""), AGENTID_STATUS_SUSPENDED);
	assert_string_equal(agentid_status_name(AGENTID_STATUS_REVOKED), "revoked");
}

/* ---- rule 4 ---- */

static void
test_not_yet_valid(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].not_before = NOW + DAY;
	assert_reason(t, AGENTID_NOT_YET_VALID);
}

static void
test_not_before_skew_boundary(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].not_before = NOW + 60 - 1;
	assert_reason(t, AGENTID_OK);
	t->c.rec[0].not_before = NOW + 60;
	assert_reason(t, AGENTID_OK);
	t->c.rec[0].not_before = NOW + 60 + 1;
	assert_reason(t, AGENTID_NOT_YET_VALID);
}

static void
test_expired(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].not_after = NOW - DAY;
	assert_reason(t, AGENTID_EXPIRED);
	assert_int_equal(t->d.not_after, NOW - DAY);
}

static void
test_not_after_skew_boundary(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].not_after = NOW - 60 + 1;
	assert_reason(t, AGENTID_OK);
	t->c.rec[0].not_after = NOW - 60;
	assert_reason(t, AGENTID_OK);
	t->c.rec[0].not_after = NOW - 60 - 1;
	assert_reason(t, AGENTID_EXPIRED);
}

static void
test_expired_without_not_after(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].has_not_after = false;
	assert_reason(t, AGENTID_EXPIRED);
}

static void
test_no_not_before_ok(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].has_not_before = false;
	assert_reason(t, AGENTID_OK);
	assert_int_equal(t->d.not_before, 0);
}

static void
test_effective_window(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL)->not_after = NOW + 10 * DAY;
	agent(t, ORCH, HUMAN, "host:* service:*")->not_before = NOW - 2 * DAY;
	t->c.rec[1].not_after = NOW + 2 * DAY;
	t->c.rec[0].not_before = NOW - 3 * DAY;
	human(t, HUMAN);
	assert_reason(t, AGENTID_OK);
	assert_int_equal(t->d.not_before, NOW - 2 * DAY);
	assert_int_equal(t->d.not_after, NOW + 2 * DAY);
}

static void
test_expired_delegator(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, HUMAN, FULL)->not_after = NOW - DAY;
	human(t, HUMAN);
	assert_reason(t, AGENTID_EXPIRED);
	assert_int_equal(t->d.culprit, 1);
}

static void
test_skew_zero(void **state)
{
	struct t *t = *state;

	t->pol.clock_skew = 0;
	simple(t, FULL);
	t->c.rec[0].not_after = NOW;
	assert_reason(t, AGENTID_OK);
	t->c.rec[0].not_after = NOW - 1;
	assert_reason(t, AGENTID_EXPIRED);
}

/* ---- rule 5 ---- */

static void
test_lifetime_exceeds_policy(void **state)
{
	struct t *t = *state;

	t->pol.max_lifetime = DAY;
	simple(t, FULL);
	t->c.rec[0].not_after = NOW + 2 * DAY;
	assert_reason(t, AGENTID_LIFETIME_EXCEEDS_POLICY);
	t->c.rec[0].not_after = NOW + DAY;
	assert_reason(t, AGENTID_OK);
}

static void
test_lifetime_unlimited(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[0].not_after = NOW + 3650 * DAY;
	assert_reason(t, AGENTID_OK);
}

static void
test_expired_before_lifetime(void **state)
{
	struct t *t = *state;

	t->pol.max_lifetime = DAY;
	simple(t, FULL);
	t->c.rec[0].not_after = NOW - DAY;
	assert_reason(t, AGENTID_EXPIRED);
}

/* ---- rule 6 ---- */

static void
test_scope_service(void **state)
{
	struct t *t = *state;

	simple(t, "host:* service:sudo");
	assert_reason(t, AGENTID_SCOPE_SERVICE);
}

static void
test_scope_host(void **state)
{
	struct t *t = *state;

	simple(t, "host:web* service:sshd");
	assert_reason(t, AGENTID_SCOPE_HOST);
}

static void
test_scope_from(void **state)
{
	struct t *t = *state;

	simple(t, FULL " from:192.168.0.0/16");
	assert_reason(t, AGENTID_SCOPE_FROM);
	agentid_chain_clear(&t->c);
	simple(t, FULL " from:192.168.0.0/16 from:10.0.0.0/8");
	assert_reason(t, AGENTID_OK);
}

static void
test_scope_from_ipv6(void **state)
{
	struct t *t = *state;

	t->req.rhost = "2001:db8:5::7";
	simple(t, FULL " from:2001:db8::/32");
	assert_reason(t, AGENTID_OK);
	t->req.rhost = "2001:db9::7";
	assert_reason(t, AGENTID_SCOPE_FROM);
}

static void
test_scope_from_local_login(void **state)
{
	struct t *t = *state;

	t->req.rhost = NULL;
	simple(t, FULL " from:*");
	assert_reason(t, AGENTID_SCOPE_FROM);
	agentid_chain_clear(&t->c);
	simple(t, FULL);
	assert_reason(t, AGENTID_OK); /* from: not required by default */
}

static void
test_scope_required_kind_missing(void **state)
{
	struct t *t = *state;

	simple(t, "service:sshd");
	assert_reason(t, AGENTID_SCOPE_HOST);
	agentid_chain_clear(&t->c);
	simple(t, "host:*");
	assert_reason(t, AGENTID_SCOPE_SERVICE);
	agentid_chain_clear(&t->c);
	t->pol.require_scope |= AGENTID_KIND_FROM;
	simple(t, FULL);
	assert_reason(t, AGENTID_SCOPE_FROM);
}

static void
test_scope_nothing_required(void **state)
{
	struct t *t = *state;

	t->pol.require_scope = 0;
	simple(t, NULL);
	assert_reason(t, AGENTID_OK);
}

static void
test_scope_service_before_host(void **state)
{
	struct t *t = *state;

	simple(t, "host:web* service:sudo from:192.168.0.0/16");
	assert_reason(t, AGENTID_SCOPE_SERVICE);
}

static void
test_expired_before_scope(void **state)
{
	struct t *t = *state;

	simple(t, "host:web* service:sudo");
	t->c.rec[0].not_after = NOW - DAY;
	assert_reason(t, AGENTID_EXPIRED);
}

static void
test_attenuation(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, "host:* service:sshd");
	agent(t, ORCH, HUMAN, "host:build-* service:*");
	human(t, HUMAN);
	t->req.host = "web1.example.com";
	assert_reason(t, AGENTID_SCOPE_HOST);
	assert_int_equal(t->d.culprit, 1);
	t->req.host = "build-7.example.com";
	assert_reason(t, AGENTID_OK);
}

static void
test_attenuation_delegator_lacks_required(void **state)
{
	struct t *t = *state;

	agent(t, BOT, ORCH, FULL);
	agent(t, ORCH, HUMAN, "service:*");
	human(t, HUMAN);
	assert_reason(t, AGENTID_SCOPE_HOST);
	assert_int_equal(t->d.culprit, 1);
}

static void
test_scope_unknown_kind_grants_nothing(void **state)
{
	struct t *t = *state;

	simple(t, "hosts:* services:* time:always");
	assert_reason(t, AGENTID_SCOPE_SERVICE);
}

static void
test_scope_kind_case(void **state)
{
	struct t *t = *state;

	simple(t, "HOST:BUILD-* Service:sshd");
	assert_reason(t, AGENTID_OK);
}

static void
test_scope_no_host(void **state)
{
	struct t *t = *state;

	t->req.host = NULL;
	simple(t, FULL);
	assert_reason(t, AGENTID_SCOPE_HOST);
}

/* ---- rule 7 ---- */

static void
with_fps(struct t *t, const char *fps)
{
	agentid_chain_clear(&t->c);
	simple(t, FULL);
	free(t->c.rec[0].fingerprints);
	add_strv(&t->c.rec[0].fingerprints, &t->c.rec[0].n_fingerprints, fps);
}

static void
test_cert_mismatch(void **state)
{
	struct t *t = *state;
	struct agentid_credential cert = { .kind = AGENTID_CRED_CERT,
	    .ca_fp = "SHA256:ca", .key_fp = "SHA256:key", .principals = NULL };

	t->req.creds = &cert;
	t->req.n_creds = 1;
	with_fps(t, "SHA256:other SHA256:another");
	assert_reason(t, AGENTID_CERT_MISMATCH);
	with_fps(t, "SHA256:other SHA256:ca");
	assert_reason(t, AGENTID_OK);
	with_fps(t, "SHA256:key");
	assert_reason(t, AGENTID_OK);
	with_fps(t, NULL);
	assert_reason(t, AGENTID_OK);
}

static void
test_cert_fingerprint_case_sensitive(void **state)
{
	struct t *t = *state;
	struct agentid_credential cert = { .kind = AGENTID_CRED_CERT,
	    .ca_fp = "SHA256:AbC", .key_fp = NULL, .principals = NULL };

	t->req.creds = &cert;
	t->req.n_creds = 1;
	with_fps(t, "SHA256:abc");
	assert_reason(t, AGENTID_CERT_MISMATCH);
}

static void
test_cert_without_cert(void **state)
{
	struct t *t = *state;

	with_fps(t, "SHA256:only");
	assert_reason(t, AGENTID_OK); /* account phase: no certificate known */
}

static void
test_cert_principals(void **state)
{
	struct t *t = *state;
	char *good[] = { "other", "build-bot", NULL };
	char *bad[] = { "other", "build-bot2", NULL };
	struct agentid_credential cert = { .kind = AGENTID_CRED_CERT,
	    .ca_fp = "SHA256:ca", .key_fp = NULL, .principals = good };

	t->req.creds = &cert;
	t->req.n_creds = 1;
	with_fps(t, NULL);
	assert_reason(t, AGENTID_OK);
	cert.principals = bad;
	assert_reason(t, AGENTID_CERT_MISMATCH);
}

static void
test_scope_before_cert(void **state)
{
	struct t *t = *state;
	struct agentid_credential cert = { .kind = AGENTID_CRED_CERT,
	    .ca_fp = "SHA256:ca", .key_fp = NULL, .principals = NULL };

	t->req.creds = &cert;
	t->req.n_creds = 1;
	with_fps(t, "SHA256:x");
	t->req.service = "sudo";
	assert_reason(t, AGENTID_SCOPE_SERVICE);
}


/* ---- issue 10: deleted, owner_filter, credentials ---- */

static void
test_deleted(void **state)
{
	struct t *t = *state;

	assert_reason(t, AGENTID_NOT_AN_AGENT);  /* a human: passed through */
	t->req.known_agent = true;
	assert_reason(t, AGENTID_DELETED);       /* served here, gone there */
	assert_false(t->d.allow);
	human(t, HUMAN);                         /* an entry, but not an agent */
	assert_reason(t, AGENTID_DELETED);
}

static void
test_owner_not_a_person(void **state)
{
	struct t *t = *state;

	simple(t, FULL);
	t->c.rec[1].owner_match = false;  /* an OU, the base DN, a service */
	assert_reason(t, AGENTID_OWNER_MISSING);
	assert_int_equal(t->d.culprit, 1);
	assert_null(t->d.owner);
}

static void
test_cert_required(void **state)
{
	struct t *t = *state;
	char *svc[] = { "sshd", NULL };
	struct agentid_credential key = { .kind = AGENTID_CRED_KEY,
	    .key_fp = "SHA256:plain" };

	t->pol.require_cert = svc;
	simple(t, FULL);
	assert_reason(t, AGENTID_OK);           /* account: not known yet */
	t->req.creds_known = true;
	assert_reason(t, AGENTID_CERT_REQUIRED); /* password: no credential */
	t->req.creds = &key;
	t->req.n_creds = 1;
	assert_reason(t, AGENTID_CERT_REQUIRED); /* plain authorized_keys key */
	t->req.service = "cron";
	agentid_chain_clear(&t->c);
	simple(t, "host:build-* service:*");
	assert_reason(t, AGENTID_OK);           /* cron is not listed */
}

static void
test_cert_expired_skew(void **state)
{
	struct t *t = *state;
	char *pr[] = { "build-bot", NULL };
	struct agentid_credential cert = { .kind = AGENTID_CRED_CERT,
	    .ca_fp = "SHA256:ca", .principals = pr, .has_validity = true,
	    .valid_after = NOW - 100, .valid_before = NOW - 30 };

	simple(t, FULL);
	t->req.creds = &cert;
	t->req.n_creds = 1;
	t->req.creds_known = true;
	assert_reason(t, AGENTID_OK);           /* 30 s ago, skew 60 s */
	cert.valid_before = NOW - 60;
	assert_reason(t, AGENTID_CERT_EXPIRED); /* exactly skew: ended */
	cert.valid_before = NOW + 1000;
	cert.valid_after = NOW + 59;
	assert_reason(t, AGENTID_OK);
	cert.valid_after = NOW + 61;
	assert_reason(t, AGENTID_CERT_EXPIRED); /* not yet valid */
	t->pol.clock_skew = 0;
	cert.valid_after = NOW - 1;
	cert.valid_before = NOW;
	assert_reason(t, AGENTID_CERT_EXPIRED); /* valid_before is exclusive */
}

static void
test_cert_unreadable(void **state)
{
	struct t *t = *state;
	struct agentid_credential bad = { .kind = AGENTID_CRED_UNREADABLE };

	simple(t, FULL);
	t->req.creds = &bad;
	t->req.n_creds = 1;
	t->req.creds_known = true;
	assert_reason(t, AGENTID_CERT_MISMATCH);
}

static void
test_cert_every_credential_bound(void **state)
{
	struct t *t = *state;
	char *pr[] = { "build-bot", NULL };
	struct agentid_credential creds[2] = {
		{ .kind = AGENTID_CRED_CERT, .ca_fp = "SHA256:ca",
		  .principals = pr },
		{ .kind = AGENTID_CRED_KEY, .key_fp = "SHA256:stranger" },
	};

	with_fps(t, "SHA256:ca");
	t->req.creds = creds;
	t->req.n_creds = 2;
	t->req.creds_known = true;
	assert_reason(t, AGENTID_CERT_MISMATCH);
	assert_int_equal(t->d.cred, 1);
	creds[0].host_cert = true;
	t->req.n_creds = 1;
	assert_reason(t, AGENTID_CERT_MISMATCH); /* a host certificate */
}

static void
test_from_deferred_when_rhost_unknown(void **state)
{
	struct t *t = *state;

	simple(t, FULL " from:10.0.0.0/8");
	t->req.rhost = NULL;
	assert_reason(t, AGENTID_SCOPE_FROM);
	t->req.rhost_unknown = true;
	assert_reason(t, AGENTID_OK);
	agentid_chain_clear(&t->c);
	simple(t, "host:web-* service:sshd from:10.0.0.0/8");
	assert_reason(t, AGENTID_SCOPE_HOST);   /* other kinds still count */
}

/* ---- names and words ---- */

static void
test_reason_names(void **state)
{
	static const char *const names[] = {
		"ok", "not_an_agent", "chain_cycle", "chain_too_deep",
		"owner_missing", "owner_inactive", "suspended", "revoked",
		"not_yet_valid", "expired", "lifetime_exceeds_policy",
		"scope_service", "scope_host", "scope_from", "cert_mismatch",
		"cert_required", "cert_expired", "ldap_unavailable", "deleted",
	};
	int i;

	(void)state;
	assert_int_equal(sizeof(names) / sizeof(names[0]), AGENTID_REASON_MAX);
	for (i = 0; i < AGENTID_REASON_MAX; i++) {
		assert_string_equal(agentid_reason_name((enum agentid_reason)i), names[i]);
		assert_int_equal(agentid_reason_parse(names[i]), i);
	}
	assert_int_equal(agentid_reason_parse("nope"), AGENTID_REASON_MAX);
	assert_int_equal(agentid_reason_parse(NULL), AGENTID_REASON_MAX);
	assert_string_equal(agentid_reason_name(AGENTID_REASON_MAX), "unknown");
}

static void
test_explain_allow(void **state)
{
	struct t *t = *state;
	char buf[512];

	simple(t, FULL);
	assert_reason(t, AGENTID_OK);
	agentid_explain(&t->c, &t->d, buf, sizeof(buf));
	assert_string_equal(buf, "allowed: ok — " BOT ", owned by " HUMAN);
}

static void
test_explain_agent_itself(void **state)
{
	struct t *t = *state;
	char buf[512];

	simple(t, "host:web* service:sshd");
	assert_reason(t, AGENTID_SCOPE_HOST);
	agentid_explain(&t->c, &t->d, buf, sizeof(buf));
	assert_string_equal(buf, "denied: scope_host — " BOT
	    " is not granted this host");
}

static void
test_explain_owner(void **state)
{
	struct t *t = *state;
	char buf[512];

	simple(t, FULL);
	t->c.rec[1].owner_active = false;
	assert_reason(t, AGENTID_OWNER_INACTIVE);
	agentid_explain(&t->c, &t->d, buf, sizeof(buf));
	assert_non_null(strstr(buf, "(owner of " BOT ")"));
}

static void
test_policy_from_config(void **state)
{
	struct agentid_config *c;
	struct agentid_policy p;

	(void)state;
	assert_int_equal(agentid_config_new(&c), 0);
	c->max_delegation_depth = 7;
	c->clock_skew = 5;
	c->max_lifetime = 99;
	c->require_scope = AGENTID_KIND_FROM;
	agentid_policy_from_config(&p, c);
	assert_int_equal(p.max_delegation_depth, 7);
	assert_int_equal(p.clock_skew, 5);
	assert_int_equal(p.max_lifetime, 99);
	assert_int_equal(p.require_scope, AGENTID_KIND_FROM);
	agentid_config_free(c);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_allow),
		T(test_allow_delegated),
		T(test_not_an_agent_empty),
		T(test_not_an_agent_human),
		T(test_chain_cycle),
		T(test_chain_cycle_self),
		T(test_chain_cycle_dn_case),
		T(test_cycle_before_depth),
		T(test_depth_at_limit),
		T(test_depth_one_past),
		T(test_depth_configured),
		T(test_owner_missing),
		T(test_owner_missing_delegator),
		T(test_owner_missing_no_owner),
		T(test_owner_missing_wrong_link),
		T(test_owner_inactive),
		T(test_suspended),
		T(test_revoked),
		T(test_revoked_delegator_cascades),
		T(test_revoked_and_expired_is_revoked),
		T(test_suspended_before_revoked),
		T(test_structure_before_status),
		T(test_status_parse),
		T(test_not_yet_valid),
		T(test_not_before_skew_boundary),
		T(test_expired),
		T(test_not_after_skew_boundary),
		T(test_expired_without_not_after),
		T(test_no_not_before_ok),
		T(test_effective_window),
		T(test_expired_delegator),
		T(test_skew_zero),
		T(test_lifetime_exceeds_policy),
		T(test_lifetime_unlimited),
		T(test_expired_before_lifetime),
		T(test_scope_service),
		T(test_scope_host),
		T(test_scope_from),
		T(test_scope_from_ipv6),
		T(test_scope_from_local_login),
		T(test_scope_required_kind_missing),
		T(test_scope_nothing_required),
		T(test_scope_service_before_host),
		T(test_expired_before_scope),
		T(test_attenuation),
		T(test_attenuation_delegator_lacks_required),
		T(test_scope_unknown_kind_grants_nothing),
		T(test_scope_kind_case),
		T(test_scope_no_host),
		T(test_cert_mismatch),
		T(test_cert_fingerprint_case_sensitive),
		T(test_cert_without_cert),
		T(test_cert_principals),
		T(test_scope_before_cert),
		T(test_deleted),
		T(test_owner_not_a_person),
		T(test_cert_required),
		T(test_cert_expired_skew),
		T(test_cert_unreadable),
		T(test_cert_every_credential_bound),
		T(test_from_deferred_when_rhost_unknown),
		T(test_reason_names),
		T(test_explain_allow),
		T(test_explain_agent_itself),
		T(test_explain_owner),
		T(test_policy_from_config),
	};

	return cmocka_run_group_tests_name("engine", tests, NULL, NULL);
}
