/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_writer.c - writes a replica (agentid_replica_writer.h) to a
 * temporary file next to its final path, checks it, and renames it into
 * place: never in place, since readers map the file (a file truncated under
 * a mapping is SIGBUS for every process that reads it).
 */
#include "config.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <libgen.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentid_replica_writer.h"
#include "internal.h"
#include "replica_format.h"
#include "replica_publish.h"

/* A set of strings (open addressing, linear probing). */
struct strset {
	char **slot;
	size_t cap, n;
};

/* A set of u32 (stored + 1 so that 0 marks an empty slot). */
struct idset {
	uint64_t *slot;
	size_t cap, n;
};

/* A growable byte buffer for building one value. */
struct bytes {
	unsigned char *p;
	size_t len, cap;
};

struct member_pair {
	char *member;
	uint32_t gid;
};

struct agentid_replica_writer {
	char *path, *tmp;         /* path: the file renamed over (a delta's
	                           * is PATH.delta) */
	char *delta_path;         /* base: the delta a new base retires */
	char *base_path;          /* the base's path (a delta's is beside) */
	bool delta;
	uint64_t gen, base_gen;
	uint32_t n_tombs;
	struct strset member_keys; /* delta: "m:" written */
	int fd;
	bool finished;            /* cdb_make_finish called */
	bool committed;
	struct cdb_make cm;
	uint64_t pos;             /* file position of the next record */
	struct agentid_replica_meta meta;
	char *nologin;
	uint32_t hdr_vlen;
	struct strset users, groups;
	struct idset uids, gids;
	/* the local accounts' (reserve_local): never written */
	struct strset local_users, local_groups;
	struct idset local_uids, local_gids;
	uint32_t *upos, *gpos;    /* enumeration lists */
	size_t n_users, n_groups, cap_users, cap_groups;
	struct member_pair *pairs;
	size_t n_pairs, cap_pairs;
	uint32_t n_member_keys;
	struct bytes val;
};

/* The writer's sets hash names with the library's one hash. */
static uint64_t
hash_str(const char *s)
{
	return agentid_fnv1a(s, strlen(s));
}

/* A new, empty slot array (*slot) when n + 1 entries would pass half load;
 * *slot stays NULL otherwise. */
static int
grow_cap(size_t n, size_t *cap, size_t elem, void **slot)
{
	size_t ncap;

	*slot = NULL;
	if ((n + 1) * 2 <= *cap)
		return 0;
	ncap = *cap == 0 ? 1024 : *cap * 2;
	if ((*slot = calloc(ncap, elem)) == NULL)
		return ENOMEM;
	*cap = ncap;
	return 0;
}

/* True when s is in the set; *at is its slot or the free slot for it. */
static bool
strset_find(const struct strset *set, const char *s, size_t *at)
{
	size_t i;

	if (set->cap == 0)
		return false;
	for (i = hash_str(s) & (set->cap - 1); set->slot[i] != NULL;
	    i = (i + 1) & (set->cap - 1))
		if (strcmp(set->slot[i], s) == 0) {
			*at = i;
			return true;
		}
	*at = i;
	return false;
}

/* Adds a copy of s; EEXIST if present. */
static int
strset_add(struct strset *set, const char *s)
{
	char **old = set->slot, *copy;
	size_t oldcap = set->cap, i, at = 0;
	void *nslot = NULL;
	int rc;

	if (strset_find(set, s, &at))
		return EEXIST;
	if ((rc = grow_cap(set->n, &set->cap, sizeof(char *), &nslot)) != 0)
		return rc;
	if (nslot != NULL) {
		set->slot = nslot;
		for (i = 0; i < oldcap; i++)
			if (old[i] != NULL) {
				strset_find(set, old[i], &at);
				set->slot[at] = old[i];
			}
		free(old);
		strset_find(set, s, &at);
	}
	if ((copy = strdup(s)) == NULL)
		return ENOMEM;
	set->slot[at] = copy;
	set->n++;
	return 0;
}

/* Frees the set and its strings. */
static void
strset_free(struct strset *set)
{
	size_t i;

	for (i = 0; i < set->cap; i++)
		free(set->slot[i]);
	free(set->slot);
}

/* True when id is in the set; *at as for strset_find. */
static bool
idset_find(const struct idset *set, uint32_t id, size_t *at)
{
	size_t i;

	if (set->cap == 0)
		return false;
	for (i = (id * 0x9e3779b97f4a7c15ull >> 20) & (set->cap - 1);
	    set->slot[i] != 0; i = (i + 1) & (set->cap - 1))
		if (set->slot[i] == (uint64_t)id + 1) {
			*at = i;
			return true;
		}
	*at = i;
	return false;
}

