/* SPDX-License-Identifier: BSD-2-Clause */
/* test_config.c - configuration parsing, loading and secrets. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "agentid.h"

/* Parses text into a fresh config; returns the code, message in err. */
static int
parse(const char *text, struct agentid_config **out, struct agentid_error *err)
{
	struct agentid_config *c;
	int r;

	assert_int_equal(agentid_config_new(&c), 0);
	memset(err, 0, sizeof(*err));
	r = agentid_config_parse(c, text, strlen(text), "agentid.conf", err);
	if (out != NULL && r == 0)
		*out = c;
	else
		agentid_config_free(c);
	return r;
}

/* Asserts that text fails with a message containing want. */
static void
expect_error(const char *text, const char *want)
{
	struct agentid_error err;

	assert_int_not_equal(parse(text, NULL, &err), 0);
	if (strstr(err.msg, want) == NULL)
		fail_msg("error \"%s\" does not contain \"%s\"", err.msg, want);
}

static void
test_defaults(void **state)
{
	struct agentid_config *c;

	(void)state;
	assert_int_equal(agentid_config_new(&c), 0);
	assert_int_equal(c->timeout, 3);
	assert_int_equal(c->max_delegation_depth, 4);
	assert_int_equal(c->clock_skew, 60);
	assert_int_equal(c->max_lifetime, 90 * 86400);
	assert_int_equal(c->ssl, AGENTID_SSL_START_TLS);
	assert_string_equal(c->owner_filter, "(objectClass=person)");
	assert_int_equal(c->n_require_cert, 1);
	assert_string_equal(c->require_cert[0], "sshd");
	assert_int_equal(c->source, AGENTID_PREFER_REPLICA);
	assert_int_equal(c->replica_max_age, 15);
	assert_int_equal(c->heartbeat, 5);
	assert_true(c->enforce);
	assert_int_equal(c->enforce_grace, 5);
	assert_true(c->enforce_cert_expiry);
	assert_int_equal(c->require_scope, AGENTID_KIND_HOST | AGENTID_KIND_SERVICE);
	assert_int_equal(c->min_uid, 1000);
	assert_int_equal(c->tls_reqcert, AGENTID_REQCERT_DEMAND);
	assert_int_equal(c->offline, AGENTID_OFFLINE_DENY);
	assert_true(c->audit_fsync);
	assert_true(c->audit_required);
	assert_string_equal(c->replica, "/var/lib/agentid/agents.cdb");
	assert_string_equal(c->audit_log, "/var/log/agentid/audit.log");
	assert_string_equal(c->agent_filter, "(objectClass=agentIdentity)");
	assert_null(c->uri);
	agentid_config_free(c);
}

