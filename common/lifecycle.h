/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lifecycle.h - what agentid create, narrow, renew, suspend, resume, revoke
 * and delete share with libagentid: the write-time rules (attenuate.c,
 * pure), a directory change and its LDIF (ldif.c, pure), and the writes
 * themselves (ldap_admin.c). Not part of the ABI: the symbols are exported
 * for the agentid command only.
 */
#ifndef AGENTID_LIFECYCLE_H
#define AGENTID_LIFECYCLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"

struct agentid_ldap;
struct agentid_lookup;

/* ------------------------------------------------------ rules (pure) */

/* A lifecycle check's answer: rule NULL when the change may be written,
 * else the rule that refuses it and a sentence naming what broke it. */
struct agentid_refusal {
	const char *rule;
	char msg[512];
};

enum agentid_coverage {
	AGENTID_COVERED,
	AGENTID_NOT_COVERED,
	AGENTID_UNPROVEN,  /* globs we cannot compare: refused too */
};

/* 0 when grant is KIND:PATTERN with kind host, service or from (any case)
 * and a non-empty pattern without control characters; EINVAL (err) else. */
int agentid_grant_valid(const char *grant, struct agentid_error *err);

/* Does delegator grant d match every name that grant g can match? Both
 * of the same kind (prefixes included); conservative: UNPROVEN when the
 * globs cannot be compared. */
enum agentid_coverage agentid_grant_covers(const char *d, const char *g);

/* Is grant g covered by the delegator's grants? A delegator with no grant
 * of g's kind does not restrict it, unless that kind is in require_scope
 * (then it allows nothing). */
enum agentid_coverage agentid_grants_cover(const struct agentid_record *del,
    const char *g, unsigned require_scope);

#define AGENTID_CHECK_SCOPE 0x1u /* check every grant against the delegators */

/*
 * Checks chain->rec[0] as it is about to be written (create, renew):
 * the chain's structure through the engine (chain_cycle, chain_too_deep,
 * owner_missing, owner_inactive), no revoked agent in it, a notAfter
 * within max_lifetime of now and not after any delegator's, and with
 * AGENTID_CHECK_SCOPE every grant covered by every delegator's.
 */
void agentid_check_write(const struct agentid_chain *chain,
    const struct agentid_policy *pol, int64_t now, unsigned flags,
    struct agentid_refusal *out);

/* Checks narrow: the kept grants (when scope != NULL) are among old's and
 * no kind loses its last grant unless it is in require_scope; a new
 * notAfter (when has_na) is not later than old's. */
void agentid_check_narrow(const struct agentid_record *old,
    char *const *scope, size_t n_scope, bool has_na, int64_t na,
    unsigned require_scope, struct agentid_refusal *out);

/* ------------------------------------------------ changes and LDIF (pure) */

enum agentid_change_op {
	AGENTID_CHANGE_ADD,
	AGENTID_CHANGE_MODIFY,
	AGENTID_CHANGE_DELETE,
};
enum agentid_mod_op { AGENTID_MOD_ADD, AGENTID_MOD_REPLACE, AGENTID_MOD_DELETE };

struct agentid_mod {
	enum agentid_mod_op op;
	char *attr;
	char **values;    /* NULL-terminated */
	size_t n;
};

/* One entry's change; everything owned (agentid_change_clear). */
struct agentid_change {
	enum agentid_change_op op;
	char *dn;
	struct agentid_mod *mods;
	size_t n_mods;
};

/* Starts ch (zeroed) as op on dn; 0 or ENOMEM. */
int agentid_change_init(struct agentid_change *ch, enum agentid_change_op op,
    const char *dn);
/* Adds value to the attribute's modification op (one mod per op and attr,
 * in first-use order); value NULL adds the mod without values (replace
 * with nothing, delete every value). 0 or ENOMEM. */
int agentid_change_value(struct agentid_change *ch, enum agentid_mod_op op,
    const char *attr, const char *value);
void agentid_change_clear(struct agentid_change *ch);
/* The change as LDIF (RFC 2849; unsafe values base64), malloc'd or NULL. */
char *agentid_change_ldif(const struct agentid_change *ch);

/* ------------------------------------------------- the directory (I/O) */

/* agentid_ldap_open, binding as cfg->binddn with password (in memory). */
int agentid_ldap_open_password(const struct agentid_config *cfg,
    const char *password, struct agentid_ldap **out, struct agentid_error *err);
/* The bound identity (Who am I?, "dn:" removed), malloc'd into *id. */
int agentid_ldap_whoami(struct agentid_ldap *l, char **id,
    struct agentid_error *err);
/* The chain builder's lookup interface over l. */
void agentid_ldap_lookup(struct agentid_ldap *l, struct agentid_lookup *lk);
/* DN for a new agent: uid=USER (escaped),base; malloc'd or NULL. */
char *agentid_ldap_agent_dn(const struct agentid_config *cfg, const char *uid);
/* DNs under base of entries whose attr equals value exactly (the value is
 * escaped into the filter); *dns NULL-terminated, free with
 * agentid_ldap_dns_free. */
int agentid_ldap_find(struct agentid_ldap *l, const char *attr,
    const char *value, char ***dns, size_t *n, struct agentid_error *err);
void agentid_ldap_dns_free(char **dns);
/* Every uidNumber under base within [lo, hi], in *nums (malloc'd). */
int agentid_ldap_uid_numbers(struct agentid_ldap *l, uint32_t lo, uint32_t hi,
    uint32_t **nums, size_t *n, struct agentid_error *err);
/* After an add of dn with uidNumber n: *yield when another entry under
 * base holds n and was written first (entryCSN), or when that cannot be
 * told (a CSN missing); *other (malloc'd, may be NULL) names it. */
int agentid_ldap_uid_contested(struct agentid_ldap *l, uint32_t n,
    const char *dn, bool *yield, char **other, struct agentid_error *err);
/* Writes ch. */
int agentid_ldap_apply(struct agentid_ldap *l, const struct agentid_change *ch,
    struct agentid_error *err);

#endif
