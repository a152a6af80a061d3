/*
 * agentid_replica.h - the local replica: one tinycdb file that `agentid sync`
 * writes and libnss_agent.so.2 maps read-only.
 *
 * Two halves with different rules:
 *  - the reader (common/replica_reader.c) needs libc and libcdb only and uses
 *    no other libagentid symbol: it is compiled into libagentid and, a second
 *    time, into the NSS module, which must not link libagentid;
 *  - the writer (common/replica_writer.c) lives in libagentid.
 * Functions return 0 or an errno-style code: ENOENT (no such file or entry),
 * EBADMSG (corrupt or foreign file), ENOMEM, EIO and the errno of a failed
 * system call.
 *
 * File format, version 1. All integers little-endian. A cdb file whose first
 * record (at offset 2048) has key "H" and the header as value:
 *
 *   off  0  magic "AGIDRPL1"          off 36  u32 users
 *   off  8  u32 format version (1)     off 40  u32 groups
 *   off 12  u32 CRC-32C of the header  off 44  u32 member index entries
 *           value with this field = 0  off 48  u32 min_uid
 *   off 16  i64 generation time        off 52  u32 flags (0)
 *   off 24  u64 file size              off 56  i64 clock_skew
 *   off 32  u32 CRC-32C of the rest    off 64  u16 length + nologin shell
 *           (TOC, then every byte after the header record)
 *
 * Other keys (the CRC of a record covers its key and value bytes 4..end):
 *   "n:" NAME     user: u32 crc, u32 uid, u32 gid, u8 state, u8 flags
 *                 (bit 0: has notBefore), u16 0, i64 notBefore, i64 notAfter,
 *                 u16 gecos, home, shell lengths, u16 0, then those bytes
 *   'u' u32 UID   u32 file position of the "n:" record
 *   "g:" NAME     group: u32 crc, u32 gid, u32 count, count x (u16 len, bytes)
 *   'G' u32 GID   u32 file position of the "g:" record
 *   "m:" NAME     u32 crc, u32 count, count x u32 gid (groups of an agent)
 *   "@p", "@g"    enumeration order: u32 positions of the "n:"/"g:" records
 *
 * The reader checks the header (magic, version, CRC, size equal to the file's)
 * when it maps a file, and each record's CRC and every position and length
 * when it reads one: a lookup never trusts the mapped bytes. The whole-file
 * CRC is checked by agentid_replica_verify (sync runs it before the rename).
 */
#ifndef AGENTID_REPLICA_H
#define AGENTID_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "agentid.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AGENTID_REPLICA_MAGIC "AGIDRPL1"
#define AGENTID_REPLICA_VERSION 1u
#define AGENTID_REPLICA_HEADER_POS 2048u   /* the "H" record */
#define AGENTID_REPLICA_HEADER_VAL (2048u + 8u + 1u) /* its value */
#define AGENTID_REPLICA_HEADER_FIXED 66u   /* header bytes before the shell */
#define AGENTID_REPLICA_MAX_FIELD 4096u    /* gecos, home, shell, nologin */
#define AGENTID_REPLICA_MAX_MEMBERS 65536u /* per group */

/* Why an agent's chain may not log in, as decided at sync time. */
enum agentid_replica_state {
	AGENTID_REPLICA_OK = 0,        /* valid while the window holds */
	AGENTID_REPLICA_SUSPENDED = 1, /* some agent of the chain suspended */
	AGENTID_REPLICA_REVOKED = 2,   /* some agent of the chain revoked */
	AGENTID_REPLICA_ORPHANED = 3,  /* owner missing/inactive, cycle, depth */
	AGENTID_REPLICA_POLICY = 4,    /* lifetime exceeds policy, no notAfter */
	AGENTID_REPLICA_STATE_MAX
};

/* A string inside the mapping: not NUL-terminated, no NUL inside. */
struct agentid_replica_str {
	const char *p;
	size_t len;
};

struct agentid_replica_user {
	struct agentid_replica_str name, gecos, home, shell;
	uint32_t uid, gid;
	enum agentid_replica_state state;
	bool has_not_before;
	int64_t not_before;       /* effective window of the chain */
	int64_t not_after;
	uint32_t pos;             /* file position of the record */
};

struct agentid_replica_group {
	struct agentid_replica_str name;
	uint32_t gid;
	uint32_t n_members;
	const unsigned char *members; /* checked list of (u16 len, bytes) */
	size_t members_len;
	uint32_t pos;
};

/* Groups of one member: n little-endian u32 gids at p. */
struct agentid_replica_gids {
	const unsigned char *p;
	uint32_t n;
};

struct agentid_replica_info {
	int64_t generated;
	uint64_t file_size;
	uint32_t n_users, n_groups, n_members;
	uint32_t min_uid;
	int64_t clock_skew;
	struct agentid_replica_str nologin_shell;
};

/* ------------------------------------------------------------- reader */

struct agentid_replica; /* one mapped file */

