/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid_replica.h - the NSS side of the local replica: a tinycdb base
 * file that `agentid sync` (or agentidd) writes and, beside it, the delta
 * agentidd writes after each batch (PATH.delta: entries changed since
 * that base, tombstones); libnss_agent.so.2 maps both read-only and reads
 * them as one (replica_format.h says how they pair).
 *
 * The reader (common/replica_reader.c) needs libc and libcdb only and uses
 * no other libagentid symbol: it is compiled into libagentid and, a second
 * time, into the NSS module, which must not link libagentid. This header
 * therefore includes only libc headers. The writer and `agentid sync` are
 * declared in agentid_replica_writer.h; the file layout is private to the
 * two, in common/replica_format.h.
 *
 * Functions return 0 or an errno-style code: ENOENT (no such file or entry),
 * EPERM (a replica someone else than its writer could have changed),
 * EBADMSG (corrupt or foreign file), ENOMEM, EIO and the errno of a failed
 * system call.
 *
 * The reader checks the header (magic, version, CRC, size equal to the
 * file's) when it maps a file, and each record's CRC and every position and
 * length when it reads one: a lookup never trusts the mapped bytes. The
 * whole-file CRC is checked by agentid_replica_verify (sync runs it before
 * the rename).
 */
#ifndef AGENTID_REPLICA_H
#define AGENTID_REPLICA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#ifdef __cplusplus
extern "C" {
#endif

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
	uint64_t generation;      /* the delta's when there is one; 0: v1 */
	uint64_t base_generation;
	bool has_delta;
	uint32_t delta_users, delta_groups, tombstones;
};

struct agentid_replica; /* a mapped base (+ its delta), read as one */

/* CRC-32C (Castagnoli) of n bytes, continuing from crc (0 to start). */
uint32_t agentid_replica_crc32c(uint32_t crc, const void *p, size_t n);

/* Opens (O_CLOEXEC, O_NOFOLLOW, O_NONBLOCK) and maps path and path.delta,
 * keeping a descriptor of each mapped file open until
 * agentid_replica_close (for agentid_replica_intact); checks who may have
 * written each, then the headers. A delta
 * for an older base is ignored; one that is there but refused (untrusted,
 * corrupt, for a base that never comes) refuses the whole replica.
 * ENOENT when the base is missing; EPERM when
 * not trusted: the file or its directory is owned by someone other than
 * root or the system user `agentid` (read from /etc/passwd directly, never
 * through NSS), or is writable by group or others, or path is a symbolic
 * link; EBADMSG when corrupt or not a replica (a FIFO, a directory). */
int agentid_replica_open(const char *path, struct agentid_replica **out);
/* The same; why (when not NULL) receives one line saying what was wrong,
 * for a tool to print (the NSS module has no logging). */
int agentid_replica_open_why(const char *path, struct agentid_replica **out,
    char *why, size_t why_len);
/* Flags of agentid_replica_open_flags. AGENTID_REPLICA_DELTA_COPY: a delta
 * of at most AGENTID_REPLICA_DELTA_COPY_MAX bytes is read into private
 * memory instead of mapped (libnss_agent: a copy cannot be cut under a
 * lookup, so agentid_replica_intact has one file to fstat, not two; a
 * replaced delta is seen by agentid_replica_current). Costs a read of the
 * whole delta at each open: not for a caller that opens per decision. */
#define AGENTID_REPLICA_DELTA_COPY 0x1u
#define AGENTID_REPLICA_DELTA_COPY_MAX (256u * 1024u)
/* agentid_replica_open with flags. */
int agentid_replica_open_flags(const char *path, unsigned flags,
    struct agentid_replica **out);
/*
 * Opens path read-only (no symbolic link, no blocking on a FIFO) when it and
 * its directory pass the replica's trust rules: owned by root or the system
 * user agentid, writable by nobody else, a regular file. The replica's
 * companion files (agentidd's records and contact files) are opened so too.
 * 0 with *fd open and *st filled; EPERM (why says which rule), ENOENT, or
 * the errno of a failed call.
 */
int agentid_replica_open_trusted(const char *path, int *fd, struct stat *st,
    char *why, size_t why_len);
/* One file alone, a base or (delta) a delta, as a writer checks what it
 * wrote; a delta opened so answers over an empty base. */
int agentid_replica_open_file(const char *path, bool delta,
    struct agentid_replica **out, char *why, size_t why_len);
void agentid_replica_close(struct agentid_replica *r);
/* True when r was opened from path and both paths still name the files
 * mapped, unchanged: the base and the delta (or its absence) have the same
 * inode, size, link count, mode, owner, mtime and ctime. Two stat() calls,
 * each a walk of the path: libnss_agent makes them every 10 ms at most,
 * and agentid_replica_intact before each lookup. */
bool agentid_replica_current(const struct agentid_replica *r,
    const char *path);
/* True when r was opened from path and the files it maps are unchanged:
 * fstat of the descriptors r keeps open (O_CLOEXEC, numbered 3 or above),
 * no path walk. A file truncated or rewritten in place (size, mtime),
 * replaced by a rename or removed (its link count drops, its ctime moves),
 * or given another mode or owner is no longer intact, so a caller that checks before each lookup never
 * touches a truncated mapping (see docs/design-notes.md for the race that
 * remains). A delta that appeared since the open, or one replaced that was
 * read into memory (AGENTID_REPLICA_DELTA_COPY), is not seen here:
 * agentid_replica_current sees it. A descriptor the process closed (or
 * whose number now names another file) is forgotten, never closed: false. */
bool agentid_replica_intact(struct agentid_replica *r, const char *path);
const struct agentid_replica_info *agentid_replica_info(
    const struct agentid_replica *r);

/* Lookups: 0, ENOENT when absent, EBADMSG when the record is corrupt. The
 * delta answers first; a base entry whose name or id the delta holds (as
 * an entry or a tombstone) is not served. */
int agentid_replica_user_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_user *u);
int agentid_replica_user_by_uid(const struct agentid_replica *r, uint32_t uid,
    struct agentid_replica_user *u);
