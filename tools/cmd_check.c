/* cmd_check.c - placeholder until its issue lands. */
#include "config.h"

#include "agentid.h"
#include "commands.h"

int
cmd_check(struct tool_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	tool_err("%s: not implemented yet", argv[0]);
	return EXIT_ERROR;
}

int
cmd_show(struct tool_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	tool_err("%s: not implemented yet", argv[0]);
	return EXIT_ERROR;
}

int
cmd_list(struct tool_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	tool_err("%s: not implemented yet", argv[0]);
	return EXIT_ERROR;
}