/* Adds id; EEXIST if present. */
static int
idset_add(struct idset *set, uint32_t id)
{
	uint64_t *old = set->slot;
	size_t oldcap = set->cap, i, at = 0;
	void *nslot = NULL;
	int rc;

	if (idset_find(set, id, &at))
		return EEXIST;
	if ((rc = grow_cap(set->n, &set->cap, sizeof(uint64_t), &nslot)) != 0)
		return rc;
	if (nslot != NULL) {
		set->slot = nslot;
		for (i = 0; i < oldcap; i++)
			if (old[i] != 0) {
				idset_find(set, (uint32_t)(old[i] - 1), &at);
				set->slot[at] = old[i];
			}
		free(old);
		idset_find(set, id, &at);
	}
	set->slot[at] = (uint64_t)id + 1;
	set->n++;
	return 0;
}

/* Appends n bytes to b. */
static int
put(struct bytes *b, const void *p, size_t n)
{
	if (b->cap - b->len < n) {
		size_t ncap = b->cap == 0 ? 256 : b->cap;
		unsigned char *np;

		while (ncap - b->len < n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL)
			return ENOMEM;
		b->p = np;
		b->cap = ncap;
	}
	if (n > 0)
		memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

/* Appends v as n little-endian bytes (n <= 8). */
static int
put_le(struct bytes *b, uint64_t v, size_t n)
{
	unsigned char le[8];
	size_t i;

	for (i = 0; i < n; i++)
		le[i] = (unsigned char)(v >> (8 * i) & 0xffu);
	return put(b, le, n);
}

/* Writes v little-endian into p (4 bytes). */
static void
set32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v & 0xffu);
	p[1] = (unsigned char)(v >> 8 & 0xffu);
	p[2] = (unsigned char)(v >> 16 & 0xffu);
	p[3] = (unsigned char)(v >> 24 & 0xffu);
}

/* Appends a u32 to a growable array. */
static int
push_u32(uint32_t **v, size_t *n, size_t *cap, uint32_t x)
{
	if (*n == *cap) {
		size_t ncap = *cap == 0 ? 1024 : *cap * 2;
		uint32_t *nv = realloc(*v, ncap * sizeof(**v));

		if (nv == NULL)
			return ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	(*v)[(*n)++] = x;
	return 0;
}

/* Adds a record; *pos (if not NULL) gets its file position. */
static int
add_record(struct agentid_replica_writer *w, const void *key, size_t klen,
    const void *val, size_t vlen, uint32_t *pos, struct agentid_error *err)
{
	uint64_t next = w->pos + 8 + klen + vlen;

	/* leave room below 4 GiB for the hash tables (16 bytes a record) */
	if (next > UINT32_MAX / 2)
		return agentid_seterr(err, EFBIG, "%s: replica larger than 2 GiB",
		    w->tmp);
	if (cdb_make_add(&w->cm, key, (unsigned)klen, val, (unsigned)vlen) != 0)
		return agentid_seterr(err, errno ? errno : EIO, "%s: write: %s",
		    w->tmp, strerror(errno));
	if (pos != NULL)
		*pos = (uint32_t)w->pos;
	w->pos = next;
	return 0;
}

/* Sets the record CRC (first 4 bytes of the value) over key and value. */
static void
seal(const void *key, size_t klen, struct bytes *val)
{
	uint32_t crc;

	crc = agentid_replica_crc32c(0, key, klen);
	crc = agentid_replica_crc32c(crc, val->p + 4, val->len - 4);
	set32(val->p, crc);
}

/* 0 when s may stand in a passwd/group field: no ':' nor control bytes. */
static int
field_ok(const char *what, const char *s, size_t max, struct agentid_error *err)
{
	const unsigned char *p;

	if (s == NULL)
		return 0;
	if (strlen(s) > max)
		return agentid_seterr(err, EINVAL, "%s longer than %zu bytes", what,
		    max);
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p == ':' || *p < 0x20 || *p == 0x7f)
			return agentid_seterr(err, EINVAL,
			    "%s contains ':' or a control character", what);
	return 0;
}

/* 0 when name may be a user, group or member name here. */
static int
name_ok(const char *name, struct agentid_error *err)
{
	int rc;

	if ((rc = agentid_name_valid(name, err)) != 0)
		return rc;
	if (strpbrk(name, ":, ") != NULL)
		return agentid_seterr(err, EINVAL,
		    "name \"%s\" contains ':', ',' or a space", name);
	return 0;
}

/* Length of an optional string. */
static size_t
optlen(const char *s)
{
	return s == NULL ? 0 : strlen(s);
}

/* 0 when id may be served: not root and at least min_uid (ERANGE), not
 * nobody's 65534 and not above 2^31-1, which is negative as a signed id_t
 * (EDOM). */
static int
id_ok(const struct agentid_replica_writer *w, uint32_t id)
{
	if (id == 0 || id < w->meta.min_uid)
		return ERANGE;
	if (id == AGENTID_REPLICA_NOBODY || id > AGENTID_REPLICA_MAX_ID)
		return EDOM;
	return 0;
}

/* Grows *buf for a retry of fgetpwent_r/fgetgrent_r after ERANGE. */
static int
grow_line(char **buf, size_t *len)
{
	char *nb;

	if (*len >= 1024 * 1024 || (nb = realloc(*buf, *len * 2)) == NULL)
		return ENOMEM;
	*buf = nb;
	*len *= 2;
	return 0;
}

