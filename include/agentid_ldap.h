/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid_ldap.h - the LDAP source of libagentid: connection with failover,
 * TLS and binds; chain resolution; paged listing of agents and groups.
 * Implemented in common/ldap_*.c. Functions return 0 or an errno-style code;
 * EHOSTDOWN (or ETIMEDOUT) means "directory unreachable", which the fronts
 * turn into reason ldap_unavailable / PAM_AUTHINFO_UNAVAIL.
 */
#ifndef AGENTID_LDAP_H
#define AGENTID_LDAP_H

#include "agentid.h"

#ifdef __cplusplus
extern "C" {
#endif

struct agentid_ldap; /* one connection, bound, to the first uri that answered */

/* Connects to each cfg->uri in order and binds; EHOSTDOWN if none works. */
int agentid_ldap_open(const struct agentid_config *cfg,
    struct agentid_ldap **out, struct agentid_error *err);
void agentid_ldap_close(struct agentid_ldap *l);
/* The URI this connection is bound to. */
const char *agentid_ldap_uri(const struct agentid_ldap *l);

/*
 * Resolves the chain of user: the agent (uid=user under base, agent_filter),
 * then each agentOwner DN (base-scope reads) until the first entry that is
 * not an agentIdentity (the human, with owner_active evaluated when
 * owner_active_filter is set). Stops on a repeated DN or past
 * max_delegation_depth + 1 agents; the engine names the fault. A user with no
 * agent entry gives 0 and an empty chain (the engine says not_an_agent).
 * EINVAL for a name agentid_name_valid refuses.
 */
int agentid_ldap_chain(struct agentid_ldap *l, const char *user,
    struct agentid_chain *chain, struct agentid_error *err);

/* Same, starting from an agent record already read (takes a copy). */
int agentid_ldap_chain_from(struct agentid_ldap *l,
    const struct agentid_record *agent, struct agentid_chain *chain,
    struct agentid_error *err);

/* Calls cb for every agent under base matching agent_filter (paged), and
 * for entries that would be agents but hold two uid values (record
 * ambiguous, is_agent false). A non-zero return from cb stops the walk and
 * is returned. */
typedef int (*agentid_agent_cb)(const struct agentid_record *agent, void *arg);
int agentid_ldap_each_agent(struct agentid_ldap *l, agentid_agent_cb cb,
    void *arg, struct agentid_error *err);

struct agentid_group {
	char *name;
	uint32_t gid;
	char **members;       /* memberUid values, NULL-terminated */
	size_t n_members;
};
/* Calls cb for every posixGroup under group_base (paged). */
typedef int (*agentid_group_cb)(const struct agentid_group *g, void *arg);
int agentid_ldap_each_group(struct agentid_ldap *l, agentid_group_cb cb,
    void *arg, struct agentid_error *err);

#ifdef __cplusplus
}
#endif
#endif
