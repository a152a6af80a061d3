# SPDX-License-Identifier: BSD-2-Clause
# agentidd: the host daemon (RFC 4533 consumer) and the records replica it
# writes beside the NSS file (common/records*.c, in libagentid so that every
# front can decide from it). Owner: daemon (issue #11).

libagentid_core_la_SOURCES += common/records.h common/records_write.c \
	common/records_read.c common/records_lookup.c \
	common/replica_publish.h common/replica_publish.c

sbin_PROGRAMS += agentidd/agentidd
agentidd_agentidd_SOURCES = agentidd/agentidd.h agentidd/agentidd.c \
	agentidd/store.c agentidd/syncrepl.c agentidd/system.c
agentidd_agentidd_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
agentidd_agentidd_LDADD = libagentid-ldap.la libagentid-core.la $(LDAP_LIBS) $(CDB_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_records
TESTS += tests/unit/test_records
tests_unit_test_records_SOURCES = tests/unit/test_records.c
tests_unit_test_records_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_records_LDADD = libagentid-core.la $(CMOCKA_LIBS)
endif

# The "under base" comparison agentidd decides agents and the naming
# context with.
check_PROGRAMS += tests/agentidd/test_dn_under
TESTS += tests/agentidd/test_dn_under
tests_agentidd_test_dn_under_SOURCES = tests/agentidd/test_dn_under.c
tests_agentidd_test_dn_under_LDADD = libagentid-core.la

# agentidd against a slapd with syncprov (root for the privilege drop,
# SKIP otherwise).
dist_check_SCRIPTS += tests/agentidd/test_agentidd.sh
TESTS += tests/agentidd/test_agentidd.sh
check_PROGRAMS += tests/agentidd/replica_dump
tests_agentidd_replica_dump_SOURCES = tests/agentidd/replica_dump.c
tests_agentidd_replica_dump_LDADD = libagentid-core.la

# The equivalence property: decisions from agentidd's replica equal
# decisions from the live directory over a random directory (seeded;
# AGENTID_EQUIV_N=10000 for the big run).
dist_check_SCRIPTS += tests/agentidd/test_equivalence.sh
TESTS += tests/agentidd/test_equivalence.sh
# The same with agentidd's background compaction failing: its synchronous
# fallback keeps the replica equivalent.
dist_check_SCRIPTS += tests/agentidd/test_compact_fallback.sh
TESTS += tests/agentidd/test_compact_fallback.sh
EXTRA_DIST += tests/agentidd/agentidd-lib.sh tests/agentidd/agentidd-ns.sh
check_PROGRAMS += tests/agentidd/gen_directory
tests_agentidd_gen_directory_SOURCES = tests/agentidd/gen_directory.c

# Where decisions come from: the replica while fresh (0 LDAP operations),
# the directory when stale, offline cache / deny when slapd is down.
dist_check_SCRIPTS += tests/agentidd/test_replica_source.sh
TESTS += tests/agentidd/test_replica_source.sh

# Owners and groups beside base (ou=people, ou=groups next to ou=agents):
# agentidd syncs the naming context; replica and directory decide alike.
dist_check_SCRIPTS += tests/agentidd/test_owner_base.sh
TESTS += tests/agentidd/test_owner_base.sh

# A held-back mass delete does not vouch for the replica (no contact).
dist_check_SCRIPTS += tests/agentidd/test_holdback.sh
TESTS += tests/agentidd/test_holdback.sh

# A local account created later takes the name of a served agent: the NSS
# replica stops serving it at the next heartbeat, the directory quiet.
dist_check_SCRIPTS += tests/agentidd/test_local_collision.sh
TESTS += tests/agentidd/test_local_collision.sh

# What a directory writer tries through the NSS delta (root in the group,
# a local gid, a served uid or name claimed, renames, a deleted group).
dist_check_SCRIPTS += tests/agentidd/test_nss_delta_attacks.sh
TESTS += tests/agentidd/test_nss_delta_attacks.sh

# The store with a name listed by more groups than a delta's member list
# holds: a removal is written as a new base, never dropped.
check_PROGRAMS += tests/agentidd/test_store_members
TESTS += tests/agentidd/test_store_members
tests_agentidd_test_store_members_SOURCES = tests/agentidd/test_store_members.c \
	agentidd/store.c agentidd/agentidd.h
tests_agentidd_test_store_members_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agentidd
tests_agentidd_test_store_members_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
tests_agentidd_test_store_members_LDADD = libagentid-core.la $(CDB_LIBS) -ldl

# A provider and a consumer slapd: agentidd fails over when the provider
# is SIGKILLed or SIGSTOPped, with no wrong decision.
dist_check_SCRIPTS += tests/agentidd/test_replicated.sh
TESTS += tests/agentidd/test_replicated.sh

# Benchmark (prints figures, never fails on time; not a test): one
# directory change through agentidd's store at 100k and 1M agents (records
# delta + NSS delta) and the NSS lookup after it.
#   top_srcdir=... top_builddir=... bash bench/nss_delta.sh   (root)
EXTRA_PROGRAMS += bench/nss_delta
bench_nss_delta_SOURCES = bench/nss_delta.c agentidd/store.c agentidd/agentidd.h
bench_nss_delta_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/agentidd
bench_nss_delta_CFLAGS = $(AM_CFLAGS) $(LDAP_CFLAGS)
bench_nss_delta_LDADD = libagentid-core.la $(CDB_LIBS) -ldl
EXTRA_DIST += bench/nss_delta.sh