static void
test_every_key(void **state)
{
	static const char text[] =
	    "# agentid.conf\n"
	    "\n"
	    "uri ldap://a.example.com/ ldaps://b.example.com/\n"
	    "uri ldapi://%2Frun%2Fslapd%2Fldapi\n"
	    "base ou=agents,dc=example,dc=com\n"
	    "group_base ou=groups,dc=example,dc=com\n"
	    "binddn cn=agentid,dc=example,dc=com\n"
	    "bindpw_file /etc/agentid.bindpw\n"
	    "sasl_mech EXTERNAL\n"
	    "ssl start_tls\n"
	    "tls_reqcert hard\n"
	    "tls_cacert /etc/ssl/ca.pem\n"
	    "tls_cert /etc/ssl/c.pem\n"
	    "tls_key /etc/ssl/c.key\n"
	    "timeout 5s\n"
	    "agent_filter (&(objectClass=agentIdentity)(uid=*))\n"
	    "max_delegation_depth 2\n"
	    "clock_skew 2m\n"
	    "max_lifetime 30d\n"
	    "require_scope host service from\n"
	    "owner_active_filter (employeeType=active)\n"
	    "min_uid 5000\n"
	    "nologin_shell /bin/false\n"
	    "replica /tmp/agents.cdb\n"
	    "offline cache\n"
	    "offline_max_age 12h\n"
	    "audit_log /tmp/audit.log\n"
	    "audit_syslog no\n"
	    "audit_fsync no\n"
	    "audit_required no\n"
	    "  hostname   web1.example.com  \n";
	struct agentid_config *c = NULL;
	struct agentid_error err;

	(void)state;
	if (parse(text, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_int_equal(c->n_uri, 3);
	assert_string_equal(c->uri[0], "ldap://a.example.com/");
	assert_string_equal(c->uri[2], "ldapi://%2Frun%2Fslapd%2Fldapi");
	assert_null(c->uri[3]);
	assert_string_equal(c->base, "ou=agents,dc=example,dc=com");
	assert_string_equal(c->group_base, "ou=groups,dc=example,dc=com");
	assert_string_equal(c->binddn, "cn=agentid,dc=example,dc=com");
	assert_string_equal(c->bindpw_file, "/etc/agentid.bindpw");
	assert_string_equal(c->sasl_mech, "EXTERNAL");
	assert_int_equal(c->ssl, AGENTID_SSL_START_TLS);
	assert_int_equal(c->tls_reqcert, AGENTID_REQCERT_HARD);
	assert_string_equal(c->tls_cacert, "/etc/ssl/ca.pem");
	assert_string_equal(c->tls_cert, "/etc/ssl/c.pem");
	assert_string_equal(c->tls_key, "/etc/ssl/c.key");
	assert_int_equal(c->timeout, 5);
	assert_string_equal(c->agent_filter, "(&(objectClass=agentIdentity)(uid=*))");
	assert_int_equal(c->max_delegation_depth, 2);
	assert_int_equal(c->clock_skew, 120);
	assert_int_equal(c->max_lifetime, 30 * 86400);
	assert_int_equal(c->require_scope,
	    AGENTID_KIND_HOST | AGENTID_KIND_SERVICE | AGENTID_KIND_FROM);
	assert_string_equal(c->owner_active_filter, "(employeeType=active)");
	assert_int_equal(c->min_uid, 5000);
	assert_string_equal(c->nologin_shell, "/bin/false");
	assert_string_equal(c->replica, "/tmp/agents.cdb");
	assert_int_equal(c->offline, AGENTID_OFFLINE_CACHE);
	assert_int_equal(c->offline_max_age, 12 * 3600);
	assert_string_equal(c->audit_log, "/tmp/audit.log");
	assert_false(c->audit_syslog);
	assert_false(c->audit_fsync);
	assert_false(c->audit_required);
	assert_string_equal(c->hostname, "web1.example.com");
	agentid_config_free(c);
}

static void
test_group_base_defaults_to_base(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;

	(void)state;
	assert_int_equal(parse("base dc=x\n", &c, &err), 0);
	assert_string_equal(c->group_base, "dc=x");
	agentid_config_free(c);
}

static void
test_require_scope_none(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;

	(void)state;
	assert_int_equal(parse("require_scope none\n", &c, &err), 0);
	assert_int_equal(c->require_scope, 0);
	agentid_config_free(c);
}

/* min_uid is an unsigned long: the whole field is written, whatever its
 * previous value (a 4-byte store left the other half in place). */
/* uid_range LOW-HIGH: both bounds kept; malformed ranges refused. */
static void
test_uid_range(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;

	(void)state;
	assert_int_equal(parse("uid_range 100000-199999\n", &c, &err), 0);
	assert_int_equal(c->uid_range[0], 100000);
	assert_int_equal(c->uid_range[1], 199999);
	agentid_config_free(c);
	assert_int_equal(parse("uid_range 5-5\n", NULL, &err), 0);
	assert_int_equal(parse("uid_range 10-5\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range 0-5\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range 5\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range 5-\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range 5-4294967295\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range 5-6x\n", NULL, &err), EINVAL);
	assert_int_equal(parse("uid_range -5-6\n", NULL, &err), EINVAL);
}

static void
test_min_uid_whole_field(void **state)
{
	struct agentid_config *c;
	struct agentid_error err = { "" };
	const char *text = "min_uid 0\n";

	(void)state;
	assert_int_equal(agentid_config_new(&c), 0);
	c->min_uid = ULONG_MAX;
	assert_int_equal(agentid_config_parse(c, text, strlen(text),
	    "agentid.conf", &err), 0);
	assert_true(c->min_uid == 0);
	text = "min_uid 4294967295\n";
	c->min_uid = 0;
	assert_int_equal(agentid_config_parse(c, text, strlen(text),
	    "agentid.conf", &err), 0);
	assert_true(c->min_uid == 4294967295UL);
	agentid_config_free(c);
}

static void
test_error_unknown_key(void **state)
{
	(void)state;
	expect_error("base dc=x\nbogus 1\n", "agentid.conf:2: unknown key bogus");
}

static void
test_error_duplicate_key(void **state)
{
	(void)state;
	expect_error("base dc=x\n# c\nbase dc=y\n",
	    "agentid.conf:3: base: given more than once");
}

static void
test_error_missing_value(void **state)
{
	(void)state;
	expect_error("timeout\n", "agentid.conf:1: timeout: missing value");
}

static void
test_error_bad_values(void **state)
{
	(void)state;
	expect_error("ssl yes\n", "agentid.conf:1: ssl: expected off, start_tls or on");
	expect_error("tls_reqcert maybe\n", "agentid.conf:1: tls_reqcert: expected never");
	expect_error("timeout 0\n", "agentid.conf:1: timeout: expected a duration");
	expect_error("timeout soon\n", "agentid.conf:1: timeout: expected a duration");
	expect_error("max_delegation_depth 0\n",
	    "agentid.conf:1: max_delegation_depth: expected a number from 1 to 32");
	expect_error("max_delegation_depth 4x\n", "max_delegation_depth: expected a number");
	expect_error("min_uid -1\n", "agentid.conf:1: min_uid: expected a number");
	expect_error("clock_skew 2w\n", "agentid.conf:1: clock_skew: expected a duration");
	expect_error("audit_fsync true\n", "agentid.conf:1: audit_fsync: expected yes or no");
	expect_error("offline maybe\n", "agentid.conf:1: offline: expected deny or cache");
	expect_error("require_scope host time\n",
	    "agentid.conf:1: require_scope: unknown scope kind time");
	expect_error("sasl_mech GSSAPI\n", "agentid.conf:1: sasl_mech: only EXTERNAL");
	expect_error("uri http://x/\n", "agentid.conf:1: uri: not an ldap://");
}

static void
test_error_bad_filter(void **state)
{
	(void)state;
	expect_error("agent_filter objectClass=agentIdentity\n",
	    "agentid.conf:1: agent_filter: not an LDAP filter");
	expect_error("owner_active_filter (a=b))(c=d\n",
	    "owner_active_filter: not an LDAP filter");
	expect_error("agent_filter (a=b)(c=d)\n", "agent_filter: not an LDAP filter");
}

static void
test_error_nul_byte(void **state)
{
	struct agentid_config *c;
	struct agentid_error err;

	(void)state;
	assert_int_equal(agentid_config_new(&c), 0);
	assert_int_equal(agentid_config_parse(c, "base dc=x\0\n", 11, "f", &err),
	    EINVAL);
	assert_non_null(strstr(err.msg, "NUL"));
	agentid_config_free(c);
}

/* Writes text to a temporary file with mode; returns its path (static). */
static const char *
write_file(const char *text, mode_t mode)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/agentid-test-XXXXXX");
	assert_true((fd = mkstemp(path)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return path;
}

static void
test_load_ok(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;
	const char *p = write_file("uri ldap://127.0.0.1/\nbase dc=x\n", 0600);

	(void)state;
	if (agentid_config_load(p, &c, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(c->path, p);
	assert_string_equal(c->base, "dc=x");
	agentid_config_free(c);
	unlink(p);
}

static void
test_load_refuses_writable(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;
	const char *p = write_file("base dc=x\n", 0620);

	(void)state;
	assert_int_equal(agentid_config_load(p, &c, &err), EACCES);
	assert_non_null(strstr(err.msg, "writable by group or others"));
	assert_non_null(strstr(err.msg, p));
	assert_null(c);
	unlink(p);
	p = write_file("base dc=x\n", 0602);
	assert_int_equal(agentid_config_load(p, &c, &err), EACCES);
	unlink(p);
}

static void
test_load_missing(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;

	(void)state;
	assert_int_equal(agentid_config_load("/nonexistent/agentid.conf", &c, &err),
	    ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/agentid.conf: cannot open"));
}

static void
test_load_names_file_and_line(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;
	char want[128];
	const char *p = write_file("base dc=x\n\n\nssl maybe\n", 0644);

	(void)state;
	assert_int_equal(agentid_config_load(p, &c, &err), EINVAL);
	snprintf(want, sizeof(want), "%s:4: ssl:", p);
	if (strstr(err.msg, want) == NULL)
		fail_msg("\"%s\" lacks \"%s\"", err.msg, want);
	unlink(p);
}

static void
test_secret_ok(void **state)
{
	struct agentid_error err;
	char *pw = NULL;
	const char *p = write_file("s3cret\n", 0600);

	(void)state;
	if (agentid_read_secret(p, &pw, &err) != 0)
		fail_msg("%s", err.msg);
	assert_string_equal(pw, "s3cret");
	free(pw);
	unlink(p);
	p = write_file("s3cret", 0400);
	assert_int_equal(agentid_read_secret(p, &pw, &err), 0);
	assert_string_equal(pw, "s3cret");
	free(pw);
	unlink(p);
}

static void
test_secret_refuses_mode(void **state)
{
	struct agentid_error err;
	char *pw = NULL;
	const char *p = write_file("s3cret\n", 0640);

	(void)state;
	assert_int_equal(agentid_read_secret(p, &pw, &err), EACCES);
	assert_non_null(strstr(err.msg, "refusing mode 0640"));
	assert_null(strstr(err.msg, "s3cret"));
	assert_null(pw);
	unlink(p);
	p = write_file("s3cret\n", 0644);
	assert_int_equal(agentid_read_secret(p, &pw, &err), EACCES);
	unlink(p);
}

static void
test_secret_refuses_empty(void **state)
{
	struct agentid_error err;
	char *pw = NULL;
	const char *p = write_file("\n", 0600);

	(void)state;
	assert_int_equal(agentid_read_secret(p, &pw, &err), EINVAL);
	assert_non_null(strstr(err.msg, "empty"));
	unlink(p);
}

static void
test_secret_refuses_symlink(void **state)
{
	struct agentid_error err;
	char *pw = NULL;
	const char *p = write_file("s3cret\n", 0600);
	char link[80];

	(void)state;
	snprintf(link, sizeof(link), "%s.lnk", p);
	assert_int_equal(symlink(p, link), 0);
	assert_int_equal(agentid_read_secret(link, &pw, &err), ELOOP);
	unlink(link);
	unlink(p);
}

static void
test_names(void **state)
{
	struct agentid_error err;
	char longname[AGENTID_MAX_NAME + 2];

	(void)state;
	assert_int_equal(agentid_name_valid("build-bot", &err), 0);
	assert_int_equal(agentid_name_valid("x)(uid=*", &err), 0); /* escaped later */
	assert_int_equal(agentid_name_valid("", &err), EINVAL);
	assert_int_equal(agentid_name_valid(NULL, &err), EINVAL);
	assert_int_equal(agentid_name_valid("a/b", &err), EINVAL);
	assert_int_equal(agentid_name_valid("a\nb", &err), EINVAL);
	assert_non_null(strstr(err.msg, "control character"));
	assert_int_equal(agentid_name_valid("a\x7f", &err), EINVAL);
	memset(longname, 'a', sizeof(longname));
	longname[AGENTID_MAX_NAME] = '\0';
	assert_int_equal(agentid_name_valid(longname, &err), 0);
	longname[AGENTID_MAX_NAME] = 'a';
	longname[AGENTID_MAX_NAME + 1] = '\0';
	assert_int_equal(agentid_name_valid(longname, &err), EINVAL);
	assert_non_null(strstr(err.msg, "longer than 256"));
}

static void
test_host_name_from_config(void **state)
{
	struct agentid_config *c = NULL;
	struct agentid_error err;
	char buf[8];

	(void)state;
	assert_int_equal(parse("hostname web1.example.com\n", &c, &err), 0);
	assert_int_equal(agentid_host_name(c, buf, sizeof(buf)), ENAMETOOLONG);
	{
		char big[256];

		assert_int_equal(agentid_host_name(c, big, sizeof(big)), 0);
		assert_string_equal(big, "web1.example.com");
	}
	agentid_config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_group_base_defaults_to_base),
		cmocka_unit_test(test_require_scope_none),
		cmocka_unit_test(test_min_uid_whole_field),
		cmocka_unit_test(test_uid_range),
		cmocka_unit_test(test_error_unknown_key),
		cmocka_unit_test(test_error_duplicate_key),
		cmocka_unit_test(test_error_missing_value),
		cmocka_unit_test(test_error_bad_values),
		cmocka_unit_test(test_error_bad_filter),
		cmocka_unit_test(test_error_nul_byte),
		cmocka_unit_test(test_load_ok),
		cmocka_unit_test(test_load_refuses_writable),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_names_file_and_line),
		cmocka_unit_test(test_secret_ok),
		cmocka_unit_test(test_secret_refuses_mode),
		cmocka_unit_test(test_secret_refuses_empty),
		cmocka_unit_test(test_secret_refuses_symlink),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_host_name_from_config),
	};

	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
