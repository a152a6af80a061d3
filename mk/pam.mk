# SPDX-License-Identifier: BSD-2-Clause
# pam: pam_agent.so, the OpenSSH certificate parser, `agentid principals`,
# and their tests. Owner: pam.

# OpenSSH certificates: part of libagentid.
libagentid_core_la_SOURCES += \
	include/agentid_sshcert.h \
	common/sshcert_internal.h \
	common/sshcert.c \
	common/sshcert_verify.c \
	common/sshcert_authinfo.c

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_sshcert
tests_unit_test_sshcert_SOURCES = tests/unit/test_sshcert.c
tests_unit_test_sshcert_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(OPENSSL_CFLAGS)
tests_unit_test_sshcert_LDADD = libagentid-core.la $(CMOCKA_LIBS) $(OPENSSL_LIBS)
TESTS += tests/unit/test_sshcert.sh
dist_check_SCRIPTS += tests/unit/test_sshcert.sh
endif

# pam_agent.so: only pam_sm_* exported; libagentid is linked in (the
# convenience library), so the module needs nothing of ours at run time.
pammod_LTLIBRARIES += pam_agent/pam_agent.la
PAM_AGENT_SOURCES = pam_agent/pam_agent.h pam_agent/pam_agent.c \
	pam_agent/args.c pam_agent/session.c
pam_agent_pam_agent_la_SOURCES = $(PAM_AGENT_SOURCES)
pam_agent_pam_agent_la_CFLAGS = $(AM_CFLAGS)
if HAVE_CDB_PIC
# libagentid-core's PIC archive itself, not its .la: the .la brings -lcdb
# along, and tinycdb comes from its PIC archive here, after the objects
# that use it (no libcdb.so to load; docs/design-notes.md)
pam_agent_pam_agent_la_LIBADD = .libs/libagentid-core.a $(CDB_PIC) \
	$(CRYPTO_LIBS) $(DL_LIBS) $(PAM_LIBS)
PAM_CORE_DEP = libagentid-core.la
# libtool makes the archive with the .la: say so, or a parallel make asks for
# a rule to make it
.libs/libagentid-core.a: libagentid-core.la
	@test -f $@
else
pam_agent_pam_agent_la_LIBADD = libagentid-core.la $(PAM_LIBS)
endif
# -z nodelete: libpam dlopens the module at every pam_start and dlcloses it
# at pam_end; loaded once, it stays (docs/design-notes.md, "A light login
# path"). -O1: smaller hash chains for the few symbols it exports.
pam_agent_pam_agent_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -no-undefined -Wl,-z,nodelete -Wl,-O1 \
	-Wl,--version-script=$(top_srcdir)/pam_agent/pam_agent.sym
EXTRA_pam_agent_pam_agent_la_DEPENDENCIES = pam_agent/pam_agent.sym $(PAM_CORE_DEP)
EXTRA_DIST += pam_agent/pam_agent.sym

check_LTLIBRARIES = tests/pam/pam_probe.la

# sshd cannot load an ASan module (and drops LD_PRELOAD for what it runs):
# under --enable-sanitizers the end-to-end test uses this uninstrumented
# copy, built only for "make check".
if SANITIZERS
check_LTLIBRARIES += tests/e2e/pam_agent_plain.la
tests_e2e_pam_agent_plain_la_SOURCES = $(PAM_AGENT_SOURCES) \
	$(libagentid_core_la_SOURCES)
# -Wno-error: warnings that only show without sanitizers belong to the
# regular build; this copy is a test artifact and must not block the test.
tests_e2e_pam_agent_plain_la_CFLAGS = $(AGENTID_CFLAGS) -Wno-error $(OPENSSL_CFLAGS) \
	$(JANSSON_CFLAGS)
tests_e2e_pam_agent_plain_la_LIBADD = $(PAM_LIBS) $(libagentid_core_la_LIBADD)
tests_e2e_pam_agent_plain_la_LDFLAGS = -module -avoid-version -shared \
	-no-undefined -rpath /nowhere \
	-Wl,--version-script=$(top_srcdir)/pam_agent/pam_agent.sym
EXTRA_tests_e2e_pam_agent_plain_la_DEPENDENCIES = pam_agent/pam_agent.sym
# and of the directory plugin it opens (AGENTID_LDAP_MODULE for sshd)
check_LTLIBRARIES += tests/e2e/agentid-ldap.la
tests_e2e_agentid_ldap_la_SOURCES = $(libagentid_ldap_la_SOURCES) \
	$(libagentid_core_la_SOURCES)