/* CRC-32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t agentid_replica_crc32c(uint32_t crc, const void *p, size_t n);

/* Opens (O_CLOEXEC), maps and closes path; checks the header. ENOENT when
 * missing, EBADMSG when corrupt or not a replica. */
int agentid_replica_open(const char *path, struct agentid_replica **out);
void agentid_replica_close(struct agentid_replica *r);
/* True when st (from stat) names the file r maps, unchanged. */
bool agentid_replica_same_file(const struct agentid_replica *r,
    const struct stat *st);
const struct agentid_replica_info *agentid_replica_info(
    const struct agentid_replica *r);

/* Lookups: 0, ENOENT when absent, EBADMSG when the record is corrupt. */
int agentid_replica_user_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_user *u);
int agentid_replica_user_by_uid(const struct agentid_replica *r, uint32_t uid,
    struct agentid_replica_user *u);
/* The index-th user in enumeration order; ENOENT past the end. */
int agentid_replica_user_at(const struct agentid_replica *r, uint32_t index,
    struct agentid_replica_user *u);
int agentid_replica_group_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_group *g);
int agentid_replica_group_by_gid(const struct agentid_replica *r, uint32_t gid,
    struct agentid_replica_group *g);
int agentid_replica_group_at(const struct agentid_replica *r, uint32_t index,
    struct agentid_replica_group *g);
/* Next member of g from *cursor (start at 0); false at the end. */
bool agentid_replica_member_next(const struct agentid_replica_group *g,
    size_t *cursor, struct agentid_replica_str *member);
/* The gids of the groups that list member (an agent of this replica). */
int agentid_replica_groups_of(const struct agentid_replica *r,
    const char *member, struct agentid_replica_gids *out);
uint32_t agentid_replica_gid_at(const struct agentid_replica_gids *g,
    uint32_t i);
/* Whether u's chain may log in at now: state OK and inside the window
 * widened by clock_skew. Needs only the clock. */
bool agentid_replica_user_valid(const struct agentid_replica *r,
    const struct agentid_replica_user *u, int64_t now);
/* Checks everything: the whole-file CRC, every record reachable from the
 * enumeration lists and their uid/gid/name indexes. EBADMSG if anything is
 * wrong. O(size of the file). */
int agentid_replica_verify(const struct agentid_replica *r);

/* ------------------------------------------------------------- writer */

struct agentid_replica_meta {
	int64_t generated;
	uint32_t min_uid;          /* users and groups below are refused */
	int64_t clock_skew;
	const char *nologin_shell;
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

/* Starts a replica that will replace path: a temporary file in the same
 * directory (mode 0644). */
int agentid_replica_writer_new(const char *path,
    const struct agentid_replica_meta *meta,
    struct agentid_replica_writer **out, struct agentid_error *err);
/* Adds a user. ERANGE: uid or gid below min_uid; EEXIST: name or uid already
 * written; EINVAL: a field that cannot be served (':' or control characters,
 * too long). Nothing is written then; the writer stays usable. */
int agentid_replica_write_user(struct agentid_replica_writer *w,
    const struct agentid_replica_entry *e, struct agentid_error *err);
/* Adds a group; same errors. Members that are not users of this replica are
 * listed by getgrnam but never added by initgroups. */
int agentid_replica_write_group(struct agentid_replica_writer *w,
    const char *name, uint32_t gid, char *const *members, size_t n_members,
    struct agentid_error *err);
/* Writes the indexes and the header, verifies the file, fsyncs it and
 * renames it over path (then fsyncs the directory). */
int agentid_replica_commit(struct agentid_replica_writer *w,
    struct agentid_error *err);
/* Frees w; removes the temporary file unless committed. */
void agentid_replica_writer_free(struct agentid_replica_writer *w);

/* --------------------------------------------------------------- sync */

struct agentid_sync_result {
	size_t agents, groups;    /* written */
	size_t expired;           /* chain expired at sync time */
	size_t suspended;         /* some agent of the chain suspended/revoked */
	size_t orphaned;          /* owner missing or inactive, cycle, depth */
	size_t skipped;           /* entries not written (each warned about) */
};

/* Receives one warning ("bot7: not written: uidNumber 500 below ..."). */
typedef void (*agentid_sync_warn_fn)(void *arg, const char *msg);

/*
 * Reads every agent (agent_filter under base, paged) and every posixGroup
 * under group_base, resolves each agent's chain once, decides it at now with
 * the engine (rules 1-5; scope depends on the login and is left to PAM) and
 * writes the replica to path (NULL: cfg->replica). Entries that cannot be
 * served (below min_uid, duplicates, bad fields, no posixAccount) are
 * skipped with a warning. The old replica stays in place on any error.
 */
int agentid_replica_sync(const struct agentid_config *cfg, const char *path,
    int64_t now, agentid_sync_warn_fn warn, void *warn_arg,
    struct agentid_sync_result *res, struct agentid_error *err);

#ifdef __cplusplus
}
#endif
#endif
