# SPDX-License-Identifier: BSD-2-Clause
# reliability (issue 15, items 3 and 5): logins under load through the real
# PAM stack, with and without agentidd applying changes; the NSS module
# and the replica writer under ThreadSanitizer. Owner: load.

# 16 processes x AGENTID_LOAD_ROUNDS logins (100 in make check: the issue's
# 500 take minutes under ASan; AGENTID_LOAD_ROUNDS=500 runs them).
check_PROGRAMS += tests/load/login_load
tests_load_login_load_SOURCES = tests/load/login_load.c tests/pam/pam_codes.h
tests_load_login_load_LDADD = $(PAM_LIBS) -ldl
TESTS += tests/load/test_logins_load.sh
dist_check_SCRIPTS += tests/load/test_logins_load.sh

# agentidd's replica writer and the NSS module under ThreadSanitizer, in a
# build of their own (tests/tsan/run.sh; scripts/test runs --short).
EXTRA_DIST += tests/tsan/run.sh tests/tsan/test_replica_threads.sh \
	tests/tsan/nss_lookups.c
.PHONY: check-tsan
check-tsan:
	TSAN_BUILD='$(abs_top_builddir)/tsan' \
	$(SHELL) $(abs_top_srcdir)/tests/tsan/run.sh

clean-local: tsan-clean-local
.PHONY: tsan-clean-local
tsan-clean-local:
	-rm -rf tsan

# tests/valgrind/run.sh's suppressions (run.sh itself is in mk/fuzz.mk)
EXTRA_DIST += tests/valgrind/agentid.supp