/* The next user from *cursor (start at 0), which moves past it: the
 * delta's, then the base's still served; each once. ENOENT at the end. */
int agentid_replica_user_next(const struct agentid_replica *r,
    uint32_t *cursor, struct agentid_replica_user *u);
int agentid_replica_group_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_group *g);
int agentid_replica_group_by_gid(const struct agentid_replica *r, uint32_t gid,
    struct agentid_replica_group *g);
int agentid_replica_group_next(const struct agentid_replica *r,
    uint32_t *cursor, struct agentid_replica_group *g);
/* Next member of g from *cursor (start at 0); false at the end. */
bool agentid_replica_member_next(const struct agentid_replica_group *g,
    size_t *cursor, struct agentid_replica_str *member);
/* The gids of the groups that list member (any name a group lists; the
 * NSS module serves them only to users of the replica). */
int agentid_replica_groups_of(const struct agentid_replica *r,
    const char *member, struct agentid_replica_gids *out);
uint32_t agentid_replica_gid_at(const struct agentid_replica_gids *g,
    uint32_t i);
/* Whether id may be served as a uid or gid: at least the replica's min_uid,
 * not 65534 (nobody) and not above 2^31-1. */
bool agentid_replica_id_ok(const struct agentid_replica *r, uint32_t id);
/* Whether u's chain may log in at now: state OK and inside the window
 * widened by clock_skew. Needs only the clock. */
bool agentid_replica_user_valid(const struct agentid_replica *r,
    const struct agentid_replica_user *u, int64_t now);
/* Checks everything, file by file: the whole-file CRC, every record
 * reachable from the enumeration lists and their uid/gid/name indexes.
 * EBADMSG if anything is wrong. O(size of the files). */
int agentid_replica_verify(const struct agentid_replica *r);

/* One record of a delta, for its writer to carry forward. */
struct agentid_replica_delta_rec {
	char kind;                /* 'n' user, 'g' group, 'm' member list */
	const char *name;
	bool tombstone;
	struct agentid_replica_user user;
	struct agentid_replica_group group;
	struct agentid_replica_gids gids;
};
typedef int (*agentid_replica_delta_fn)(
    const struct agentid_replica_delta_rec *e, void *arg);
/* Calls fn for every record of r's delta (none without one); a non-zero
 * return stops the walk and is returned; EBADMSG for a corrupt record. */
int agentid_replica_delta_each(const struct agentid_replica *r,
    agentid_replica_delta_fn fn, void *arg);

#ifdef __cplusplus
}
#endif
#endif