/* Reads one files database (passwd when is_passwd, else group) at path
 * into names and ids, without NSS. */
static int
load_files(const char *path, bool is_passwd, struct strset *names,
    struct idset *ids, struct agentid_error *err)
{
	size_t len = 4096;
	char *buf = malloc(len);
	FILE *f = NULL;
	int rc, e;

	if (buf == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	if ((f = fopen(path, "re")) == NULL) {
		rc = agentid_seterr(err, errno, "%s: %s: local accounts unknown",
		    path, strerror(errno));
		goto out;
	}
	for (;;) {
		struct passwd pw, *pwp = NULL;
		struct group gr, *grp = NULL;
		const char *name;
		uint32_t id;

		if (is_passwd)
			e = fgetpwent_r(f, &pw, buf, len, &pwp);
		else
			e = fgetgrent_r(f, &gr, buf, len, &grp);
		if (e == ERANGE) {
			/* glibc put the stream back at the start of the line */
			if ((rc = grow_line(&buf, &len)) != 0) {
				rc = agentid_seterr(err, EBADMSG, "%s: a line longer than "
				    "1 MiB", path);
				goto out;
			}
			continue;
		}
		if (e == ENOENT || (e == 0 && pwp == NULL && grp == NULL))
			break;
		if (e != 0) {
			rc = agentid_seterr(err, e, "%s: %s", path, strerror(e));
			goto out;
		}
		name = is_passwd ? pw.pw_name : gr.gr_name;
		id = is_passwd ? (uint32_t)pw.pw_uid : (uint32_t)gr.gr_gid;
		/* a name or id listed twice locally is reserved once */
		if (((rc = strset_add(names, name)) != 0 && rc != EEXIST) ||
		    ((rc = idset_add(ids, id)) != 0 && rc != EEXIST)) {
			rc = agentid_seterr(err, rc, "out of memory");
			goto out;
		}
	}
	if (ferror(f)) {
		rc = agentid_seterr(err, EIO, "%s: read error", path);
		goto out;
	}
	rc = 0;
out:
	if (f != NULL)
		fclose(f);
	free(buf);
	return rc;
}

/* Reserves the local accounts' names and ids. */
int
agentid_replica_writer_reserve_local(struct agentid_replica_writer *w,
    const char *passwd_path, const char *group_path,
    struct agentid_error *err)
{
	int rc;

