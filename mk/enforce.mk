# SPDX-License-Identifier: BSD-2-Clause
# enforce: the session registry (pam_agent registers, the enforcer and
# `auth` read), the session enforcer agentid-enforcer, and their tests.
# Owner: enforce (issue #12).

# The registry is part of libagentid-core: pam_agent.so links it.
libagentid_core_la_SOURCES += common/session_registry.h \
	common/session_registry.c

# pam_agent's side of the registry.
PAM_AGENT_SOURCES += pam_agent/registry.c

# agentid-enforcer: the only binary that links libsystemd (sd-bus, for
# logind's TerminateSession); never pam_agent.so or libnss_agent.so.2.
pkglibexec_PROGRAMS = agentidd/agentid-enforcer
ENFORCER_SOURCES = agentidd/enforce.h agentidd/enforce.c agentidd/logind.c
agentidd_agentid_enforcer_SOURCES = $(ENFORCER_SOURCES) \
	agentidd/enforcer_main.c
agentidd_agentid_enforcer_CFLAGS = $(AM_CFLAGS) $(SYSTEMD_CFLAGS)
agentidd_agentid_enforcer_LDADD = libagentid-core.la $(SYSTEMD_LIBS)

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_session_registry
TESTS += tests/unit/test_session_registry
tests_unit_test_session_registry_SOURCES = tests/unit/test_session_registry.c
tests_unit_test_session_registry_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_session_registry_LDADD = libagentid-core.la $(CMOCKA_LIBS)
check_PROGRAMS += tests/unit/test_enforce_select
TESTS += tests/unit/test_enforce_select
tests_unit_test_enforce_select_SOURCES = tests/unit/test_enforce_select.c \
	$(ENFORCER_SOURCES)
tests_unit_test_enforce_select_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) \
	$(SYSTEMD_CFLAGS)
tests_unit_test_enforce_select_LDADD = libagentid-core.la $(CMOCKA_LIBS) \
	$(SYSTEMD_LIBS)
endif

# Real parts: a fresh kernel audit session per test session (root), the
# slapd fixture, libpam through tests/pam/pam_driver, a private
# dbus-daemon with a stand-in for logind; end to end, a real sshd with
# agentidd and the enforcer as daemons. Each exits 77 when it cannot run.
ENFORCE_TESTS = tests/enforce/test_enforce_escape.sh \
	tests/enforce/test_enforce_logind.sh \
	tests/enforce/test_sudo_auth.sh \
	tests/e2e/test_enforce_sshd.sh
dist_check_SCRIPTS += $(ENFORCE_TESTS)
TESTS += $(ENFORCE_TESTS)
EXTRA_DIST += tests/enforce/enforce-lib.sh tests/enforce/enforce.ldif \
	tests/enforce/fake_logind.py

# Benchmark (prints figures, never fails on time; not part of make check):
#   sudo top_srcdir=... top_builddir=... bash bench/enforce.sh
# revocation -> session gone (p50/p99), expiry deadline -> session gone,
# the enforcer's CPU with 1,000 open sessions and 100 directory changes/s.
# bench/enforce_session opens each session through the real PAM stack and
# stays its leader, as sshd's monitor does.
EXTRA_PROGRAMS += bench/enforce_session
bench_enforce_session_SOURCES = bench/enforce_session.c
bench_enforce_session_LDADD = $(PAM_LIBS)
EXTRA_DIST += bench/enforce.sh bench/enforce_watch.py
EXTRA_DIST += scripts/demo.d/50-enforce.sh
EXTRA_DIST += docs/audit-join.md
