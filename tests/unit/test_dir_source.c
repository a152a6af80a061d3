/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dir_source.c - a decision that needs the directory opens the plugin
 * agentid-ldap.so (this program, like pam_agent.so, links no LDAP code), and
 * fails closed as ldap_unavailable, naming the file, when the plugin cannot
 * be used. Needs top_builddir (make check sets it) for the plugin and for a
 * shared object without the plugin's symbol.
 */
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

#include <link.h>

#include "agentid.h"

static char plugin[4096];     /* the build tree's agentid-ldap.so */
static char no_symbol[4096];  /* a shared object that is not a plugin */

/* A config whose directory refuses connections (port 1 on loopback). */
static struct agentid_config *
conf(void)
{
	static const char text[] =
	    "uri ldap://127.0.0.1:1/\n"
	    "base dc=example,dc=org\n"
	    "timeout 2\n"
	    "replica /nonexistent/agents.cdb\n";
	struct agentid_config *c = NULL;
	struct agentid_error err = { "" };

	assert_int_equal(agentid_config_new(&c), 0);
	assert_int_equal(agentid_config_parse(c, text, strlen(text), "<test>",
	    &err), 0);
	return c;
}

/* One decision for bot-1 with AGENTID_LDAP_MODULE at module; returns the
 * code, fills d and err. */
static int
decide_with(const char *module, struct agentid_decision *d,
    struct agentid_error *err)
{
	struct agentid_config *cfg = conf();
	struct agentid_request req;
	struct agentid_chain chain;
	int r;

	memset(&req, 0, sizeof(req));
	memset(&chain, 0, sizeof(chain));
	req.user = "bot-1";
	req.service = "sshd";
	req.host = "host.example.org";
	req.now = 1700000000;
	assert_int_equal(setenv("AGENTID_LDAP_MODULE", module, 1), 0);
	r = agentid_decide_user(cfg, &req, &chain, d, err);
	agentid_chain_clear(&chain);
	agentid_config_free(cfg);
	return r;
}

/* The answer every failure must give: deny, ldap_unavailable, no source. */
static void
assert_failed_closed(int r, const struct agentid_decision *d)
{
	assert_int_not_equal(r, 0);
	assert_false(d->allow);
	assert_int_equal(d->reason, AGENTID_LDAP_UNAVAILABLE);
	assert_int_equal(d->source, AGENTID_SOURCE_NONE);
}

/* Is a shared object whose path ends in name mapped into this process? */
static int
find_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	const char *name = arg;
	size_t n = strlen(info->dlpi_name), m = strlen(name);

	(void)size;
	return n >= m && strcmp(info->dlpi_name + n - m, name) == 0;
}
static bool
mapped(const char *name)
{
	return dl_iterate_phdr(find_cb, (void *)name) != 0;
}

static void
test_missing_file(void **state)
{
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int r;

	(void)state;
	r = decide_with("/nonexistent/lib/agentid-ldap.so", &d, &err);
	assert_failed_closed(r, &d);
	assert_int_equal(r, ELIBACC);
	assert_non_null(strstr(err.msg, "/nonexistent/lib/agentid-ldap.so"));
	assert_non_null(strstr(err.msg, "cannot load the directory module"));
}

static void
test_relative_path(void **state)
{
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int r;

	(void)state;
	/* a bare name would be searched along LD_LIBRARY_PATH */
	r = decide_with("agentid-ldap.so", &d, &err);
	assert_failed_closed(r, &d);
	assert_int_equal(r, ELIBACC);
	assert_non_null(strstr(err.msg, "agentid-ldap.so: not an absolute path"));
}

static void
test_wrong_symbol(void **state)
{
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int r;

	(void)state;
	r = decide_with(no_symbol, &d, &err);
	assert_failed_closed(r, &d);
	assert_int_equal(r, ELIBACC);
	assert_non_null(strstr(err.msg, no_symbol));
	assert_non_null(strstr(err.msg, "no symbol agentid_dir_plugin_v1"));
}

static void
test_plugin_loaded_on_demand(void **state)
{
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int r;

	(void)state;
	/* nothing of LDAP before a decision needs the directory */
	assert_false(mapped("/agentid-ldap.so"));
	assert_false(mapped("/libldap-2.5.so.0"));
	r = decide_with(plugin, &d, &err);
	/* the plugin was used: the failure is the directory's, not the load's */
	assert_failed_closed(r, &d);
	assert_int_not_equal(r, ELIBACC);
	assert_null(strstr(err.msg, "directory module"));
	assert_true(mapped("/agentid-ldap.so"));
	/* a second decision through the module already loaded */
	memset(&err, 0, sizeof(err));
	r = decide_with(plugin, &d, &err);
	assert_failed_closed(r, &d);
	assert_int_not_equal(r, ELIBACC);
}

int
main(void)
{
	const char *b = getenv("top_builddir");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_relative_path),
		cmocka_unit_test(test_wrong_symbol),
		cmocka_unit_test(test_plugin_loaded_on_demand),
	};

	if (b == NULL || b[0] != '/') {
		fprintf(stderr, "*** SKIP: top_builddir (absolute) not set ***\n");
		return 77;
	}
	snprintf(plugin, sizeof(plugin), "%s/common/.libs/agentid-ldap.so", b);
	snprintf(no_symbol, sizeof(no_symbol),
	    "%s/nss_agent/.libs/libnss_agent.so.2", b);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
