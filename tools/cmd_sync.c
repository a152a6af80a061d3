/* cmd_sync.c - placeholder until its issue lands. */
#include "config.h"

#include "agentid.h"
#include "commands.h"

int
cmd_sync(struct tool_ctx *ctx, int argc, char **argv)
{
	(void)ctx;
	(void)argc;
	tool_err("%s: not implemented yet", argv[0]);
	return EXIT_ERROR;
}
