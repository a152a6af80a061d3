/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.c - the agentid command's main: the options before the command
 * (--config, --help, --version) and the dispatch to tools/cmd_*.c.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "cli_util.h"
#include "commands.h"

static const struct {
	const char *name;
	int (*fn)(struct tool_ctx *, int, char **);
	const char *usage;
} commands[] = {
	{ "check", cmd_check,
	  "check USER [--service S] [--rhost ADDR] [--host H]\n"
	  "                [--ca-fingerprint FP] [--key-fingerprint FP] [--json]" },
	{ "show", cmd_show, "show USER [--json] | show --tree USER-or-DN [--json]" },
	{ "list", cmd_list,
	  "list [--expiring DUR] [--expired] [--orphaned] [--owner DN] [--json]" },
	{ "status", cmd_status, "status [--json]" },
	{ "sync", cmd_sync, "sync [--replica PATH]" },
	{ "audit", cmd_audit, "audit verify [--quiet] [--key KEY] [FILE...] | keygen | seal" },
	{ "principals", cmd_principals,
	  "principals [--ca-fingerprint %F] [--key-fingerprint %f]\n"
	  "                [--key-id %i] [--serial %s] [--service S] [--] USER" },
	{ "create", cmd_lifecycle,
	  "create USER --owner DN (--not-after TIME | --for DUR)\n"
	  "                [--scope KIND:PATTERN]... [--uid-number N] [--gid-number N]\n"
	  "                [--description TEXT] CREDENTIALS" },
	{ "narrow", cmd_lifecycle,
	  "narrow USER [--scope KIND:PATTERN]... [--not-after TIME] CREDENTIALS" },
	{ "renew", cmd_lifecycle, "renew USER --for DUR CREDENTIALS" },
	{ "suspend", cmd_lifecycle, "suspend USER CREDENTIALS" },
	{ "resume", cmd_lifecycle, "resume USER CREDENTIALS" },
	{ "revoke", cmd_lifecycle, "revoke USER CREDENTIALS" },
	{ "delete", cmd_lifecycle, "delete USER CREDENTIALS" },
};

enum { OPT_VERSION = 1 };

static const struct option main_longopts[] = {
	{ "version", no_argument, NULL, OPT_VERSION },
	CLI_COMMON_OPTIONS,
};

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: agentid [--config PATH] COMMAND [ARGS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  agentid %s\n", commands[i].usage);
	fprintf(f, "\nEvery command accepts --config PATH (default %s),\n"
	    "before or after its name; COMMAND --help tells more.\n"
	    "check exits 0 allow, 1 deny, 2 error.\n"
	    "CREDENTIALS: --bind-dn DN [--password-file FILE] | --sasl-external,\n"
	    "or --dry-run (print the LDIF); lifecycle commands exit 0 done,\n"
	    "1 refused (the rule is named), 2 error.\n", AGENTID_CONFIG_PATH);
}

int
main(int argc, char **argv)
{
	struct tool_ctx ctx = { AGENTID_CONFIG_PATH, NULL };
	size_t i;
	int c;

	/* a directory server that resets the connection must give an error,
	 * not kill the tool (libldap and OpenSSL write with write(2)) */
	signal(SIGPIPE, SIG_IGN);
	/* "+": stop at the command; its own options follow its name */
	while ((c = cli_getopt(&ctx, argc, argv, "+h", main_longopts)) != -1) {
		switch (c) {
		case 'h':
		case CLI_OPT_HELP:
			usage(stdout);
			return 0;
		case OPT_VERSION:
			printf("agentid %s\n", PACKAGE_VERSION);
			return 0;
		default:
			usage(stderr);
			return EXIT_ERROR;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EXIT_ERROR;
	}
	argc -= optind;
	argv += optind;
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(argv[0], commands[i].name) == 0) {
			ctx.command = commands[i].name;
			optind = 0; /* reset getopt for the subcommand */
			return commands[i].fn(&ctx, argc, argv);
		}
	}
	tool_err("unknown command: %s", argv[0]);
	usage(stderr);
	return EXIT_ERROR;
}
