/* commands.h - subcommands of the agentid tool; each returns an exit code. */
#ifndef AGENTID_TOOL_COMMANDS_H
#define AGENTID_TOOL_COMMANDS_H

/* Exit codes shared by all subcommands. */
#define EXIT_ALLOW 0
#define EXIT_DENY  1
#define EXIT_ERROR 2

struct tool_ctx {
	const char *config_path;  /* --config, default AGENTID_CONFIG_PATH */
	const char *command;      /* the command running; NULL before it */
};

/*
 * argv[0] is the subcommand name; options (cli_getopt) may come before or
 * after the operands, and optind is reset for them.
 */
int cmd_check(struct tool_ctx *ctx, int argc, char **argv);
int cmd_show(struct tool_ctx *ctx, int argc, char **argv);
int cmd_list(struct tool_ctx *ctx, int argc, char **argv);
int cmd_sync(struct tool_ctx *ctx, int argc, char **argv);
int cmd_audit(struct tool_ctx *ctx, int argc, char **argv);
int cmd_principals(struct tool_ctx *ctx, int argc, char **argv);
/* create, narrow, renew, suspend, resume, revoke, delete (argv[0]). */
int cmd_lifecycle(struct tool_ctx *ctx, int argc, char **argv);

#endif
