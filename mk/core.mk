# SPDX-License-Identifier: BSD-2-Clause
# libagentid: pure core (time, config, scope, policy engine). Owner: core.
# All of libagentid but its LDAP code is compiled once into the convenience
# library libagentid-core.la; the installed libagentid.so is that and the
# LDAP code (libagentid-ldap.la), with only the agentid_* symbols exported. Other fragments add their sources with
# "libagentid_core_la_SOURCES +=". Unit tests link the convenience library.
noinst_LTLIBRARIES += libagentid-core.la
libagentid_core_la_SOURCES = \
	include/agentid.h \
	common/internal.h \
	common/error.c \
	common/timeutil.c \
	common/config.c \
	common/names.c \
	common/record.c \
	common/scope.c \
	common/engine.c \
	common/chain.h \
	common/chain.c \
	common/dn.c \
	common/hostname.c \
	common/decide.c \
	common/util.c \
	common/dir_source.h \
	common/dir_source.c \
	common/explain.c \
	common/lifecycle.h \
	common/attenuate.c \
	common/ldif.c
# No LDAP, no libssl and no jansson (the audit writer writes its JSON
# itself): pam_agent.so links this, and sshd loads it for every connection
# (the LDAP code is in libagentid-ldap.la, mk/ldap.mk).
libagentid_core_la_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
libagentid_core_la_LIBADD = $(CRYPTO_LIBS) $(DL_LIBS)

lib_LTLIBRARIES += libagentid.la
libagentid_la_SOURCES =
nodist_EXTRA_libagentid_la_SOURCES = dummy.c
libagentid_la_LIBADD = libagentid-core.la libagentid-ldap.la
libagentid_la_LDFLAGS = $(AM_LDFLAGS) -version-info 0:0:0 -no-undefined \
	-Wl,--version-script=$(top_srcdir)/common/libagentid.sym
EXTRA_libagentid_la_DEPENDENCIES = common/libagentid.sym
EXTRA_DIST += common/libagentid.sym

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_time tests/unit/test_config \
	tests/unit/test_scope tests/unit/test_engine
TESTS += tests/unit/test_time tests/unit/test_config \
	tests/unit/test_scope tests/unit/test_engine
UNIT_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
UNIT_LDADD = libagentid-core.la $(CMOCKA_LIBS)
tests_unit_test_time_SOURCES = tests/unit/test_time.c
tests_unit_test_time_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_time_LDADD = $(UNIT_LDADD)
tests_unit_test_config_SOURCES = tests/unit/test_config.c
tests_unit_test_config_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_config_LDADD = $(UNIT_LDADD)
tests_unit_test_scope_SOURCES = tests/unit/test_scope.c
tests_unit_test_scope_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_scope_LDADD = $(UNIT_LDADD)
tests_unit_test_engine_SOURCES = tests/unit/test_engine.c
tests_unit_test_engine_CFLAGS = $(UNIT_CFLAGS)
tests_unit_test_engine_LDADD = $(UNIT_LDADD)
endif

# Benchmarks print figures and never fail on time: `make bench/engine`.
EXTRA_PROGRAMS += bench/engine
bench_engine_SOURCES = bench/engine.c
bench_engine_LDADD = libagentid-core.la
CLEANFILES += $(EXTRA_PROGRAMS)

# Fuzz target: replayed with mutated seeds under the sanitizers by make check;
# build with libFuzzer by hand: see the comment at the top of the file.
check_PROGRAMS += tests/fuzz/fuzz_parsers
TESTS += tests/fuzz/fuzz_parsers
tests_fuzz_fuzz_parsers_SOURCES = tests/fuzz/fuzz_parsers.c
tests_fuzz_fuzz_parsers_LDADD = libagentid-core.la

# The ABI: exactly the functions named in common/libagentid.sym.
dist_check_SCRIPTS += tests/unit/test_abi.sh
TESTS += tests/unit/test_abi.sh
