/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit_writer.c - test and bench helper: appends COUNT records to LOG with
 * agentid_audit_append, as pam_agent would (one call per record).
 *   audit_writer [--fsync] [--syslog] [--tag TAG] [--ts T0] [--step S]
 *                [--seal-key PATH] LOG COUNT
 * Record i has ts T0 + i*S (default 1790000000 + i): a test walks through
 * sealing intervals without waiting.
 * Records cycle through allow/deny/error with several reasons; the user is
 * "bot-TAG-I" so that tests can tell writers apart. Exit 0, or 1 with the
 * library's message on stderr.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"

/* Fills ev (and its decision) for record i of writer tag. */
static void
make_event(struct agentid_audit_event *ev, struct agentid_decision *d,
    char *user, size_t ulen, const char *tag, unsigned long i, long long t0,
    long long step)
{
	static const enum agentid_reason reasons[] = {
		AGENTID_OK, AGENTID_OK, AGENTID_EXPIRED, AGENTID_SCOPE_HOST,
		AGENTID_OK, AGENTID_REVOKED, AGENTID_OK,
	};
	enum agentid_reason r = reasons[i % (sizeof(reasons) / sizeof(reasons[0]))];

	snprintf(user, ulen, "bot-%s-%lu", tag, i);
	memset(ev, 0, sizeof(*ev));
	memset(d, 0, sizeof(*d));
	d->allow = r == AGENTID_OK;
	d->reason = r;
	d->has_window = true;
	d->not_after = 1800000000 + (int64_t)i;
	d->owner = "uid=alice,ou=people,dc=example,dc=org";
	d->n_agents = 1;
	ev->ts = t0 + step * (int64_t)i;
	ev->host = "host1.example.org";
	ev->event = "account";
	ev->service = "sshd";
	ev->user = user;
	ev->decision = i % 11 == 10 ? NULL : d;
	ev->rhost = "192.0.2.10";
	ev->pid = getpid();
	ev->session = tag;
	ev->duration = -1;
}

int
main(int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	const char *tag = "w", *seal_key = NULL;
	long long t0 = 1790000000, step = 1;
	bool fsync_on = false, syslog_on = false;
	char user[64], *end;
	unsigned long count, i;
	int a = 1, rc = 1;

	for (; a < argc && argv[a][0] == '-'; a++) {
		if (strcmp(argv[a], "--fsync") == 0)
			fsync_on = true;
		else if (strcmp(argv[a], "--syslog") == 0)
			syslog_on = true;
		else if (strcmp(argv[a], "--tag") == 0 && a + 1 < argc)
			tag = argv[++a];
		else if (strcmp(argv[a], "--ts") == 0 && a + 1 < argc)
			t0 = strtoll(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--step") == 0 && a + 1 < argc)
			step = strtoll(argv[++a], NULL, 10);
		else if (strcmp(argv[a], "--seal-key") == 0 && a + 1 < argc)
			seal_key = argv[++a];
		else
			break;
	}
	if (argc - a != 2) {
		fprintf(stderr, "usage: audit_writer [--fsync] [--syslog] "
		    "[--tag TAG] [--ts T0] [--step S] [--seal-key PATH] "
		    "LOG COUNT\n");
		return 2;
	}
	errno = 0;
	count = strtoul(argv[a + 1], &end, 10);
	if (errno != 0 || *end != '\0') {
		fprintf(stderr, "audit_writer: bad count %s\n", argv[a + 1]);
		return 2;
	}
	if (agentid_config_new(&cfg) != 0)
		return 1;
	free(cfg->audit_log);
	if ((cfg->audit_log = strdup(argv[a])) == NULL)
		goto out;
	if (seal_key != NULL && (cfg->audit_seal_key = strdup(seal_key)) == NULL)
		goto out;
	cfg->audit_fsync = fsync_on;
	cfg->audit_syslog = syslog_on;
	for (i = 0; i < count; i++) {
		make_event(&ev, &d, user, sizeof(user), tag, i, t0, step);
		if (agentid_audit_append(cfg, &ev, &err) != 0) {
			fprintf(stderr, "audit_writer: %s\n", err.msg);
			goto out;
		}
	}
	rc = 0;
out:
	agentid_config_free(cfg);
	return rc;
}
