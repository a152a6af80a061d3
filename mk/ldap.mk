# ldap: the LDAP source of libagentid, the schema, and the integration tests
# against a private slapd. Owner: ldap (issue #3).

# Schema files are installed for sysadmins (docs/ldap.md says how to load them).
agentidschemadir = $(pkgdatadir)/schema
dist_agentidschema_DATA = schema/agentid.schema schema/agentid.ldif \
	schema/examples.ldif

# The slapd fixture is a bash library sourced by integration tests (also by
# other parts' tests and by scripts/demo).
EXTRA_DIST += tests/integration/slapd-fixture.sh

# The LDAP source (include/agentid_ldap.h), part of libagentid.
libagentid_core_la_SOURCES += include/agentid_ldap.h common/ldap_internal.h \
	common/ldap_conn.c common/ldap_record.c common/ldap_chain.c \
	common/ldap_list.c
