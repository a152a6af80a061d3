# SPDX-License-Identifier: BSD-2-Clause
# audit: the tamper-evident audit trail (issue #5). Owner: audit.
libagentid_core_la_SOURCES += \
	include/agentid_audit.h \
	common/audit_internal.h \
	common/audit_hash.c \
	common/audit_format.c \
	common/audit_scan.c \
	common/audit_seal.c \
	common/audit_append.c \
	common/audit_verify.c

# Helper that appends records like pam_agent does (tests and bench).
check_PROGRAMS += tests/audit/audit_writer
tests_audit_audit_writer_SOURCES = tests/audit/audit_writer.c
tests_audit_audit_writer_LDADD = libagentid-core.la

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_audit
TESTS += tests/unit/test_audit
tests_unit_test_audit_SOURCES = tests/unit/test_audit.c
tests_unit_test_audit_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS) $(JANSSON_CFLAGS)
tests_unit_test_audit_LDADD = libagentid-core.la $(CMOCKA_LIBS) $(JANSSON_LIBS)
endif

if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_audit_file
TESTS += tests/unit/test_audit_file
tests_unit_test_audit_file_SOURCES = tests/unit/test_audit_file.c
tests_unit_test_audit_file_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_audit_file_LDADD = libagentid-core.la $(CMOCKA_LIBS)
tests_unit_test_audit_file_LDFLAGS = $(AM_LDFLAGS) \
	-Wl,--wrap=syslog -Wl,--wrap=__syslog_chk
endif

# Shell tests: concurrency, tampering, rotation (real logrotate), disk full.
AUDIT_SHELL_TESTS = tests/audit/concurrency.sh tests/audit/tamper.sh \
	tests/audit/rotation.sh tests/audit/enospc.sh tests/audit/sealing.sh
dist_check_SCRIPTS += $(AUDIT_SHELL_TESTS)
TESTS += $(AUDIT_SHELL_TESTS)

# packaging/logrotate/agentid is shipped and installed by mk/packaging.mk.

# Benchmark (prints figures; not a test): bench/audit_verify --agentid ./agentid
noinst_PROGRAMS += bench/audit_verify
bench_audit_verify_SOURCES = bench/audit_verify.c
bench_audit_verify_LDADD = libagentid-core.la
EXTRA_DIST += docs/audit-sealing.md
