/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_publish.h - one agent's NSS line from its chain: the same
 * decision `agentid sync` makes (rules 1-5 at a given time; scope and
 * certificates depend on the login and are left to PAM), for writers that
 * build chains from another source (agentidd, from the records replica).
 * Not part of the ABI.
 */
#ifndef AGENTID_REPLICA_PUBLISH_H
#define AGENTID_REPLICA_PUBLISH_H

#include "agentid.h"
#include "agentid_replica_writer.h"

struct agentid_lookup;

/*
 * Builds agent's chain through lk (agent first, as listed), decides it at
 * now and fills *e (its strings point into agent) and, when reason is not
 * NULL, the engine's reason (for counting). 0, or the lookup's
 * error. ENOENT: the agent cannot be served by NSS (ambiguous uid, no
 * posixAccount); err says why.
 */
int agentid_replica_entry_decide(const struct agentid_config *cfg,
    const struct agentid_lookup *lk, const struct agentid_record *agent,
    int64_t now, struct agentid_replica_entry *e, enum agentid_reason *reason,
    struct agentid_error *err);

/*
 * A delta written for a new base that is still at base_from (agentidd's
 * compaction in the background, replica_writer.c): commits the delta, then
 * renames base_from over the base at once, then fsyncs the directory. A
 * reader between the two renames sees a delta for a newer base and opens
 * again; none sees the new base with an older delta. Internal: not in
 * libagentid.sym.
 */
int agentid_replica_commit_with_base(struct agentid_replica_writer *w,
    const char *base_from, struct agentid_error *err);

#endif
