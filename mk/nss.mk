# SPDX-License-Identifier: BSD-2-Clause
# nss: the local replica (writer and sync in libagentid; the reader also
# compiled into the module), libnss_agent.so.2, its tests, its benchmark and
# the systemd units of `agentid sync`. Owner: nss (issue #6).

libagentid_core_la_SOURCES += include/agentid_replica.h \
	include/agentid_replica_writer.h common/replica_format.h \
	common/replica_reader.c common/replica_writer.c
libagentid_core_la_LIBADD += $(CDB_LIBS)
# sync reads the directory: with the LDAP code, out of pam_agent.so
libagentid_ldap_la_SOURCES += common/replica_sync.c

# libnss_agent.so.2: libc + libcdb only (tests/nss/test_nss_abi.sh checks).
# glibc loads NSS modules from the library directory by soname.
nssmoddir = $(libdir)
nssmod_LTLIBRARIES = nss_agent/libnss_agent.la
nss_agent_libnss_agent_la_SOURCES = nss_agent/nss_agent.h \
	nss_agent/buffer.c nss_agent/map.c nss_agent/passwd.c \
	nss_agent/group.c common/replica_reader.c include/agentid_replica.h \
	common/replica_format.h
# The replica path is DESIGN.md's default (/var/lib/agentid/agents.cdb, the
# same constant `agentid sync` writes to), whatever the install prefix.
nss_agent_libnss_agent_la_CPPFLAGS = $(AM_CPPFLAGS)
nss_agent_libnss_agent_la_LIBADD = $(CDB_LIBS)
nss_agent_libnss_agent_la_LDFLAGS = $(AM_LDFLAGS) -module \
	-version-info 2:0:0 -no-undefined -Wl,-z,relro -Wl,-z,now \
	-Wl,--version-script=$(top_srcdir)/nss_agent/libnss_agent.sym
EXTRA_nss_agent_libnss_agent_la_DEPENDENCIES = nss_agent/libnss_agent.sym
EXTRA_DIST += nss_agent/libnss_agent.sym

# Replica generator for the tests and the benchmark.
check_PROGRAMS += tests/nss/gen_replica
tests_nss_gen_replica_SOURCES = tests/nss/gen_replica.c
tests_nss_gen_replica_LDADD = libagentid-core.la

if HAVE_CMOCKA
check_PROGRAMS += tests/nss/test_nss_module
TESTS += tests/nss/test_nss_module
tests_nss_test_nss_module_SOURCES = tests/nss/test_nss_module.c
tests_nss_test_nss_module_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/nss_agent
tests_nss_test_nss_module_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_nss_test_nss_module_LDADD = libagentid-core.la $(CMOCKA_LIBS) -ldl -lpthread
# the agentid user's uid cache and a fork while it is locked
check_PROGRAMS += tests/nss/test_replica_fork
TESTS += tests/nss/test_replica_fork
tests_nss_test_replica_fork_SOURCES = tests/nss/test_replica_fork.c
tests_nss_test_replica_fork_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_nss_test_replica_fork_LDADD = libagentid-core.la $(CMOCKA_LIBS) -ldl -lpthread
endif

# The reader's pairing of base and delta under a compaction (openat
# interposed: deterministic; root, SKIP otherwise).
check_PROGRAMS += tests/nss/test_replica_pairing
TESTS += tests/nss/test_replica_pairing
tests_nss_test_replica_pairing_SOURCES = tests/nss/test_replica_pairing.c
tests_nss_test_replica_pairing_LDADD = libagentid-core.la

# The module's ABI; through glibc in a private mount namespace (root, SKIP
# otherwise); threads under ThreadSanitizer (built by the script with gcc).
# `agentid sync` against the slapd fixture, then through glibc.
dist_check_SCRIPTS += tests/nss/test_nss_abi.sh tests/nss/test_nss_getent.sh \
	tests/nss/test_nss_threads.sh tests/nss/test_nss_sync.sh \
	tests/nss/test_nss_units.sh tests/nss/test_nss_collisions.sh
TESTS += tests/nss/test_nss_abi.sh tests/nss/test_nss_getent.sh \
	tests/nss/test_nss_threads.sh tests/nss/test_nss_sync.sh \
	tests/nss/test_nss_units.sh tests/nss/test_nss_collisions.sh
EXTRA_DIST += tests/nss/nss-lib.sh tests/nss/nss_threads.c tests/nss/sync.ldif \
	tests/nss/collisions.ldif

# packaging/systemd/agentid-sync.{service,timer} are installed and shipped by
# mk/packaging.mk (dist_systemdsystemunit_DATA).

# Benchmark (prints figures, never fails on time; not a test):
#   top_srcdir=... top_builddir=... bash bench/nss.sh   (root)
EXTRA_PROGRAMS += bench/nss_bench
bench_nss_bench_SOURCES = bench/nss_bench.c
bench_nss_bench_LDADD = -ldl
EXTRA_DIST += bench/nss.sh