tests_e2e_agentid_ldap_la_CFLAGS = $(tests_e2e_pam_agent_plain_la_CFLAGS)
tests_e2e_agentid_ldap_la_LIBADD = $(libagentid_ldap_la_LIBADD) \
	$(libagentid_core_la_LIBADD)
tests_e2e_agentid_ldap_la_LDFLAGS = -module -avoid-version -shared \
	-no-undefined -rpath /nowhere \
	-Wl,--version-script=$(top_srcdir)/common/agentid-ldap.sym
EXTRA_tests_e2e_agentid_ldap_la_DEPENDENCIES = common/agentid-ldap.sym
# and of libnss_agent.so.2, for sshd's user lookups
check_LTLIBRARIES += tests/e2e/libnss_agent.la
tests_e2e_libnss_agent_la_SOURCES = $(nss_agent_libnss_agent_la_SOURCES)
tests_e2e_libnss_agent_la_CPPFLAGS = $(nss_agent_libnss_agent_la_CPPFLAGS)
tests_e2e_libnss_agent_la_CFLAGS = $(AGENTID_CFLAGS) -Wno-error
tests_e2e_libnss_agent_la_LIBADD = $(nss_agent_libnss_agent_la_LIBADD)
tests_e2e_libnss_agent_la_LDFLAGS = -module -version-info 2:0:0 \
	-no-undefined -rpath /nowhere \
	-Wl,--version-script=$(top_srcdir)/nss_agent/libnss_agent.sym
EXTRA_tests_e2e_libnss_agent_la_DEPENDENCIES = nss_agent/libnss_agent.sym
endif

# End to end: a real sshd in a private mount namespace (root; else SKIP).
TESTS += tests/e2e/test_sshd.sh
dist_check_SCRIPTS += tests/e2e/test_sshd.sh
# what an agent's own files cannot do: ~/.pam_environment replace
# SSH_AUTH_INFO_0 or AGENTID_*, ~/.ssh/authorized_keys let it in
TESTS += tests/e2e/test_sshd_userfiles.sh
dist_check_SCRIPTS += tests/e2e/test_sshd_userfiles.sh
EXTRA_DIST += tests/e2e/sshd-lib.sh

# Module tests: a driver on pam_start_confdir against the slapd fixture, and
# a probe module that records what pam_agent.so itself returns.
check_PROGRAMS += tests/pam/pam_driver
tests_pam_pam_driver_SOURCES = tests/pam/pam_driver.c tests/pam/pam_codes.h
tests_pam_pam_driver_LDADD = $(PAM_LIBS) -ldl
tests_pam_pam_probe_la_SOURCES = tests/pam/pam_probe.c tests/pam/pam_codes.h
tests_pam_pam_probe_la_LIBADD = $(PAM_LIBS) -ldl
tests_pam_pam_probe_la_LDFLAGS = $(AM_LDFLAGS) -module -avoid-version \
	-shared -rpath /nowhere
TESTS += tests/pam/test_pam_agent.sh
dist_check_SCRIPTS += tests/pam/test_pam_agent.sh
# sshd loads pam_agent.so per connection: no LDAP/TLS/SASL at load time
# (the directory plugin is opened on demand; common/dir_source.h)
TESTS += tests/pam/test_pam_light.sh
dist_check_SCRIPTS += tests/pam/test_pam_light.sh
# the two session lines around pam_env, through libpam (ASan build)
TESTS += tests/pam/test_pam_env.sh
dist_check_SCRIPTS += tests/pam/test_pam_env.sh
EXTRA_DIST += tests/pam/agents.ldif

# Benchmark probe (prints figures, never fails on time; not a test): the
# fresh-process dlopen of pam_agent.so beside pam_permit.so, pam_ldap.so and
# pam_sss.so; scripts/bench builds and runs it (`make bench/dlopen`).
EXTRA_PROGRAMS += bench/dlopen
bench_dlopen_SOURCES = bench/dlopen.c
bench_dlopen_CFLAGS = $(AM_CFLAGS) $(CRYPTO_CFLAGS)
bench_dlopen_LDADD = $(PAM_LIBS) $(CRYPTO_LIBS) $(DL_LIBS)
# scripts/bench's other probes, compiled by the script itself
EXTRA_DIST += bench/lookup_bench.c bench/pam_bench.c bench/nss_null.c
