/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid_replica_writer.h - the writing side of the local replica: the
 * writer (common/replica_writer.c) and `agentid sync`
 * (common/replica_sync.c), both in libagentid. The NSS side is
 * agentid_replica.h.
 *
 * A replica is always written to a temporary file in the directory of its
 * final path and renamed over it, never rewritten in place: processes map
 * the file, and a file truncated under a mapping kills them with SIGBUS.
 */
#ifndef AGENTID_REPLICA_WRITER_H
#define AGENTID_REPLICA_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"
#include "agentid_replica.h"

#ifdef __cplusplus
extern "C" {
#endif

struct agentid_replica_meta {
	int64_t generated;
	uint32_t min_uid;          /* users and groups below are refused */
	int64_t clock_skew;
	const char *nologin_shell;
	uint64_t generation;       /* 0: chosen by the writer (larger than
	                            * the files there and the clock's ns) */
};

struct agentid_replica_entry {
	const char *name;
	uint32_t uid, gid;
	const char *gecos, *home, *shell; /* NULL = empty */
	enum agentid_replica_state state;
	bool has_not_before;
	int64_t not_before, not_after;
};

struct agentid_replica_writer;

/* Local accounts (/etc/passwd, /etc/group), read with fgetpwent_r and
 * fgetgrent_r, never through NSS (which would recurse into libnss_agent). */
#define AGENTID_FILES_PASSWD "/etc/passwd"
#define AGENTID_FILES_GROUP "/etc/group"

/* Starts a replica base that will replace path: a temporary file in the
 * same directory (mode 0644). Its commit removes path.delta. */
int agentid_replica_writer_new(const char *path,
    const struct agentid_replica_meta *meta,
    struct agentid_replica_writer **out, struct agentid_error *err);
/* Starts a delta that will replace path.delta, for the base of generation
 * base_gen at path: users and groups written replace the base's of the
 * same name (and hide the base's entry holding the same id); tombstones
 * hide the base's; member lists replace the base's. Local collisions,
 * id ranges and fields are checked as for a base; uniqueness only inside
 * the delta (the caller keeps it against the base). */
int agentid_replica_writer_new_delta(const char *path,
    const struct agentid_replica_meta *meta, uint64_t base_gen,
    struct agentid_replica_writer **out, struct agentid_error *err);
/* The generation of the file being written. */
uint64_t agentid_replica_writer_generation(
    const struct agentid_replica_writer *w);
/* Users, groups, tombstones and member lists written so far. */
size_t agentid_replica_writer_count(const struct agentid_replica_writer *w);
/* Delta only: the user (is_group false) or group called name is gone.
 * EEXIST when the delta already has that name. */
int agentid_replica_write_tombstone(struct agentid_replica_writer *w,
    bool is_group, const char *name, struct agentid_error *err);
/* Delta only: the whole list of gids of the groups that list member. */
int agentid_replica_write_members(struct agentid_replica_writer *w,
    const char *member, const uint32_t *gids, size_t n,
    struct agentid_error *err);
/* Reserves every name, uid, group name and gid of the local files at
 * passwd_path and group_path: users and groups that collide with them are
 * refused from then on. Fails (ENOENT, EACCES, EBADMSG...) when either file
 * cannot be read whole: a writer that cannot see the local accounts must
 * not write. */
int agentid_replica_writer_reserve_local(struct agentid_replica_writer *w,
    const char *passwd_path, const char *group_path,
    struct agentid_error *err);
/* Adds a user. ERANGE: uid or gid below min_uid, 65534 or above 2^31-1;
 * EEXIST: name or uid already written; EADDRINUSE: the name, uid or gid is
 * a local account's (see reserve_local); EINVAL: a field that cannot be
 * served (':' or control characters, too long). Nothing is written then;
 * the writer stays usable. */
int agentid_replica_write_user(struct agentid_replica_writer *w,
    const struct agentid_replica_entry *e, struct agentid_error *err);
/* Adds a group; same errors (EADDRINUSE: a local group's name or gid). Members that are not users of this replica are
 * listed by getgrnam but never added by initgroups. */
int agentid_replica_write_group(struct agentid_replica_writer *w,
    const char *name, uint32_t gid, char *const *members, size_t n_members,
    struct agentid_error *err);
/* Writes the indexes and the header, verifies the file, fsyncs it and
 * renames it over path (a base then unlinks path.delta), then fsyncs the
 * directory. */
int agentid_replica_commit(struct agentid_replica_writer *w,
    struct agentid_error *err);
/* Frees w; removes the temporary file unless committed. */
void agentid_replica_writer_free(struct agentid_replica_writer *w);

struct agentid_sync_result {
	size_t agents, groups;    /* written */
	size_t expired;           /* chain expired at sync time */
	size_t suspended;         /* some agent of the chain suspended/revoked */
	size_t orphaned;          /* owner missing or inactive, cycle, depth */
	size_t skipped;           /* entries not written (each warned about) */
	size_t local;             /* of those, colliding with a local account */
};

/* Receives one warning ("bot7: not written: uidNumber 500 below ..."). */
typedef void (*agentid_sync_warn_fn)(void *arg, const char *msg);

/*
 * Reads every agent (agent_filter under base, paged) and every posixGroup
 * under group_base, resolves each agent's chain once, decides it at now with
 * the engine (rules 1-5; scope depends on the login and is left to PAM) and
 * writes the replica to path (NULL: cfg->replica). Entries that cannot be
 * served (below min_uid, 65534 or above 2^31-1, duplicates, a name or id a
 * local account in /etc/passwd or /etc/group holds, bad fields, no
 * posixAccount) are skipped with a warning. The old replica stays in place
 * on any error.
 */
int agentid_replica_sync(const struct agentid_config *cfg, const char *path,
    int64_t now, agentid_sync_warn_fn warn, void *warn_arg,
    struct agentid_sync_result *res, struct agentid_error *err);

#ifdef __cplusplus
}
#endif
#endif
