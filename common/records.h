/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * records.h - the records replica: every directory entry a decision needs
 * (agents, their owners, posixGroups), kept by agentidd beside the NSS file
 * so that the chain builder runs with no network. Not part of the ABI.
 *
 * Files, beside `replica` (AGENTS.cdb -> AGENTS.records, ...):
 *   AGENTS.records        base: every entry, generation G
 *   AGENTS.records.delta  entries changed since the base and tombstones,
 *                         generation D > G, base_generation G
 *   AGENTS.contact        mtime = agentidd's last confirmed contact with
 *                         the directory; text "uri=... generation=..."
 *   AGENTS.cookie         the RFC 4533 cookie of the last applied batch
 * Both records files are tinycdb files replaced by rename(2), so a reader
 * holds either the old or the new file, never a mix. A reader looks in the
 * delta first. A delta whose base_generation is older than the base it sits
 * beside is ignored (the writer compacted it into that base); one that is
 * newer means the reader opened the base before a compaction: it reopens.
 *
 * Keys (all integers little-endian):
 *   "H"             header: magic "AGIDREC1", u32 version (1), u32 kind
 *                   (0 base, 1 delta), u64 generation, u64 base_generation,
 *                   u32 records, u32 tombstones, u32 CRC-32C of the above
 *   "e:" UUID(16)   one entry: u32 CRC-32C of the rest, then the fields
 *                   below; a tombstone is the CRC and flags with
 *                   AGENTID_STORED_TOMBSTONE
 *   "d:" DN         canonical DN (agentid_dn_canon) -> UUID(16)
 *   "u:" UID        each uid value in ASCII lower case -> UUID(16); the
 *                   key may repeat (LDAP matches uid without case)
 * An index key is a hint: the reader accepts it only when the entry it
 * names (delta first, then base) really has that DN or uid.
 *
 * Entry value after the CRC: u32 flags, u8 status, u8 0, u16 0,
 * i64 notBefore, i64 notAfter, u32 uidNumber, u32 gidNumber, then strings
 * (u32 length + bytes, length 0xffffffff = absent): dn, owner_dn,
 * status_text, home, shell, gecos, description, group name; then vectors
 * (u32 count + strings): uid values, scopes, fingerprints, memberUids.
 */
#ifndef AGENTID_RECORDS_H
#define AGENTID_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"

struct agentid_lookup;

#define AGENTID_RECORDS_MAGIC "AGIDREC1"
#define AGENTID_RECORDS_VERSION 1u
#define AGENTID_RECORDS_MAX_VALUES 65536u  /* per vector (memberUid) */
#define AGENTID_RECORDS_MAX_STR 65536u     /* bytes per string */

/* Flags of a stored entry: what the daemon evaluated against the
 * directory when the entry last changed. */
#define AGENTID_STORED_TOMBSTONE    0x001u /* deleted (delta only) */
#define AGENTID_STORED_AGENT_CLASS  0x002u /* objectClass agentIdentity */
#define AGENTID_STORED_AGENT_FILTER 0x004u /* matches agent_filter */
#define AGENTID_STORED_OWNER_FILTER 0x008u /* matches owner_filter */
#define AGENTID_STORED_OWNER_ACTIVE 0x010u /* matches owner_active_filter
                                            * (or none is set) */
#define AGENTID_STORED_GROUP        0x020u /* a usable posixGroup */
#define AGENTID_STORED_IS_AGENT     0x040u /* rec.is_agent */
#define AGENTID_STORED_AMBIGUOUS    0x080u /* rec.ambiguous */
#define AGENTID_STORED_HAS_NB       0x100u
#define AGENTID_STORED_HAS_NA       0x200u
#define AGENTID_STORED_HAS_POSIX    0x400u
#define AGENTID_STORED_MALFORMED    0x800u /* the directory holds an entry
                                            * here that cannot be read (a
                                            * NUL in a value...): lookups
                                            * that hit it fail, as live
                                            * reads do */

/* One directory entry as the replica keeps it. */
struct agentid_stored {
	unsigned char uuid[16];   /* entryUUID */
	uint32_t flags;           /* AGENTID_STORED_*; the record's booleans
	                           * are mirrored in rec */
	struct agentid_record rec; /* as aidl_entry_record read it; owner_match
	                           * and owner_active are not meaningful here */
	char **uids;              /* every uid value, NULL-terminated */
	size_t n_uids;
	char *group_name;         /* posixGroup: cn; gid in rec.gid_number */
	char **members;           /* posixGroup: memberUid values */
	size_t n_members;
};

void agentid_stored_clear(struct agentid_stored *s);

/* The companion path of replica with suffix (".records", ".contact"...):
 * a trailing ".cdb" of replica is replaced. malloc'd or NULL (ENOMEM). */
char *agentid_records_path(const char *replica, const char *suffix);

/* ------------------------------------------------------------ writer */

/* Writes a records file at path (temporary file, fsync, rename, fsync of
 * the directory). kind 0: base (base_generation = generation); 1: delta.
 * tombs: n_tombs UUIDs deleted since the base. 0 or an errno code. */
