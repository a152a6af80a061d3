/* SPDX-License-Identifier: BSD-2-Clause */
/* test_attenuate.c - the write-time rules of the lifecycle commands and the
 * LDIF of a change (common/attenuate.c, common/ldif.c). */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentid.h"
#include "lifecycle.h"

#define NOW 1800000000LL
#define DAY 86400LL

static void
test_literal_in_glob(void **state)
{
	(void)state;
	assert_int_equal(agentid_grant_covers("host:build-*", "host:build-7"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("HOST:build-*", "host:BUILD-7.example.org"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("host:build-*", "host:web-1"),
	    AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grant_covers("service:sshd", "service:sshd"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("service:sshd", "service:SSHD"),
	    AGENTID_NOT_COVERED); /* services are case-sensitive */
	assert_int_equal(agentid_grant_covers("host:*", "service:sshd"),
	    AGENTID_NOT_COVERED); /* another kind */
}

static void
test_glob_in_glob(void **state)
{
	(void)state;
	assert_int_equal(agentid_grant_covers("host:*", "host:[ab]*"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("host:build-*", "host:build-1*"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("host:build-*", "host:build-??"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("host:*.example.org",
	    "host:*.prod.example.org"), AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("host:b*7", "host:build-*7"),
	    AGENTID_COVERED);
	/* cannot prove: conservative */
	assert_int_equal(agentid_grant_covers("host:build-*", "host:*"),
	    AGENTID_UNPROVEN);
	assert_int_equal(agentid_grant_covers("host:build-*", "host:[bx]uild-1"),
	    AGENTID_UNPROVEN);
	assert_int_equal(agentid_grant_covers("host:b?ild-*", "host:build-1*"),
	    AGENTID_UNPROVEN);
	assert_int_equal(agentid_grant_covers("service:sshd", "service:ssh*"),
	    AGENTID_UNPROVEN);
	/* the same pattern covers itself */
	assert_int_equal(agentid_grant_covers("host:b?ild-[0-9]", "host:b?ild-[0-9]"),
	    AGENTID_COVERED);
}

static void
test_from_cidr(void **state)
{
	(void)state;
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:10.1.0.0/16"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:10.9.9.9"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:10.0.0.0/7"),
	    AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:192.168.0.0/16"),
	    AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grant_covers("from:2001:db8::/32", "from:2001:db8:1::/48"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:2001:db8::/32"),
	    AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grant_covers("from:*", "from:10.0.0.0/8"),
	    AGENTID_COVERED);
	assert_int_equal(agentid_grant_covers("from:10.0.0.0/8", "from:*.corp"),
	    AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grant_covers("from:*.corp", "from:ci.corp"),
	    AGENTID_COVERED);
}

static void
test_kind_absent(void **state)
{
	char *scope[] = { "host:build-*", NULL };
	struct agentid_record del = { 0 };

	(void)state;
	del.scope = scope;
	del.n_scope = 1;
	/* no from: grant and from not required: the delegator allows any */
	assert_int_equal(agentid_grants_cover(&del, "from:10.0.0.0/8",
	    AGENTID_KIND_HOST | AGENTID_KIND_SERVICE), AGENTID_COVERED);
	/* service required and the delegator has none: it allows nothing */
	assert_int_equal(agentid_grants_cover(&del, "service:sshd",
	    AGENTID_KIND_HOST | AGENTID_KIND_SERVICE), AGENTID_NOT_COVERED);
	assert_int_equal(agentid_grants_cover(&del, "host:build-3", 0),
	    AGENTID_COVERED);
}

static void
test_grant_valid(void **state)
{
	struct agentid_error err;

	(void)state;
	assert_int_equal(agentid_grant_valid("host:a", &err), 0);
	assert_int_equal(agentid_grant_valid("From:10.0.0.0/8", &err), 0);
	assert_int_equal(agentid_grant_valid("bogus:x", &err), EINVAL);
	assert_int_equal(agentid_grant_valid("host:", &err), EINVAL);
	assert_int_equal(agentid_grant_valid("host:a\nb", &err), EINVAL);
}

/* human <- orch <- new: the chain as agentid create builds it. */
struct fixture {
	struct agentid_record rec[4];
	struct agentid_chain chain;
	char *orch_scope[3];
	char *new_scope[3];
};

static void
setup_chain(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->orch_scope[0] = "host:build-*";
	f->orch_scope[1] = "service:sshd";
	f->rec[0] = (struct agentid_record){ .dn = "uid=new,dc=x", .is_agent = true,
	    .uid = "new", .owner_dn = "uid=orch,dc=x", .scope = f->new_scope,
	    .has_not_after = true, .not_after = NOW + 5 * DAY };
	f->rec[1] = (struct agentid_record){ .dn = "uid=orch,dc=x", .is_agent = true,
	    .uid = "orch", .owner_dn = "uid=alice,dc=x", .scope = f->orch_scope,
	    .n_scope = 2, .has_not_after = true, .not_after = NOW + 30 * DAY };
	f->rec[2] = (struct agentid_record){ .dn = "uid=alice,dc=x",
	    .owner_match = true, .owner_active = true };
	f->chain.rec = f->rec;
	f->chain.n = 3;
}

static void
policy(struct agentid_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_delegation_depth = 4;
	p->max_lifetime = 90 * DAY;
	p->clock_skew = 60;
	p->require_scope = AGENTID_KIND_HOST | AGENTID_KIND_SERVICE;
}

static void
test_check_write(void **state)
{
	struct fixture f;
	struct agentid_policy pol;
	struct agentid_refusal ref;

	(void)state;
	policy(&pol);
	setup_chain(&f);
	f.new_scope[0] = "host:build-7";
	f.rec[0].n_scope = 1;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_null(ref.rule);

	f.new_scope[0] = "host:*";
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "scope_not_covered");
	assert_non_null(strstr(ref.msg, "cannot prove coverage"));
	agentid_check_write(&f.chain, &pol, NOW, 0, &ref); /* renew */
	assert_null(ref.rule);

	f.rec[0].n_scope = 0;
	f.rec[0].not_after = NOW + 31 * DAY;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "exceeds_delegator_lifetime");

	f.rec[1].not_after = NOW + 200 * DAY;
	f.rec[0].not_after = NOW + 91 * DAY;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "lifetime_exceeds_policy");

	f.rec[0].not_after = NOW + DAY;
	f.rec[1].status = AGENTID_STATUS_REVOKED;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "revoked");
	f.rec[1].status = AGENTID_STATUS_ACTIVE;

	pol.max_delegation_depth = 1;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "chain_too_deep");
	pol.max_delegation_depth = 4;

	f.rec[2].owner_match = false; /* an OU at the top */
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "owner_missing");
	f.rec[2].owner_match = true;

	f.chain.n = 1; /* the owner was not found */
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "owner_missing");
	f.chain.n = 3;

	f.rec[1].owner_dn = "uid=new,dc=x"; /* a loop */
	f.chain.n = 2;
	agentid_check_write(&f.chain, &pol, NOW, AGENTID_CHECK_SCOPE, &ref);
	assert_string_equal(ref.rule, "chain_cycle");
}

