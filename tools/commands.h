/* SPDX-License-Identifier: BSD-2-Clause */
/* commands.h - subcommands of the agentid tool; each returns an exit code. */
#ifndef AGENTID_TOOL_COMMANDS_H
#define AGENTID_TOOL_COMMANDS_H

#include <stdint.h>

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
int cmd_status(struct tool_ctx *ctx, int argc, char **argv);
int cmd_sync(struct tool_ctx *ctx, int argc, char **argv);
int cmd_audit(struct tool_ctx *ctx, int argc, char **argv);
int cmd_principals(struct tool_ctx *ctx, int argc, char **argv);
/*
 * The inventory's walk (cmd_list.c), shared by list and show --tree: calls
 * cb for every agent under base with its chain resolved by the chain
 * builder and decided now by the engine (rules 1-5: the login's scope
 * aside). through non-NULL: only the agents whose chain passes through that
 * DN above the agent itself (its delegates, theirs, ...; compared with
 * agentid_dn_equal); else entries with two uid values come too, with an
 * empty chain and a zeroed decision (a->ambiguous). A non-zero return of
 * cb stops the walk and is returned; err says why for other errors.
 */
struct agentid_ldap;
struct agentid_config;
struct agentid_record;
struct agentid_chain;
struct agentid_decision;
struct agentid_error;
typedef int (*inventory_cb)(const struct agentid_record *a,
    const struct agentid_chain *chain, const struct agentid_decision *d,
    void *arg);
int inventory_walk(struct agentid_ldap *l, const struct agentid_config *cfg,
    int64_t now, const char *through, inventory_cb cb, void *arg,
    struct agentid_error *err);

/* create, narrow, renew, suspend, resume, revoke, delete (argv[0]). */
int cmd_lifecycle(struct tool_ctx *ctx, int argc, char **argv);

#endif
