/*
 * cmd_sync.c - "agentid sync [--replica PATH]": refreshes the local replica
 * that libnss_agent.so.2 serves from. Exit 0 when the new replica is in
 * place, 2 on any error (the old replica then stays as it was).
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "commands.h"

/* Prints one warning of the sync. */
static void
print_warning(void *arg, const char *msg)
{
	(void)arg;
	fprintf(stderr, "agentid: warning: %s\n", msg);
}

/* Seconds on the monotonic clock. */
static double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
cmd_sync(struct tool_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "replica", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agentid_config *cfg = NULL;
	struct agentid_sync_result res;
	struct agentid_error err = { "" };
	const char *path = NULL;
	double t0;
	int c, rc = EXIT_ERROR;

	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'r':
			path = optarg;
			break;
		case 'h':
			printf("usage: agentid [--config PATH] sync [--replica PATH]\n");
			return 0;
		default:
			return EXIT_ERROR;
		}
	}
	if (optind < argc) {
		tool_err("sync: unexpected argument: %s", argv[optind]);
		return EXIT_ERROR;
	}
	if (agentid_config_load(ctx->config_path, &cfg, &err) != 0) {
		tool_err("%s", err.msg);
		goto out;
	}
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
	    res.orphaned, res.skipped, res.local, mono_now() - t0, path);
	rc = 0;
out:
	agentid_config_free(cfg);
	return rc;
}
