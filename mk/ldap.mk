# SPDX-License-Identifier: BSD-2-Clause
# ldap: the LDAP source of libagentid, the schema, and the integration tests
# against a private slapd. Owner: ldap (issue #3).

# Schema files are installed for sysadmins (docs/ldap.md says how to load them).
agentidschemadir = $(pkgdatadir)/schema
dist_agentidschema_DATA = schema/agentid.schema schema/agentid.ldif \
	schema/examples.ldif

# The slapd fixture is a bash library sourced by integration tests (also by
# other parts' tests and by scripts/demo).
EXTRA_DIST += tests/integration/slapd-fixture.sh

# The LDAP source (include/agentid_ldap.h), compiled once into
# libagentid-ldap.la: linked into libagentid.so (the agentid command) and
# into the plugin agentid-ldap.so, which pam_agent.so opens only when a
# decision needs the directory (common/dir_source.h), so that sshd does not
# load libldap, GnuTLS and SASL for every connection.
noinst_LTLIBRARIES += libagentid-ldap.la
libagentid_ldap_la_SOURCES = include/agentid_ldap.h common/ldap_internal.h \
	common/ldap_conn.c common/ldap_record.c common/ldap_lookup.c \
	common/ldap_list.c common/ldap_admin.c common/ldap_plugin.c
libagentid_ldap_la_LIBADD = $(LDAP_LIBS)

# The plugin, in $(pkglibdir) (docs/design-notes.md says why there): the
# LDAP code and the libagentid it calls, one exported symbol. Tests in the
# build tree point AGENTID_LDAP_MODULE at it (AM_TESTS_ENVIRONMENT).
pkglib_LTLIBRARIES = common/agentid-ldap.la
common_agentid_ldap_la_SOURCES =
nodist_EXTRA_common_agentid_ldap_la_SOURCES = dummy.c
common_agentid_ldap_la_LIBADD = libagentid-ldap.la libagentid-core.la
common_agentid_ldap_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -no-undefined \
	-Wl,--version-script=$(top_srcdir)/common/agentid-ldap.sym
EXTRA_common_agentid_ldap_la_DEPENDENCIES = common/agentid-ldap.sym
EXTRA_DIST += common/agentid-ldap.sym

# Integration tests: each starts its own slapd (tests/integration/
# slapd-fixture.sh) and exits 77 (SKIP) when slapd is not installed.
LDAP_INTEGRATION_TESTS = tests/integration/test_reasons.sh \
	tests/integration/test_failover.sh tests/integration/test_tls_bind.sh \
	tests/integration/test_list.sh tests/integration/test_review_holes.sh
dist_check_SCRIPTS += $(LDAP_INTEGRATION_TESTS)
TESTS += $(LDAP_INTEGRATION_TESTS)
EXTRA_DIST += tests/integration/lib.sh tests/integration/lsan.supp \
	tests/integration/reasons.ldif tests/integration/list.ldif \
	tests/integration/review_holes.ldif tests/integration/ldap_proxy.py

EXTRA_DIST += docs/ldap.md

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_ldap
TESTS += tests/unit/test_ldap
tests_unit_test_ldap_SOURCES = tests/unit/test_ldap.c
tests_unit_test_ldap_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_ldap_LDADD = libagentid-ldap.la libagentid-core.la \
	$(CMOCKA_LIBS) $(OPENSSL_LIBS)
# a decision loads the plugin on demand and fails closed when it cannot
check_PROGRAMS += tests/unit/test_dir_source
TESTS += tests/unit/test_dir_source
tests_unit_test_dir_source_SOURCES = tests/unit/test_dir_source.c
tests_unit_test_dir_source_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_dir_source_LDADD = libagentid-core.la $(CMOCKA_LIBS)
endif