	if ((rc = load_files(passwd_path, true, &w->local_users,
	    &w->local_uids, err)) != 0 ||
	    (rc = load_files(group_path, false, &w->local_groups,
	    &w->local_gids, err)) != 0)
		return rc;
	return 0;
}

/* Adds the key, then the record, of one user. */
int
agentid_replica_write_user(struct agentid_replica_writer *w,
    const struct agentid_replica_entry *e, struct agentid_error *err)
{
	unsigned char key[AGENTID_MAX_NAME + 2], ukey[5];
	size_t klen, at;
	uint32_t pos;
	int rc;

	if ((rc = name_ok(e->name, err)) != 0)
		return rc;
	if ((rc = field_ok("gecos", e->gecos, AGENTID_REPLICA_MAX_FIELD, err)) != 0 ||
	    (rc = field_ok("home", e->home, AGENTID_REPLICA_MAX_FIELD, err)) != 0 ||
	    (rc = field_ok("shell", e->shell, AGENTID_REPLICA_MAX_FIELD, err)) != 0) {
		if (err != NULL) {
			char why[sizeof(err->msg)];

			memcpy(why, err->msg, sizeof(why));
			agentid_seterr(err, rc, "%s: %s", e->name, why);
		}
		return rc;
	}
	if (id_ok(w, e->uid) == ERANGE || id_ok(w, e->gid) == ERANGE)
		return agentid_seterr(err, ERANGE,
		    "%s: uidNumber %u or gidNumber %u below min_uid %u", e->name,
		    e->uid, e->gid, w->meta.min_uid);
	if (id_ok(w, e->uid) != 0 || id_ok(w, e->gid) != 0)
		return agentid_seterr(err, ERANGE, "%s: uidNumber %u or gidNumber "
		    "%u is 65534 (nobody) or above 2147483647", e->name, e->uid,
		    e->gid);
	if (strset_find(&w->local_users, e->name, &at))
		return agentid_seterr(err, EADDRINUSE, "%s: name of a local user "
		    "in /etc/passwd", e->name);
	if (idset_find(&w->local_uids, e->uid, &at))
		return agentid_seterr(err, EADDRINUSE, "%s: uidNumber %u of a local "
		    "user in /etc/passwd", e->name, e->uid);
	if (idset_find(&w->local_gids, e->gid, &at))
		return agentid_seterr(err, EADDRINUSE, "%s: gidNumber %u of a local "
		    "group in /etc/group", e->name, e->gid);
	if ((unsigned)e->state >= AGENTID_REPLICA_STATE_MAX)
		return agentid_seterr(err, EINVAL, "%s: bad state", e->name);
	if (strset_find(&w->users, e->name, &at))
		return agentid_seterr(err, EEXIST, "%s: duplicate user name",
		    e->name);
	if (idset_find(&w->uids, e->uid, &at))
		return agentid_seterr(err, EEXIST, "%s: duplicate uidNumber %u",
		    e->name, e->uid);
	klen = strlen(e->name) + 2;
	key[0] = 'n';
	key[1] = ':';
	memcpy(key + 2, e->name, klen - 2);
	w->val.len = 0;
	if ((rc = put_le(&w->val, 0, 4)) != 0 ||
	    (rc = put_le(&w->val, e->uid, 4)) != 0 ||
	    (rc = put_le(&w->val, e->gid, 4)) != 0 ||
	    (rc = put_le(&w->val, (uint64_t)e->state, 1)) != 0 ||
	    (rc = put_le(&w->val, e->has_not_before ? 1 : 0, 1)) != 0 ||
	    (rc = put_le(&w->val, 0, 2)) != 0 ||
	    (rc = put_le(&w->val, (uint64_t)(e->has_not_before ? e->not_before : 0), 8)) != 0 ||
	    (rc = put_le(&w->val, (uint64_t)e->not_after, 8)) != 0 ||
	    (rc = put_le(&w->val, optlen(e->gecos), 2)) != 0 ||
	    (rc = put_le(&w->val, optlen(e->home), 2)) != 0 ||
	    (rc = put_le(&w->val, optlen(e->shell), 2)) != 0 ||
	    (rc = put_le(&w->val, 0, 2)) != 0 ||
	    (rc = put(&w->val, e->gecos, optlen(e->gecos))) != 0 ||
	    (rc = put(&w->val, e->home, optlen(e->home))) != 0 ||
	    (rc = put(&w->val, e->shell, optlen(e->shell))) != 0)
		return agentid_seterr(err, rc, "out of memory");
	seal(key, klen, &w->val);
	if ((rc = add_record(w, key, klen, w->val.p, w->val.len, &pos, err)) != 0)
		return rc;
	ukey[0] = 'u';
	set32(ukey + 1, e->uid);
	set32(w->val.p, pos);
	if ((rc = add_record(w, ukey, 5, w->val.p, 4, NULL, err)) != 0)
		return rc;
	if ((rc = strset_add(&w->users, e->name)) != 0 ||
	    (rc = idset_add(&w->uids, e->uid)) != 0 ||
	    (rc = push_u32(&w->upos, &w->n_users, &w->cap_users, pos)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	return 0;
}

/* Adds one group and remembers its members for the initgroups index. */
int
agentid_replica_write_group(struct agentid_replica_writer *w,
    const char *name, uint32_t gid, char *const *members, size_t n_members,
    struct agentid_error *err)
{
	unsigned char key[AGENTID_MAX_NAME + 2], gkey[5];
	size_t klen, i, at;
	uint32_t pos;
	int rc;

	if ((rc = name_ok(name, err)) != 0)
		return rc;
	for (i = 0; i < n_members; i++)
		if ((rc = name_ok(members[i], err)) != 0)
			return agentid_seterr(err, rc, "group %s: bad member \"%s\"",
			    name, members[i]);
	if (n_members > AGENTID_REPLICA_MAX_MEMBERS)
		return agentid_seterr(err, EINVAL, "group %s: more than %u members",
		    name, AGENTID_REPLICA_MAX_MEMBERS);
	if (id_ok(w, gid) == ERANGE)
		return agentid_seterr(err, ERANGE,
		    "group %s: gidNumber %u below min_uid %u", name, gid,
		    w->meta.min_uid);
	if (id_ok(w, gid) != 0)
		return agentid_seterr(err, ERANGE, "group %s: gidNumber %u is 65534 "
		    "(nogroup) or above 2147483647", name, gid);
	if (strset_find(&w->local_groups, name, &at))
		return agentid_seterr(err, EADDRINUSE, "group %s: name of a local "
		    "group in /etc/group", name);
	if (idset_find(&w->local_gids, gid, &at))
		return agentid_seterr(err, EADDRINUSE, "group %s: gidNumber %u of a "
		    "local group in /etc/group", name, gid);
	if (strset_find(&w->groups, name, &at))
		return agentid_seterr(err, EEXIST, "%s: duplicate group name", name);
	if (idset_find(&w->gids, gid, &at))
		return agentid_seterr(err, EEXIST, "%s: duplicate gidNumber %u",
		    name, gid);
	klen = strlen(name) + 2;
	key[0] = 'g';
	key[1] = ':';
	memcpy(key + 2, name, klen - 2);
	w->val.len = 0;
	if ((rc = put_le(&w->val, 0, 4)) != 0 ||
	    (rc = put_le(&w->val, gid, 4)) != 0 ||
	    (rc = put_le(&w->val, n_members, 4)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	for (i = 0; i < n_members; i++)
		if ((rc = put_le(&w->val, strlen(members[i]), 2)) != 0 ||
		    (rc = put(&w->val, members[i], strlen(members[i]))) != 0)
			return agentid_seterr(err, rc, "out of memory");
	seal(key, klen, &w->val);
	if ((rc = add_record(w, key, klen, w->val.p, w->val.len, &pos, err)) != 0)
		return rc;
	gkey[0] = 'G';
	set32(gkey + 1, gid);
	set32(w->val.p, pos);
	if ((rc = add_record(w, gkey, 5, w->val.p, 4, NULL, err)) != 0)
		return rc;
	if ((rc = strset_add(&w->groups, name)) != 0 ||
	    (rc = idset_add(&w->gids, gid)) != 0 ||
	    (rc = push_u32(&w->gpos, &w->n_groups, &w->cap_groups, pos)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	/* a delta's member lists come whole from its caller */
	for (i = 0; i < n_members && !w->delta; i++) {
		if (w->n_pairs == w->cap_pairs) {
			size_t ncap = w->cap_pairs == 0 ? 1024 : w->cap_pairs * 2;
			struct member_pair *np = realloc(w->pairs, ncap * sizeof(*np));

			if (np == NULL)
				return agentid_seterr(err, ENOMEM, "out of memory");
			w->pairs = np;
			w->cap_pairs = ncap;
		}
		if ((w->pairs[w->n_pairs].member = strdup(members[i])) == NULL)
			return agentid_seterr(err, ENOMEM, "out of memory");
		w->pairs[w->n_pairs++].gid = gid;
	}
	return 0;
}

/* Orders member pairs by member, then gid. */
static int
pair_cmp(const void *a, const void *b)
{
	const struct member_pair *x = a, *y = b;
	int c = strcmp(x->member, y->member);

	if (c != 0)
		return c;
	return x->gid < y->gid ? -1 : x->gid > y->gid;
}

/* Writes "m:NAME" for each name some group lists, a user of the replica
 * or not: a delta then only replaces the lists of the members of the
 * groups it changes, and an agent published later finds its list there.
 * The NSS module serves a list only to a user of the replica. */
static int
write_member_index(struct agentid_replica_writer *w, struct agentid_error *err)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	size_t i, j, at, klen;
	uint32_t n, last = 0;
	int rc;

	if (w->n_pairs > 1)
		qsort(w->pairs, w->n_pairs, sizeof(*w->pairs), pair_cmp);
	for (i = 0; i < w->n_pairs; i = j) {
		for (j = i + 1; j < w->n_pairs &&
		    strcmp(w->pairs[j].member, w->pairs[i].member) == 0; j++)
			;
		w->val.len = 0;
		if ((rc = put_le(&w->val, 0, 8)) != 0)
			return agentid_seterr(err, rc, "out of memory");
		for (n = 0, at = i; at < j; at++) {
			if (n > 0 && w->pairs[at].gid == last)
				continue;
			last = w->pairs[at].gid;
			if ((rc = put_le(&w->val, last, 4)) != 0)
				return agentid_seterr(err, rc, "out of memory");
			n++;
		}
		set32(w->val.p + 4, n);
		klen = strlen(w->pairs[i].member) + 2;
		key[0] = 'm';
		key[1] = ':';
		memcpy(key + 2, w->pairs[i].member, klen - 2);
		seal(key, klen, &w->val);
		if ((rc = add_record(w, key, klen, w->val.p, w->val.len, NULL,
		    err)) != 0)
			return rc;
		w->n_member_keys++;
	}
	return 0;
}

/* Writes an enumeration list of positions under key. */
static int
write_list(struct agentid_replica_writer *w, const char *key,
    const uint32_t *pos, size_t n, struct agentid_error *err)
{
	size_t i;
	int rc;

	w->val.len = 0;
	for (i = 0; i < n; i++)
		if ((rc = put_le(&w->val, pos[i], 4)) != 0)
			return agentid_seterr(err, rc, "out of memory");
	return add_record(w, key, 2, w->val.p, w->val.len, NULL, err);
}

/* Builds the header value into w->val (crc field computed last). */
static int
build_header(struct agentid_replica_writer *w, uint64_t size, uint32_t data_crc)
{
	size_t slen = strlen(w->nologin);
	uint32_t crc;
	int rc;

	w->val.len = 0;
	if ((rc = put(&w->val, AGENTID_REPLICA_MAGIC, 8)) != 0 ||
	    (rc = put_le(&w->val, AGENTID_REPLICA_VERSION, 4)) != 0 ||
	    (rc = put_le(&w->val, 0, 4)) != 0 ||
	    (rc = put_le(&w->val, (uint64_t)w->meta.generated, 8)) != 0 ||
	    (rc = put_le(&w->val, size, 8)) != 0 ||
	    (rc = put_le(&w->val, data_crc, 4)) != 0 ||
	    (rc = put_le(&w->val, w->n_users, 4)) != 0 ||
	    (rc = put_le(&w->val, w->n_groups, 4)) != 0 ||
	    (rc = put_le(&w->val, w->n_member_keys, 4)) != 0 ||
	    (rc = put_le(&w->val, w->meta.min_uid, 4)) != 0 ||
	    (rc = put_le(&w->val, w->delta ? AGENTID_REPLICA_FLAG_DELTA : 0,
	    4)) != 0 ||
	    (rc = put_le(&w->val, (uint64_t)w->meta.clock_skew, 8)) != 0 ||
	    (rc = put_le(&w->val, w->gen, 8)) != 0 ||
	    (rc = put_le(&w->val, w->base_gen, 8)) != 0 ||
	    (rc = put_le(&w->val, w->n_tombs, 4)) != 0 ||
	    (rc = put_le(&w->val, slen, 2)) != 0 ||
	    (rc = put(&w->val, w->nologin, slen)) != 0)
		return rc;
	crc = agentid_replica_crc32c(0, w->val.p, w->val.len);
	set32(w->val.p + 12, crc);
	return 0;
}

/* CRC of the file's bytes [from, to), read back from disk. */
static int
file_crc(int fd, uint64_t from, uint64_t to, uint32_t *crc)
{
	unsigned char buf[65536];

	while (from < to) {
		size_t want = to - from < sizeof(buf) ? (size_t)(to - from) : sizeof(buf);
		ssize_t got = pread(fd, buf, want, (off_t)from);

		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			return got < 0 ? errno : EIO;
		*crc = agentid_replica_crc32c(*crc, buf, (size_t)got);
		from += (uint64_t)got;
	}
	return 0;
}

/* Finishes the cdb and writes the real header over the placeholder. */
static int
finish_file(struct agentid_replica_writer *w, struct agentid_error *err)
{
	uint64_t hdr_end = AGENTID_REPLICA_HEADER_VAL + w->hdr_vlen;
	uint32_t crc = 0;
	struct stat st;
	int rc;

	w->finished = true;
	if (cdb_make_finish(&w->cm) != 0 || fstat(w->fd, &st) != 0)
		return agentid_seterr(err, errno ? errno : EIO, "%s: %s", w->tmp,
		    strerror(errno));
	if ((rc = file_crc(w->fd, 0, AGENTID_REPLICA_HEADER_POS, &crc)) != 0 ||
	    (rc = file_crc(w->fd, hdr_end, (uint64_t)st.st_size, &crc)) != 0)
		return agentid_seterr(err, rc, "%s: read back: %s", w->tmp,
		    strerror(rc));
	if ((rc = build_header(w, (uint64_t)st.st_size, crc)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	if (w->val.len != w->hdr_vlen ||
	    pwrite(w->fd, w->val.p, w->val.len, AGENTID_REPLICA_HEADER_VAL) !=
	    (ssize_t)w->val.len)
		return agentid_seterr(err, EIO, "%s: header write failed", w->tmp);
	if (fsync(w->fd) != 0)
		return agentid_seterr(err, errno, "%s: fsync: %s", w->tmp,
		    strerror(errno));
	return 0;
}

/* Adds a tombstone for a user (is_group false) or group name: the base's
 * entry of that name is no longer served. Delta only. */
int
agentid_replica_write_tombstone(struct agentid_replica_writer *w,
    bool is_group, const char *name, struct agentid_error *err)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	struct strset *set = is_group ? &w->groups : &w->users;
	size_t klen, at;
	int rc;

	if (!w->delta)
		return agentid_seterr(err, EINVAL, "a tombstone in a base");
	if (name == NULL || strlen(name) == 0 || strlen(name) > AGENTID_MAX_NAME)
		return agentid_seterr(err, EINVAL, "tombstone: bad name");
	if (strset_find(set, name, &at))
		return agentid_seterr(err, EEXIST, "%s: already in the delta", name);
	klen = strlen(name) + 2;
	key[0] = is_group ? 'g' : 'n';
	key[1] = ':';
	memcpy(key + 2, name, klen - 2);
	w->val.len = 0;
	if ((rc = put_le(&w->val, 0, 4)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	seal(key, klen, &w->val);
	if ((rc = add_record(w, key, klen, w->val.p, 4, NULL, err)) != 0)
		return rc;
	if ((rc = strset_add(set, name)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	w->n_tombs++;
	return 0;
}

/* Adds the whole list of groups that list member, replacing the base's.
 * Delta only. */
int
agentid_replica_write_members(struct agentid_replica_writer *w,
    const char *member, const uint32_t *gids, size_t n,
    struct agentid_error *err)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	size_t klen, i, at;
	int rc;

	if (!w->delta)
		return agentid_seterr(err, EINVAL, "a member list in a base");
	if ((rc = name_ok(member, err)) != 0)
		return rc;
	if (n > AGENTID_REPLICA_MAX_MEMBERS)
		return agentid_seterr(err, EINVAL, "%s: in too many groups", member);
	if (strset_find(&w->member_keys, member, &at))
		return agentid_seterr(err, EEXIST, "%s: member list twice", member);
	klen = strlen(member) + 2;
	key[0] = 'm';
	key[1] = ':';
	memcpy(key + 2, member, klen - 2);
	w->val.len = 0;
	if ((rc = put_le(&w->val, 0, 4)) != 0 ||
	    (rc = put_le(&w->val, n, 4)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	for (i = 0; i < n; i++)
		if ((rc = put_le(&w->val, gids[i], 4)) != 0)
			return agentid_seterr(err, rc, "out of memory");
	seal(key, klen, &w->val);
	if ((rc = add_record(w, key, klen, w->val.p, w->val.len, NULL, err)) != 0)
		return rc;
	if ((rc = strset_add(&w->member_keys, member)) != 0)
		return agentid_seterr(err, rc, "out of memory");
	w->n_member_keys++;
	return 0;
}

/* The generation of the file being written. */
uint64_t
agentid_replica_writer_generation(const struct agentid_replica_writer *w)
{
	return w->gen;
}

/* Records written so far (users, groups, tombstones, member lists). */
size_t
agentid_replica_writer_count(const struct agentid_replica_writer *w)
{
	return w->n_users + w->n_groups + w->n_tombs + w->n_member_keys;
}

/* Indexes, header, verification, fsync, rename; a base then retires the
 * delta beside it; a delta with base_from then renames base_from over its
 * base. */
static int
commit(struct agentid_replica_writer *w, const char *base_from,
    struct agentid_error *err)
{
	struct agentid_replica *r = NULL;
	char why[400];
	int rc;

	if (w->committed || w->fd < 0)
		return agentid_seterr(err, EINVAL, "replica already committed");
	if ((!w->delta && (rc = write_member_index(w, err)) != 0) ||
	    (rc = write_list(w, "@p", w->upos, w->n_users, err)) != 0 ||
	    (rc = write_list(w, "@g", w->gpos, w->n_groups, err)) != 0 ||
	    (rc = finish_file(w, err)) != 0)
		goto out;
	if (close(w->fd) != 0) {
		w->fd = -1;
		rc = agentid_seterr(err, errno, "%s: close: %s", w->tmp,
		    strerror(errno));
		goto out;
	}
	w->fd = -1;
	/* the checks every reader makes, ownership and modes included: a
	 * replica NSS would refuse is not put in place */
	if ((rc = agentid_replica_open_file(w->tmp, w->delta, &r, why,
	    sizeof(why))) != 0) {
		rc = agentid_seterr(err, rc == EPERM ? EPERM : EIO,
		    "%s: not put in place, readers would refuse it: %s", w->path,
		    why[0] != '\0' ? why : strerror(rc));
		goto out;
	}
	if ((rc = agentid_replica_verify(r)) != 0) {
		rc = agentid_seterr(err, EIO, "%s: written replica does not verify",
		    w->tmp);
		goto out;
	}
	if (rename(w->tmp, w->path) != 0) {
		rc = agentid_seterr(err, errno, "rename %s: %s", w->path,
		    strerror(errno));
		goto out;
	}
	w->committed = true;
	/* the delta for the new base is in place: readers that open now
	 * retry (a delta for a newer base) until the base follows */
	if (base_from != NULL && rename(base_from, w->base_path) != 0) {
		rc = agentid_seterr(err, errno, "rename %s: %s", w->base_path,
		    strerror(errno));
		goto out;
	}
	/* the new base holds everything: the delta of the old one goes (a
	 * reader that still sees it ignores it, its base is older) */
	if (!w->delta && unlink(w->delta_path) != 0 && errno != ENOENT) {
		rc = agentid_seterr(err, errno, "%s: %s", w->delta_path,
		    strerror(errno));
		goto out;
	}
	if ((rc = agentid_fsync_parent(w->path)) != 0)
		rc = agentid_seterr(err, rc, "%s: fsync of directory: %s", w->path,
		    strerror(rc));
out:
	agentid_replica_close(r);
	return rc;
}

int
agentid_replica_commit(struct agentid_replica_writer *w,
    struct agentid_error *err)
{
	return commit(w, NULL, err);
}

/* A delta for the base at base_from, then that base: see
 * agentid_replica_writer.h. */
int
agentid_replica_commit_with_base(struct agentid_replica_writer *w,
    const char *base_from, struct agentid_error *err)
{
	if (!w->delta)
		return agentid_seterr(err, EINVAL, "only a delta brings its base");
	return commit(w, base_from, err);
}

/* The largest generation of the files at path and path.delta (0 when
 * neither can be read). */
static uint64_t
generation_on_disk(const char *base, const char *delta)
{
	struct agentid_replica *r = NULL;
	const struct agentid_replica_info *i;
	uint64_t g = 0;

	if (agentid_replica_open_file(base, false, &r, NULL, 0) == 0) {
		g = agentid_replica_info(r)->generation;
		agentid_replica_close(r);
	}
	if (agentid_replica_open_file(delta, true, &r, NULL, 0) == 0) {
		i = agentid_replica_info(r);
		if (i->generation > g)
			g = i->generation;
		agentid_replica_close(r);
	}
	return g;
}

/* Nanoseconds of the real-time clock: a generation that grows across
 * writers and restarts even when the files cannot be read. */
static uint64_t
clock_gen(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Opens the temporary file and writes the placeholder header. */
static int
writer_open(const char *path, bool delta, uint64_t base_gen,
    const struct agentid_replica_meta *meta,
    struct agentid_replica_writer **out, struct agentid_error *err)
{
	struct agentid_replica_writer *w;
	const char *shell = meta->nologin_shell != NULL ? meta->nologin_shell :
	    "/usr/sbin/nologin";
	uint64_t disk;
	int rc;

	*out = NULL;
	if ((rc = field_ok("nologin_shell", shell, AGENTID_REPLICA_MAX_FIELD,
	    err)) != 0)
		return rc;
	if (meta->clock_skew < 0 || meta->clock_skew > 86400 * 365)
		return agentid_seterr(err, EINVAL, "clock_skew out of range");
	if (delta && base_gen == 0)
		return agentid_seterr(err, EINVAL, "a delta needs a base generation");
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	w->fd = -1;
	w->meta = *meta;
	w->delta = delta;
	if ((w->nologin = strdup(shell)) == NULL ||
	    (w->base_path = strdup(path)) == NULL ||
	    asprintf(&w->delta_path, "%s" AGENTID_REPLICA_DELTA_SUFFIX, path) < 0) {
		w->delta_path = NULL;
		rc = agentid_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	if ((w->path = strdup(delta ? w->delta_path : path)) == NULL ||
	    asprintf(&w->tmp, "%s.tmp.XXXXXX", w->path) < 0) {
		w->tmp = NULL;
		rc = agentid_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	/* a new base's generation passes every file there: the old delta is
	 * then ignored even before it is removed */
	disk = generation_on_disk(path, w->delta_path);
	w->gen = meta->generation != 0 ? meta->generation : clock_gen();
	if (meta->generation == 0 && w->gen <= disk)
		w->gen = disk + 1;
	if (delta && w->gen <= base_gen)
		w->gen = base_gen + 1;
	w->base_gen = delta ? base_gen : w->gen;
	w->meta.nologin_shell = w->nologin;
	if ((w->fd = mkostemp(w->tmp, O_CLOEXEC)) < 0) {
		rc = agentid_seterr(err, errno, "%s: %s", w->tmp, strerror(errno));
		free(w->tmp);
		w->tmp = NULL;
		goto out;
	}
	w->finished = true; /* until cdb_make_start succeeds */
	if (fchmod(w->fd, 0644) != 0 || cdb_make_start(&w->cm, w->fd) != 0) {
		rc = agentid_seterr(err, errno, "%s: %s", w->tmp, strerror(errno));
		goto out;
	}
	w->finished = false;
	w->pos = AGENTID_REPLICA_HEADER_POS;
	if ((rc = build_header(w, 0, 0)) != 0) {
		rc = agentid_seterr(err, rc, "out of memory");
		goto out;
	}
	w->hdr_vlen = (uint32_t)w->val.len;
	if ((rc = add_record(w, "H", 1, w->val.p, w->val.len, NULL, err)) != 0)
		goto out;
	*out = w;
	w = NULL;
out:
	agentid_replica_writer_free(w);
	return rc;
}

/* A new base. */
int
agentid_replica_writer_new(const char *path,
    const struct agentid_replica_meta *meta,
    struct agentid_replica_writer **out, struct agentid_error *err)
{
	return writer_open(path, false, 0, meta, out, err);
}

/* A new delta for the base of generation base_gen at path. */
int
agentid_replica_writer_new_delta(const char *path,
    const struct agentid_replica_meta *meta, uint64_t base_gen,
    struct agentid_replica_writer **out, struct agentid_error *err)
{
	return writer_open(path, true, base_gen, meta, out, err);
}

/* Frees w, removing the temporary file if it was not renamed. */
void
agentid_replica_writer_free(struct agentid_replica_writer *w)
{
	size_t i;

	if (w == NULL)
		return;
	if (w->fd >= 0) {
		/* frees tinycdb's record lists (it has no other way) */
		if (!w->finished)
			(void)cdb_make_finish(&w->cm);
		close(w->fd);
	}
	if (!w->committed && w->tmp != NULL)
		unlink(w->tmp);
	for (i = 0; i < w->n_pairs; i++)
		free(w->pairs[i].member);
	free(w->pairs);
	strset_free(&w->users);
	strset_free(&w->groups);
	strset_free(&w->local_users);
	strset_free(&w->local_groups);
	strset_free(&w->member_keys);
	free(w->delta_path);
	free(w->base_path);
	free(w->uids.slot);
	free(w->gids.slot);
	free(w->local_uids.slot);
	free(w->local_gids.slot);
	free(w->upos);
	free(w->gpos);
	free(w->val.p);
	free(w->nologin);
	free(w->tmp);
	free(w->path);
	free(w);
}
