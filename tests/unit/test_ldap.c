/* test_ldap.c - the LDAP source's pure parts and its refusals before I/O. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "ldap_internal.h"

/* A config from text; fails the test if it does not parse. */
static struct agentid_config *
conf(const char *text)
{
	struct agentid_config *c = NULL;
	struct agentid_error err = { "" };

	assert_int_equal(agentid_config_new(&c), 0);
	assert_int_equal(agentid_config_parse(c, text, strlen(text), "<test>",
	    &err), 0);
	return c;
}

/* LDAP result codes map to the errno codes the fronts translate. */
static void
test_errno_mapping(void **state)
{
	(void)state;
	assert_int_equal(aidl_errno(LDAP_SUCCESS), 0);
	assert_int_equal(aidl_errno(LDAP_SERVER_DOWN), EHOSTDOWN);
	assert_int_equal(aidl_errno(LDAP_CONNECT_ERROR), EHOSTDOWN);
	assert_int_equal(aidl_errno(LDAP_TIMEOUT), ETIMEDOUT);
	assert_int_equal(aidl_errno(LDAP_INVALID_CREDENTIALS), EACCES);
	assert_int_equal(aidl_errno(LDAP_INSUFFICIENT_ACCESS), EACCES);
	assert_int_equal(aidl_errno(LDAP_NO_SUCH_OBJECT), ENOENT);
	assert_int_equal(aidl_errno(LDAP_FILTER_ERROR), EINVAL);
	assert_true(aidl_unreachable(EHOSTDOWN));
	assert_true(aidl_unreachable(ETIMEDOUT));
	assert_false(aidl_unreachable(EACCES));
	assert_false(aidl_unreachable(0));
}

/* DNs compare after normalisation, ignoring case. */
static void
test_dn_equal(void **state)
{
	(void)state;
	assert_true(aidl_dn_equal("uid=a,ou=x,dc=example,dc=org",
	    "UID=a, ou=x,  dc=example,dc=org"));
	assert_true(aidl_dn_equal("uid=A,ou=x", "uid=a,ou=x"));
	assert_false(aidl_dn_equal("uid=a,ou=x", "uid=b,ou=x"));
	assert_false(aidl_dn_equal("uid=a,ou=x", "uid=a,ou=x,dc=org"));
	assert_false(aidl_dn_equal(NULL, "uid=a"));
	assert_false(aidl_dn_equal("uid=a", NULL));
}

/* A deep copy owns its strings. */
static void
test_record_copy(void **state)
{
	struct agentid_record src, dst;
	char *scope[] = { "host:*", "service:sshd", NULL };
	char *fps[] = { "SHA256:x", NULL };

	(void)state;
	memset(&src, 0, sizeof(src));
	memset(&dst, 0, sizeof(dst));
	src.dn = "uid=a,ou=x";
	src.uid = "a";
	src.owner_dn = "uid=h,ou=p";
	src.is_agent = true;
	src.scope = scope;
	src.n_scope = 2;
	src.fingerprints = fps;
	src.n_fingerprints = 1;
	src.has_not_after = true;
	src.not_after = 42;
	src.status = AGENTID_STATUS_REVOKED;
	assert_int_equal(aidl_record_copy(&dst, &src), 0);
	assert_string_equal(dst.dn, src.dn);
	assert_ptr_not_equal(dst.dn, src.dn);
	assert_string_equal(dst.owner_dn, "uid=h,ou=p");
	assert_int_equal(dst.n_scope, 2);
	assert_string_equal(dst.scope[1], "service:sshd");
	assert_null(dst.scope[2]);
	assert_int_equal(dst.n_fingerprints, 1);
	assert_true(dst.is_agent);
	assert_int_equal(dst.not_after, 42);
	assert_int_equal(dst.status, AGENTID_STATUS_REVOKED);
	assert_null(dst.home);
	agentid_record_clear(&dst);
}

/* No uri, no base: EINVAL before any network. */
static void
test_open_needs_uri_and_base(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("base dc=example,dc=org\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EINVAL);
	assert_null(l);
	assert_non_null(strstr(err.msg, "no uri"));
	agentid_config_free(c);
	c = conf("uri ldap://127.0.0.1:1\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EINVAL);
	assert_non_null(strstr(err.msg, "no base"));
	agentid_config_free(c);
}

/* Every uri refused: EHOSTDOWN, and the message names each one. */
static void
test_open_all_refused(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("uri ldap://127.0.0.1:1 ldap://127.0.0.1:9\n"
	    "base dc=example,dc=org\ntimeout 2\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EHOSTDOWN);
	assert_null(l);
	assert_non_null(strstr(err.msg, "ldap://127.0.0.1:1"));
	assert_non_null(strstr(err.msg, "ldap://127.0.0.1:9"));
	agentid_config_free(c);
}

/* A password is never sent over plain ldap://: refused before connecting. */
static void
test_simple_bind_needs_tls(void **state)
{
	struct agentid_config *c;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };

	(void)state;
	c = conf("uri ldap://127.0.0.1:1\nbase dc=example,dc=org\n"
	    "binddn cn=reader,dc=example,dc=org\n"
	    "bindpw_file /nonexistent/agentid-test-pw\n");
	assert_int_equal(agentid_ldap_open(c, &l, &err), EACCES);
	assert_non_null(strstr(err.msg, "neither TLS nor ldapi"));
	agentid_config_free(c);
}

/* decide_user: a bad name is EINVAL and a deny; unreachable is
 * ldap_unavailable. */
static void
test_decide_user_fails_closed(void **state)
{
	struct agentid_config *c;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	struct agentid_error err = { "" };
	struct agentid_request req;

	(void)state;
	c = conf("uri ldap://127.0.0.1:1\nbase dc=example,dc=org\n");
	memset(&req, 0, sizeof(req));
	req.user = "a/b";
	req.service = "sshd";
	req.host = "web1";
	req.now = 1800000000;
	assert_int_equal(agentid_decide_user(c, &req, &chain, &d, &err), EINVAL);
	assert_false(d.allow);
	req.user = "ok-bot";
	assert_int_equal(agentid_decide_user(c, &req, &chain, &d, &err), EHOSTDOWN);
	assert_false(d.allow);
	assert_int_equal(d.reason, AGENTID_LDAP_UNAVAILABLE);
	assert_int_equal(chain.n, 0);
	agentid_chain_clear(&chain);
	agentid_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errno_mapping),
		cmocka_unit_test(test_dn_equal),
		cmocka_unit_test(test_record_copy),
		cmocka_unit_test(test_open_needs_uri_and_base),
		cmocka_unit_test(test_open_all_refused),
		cmocka_unit_test(test_simple_bind_needs_tls),
		cmocka_unit_test(test_decide_user_fails_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
