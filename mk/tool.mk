# The agentid command. Subcommands live in tools/cmd_*.c, one file per issue.
bin_PROGRAMS += agentid
agentid_SOURCES = tools/agentid.c tools/commands.h \
	tools/cmd_check.c tools/cmd_audit.c tools/cmd_sync.c tools/cmd_principals.c
agentid_CFLAGS = $(AM_CFLAGS) $(JANSSON_CFLAGS) $(OPENSSL_CFLAGS)
agentid_LDADD = libagentid.la $(JANSSON_LIBS)
