# SPDX-License-Identifier: BSD-2-Clause
# fuzz: one target per parser of untrusted bytes (tests/fuzz/fuzz_*.c,
# issue 15). Owner: fuzz.
#
# make check builds every target with the tree's compiler and flags (gcc,
# ASan+UBSan under scripts/test) linked with tests/fuzz/fuzz_main.c, a
# driver that replays the target's corpus (tests/fuzz/corpus/NAME: seeds
# and every crash input kept as a regression input); then
# tests/fuzz/test_fuzz_brief.sh runs each target a few seconds under
# libFuzzer when clang's libFuzzer is installed (SKIP otherwise: the replay
# still runs). `make fuzz` builds the targets with clang
# -fsanitize=fuzzer,address,undefined into fuzz/ and runs each for
# FUZZ_SECONDS (default 60); FUZZ_TARGETS="dn scope" runs only those.
# The agentidd wire parsers get their targets here when agentidd lands.
FUZZ_TARGETS_ALL = config time scope sshcert authinfo replica replica_crc \
	audit audit_verify audit_format grant dn
FUZZ_SECONDS = 60

FUZZ_CHECK = tests/fuzz/fuzz_config tests/fuzz/fuzz_time \
	tests/fuzz/fuzz_scope tests/fuzz/fuzz_sshcert tests/fuzz/fuzz_authinfo \
	tests/fuzz/fuzz_replica tests/fuzz/fuzz_replica_crc \
	tests/fuzz/fuzz_audit tests/fuzz/fuzz_audit_verify \
	tests/fuzz/fuzz_grant tests/fuzz/fuzz_dn tests/fuzz/fuzz_audit_format
check_PROGRAMS += $(FUZZ_CHECK)
TESTS += $(FUZZ_CHECK)
FUZZ_SRC = tests/fuzz/fuzz_main.c tests/fuzz/fuzz_util.h
FUZZ_LDADD = libagentid-core.la

tests_fuzz_fuzz_config_SOURCES = tests/fuzz/fuzz_config.c $(FUZZ_SRC)
tests_fuzz_fuzz_config_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"config"'
tests_fuzz_fuzz_config_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_time_SOURCES = tests/fuzz/fuzz_time.c $(FUZZ_SRC)
tests_fuzz_fuzz_time_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"time"'
tests_fuzz_fuzz_time_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_scope_SOURCES = tests/fuzz/fuzz_scope.c $(FUZZ_SRC)
tests_fuzz_fuzz_scope_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"scope"'
tests_fuzz_fuzz_scope_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_sshcert_SOURCES = tests/fuzz/fuzz_sshcert.c $(FUZZ_SRC)
tests_fuzz_fuzz_sshcert_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"sshcert"'
tests_fuzz_fuzz_sshcert_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_authinfo_SOURCES = tests/fuzz/fuzz_authinfo.c $(FUZZ_SRC)
tests_fuzz_fuzz_authinfo_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"authinfo"'
tests_fuzz_fuzz_authinfo_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_replica_SOURCES = tests/fuzz/fuzz_replica.c $(FUZZ_SRC)
tests_fuzz_fuzz_replica_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"replica"'
tests_fuzz_fuzz_replica_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_replica_crc_SOURCES = tests/fuzz/fuzz_replica.c $(FUZZ_SRC)
tests_fuzz_fuzz_replica_crc_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_FIX_CRC \
	-DFUZZ_NAME='"replica_crc"'
tests_fuzz_fuzz_replica_crc_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_audit_SOURCES = tests/fuzz/fuzz_audit.c $(FUZZ_SRC)
tests_fuzz_fuzz_audit_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"audit"'
tests_fuzz_fuzz_audit_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_audit_verify_SOURCES = tests/fuzz/fuzz_audit_verify.c $(FUZZ_SRC)
tests_fuzz_fuzz_audit_verify_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"audit_verify"'
tests_fuzz_fuzz_audit_verify_LDADD = $(FUZZ_LDADD)
# the record writer against jansson (the writer no longer uses it)
tests_fuzz_fuzz_audit_format_SOURCES = tests/fuzz/fuzz_audit_format.c $(FUZZ_SRC)
tests_fuzz_fuzz_audit_format_CPPFLAGS = $(AM_CPPFLAGS) $(JANSSON_CFLAGS) \
	-DFUZZ_NAME='"audit_format"'
tests_fuzz_fuzz_audit_format_LDADD = $(FUZZ_LDADD) $(JANSSON_LIBS)
tests_fuzz_fuzz_grant_SOURCES = tests/fuzz/fuzz_grant.c $(FUZZ_SRC)
tests_fuzz_fuzz_grant_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"grant"'
tests_fuzz_fuzz_grant_LDADD = $(FUZZ_LDADD)
tests_fuzz_fuzz_dn_SOURCES = tests/fuzz/fuzz_dn.c $(FUZZ_SRC)
tests_fuzz_fuzz_dn_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_NAME='"dn"'
tests_fuzz_fuzz_dn_LDADD = $(FUZZ_LDADD)

# A few seconds of libFuzzer per target in make check (SKIP without clang).
dist_check_SCRIPTS += tests/fuzz/test_fuzz_brief.sh
TESTS += tests/fuzz/test_fuzz_brief.sh
EXTRA_DIST += tests/fuzz/libfuzzer.sh tests/fuzz/corpus

.PHONY: fuzz
fuzz:
	top_srcdir='$(abs_top_srcdir)' top_builddir='$(abs_top_builddir)' \
	FUZZ_SECONDS='$(FUZZ_SECONDS)' \
	FUZZ_TARGETS='$(if $(FUZZ_TARGETS),$(FUZZ_TARGETS),$(FUZZ_TARGETS_ALL))' \
	$(SHELL) $(abs_top_srcdir)/tests/fuzz/libfuzzer.sh run

# Memory: the PAM and NSS module tests and the corpus replays under valgrind
# memcheck, on a build of its own without sanitizers (tests/valgrind/run.sh;
# scripts/test runs it after make check).
EXTRA_DIST += tests/valgrind/run.sh
.PHONY: check-valgrind
check-valgrind:
	VALGRIND_BUILD='$(abs_top_builddir)/valgrind' \
	$(SHELL) $(abs_top_srcdir)/tests/valgrind/run.sh

# what libfuzzer.sh and check-valgrind leave in the build directory
# (distcheck's distcleancheck wants none of it after distclean)
clean-local: fuzz-clean-local
.PHONY: fuzz-clean-local
fuzz-clean-local:
	-rm -rf fuzz valgrind
