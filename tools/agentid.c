/* agentid.c - the agentid command: dispatch to subcommands. */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "commands.h"

static const struct {
	const char *name;
	int (*fn)(struct tool_ctx *, int, char **);
	const char *usage;
} commands[] = {
	{ "check", cmd_check,
	  "check USER [--service S] [--rhost ADDR] [--host H]\n"
	  "                [--ca-fingerprint FP] [--key-fingerprint FP] [--json]" },
	{ "show", cmd_show, "show USER [--json]" },
	{ "list", cmd_list,
	  "list [--expiring DUR] [--expired] [--orphaned] [--json]" },
	{ "sync", cmd_sync, "sync [--replica PATH]" },
	{ "audit", cmd_audit, "audit verify [--quiet] [FILE...]" },
	{ "principals", cmd_principals,
	  "principals [--ca-fingerprint %F] [--key-fingerprint %f]\n"
	  "                [--key-id %i] [--serial %s] [--] USER" },
};

void
tool_err(const char *fmt, ...)
{
	va_list ap;

	fputs("agentid: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: agentid [--config PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  agentid %s\n", commands[i].usage);
	fprintf(f, "\nEvery command accepts --config PATH (default %s).\n"
	    "check exits 0 allow, 1 deny, 2 error.\n", AGENTID_CONFIG_PATH);
}

int
main(int argc, char **argv)
{
	struct tool_ctx ctx = { AGENTID_CONFIG_PATH, "agentid" };
	int i = 1;
	size_t c;

	/* a directory server that resets the connection must give an error,
	 * not kill the tool (libldap and OpenSSL write with write(2)) */
	signal(SIGPIPE, SIG_IGN);
	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("agentid %s\n", PACKAGE_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			ctx.config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			ctx.config_path = argv[i] + 9;
			i++;
		} else {
			tool_err("unknown option: %s", argv[i]);
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	for (c = 0; c < sizeof(commands) / sizeof(commands[0]); c++) {
		if (strcmp(argv[i], commands[c].name) == 0) {
			optind = 0; /* reset getopt for the subcommand */
			return commands[c].fn(&ctx, argc - i, argv + i);
		}
	}
	tool_err("unknown command: %s", argv[i]);
	usage(stderr);
	return EXIT_ERROR;
}
