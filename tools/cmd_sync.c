/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_sync.c - "agentid sync [--replica PATH]": refreshes the local replica
 * that libnss_agent.so.2 serves from. Exit 0 when the new replica is in
 * place, 2 on any error (the old replica then stays as it was).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "cli_util.h"
#include "commands.h"

/* Prints one warning of the sync. */
static void
print_warning(void *arg, const char *msg)
{
	(void)arg;
	tool_err("warning: %s", msg);
}

/* Seconds on the monotonic clock. */
static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

enum { OPT_REPLICA = 1 };

static const struct option sync_longopts[] = {
	{ "replica", required_argument, NULL, OPT_REPLICA },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax sync_syntax = {
	sync_longopts, "h",
	"usage: agentid sync [--replica PATH] [--config PATH]\n"
	"Refreshes the local replica from the directory.\nExit 0 when the new "
	"one is in place, 2 on errors (the old one then stays).\n",
	0, 0,
};

/* cli_parse's handler: --replica. */
static int
sync_opt(int c, const char *arg, void *path)
{
	if (c == OPT_REPLICA)
		*(const char **)path = arg;
	return 0;
}

/* agentid sync; see the top of this file. Returns an exit code. */
int
cmd_sync(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_sync_result res;
	struct agentid_error err = { "" };
	struct cli_text t = { NULL, 0 };
	const char *path = NULL;
	double t0;
	int r, rc = EXIT_ERROR;

	if ((r = cli_parse(ctx, argc, argv, &sync_syntax, sync_opt, &path)) >= 0)
		return r;
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	if (path == NULL)
		path = cfg->replica;
	t0 = mono_now();
	if (agentid_replica_sync(cfg, path, (int64_t)time(NULL), print_warning,
	    NULL, &res, &err) != 0) {
		tool_err("sync: %s", err.msg);
		goto out;
	}
	printf("synced %zu agents, %zu groups (%zu expired, %zu suspended, "
	    "%zu orphaned; %zu skipped, %zu local collisions) in %.1f s "
	    "\u2192 %s\n", res.agents, res.groups, res.expired, res.suspended,
	    res.orphaned, res.skipped, res.local, mono_now() - t0,
	    cli_esc(&t, path));
	rc = 0;
out:
	cli_text_free(&t);
	agentid_config_free(cfg);
	return rc;
}
