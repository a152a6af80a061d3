# SPDX-License-Identifier: BSD-2-Clause
# reliability (issue 15, items 3 and 5): logins under load through the real
# PAM stack, with and without agentidd applying changes; the NSS module
# and the replica writer under ThreadSanitizer. Owner: load.

# 16 processes x AGENTID_LOAD_ROUNDS logins (100 in make check: the issue's
# 500 take minutes under ASan; scripts/test --long runs them).
check_PROGRAMS += tests/load/login_load
tests_load_login_load_SOURCES = tests/load/login_load.c tests/pam/pam_codes.h
tests_load_login_load_LDADD = $(PAM_LIBS) -ldl
TESTS += tests/load/test_logins_load.sh
dist_check_SCRIPTS += tests/load/test_logins_load.sh
