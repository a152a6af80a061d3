/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_dump.c - prints a replica for test_agentidd.sh to compare:
 *   replica_dump nss PATH       every NSS user, sorted by the caller:
 *                               "name uid gid state nb na"
 *   replica_dump records PATH   every agent of the records replica with the
 *                               decision of its chain at sync time (the same
 *                               line format), through the records lookup
 *   replica_dump count PATH     entries of the records replica
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "chain.h"
#include "records.h"
#include "replica_publish.h"

struct walk {
	struct agentid_records_lookup_ctx ctx;
	struct agentid_lookup lk;
	struct agentid_config *cfg;
	size_t n;
};

static int
print_agent(struct agentid_stored *s, void *arg)
{
	struct walk *w = arg;
	struct agentid_replica_entry e;
	struct agentid_error err = { "" };
	int rc;

	w->n++;
	if (!(s->flags & AGENTID_STORED_AGENT_FILTER))
		return 0;
	rc = agentid_replica_entry_decide(w->cfg, &w->lk, &s->rec,
	    (int64_t)time(NULL), &e, NULL, &err);
	if (rc == ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	if (e.uid < w->cfg->min_uid || e.gid < w->cfg->min_uid)
		return 0;
	printf("%s %u %u %d %" PRId64 " %" PRId64 "\n", e.name, e.uid, e.gid,
	    (int)e.state, e.has_not_before ? e.not_before : 0, e.not_after);
	return 0;
}

int
main(int argc, char **argv)
{
	struct agentid_replica *r;
	struct agentid_replica_user u;
	struct agentid_records *rr;
	struct walk w;
	uint32_t i;
	int rc;

	if (argc != 3)
		return 2;
	if (strcmp(argv[1], "nss") == 0) {
		if ((rc = agentid_replica_open(argv[2], &r)) != 0)
			return 1;
		for (i = 0; agentid_replica_user_next(r, &i, &u) == 0;)
			printf("%.*s %u %u %d %" PRId64 " %" PRId64 "\n",
			    (int)u.name.len, u.name.p, u.uid, u.gid, (int)u.state,
			    u.has_not_before ? u.not_before : 0, u.not_after);
		agentid_replica_close(r);
		return 0;
	}
	memset(&w, 0, sizeof(w));
	if (agentid_config_new(&w.cfg) != 0 ||
	    (rc = agentid_records_open(argv[2], &rr)) != 0)
		return 1;
	w.ctx.r = rr;
	w.ctx.cfg = w.cfg;
	agentid_records_lookup(&w.ctx, &w.lk);
	if (strcmp(argv[1], "records") == 0)
		rc = agentid_records_each(rr, print_agent, &w);
	else {
		w.cfg->min_uid = UINT32_MAX;
		rc = agentid_records_each(rr, print_agent, &w);
		printf("%zu\n", w.n);
	}
	agentid_records_close(rr);
	agentid_config_free(w.cfg);
	return rc == 0 ? 0 : 1;
}
