/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_store_members.c - agentidd's store (agentidd/store.c, compiled in)
 * when a name is listed by more groups than a delta's member list may
 * hold (AGENTID_REPLICA_MAX_MEMBERS): a directory writer lists "x" in
 * MAX + 2 groups, then the administrator takes x out of one of them. The
 * delta cannot hold x's new list; the write must not leave the base's list
 * in force (x would keep the group it was taken out of until some later
 * base): it writes a new base instead. Root only (the reader trusts only
 * files root or agentid owns); SKIP otherwise.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "agentidd.h"
#include "replica_format.h"

#define BASE_DN "dc=example,dc=com"
#define GROUPS (AGENTID_REPLICA_MAX_MEMBERS + 2u)
#define GID0 200000u

/* store.c logs through agentidd_log. */
void
agentidd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > LOG_WARNING)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		exit(99);
	return p;
}

/* Group j (gid GID0 + j), listing x unless without. */
static void
put_group(struct store *st, uint32_t j, bool with_x)
{
	struct agentid_stored s;
	char buf[160];

	memset(&s, 0, sizeof(s));
	memset(s.uuid, 0, 16);
	memcpy(s.uuid, &j, 4);
	s.uuid[8] = 0x5a;
	snprintf(buf, sizeof(buf), "cn=g%06u,ou=groups," BASE_DN, j);
	s.rec.dn = xstrdup(buf);
	snprintf(buf, sizeof(buf), "g%06u", j);
	s.group_name = xstrdup(buf);
	s.rec.gid_number = GID0 + j;
	if ((s.members = calloc(2, sizeof(*s.members))) == NULL)
		exit(99);
	if (with_x) {
		s.members[0] = xstrdup("x");
		s.n_members = 1;
	}
	s.flags = AGENTID_STORED_GROUP;
	if (store_put(st, &s) != 0)
		exit(99);
}

/* Does the replica at path say that x is in gid? */
static bool
x_in(const char *path, uint32_t gid)
{
	struct agentid_replica *r = NULL;
	struct agentid_replica_gids g;
	uint32_t i;
	bool in = false;

	if (agentid_replica_open(path, &r) != 0) {
		printf("FAIL: %s: cannot open\n", path);
		exit(1);
	}
	if (agentid_replica_groups_of(r, "x", &g) == 0)
		for (i = 0; i < g.n; i++)
			if (agentid_replica_gid_at(&g, i) == gid)
				in = true;
	agentid_replica_close(r);
	return in;
}

int
main(void)
{
	char dir[] = "/tmp/test_store_members.XXXXXX", path[128], conf[256],
	    cmd[160];
	struct agentid_config *cfg = NULL;
	struct agentid_error err = { "" };
	struct store st;
	int64_t now = (int64_t)time(NULL);
	uint32_t j;
	int fails = 0;

	if (geteuid() != 0) {
		printf("SKIP: needs root (the reader trusts root's files)\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL)
		return 99;
	snprintf(path, sizeof(path), "%s/agents.cdb", dir);
	snprintf(conf, sizeof(conf), "uri ldap://127.0.0.1/\nbase " BASE_DN
	    "\nreplica %s\n", path);
	if (agentid_config_new(&cfg) != 0 ||
	    agentid_config_parse(cfg, conf, strlen(conf), "test", &err) != 0 ||
	    store_init(&st, cfg, path) != 0) {
		printf("FAIL: config: %s\n", err.msg);
		return 99;
	}
	for (j = 1; j <= GROUPS; j++)
		put_group(&st, j, true);
	if (store_flush(&st, now, &err) != 0) {
		printf("FAIL: first write: %s\n", err.msg);
		return 1;
	}
	if (x_in(path, GID0 + 1))
		printf("ok: x in g000001 after the base\n");
	else {
		printf("FAIL: x not in g000001 after the base\n");
		fails++;
	}
	/* x taken out of g000001 */
	put_group(&st, 1, false);
	if (store_flush(&st, now, &err) != 0) {
		printf("FAIL: second write: %s\n", err.msg);
		return 1;
	}
	if (x_in(path, GID0 + 1)) {
		printf("FAIL: x still in g000001 after it was taken out (%s)\n",
		    st.nss_last_base ? "base" : "delta");
		fails++;
	} else
		printf("ok: x out of g000001 (%s)\n", st.nss_last_base ? "base" :
		    "delta");
	if (x_in(path, GID0 + 2))
		printf("ok: x still in g000002\n");
	else {
		printf("FAIL: x lost g000002\n");
		fails++;
	}
	store_free(&st);
	agentid_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return fails == 0 ? 0 : 1;
}