static void
test_check_narrow(void **state)
{
	char *old_scope[] = { "host:build-7", "service:sshd", "from:10.0.0.0/8", NULL };
	char *keep1[] = { "host:build-7", "from:10.0.0.0/8", NULL };
	char *add[] = { "host:build-8", NULL };
	char *nofrom[] = { "host:build-7", "service:sshd", NULL };
	struct agentid_record old = { 0 };
	struct agentid_refusal ref;
	unsigned req = AGENTID_KIND_HOST | AGENTID_KIND_SERVICE;

	(void)state;
	old.dn = "uid=a,dc=x";
	old.scope = old_scope;
	old.n_scope = 3;
	old.has_not_after = true;
	old.not_after = NOW;
	agentid_check_narrow(&old, keep1, 2, false, 0, req, &ref);
	assert_null(ref.rule); /* service is required: none left = none allowed */
	agentid_check_narrow(&old, add, 1, false, 0, req, &ref);
	assert_string_equal(ref.rule, "narrow_widens");
	agentid_check_narrow(&old, nofrom, 2, false, 0, req, &ref);
	assert_string_equal(ref.rule, "narrow_widens");
	agentid_check_narrow(&old, NULL, 0, true, NOW - 1, req, &ref);
	assert_null(ref.rule);
	agentid_check_narrow(&old, NULL, 0, true, NOW + 1, req, &ref);
	assert_string_equal(ref.rule, "narrow_widens");
	old.status = AGENTID_STATUS_REVOKED;
	agentid_check_narrow(&old, NULL, 0, true, NOW - 1, req, &ref);
	assert_string_equal(ref.rule, "revoked");
}

static void
test_ldif(void **state)
{
	struct agentid_change ch;
	char *s;

	(void)state;
	assert_int_equal(agentid_change_init(&ch, AGENTID_CHANGE_ADD,
	    "uid=a,dc=x"), 0);
	assert_int_equal(agentid_change_value(&ch, AGENTID_MOD_ADD,
	    "objectClass", "account"), 0);
	assert_int_equal(agentid_change_value(&ch, AGENTID_MOD_ADD,
	    "description", " lead\nspace"), 0);
	assert_int_equal(agentid_change_value(&ch, AGENTID_MOD_ADD,
	    "objectClass", "agentIdentity"), 0);
	s = agentid_change_ldif(&ch);
	assert_string_equal(s, "dn: uid=a,dc=x\nchangetype: add\n"
	    "objectClass: account\nobjectClass: agentIdentity\n"
	    "description:: IGxlYWQKc3BhY2U=\n");
	free(s);
	agentid_change_clear(&ch);

	assert_int_equal(agentid_change_init(&ch, AGENTID_CHANGE_MODIFY,
	    "uid=a,dc=x"), 0);
	assert_int_equal(agentid_change_value(&ch, AGENTID_MOD_REPLACE,
	    "agentScope", NULL), 0);
	assert_int_equal(agentid_change_value(&ch, AGENTID_MOD_REPLACE,
	    "agentScope", "host:a"), 0);
	s = agentid_change_ldif(&ch);
	assert_string_equal(s, "dn: uid=a,dc=x\nchangetype: modify\n"
	    "replace: agentScope\nagentScope: host:a\n-\n");
	free(s);
	agentid_change_clear(&ch);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_in_glob),
		cmocka_unit_test(test_glob_in_glob),
		cmocka_unit_test(test_from_cidr),
		cmocka_unit_test(test_kind_absent),
		cmocka_unit_test(test_grant_valid),
		cmocka_unit_test(test_check_write),
		cmocka_unit_test(test_check_narrow),
		cmocka_unit_test(test_ldif),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
