/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_status.c - "agentid status [--json]": what this host decides from
 * right now. agentidd running and in contact with the directory (its
 * contact file beside the replica), the directory URI in use, the last
 * contact, the replica's generation, age and size, the lag of the last
 * change, the source the next decision would use (the same rule as
 * common/decide.c), and the agent sessions the enforcer watches. Reads
 * local files only: no directory access. Exit 0, or 2 on a bad config.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "cli_util.h"
#include "commands.h"
#include "records.h"

#define SESSION_DIR "/run/agentid/sessions"

static const struct option status_longopts[] = {
	{ "json", no_argument, NULL, 'j' },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax status_syntax = {
	status_longopts, "jh",
	"usage: agentid status [--json] [--config PATH]\n"
	"agentidd, the replica and the source the next decision would use.\n",
	0, 0,
};

/* cli_parse's handler: --json. */
static int
status_opt(int c, const char *arg, void *json)
{
	(void)arg;
	if (c == 'j')
		*(bool *)json = true;
	return 0;
}

/* Registered agent sessions (files in the registry); -1 when unreadable. */
static long
count_sessions(void)
{
	const char *dir = secure_getenv("AGENTID_SESSION_DIR");
	struct dirent *e;
	long n = 0;
	DIR *d;

	if ((d = opendir(dir != NULL && dir[0] == '/' ? dir : SESSION_DIR)) ==
	    NULL)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* What the next decision would read, by decide.c's rule. */
static const char *
next_source(const struct agentid_config *cfg, bool contact, int64_t age)
{
	if (cfg->source == AGENTID_PREFER_REPLICA && contact &&
	    age <= cfg->replica_max_age)
		return "replica";
	if (cfg->n_uri == 0)
		return "none (no uri configured)";
	return cfg->offline == AGENTID_OFFLINE_CACHE && contact &&
	    age <= cfg->offline_max_age ?
	    "directory (offline: replica)" : "directory";
}

/* agentid status; see the top of this file. Returns an exit code. */
int
cmd_status(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_contact c;
	struct agentid_replica *rp = NULL;
	const struct agentid_replica_info *info = NULL;
	struct cli_text t = { NULL, 0 };
	const char *replica, *src;
	char a[64], b[64], d1[40], d2[40];
	int64_t now = (int64_t)time(NULL), age = 0, lag = 0;
	bool json = false, contact, fresh, running;
	long sessions;
	int r;

	if ((r = cli_parse(ctx, argc, argv, &status_syntax, status_opt,
	    &json)) >= 0)
		return r;
	if (cli_load_config(ctx, &cfg) != 0)
		return EXIT_ERROR;
	replica = cfg->replica != NULL ? cfg->replica : AGENTID_DEFAULT_REPLICA;
	contact = agentid_records_contact(replica, &c) == 0;
	if (contact) {
		age = now > c.last_contact ? now - c.last_contact : 0;
		lag = c.last_change > 0 && now > c.last_change ?
		    now - c.last_change : 0;
	}
	/* agentidd confirms contact every heartbeat: two missed, not there;
	 * a contact from the future vouches for nothing (decide.c's rule) */
	fresh = contact && c.last_contact <= now + 1;
	running = fresh && age <= 2 * cfg->heartbeat + 1;
	if (agentid_replica_open(replica, &rp) == 0)
		info = agentid_replica_info(rp);
	src = next_source(cfg, fresh, age);
	sessions = count_sessions();
	if (json) {
		json_t *v = json_object();

		json_object_set_new(v, "agentidd", json_string(running ?
		    "running" : contact ? "not in contact" : "not running"));
		json_object_set_new(v, "uri", contact && c.uri[0] ?
		    cli_json_str(c.uri) : json_null());
		json_object_set_new(v, "last_contact", cli_json_time(contact,
		    c.last_contact));
		json_object_set_new(v, "contact_age", contact ?
		    json_integer(age) : json_null());
		json_object_set_new(v, "generation", contact ?
		    json_integer((json_int_t)c.generation) : json_null());
		json_object_set_new(v, "entries", contact ?
		    json_integer((json_int_t)c.entries) : json_null());
		json_object_set_new(v, "changes", contact ?
		    json_integer((json_int_t)c.changes) : json_null());
		json_object_set_new(v, "last_change_age", contact &&
		    c.last_change > 0 ? json_integer(lag) : json_null());
		json_object_set_new(v, "replica", cli_json_str(replica));
		json_object_set_new(v, "replica_generated", cli_json_time(
		    info != NULL, info != NULL ? info->generated : 0));
		json_object_set_new(v, "replica_agents", info != NULL ?
		    json_integer(info->n_users) : json_null());
		json_object_set_new(v, "replica_groups", info != NULL ?
		    json_integer(info->n_groups) : json_null());
		json_object_set_new(v, "source", json_string(src));
		json_object_set_new(v, "sessions", sessions >= 0 ?
		    json_integer(sessions) : json_null());
		r = cli_print_json(v);
		goto out;
	}
	printf("agentidd:  %s\n", running ? "running" :
	    contact ? "not in contact with the directory" : "not running");
	if (contact) {
		printf("directory: %s\n", c.uri[0] ? cli_esc(&t, c.uri) : "-");
		printf("contact:   %s (%s ago)\n", agentid_format_time(
		    c.last_contact, a, sizeof(a)), agentid_format_duration(age,
		    d1, sizeof(d1)));
		printf("records:   generation %llu, %llu entries, %llu changes "
		    "applied%s%s%s\n", (unsigned long long)c.generation,
		    (unsigned long long)c.entries,
		    (unsigned long long)c.changes,
		    c.last_change > 0 ? " (last " : "",
		    c.last_change > 0 ? agentid_format_duration(lag, d2,
		    sizeof(d2)) : "", c.last_change > 0 ? " ago)" : "");
	}
	if (info != NULL)
		printf("replica:   %s: %u agents, %u groups, written %s\n",
		    cli_esc(&t, replica), info->n_users, info->n_groups,
		    agentid_format_time(info->generated, b, sizeof(b)));
	else
		printf("replica:   %s: none\n", cli_esc(&t, replica));
	printf("source:    %s\n", src);
	if (sessions >= 0)
		printf("sessions:  %ld agent session%s watched\n", sessions,
		    sessions == 1 ? "" : "s");
	else
		printf("sessions:  unreadable (run as root)\n");
	r = 0;
out:
	cli_text_free(&t);
	agentid_replica_close(rp);
	agentid_config_free(cfg);
	return r == 0 ? 0 : EXIT_ERROR;
}