int agentid_records_write(const char *path, unsigned kind,
    uint64_t generation, uint64_t base_generation,
    const struct agentid_stored *const *recs, size_t n,
    const unsigned char (*tombs)[16], size_t n_tombs,
    struct agentid_error *err);
/* A delta (kind 1) at dpath for the base of base_generation that is still
 * at base_from, then base_from renamed over base_to at once (one directory
 * fsync for both): a reader between the two renames sees a delta for a
 * newer base than its own and opens again (agentid_records_open), never
 * the new base with the older delta. */
int agentid_records_write_delta_base(const char *dpath, uint64_t generation,
    uint64_t base_generation, const struct agentid_stored *const *recs,
    size_t n, const unsigned char (*tombs)[16], size_t n_tombs,
    const char *base_from, const char *base_to, struct agentid_error *err);

/* ------------------------------------------------------------ reader */

struct agentid_records; /* a consistent base (+ delta) pair, mapped */

/* Opens the records beside replica (NULL: the default). ENOENT when there
 * is no base; EBADMSG when a header is corrupt. */
int agentid_records_open(const char *replica, struct agentid_records **out);
void agentid_records_close(struct agentid_records *r);
/* The generation of what r holds (the delta's when there is one). */
uint64_t agentid_records_generation(const struct agentid_records *r);
/* The base's generation (a new base's must be larger). */
uint64_t agentid_records_base_generation(const struct agentid_records *r);

/* The entry with this entryUUID: 0 and *found; EBADMSG when corrupt. */
int agentid_records_by_uuid(const struct agentid_records *r,
    const unsigned char uuid[16], struct agentid_stored *out, bool *found);
/* The entry at dn (compared as agentid_dn_equal does). */
int agentid_records_by_dn(const struct agentid_records *r, const char *dn,
    struct agentid_stored *out, bool *found);
/* Calls cb for each live entry with a uid value equal to user without
 * (ASCII) case, as an LDAP equality match on uid finds them. */
typedef int (*agentid_records_cb)(struct agentid_stored *s, void *arg);
int agentid_records_by_uid(const struct agentid_records *r, const char *user,
    agentid_records_cb cb, void *arg);
/* Calls cb for every live entry (delta first, then the base's entries the
 * delta does not override). A non-zero return of cb stops and is returned;
 * EBADMSG for a corrupt entry. cb may take what *s holds (zeroing it). */
int agentid_records_each(const struct agentid_records *r,
    agentid_records_cb cb, void *arg);

/*
 * The delta's entries as stored, tombstones included, undecoded: cb gets
 * each "e:" key's UUID and value bytes (valid while r is open). For
 * comparing two generations of one base byte for byte (the enforcer); 0
 * when r has no delta.
 */
typedef int (*agentid_records_raw_cb)(const unsigned char uuid[16],
    const unsigned char *val, size_t len, void *arg);
int agentid_records_delta_raw(const struct agentid_records *r,
    agentid_records_raw_cb cb, void *arg);

/*
 * The chain builder's lookup over r (records_lookup.c), answering as the
 * live directory would (ldap_lookup.c): agent(user) is the one entry with
 * a uid value equal to user without case that matches agent_filter; two
 * such entries: EBADMSG; the entry must have user byte for byte and be an
 * agent. entry(dn) finds an entry that is an agentIdentity or matches
 * owner_filter, with owner_match and owner_active as the daemon evaluated
 * them. r and cfg must outlive lk.
 */
struct agentid_records_lookup_ctx {
	const struct agentid_records *r;
	const struct agentid_config *cfg;
};
void agentid_records_lookup(struct agentid_records_lookup_ctx *ctx,
    struct agentid_lookup *lk);
/* What lookup.entry answers for the stored entry s found at the DN asked:
 * *found (an agentIdentity or under owner_filter), owner_match and
 * owner_active as the record should carry them; EBADMSG for a malformed
 * entry. Shared with agentidd's lookup over its in-memory store, so that
 * both answer by one rule set. */
int agentid_records_entry_judge(const struct agentid_config *cfg,
    const struct agentid_stored *s, bool *found, bool *owner_match,
    bool *owner_active, struct agentid_error *err);

/* ----------------------------------------------------------- contact */

struct agentid_contact {
	int64_t last_contact;     /* mtime of AGENTS.contact (seconds) */
	uint64_t generation;      /* records generation agentidd last wrote */
	char uri[256];            /* directory URI in use ("" if unknown) */
	uint64_t entries;         /* entries in the replica */
	uint64_t changes;         /* changes applied since agentidd started */
	int64_t last_change;      /* when the last change was applied */
};

/* Reads AGENTS.contact beside replica. ENOENT when agentidd never wrote
 * it; EACCES when it is writable by others than its owner, or its owner is
 * neither root nor the file's directory owner. */
int agentid_records_contact(const char *replica, struct agentid_contact *c);
/* True when agentidd confirmed contact within max_age seconds of now. */
bool agentid_records_fresh(const char *replica, int64_t now, int64_t max_age);
/* Writes AGENTS.contact (temporary file + rename; the mtime is the time of
 * contact). */
int agentid_records_contact_write(const char *replica,
    const struct agentid_contact *c, struct agentid_error *err);

#endif
