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
