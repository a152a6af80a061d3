# SPDX-License-Identifier: BSD-2-Clause
# The agentid command: main and dispatch in tools/cli.c, one file per
# command (tools/cmd_*.c), what they share in tools/cli_util.c.
bin_PROGRAMS += agentid
agentid_SOURCES = tools/cli.c tools/commands.h \
	tools/cli_util.c tools/cli_util.h \
	tools/cmd_check.c tools/cmd_show.c tools/cmd_list.c \
	tools/cmd_audit.c tools/cmd_status.c tools/cmd_sync.c tools/cmd_principals.c \
	tools/cmd_lifecycle.c
agentid_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
# linked with the library's code itself, not libagentid.so: the command uses
# internals (chain builder, lifecycle checks) that the ABI does not export
agentid_LDADD = libagentid-ldap.la libagentid-core.la $(JANSSON_LIBS)
# decide.c reaches the linked-in LDAP source through a weak reference
# (common/dir_source.c), which alone does not pull it out of the archive
agentid_LDFLAGS = $(AM_LDFLAGS) -Wl,--undefined=aidl_dir_ops

# The command line against a private slapd (tests/integration/
# slapd-fixture.sh; SKIP without slapd).
TOOL_INTEGRATION_TESTS = tests/integration/test_cli.sh \
	tests/integration/test_cli_escape.sh \
	tests/integration/test_lifecycle.sh \
	tests/integration/test_inventory.sh
dist_check_SCRIPTS += $(TOOL_INTEGRATION_TESTS)
TESTS += $(TOOL_INTEGRATION_TESTS)

# The write-time rules and the LDIF of the lifecycle commands (pure).
if HAVE_CMOCKA
check_PROGRAMS += tests/unit/test_attenuate
TESTS += tests/unit/test_attenuate
tests_unit_test_attenuate_SOURCES = tests/unit/test_attenuate.c
tests_unit_test_attenuate_CFLAGS = $(AM_CFLAGS) $(CMOCKA_CFLAGS)
tests_unit_test_attenuate_LDADD = libagentid-core.la $(CMOCKA_LIBS)
endif
