/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * records_read.c - reads the records replica (records.h): a base and a
 * delta mapped read-only as one consistent pair. The mapped bytes are
 * untrusted: tinycdb checks its own positions, and every value here is read
 * through a bounds-checked cursor and its CRC checked before use.
 */
#include "config.h"

#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "internal.h"
#include "records.h"

#define HEADER_LEN 44u
#define OPEN_TRIES 8 /* base/delta pairs tried before giving up (EAGAIN) */

struct records_file {
	struct cdb cdb;
	bool open;
	unsigned kind;
	uint64_t generation, base_generation;
	uint32_t n_records, n_tombs;
};

struct agentid_records {
	struct records_file base, delta; /* delta.open false: no delta */
};

/* A bounds-checked cursor over one value. */
struct cur {
	const unsigned char *p;
	size_t len, off;
};

static uint32_t
le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static int
get_u32(struct cur *c, uint32_t *v)
{
	if (c->len - c->off < 4)
		return EBADMSG;
	*v = le32(c->p + c->off);
	c->off += 4;
	return 0;
}

static int
get_u64(struct cur *c, uint64_t *v)
{
	uint32_t lo, hi;
	int r;

	if ((r = get_u32(c, &lo)) != 0 || (r = get_u32(c, &hi)) != 0)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* A string: absent (NULL) or a malloc'd copy with no NUL inside. */
static int
get_str(struct cur *c, char **out)
{
	uint32_t n;
	int r;

	*out = NULL;
	if ((r = get_u32(c, &n)) != 0)
		return r;
	if (n == UINT32_MAX)
		return 0;
	if (n > AGENTID_RECORDS_MAX_STR || c->len - c->off < n ||
	    memchr(c->p + c->off, '\0', n) != NULL)
		return EBADMSG;
	if ((*out = malloc((size_t)n + 1)) == NULL)
		return ENOMEM;
	memcpy(*out, c->p + c->off, n);
	(*out)[n] = '\0';
	c->off += n;
	return 0;
}

/* A vector of present strings (NULL-terminated, never NULL itself when
 * count > 0). */
static int
get_strv(struct cur *c, char ***v, size_t *n)
{
	uint32_t count, i;
	char *s;
	int r;

	*v = NULL;
	*n = 0;
	if ((r = get_u32(c, &count)) != 0)
		return r;
	/* every string takes at least 4 bytes: a huge count is refused
	 * before anything is allocated */
	if (count > AGENTID_RECORDS_MAX_VALUES ||
	    (size_t)count * 4 > c->len - c->off)
		return EBADMSG;
	for (i = 0; i < count; i++) {
		if ((r = get_str(c, &s)) != 0)
			return r;
		if (s == NULL)
			return EBADMSG;
		r = agentid_strv_add(v, n, s);
		free(s);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Frees what a stored entry holds and zeroes it. */
void
agentid_stored_clear(struct agentid_stored *s)
{
	agentid_record_clear(&s->rec);
	agentid_strv_free(s->uids);
	free(s->group_name);
	agentid_strv_free(s->members);
	memset(s, 0, sizeof(*s));
}

/* Decodes an entry value into a zeroed *s; EBADMSG if anything is off. */
static int
decode(const unsigned char *p, size_t len, struct agentid_stored *s)
{
	struct cur c = { p, len, 0 };
	struct agentid_record *r = &s->rec;
	uint32_t crc, st;
	uint64_t nb, na;
	int rc;

	if ((rc = get_u32(&c, &crc)) != 0 ||
	    agentid_replica_crc32c(0, p + 4, len - 4) != crc ||
	    (rc = get_u32(&c, &s->flags)) != 0)
		return EBADMSG;
	if (s->flags & AGENTID_STORED_TOMBSTONE)
		return c.off == len ? 0 : EBADMSG;
	if ((rc = get_u32(&c, &st)) != 0 || (st & 0xff) > AGENTID_STATUS_REVOKED ||
	    (rc = get_u64(&c, &nb)) != 0 || (rc = get_u64(&c, &na)) != 0 ||
	    (rc = get_u32(&c, &r->uid_number)) != 0 ||
	    (rc = get_u32(&c, &r->gid_number)) != 0 ||
	    (rc = get_str(&c, &r->dn)) != 0 ||
	    (rc = get_str(&c, &r->owner_dn)) != 0 ||
	    (rc = get_str(&c, &r->status_text)) != 0 ||
	    (rc = get_str(&c, &r->home)) != 0 ||
	    (rc = get_str(&c, &r->shell)) != 0 ||
	    (rc = get_str(&c, &r->gecos)) != 0 ||
	    (rc = get_str(&c, &r->description)) != 0 ||
	    (rc = get_str(&c, &s->group_name)) != 0 ||
	    (rc = get_strv(&c, &s->uids, &s->n_uids)) != 0 ||
	    (rc = get_strv(&c, &r->scope, &r->n_scope)) != 0 ||
	    (rc = get_strv(&c, &r->fingerprints, &r->n_fingerprints)) != 0 ||
	    (rc = get_strv(&c, &s->members, &s->n_members)) != 0)
		goto bad;
	if (c.off != len || r->dn == NULL) {
		rc = EBADMSG;
		goto bad;
	}
	r->status = (enum agentid_status)(st & 0xff);
	r->not_before = (int64_t)nb;
	r->not_after = (int64_t)na;
	r->is_agent = (s->flags & AGENTID_STORED_IS_AGENT) != 0;
	r->ambiguous = (s->flags & AGENTID_STORED_AMBIGUOUS) != 0;
	r->has_not_before = (s->flags & AGENTID_STORED_HAS_NB) != 0;
	r->has_not_after = (s->flags & AGENTID_STORED_HAS_NA) != 0;
	r->has_posix = (s->flags & AGENTID_STORED_HAS_POSIX) != 0;
	r->owner_active = true;
	if (s->n_uids > 0 && (r->uid = strdup(s->uids[0])) == NULL) {
		rc = ENOMEM;
		goto bad;
	}
	return 0;
bad:
	agentid_stored_clear(s);
	return rc == ENOMEM ? ENOMEM : EBADMSG;
}

/* The companion path of replica: see records.h. */
char *
agentid_records_path(const char *replica, const char *suffix)
{
	size_t n = strlen(replica);
	char *p;

	if (n > 4 && strcmp(replica + n - 4, ".cdb") == 0)
		n -= 4;
	if ((p = malloc(n + strlen(suffix) + 1)) == NULL)
		return NULL;
	memcpy(p, replica, n);
	strcpy(p + n, suffix);
	return p;
}

/* Maps path and checks its header. */
static int
file_open(const char *path, struct records_file *f)
{
	struct cdb c;
	struct cur cur;
	struct stat st;
	const unsigned char *v;
	char why[256];
	unsigned vlen;
	int fd, r;

	memset(f, 0, sizeof(*f));
	/* the replica's rules: root or agentid writes it, nobody else */
	if ((r = agentid_replica_open_trusted(path, &fd, &st, why,
	    sizeof(why))) != 0)
		return r;
	r = cdb_init(&f->cdb, fd);
	close(fd); /* the mapping outlives the descriptor */
	if (r != 0)
		return EBADMSG;
	f->open = true;
	c = f->cdb;
	if (cdb_find(&c, "H", 1) <= 0 || (vlen = cdb_datalen(&c)) != HEADER_LEN ||
	    (v = cdb_get(&c, vlen, cdb_datapos(&c))) == NULL ||
	    memcmp(v, AGENTID_RECORDS_MAGIC, 8) != 0 ||
	    le32(v + 40) != agentid_replica_crc32c(0, v, 40))
		goto bad;
	cur.p = v;
	cur.len = vlen;
	cur.off = 8;
	{
		uint32_t version, kind;

		if (get_u32(&cur, &version) != 0 || version != AGENTID_RECORDS_VERSION ||
		    get_u32(&cur, &kind) != 0 || kind > 1 ||
		    get_u64(&cur, &f->generation) != 0 ||
		    get_u64(&cur, &f->base_generation) != 0 ||
		    get_u32(&cur, &f->n_records) != 0 ||
		    get_u32(&cur, &f->n_tombs) != 0)
			goto bad;
		f->kind = kind;
	}
	return 0;
bad:
	cdb_free(&f->cdb);
	f->open = false;
	return EBADMSG;
}

static void
file_close(struct records_file *f)
{
	if (f->open)
		cdb_free(&f->cdb);
	f->open = false;
}

/* Opens a consistent base + delta pair: see records.h. */
int
agentid_records_open(const char *replica, struct agentid_records **out)
{
	struct agentid_records *r;
	char *bpath = NULL, *dpath = NULL;
	int tries, rc = ENOMEM;

	*out = NULL;
	if (replica == NULL)
		replica = AGENTID_DEFAULT_REPLICA;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (bpath = agentid_records_path(replica, ".records")) == NULL ||
	    (dpath = agentid_records_path(replica, ".records.delta")) == NULL)
		goto out;
	for (tries = 0; tries < OPEN_TRIES; tries++) {
		if (tries >= 2) {
			/* the writer is between its two renames (delta, then
			 * base): give it the CPU rather than fail */
			struct timespec ts = { 0, 1000000L };

			nanosleep(&ts, NULL);
		}
		if ((rc = file_open(bpath, &r->base)) != 0)
			goto out;
		if (r->base.kind != 0) {
			rc = EBADMSG;
			goto out;
		}
		rc = file_open(dpath, &r->delta);
		if (rc == ENOENT)
			break;
		if (rc != 0)
			goto out;
		if (r->delta.kind != 1) {
			rc = EBADMSG;
			goto out;
		}
		if (r->delta.base_generation == r->base.generation)
			break;
		if (r->delta.base_generation < r->base.generation) {
			/* compacted into this base already */
			file_close(&r->delta);
			break;
		}
		/* a newer base was renamed in after we opened ours */
		file_close(&r->delta);
		file_close(&r->base);
		rc = EAGAIN;
	}
	if (tries == OPEN_TRIES)
		goto out;
	rc = 0;
	*out = r;
	r = NULL;
out:
	if (rc == ENOENT && r != NULL && r->base.open)
		rc = 0; /* only the delta was missing: handled above */
	agentid_records_close(r);
	free(bpath);
	free(dpath);
	return rc;
}

void
agentid_records_close(struct agentid_records *r)
{
	if (r == NULL)
		return;
	file_close(&r->delta);
	file_close(&r->base);
	free(r);
}

uint64_t
agentid_records_generation(const struct agentid_records *r)
{
	return r->delta.open ? r->delta.generation : r->base.generation;
}

uint64_t
agentid_records_base_generation(const struct agentid_records *r)
{
	return r->base.generation;
}

/* Finds key in f: 1 and the value, 0 when absent, -1 when corrupt. */
static int
find(const struct records_file *f, const void *key, size_t klen,
    const unsigned char **v, unsigned *vlen)
{
	struct cdb c = f->cdb; /* cdb_find writes to its argument */
	int rc;

	if (!f->open)
		return 0;
	if ((rc = cdb_find(&c, key, (unsigned)klen)) <= 0)
		return rc < 0 ? -1 : 0;
	*vlen = cdb_datalen(&c);
	if ((*v = cdb_get(&c, *vlen, cdb_datapos(&c))) == NULL)
		return -1;
	return 1;
}

/* The entry with uuid in f: 1 found (maybe a tombstone), 0 absent. */
static int
file_entry(const struct records_file *f, const unsigned char uuid[16],
    struct agentid_stored *out, int *rc)
{
	unsigned char key[18] = { 'e', ':' };
	const unsigned char *v;
	unsigned vlen;
	int fr;

	*rc = 0;
	memcpy(key + 2, uuid, 16);
	if ((fr = find(f, key, sizeof(key), &v, &vlen)) == 0)
		return 0;
	if (fr < 0) {
		*rc = EBADMSG;
		return 1;
	}
	memset(out, 0, sizeof(*out));
	if ((*rc = decode(v, vlen, out)) == 0)
		memcpy(out->uuid, uuid, 16);
	return 1;
}

/* The entry with this entryUUID: see records.h. */
int
agentid_records_by_uuid(const struct agentid_records *r,
    const unsigned char uuid[16], struct agentid_stored *out, bool *found)
{
	int rc;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (!file_entry(&r->delta, uuid, out, &rc) &&
	    !file_entry(&r->base, uuid, out, &rc))
		return 0;
	if (rc != 0)
		return rc;
	if (out->flags & AGENTID_STORED_TOMBSTONE) {
		agentid_stored_clear(out);
		return 0;
	}
	*found = true;
	return 0;
}

/* Index hits for key in f, then in the next file: calls accept with each
 * UUID until it returns non-zero (1 = taken, or an error code > 1). */
typedef int (*uuid_fn)(const unsigned char uuid[16], void *arg);

static int
each_index(const struct agentid_records *r, const char *key, size_t klen,
    uuid_fn fn, void *arg)
{
	const struct records_file *files[2] = { &r->delta, &r->base };
	struct cdb_find cf;
	struct cdb c;
	const unsigned char *v;
	size_t i;
	int rc;

	for (i = 0; i < 2; i++) {
		if (!files[i]->open)
			continue;
		c = files[i]->cdb;
		if (cdb_findinit(&cf, &c, key, (unsigned)klen) < 0)
			return EBADMSG;
		while ((rc = cdb_findnext(&cf)) > 0) {
			if (cdb_datalen(&c) != 16 ||
			    (v = cdb_get(&c, 16, cdb_datapos(&c))) == NULL)
				return EBADMSG;
			if ((rc = fn(v, arg)) != 0)
				return rc;
		}
		if (rc < 0)
			return EBADMSG;
	}
	return 0;
}

struct by_dn {
	const struct agentid_records *r;
	const char *dn;
	struct agentid_stored *out;
	bool found;
};

/* Takes the entry when it really sits at the DN wanted. */
static int
dn_hit(const unsigned char uuid[16], void *arg)
{
	struct by_dn *b = arg;
	bool found;
	int rc;

	if ((rc = agentid_records_by_uuid(b->r, uuid, b->out, &found)) != 0)
		return rc;
	if (!found)
		return 0;
	if (agentid_dn_equal(b->out->rec.dn, b->dn)) {
		b->found = true;
		return 1;
	}
	agentid_stored_clear(b->out);
	return 0;
}

/* The entry at dn: see records.h. */
int
agentid_records_by_dn(const struct agentid_records *r, const char *dn,
    struct agentid_stored *out, bool *found)
{
	struct by_dn b = { r, dn, out, false };
	char buf[512], *key = buf;
	size_t n = strlen(dn);
	int rc;

	*found = false;
	memset(out, 0, sizeof(*out));
	if (n + 3 > sizeof(buf) && (key = malloc(n + 3)) == NULL)
		return ENOMEM;
	key[0] = 'd';
	key[1] = ':';
	agentid_dn_canon(dn, key + 2);
	rc = each_index(r, key, strlen(key), dn_hit, &b);
	if (key != buf)
		free(key);
	if (rc > 1 || rc < 0)
		return rc < 0 ? EBADMSG : rc;
	*found = b.found;
	return 0;
}

/* UUIDs of the entries with a uid value equal to user without case. */
struct by_uid {
	const struct agentid_records *r;
	const char *user;
	agentid_records_cb cb;
	void *arg;
	unsigned char (*seen)[16];
	size_t n_seen;
};

static int
uid_hit(const unsigned char uuid[16], void *arg)
{
	struct by_uid *b = arg;
	struct agentid_stored s;
	unsigned char (*ns)[16];
	size_t i;
	bool found, match = false;
	int rc;

	for (i = 0; i < b->n_seen; i++)
		if (memcmp(b->seen[i], uuid, 16) == 0)
			return 0; /* indexed in both files */
	if ((ns = realloc(b->seen, (b->n_seen + 1) * sizeof(*ns))) == NULL)
		return ENOMEM;
	b->seen = ns;
	memcpy(b->seen[b->n_seen++], uuid, 16);
	if ((rc = agentid_records_by_uuid(b->r, uuid, &s, &found)) != 0)
		return rc;
	if (!found)
		return 0;
	for (i = 0; i < s.n_uids; i++)
		if (strcasecmp(s.uids[i], b->user) == 0)
			match = true;
	rc = match ? b->cb(&s, b->arg) : 0;
	agentid_stored_clear(&s);
	return rc;
}

/* Entries with the uid: see records.h. */
int
agentid_records_by_uid(const struct agentid_records *r, const char *user,
    agentid_records_cb cb, void *arg)
{
	struct by_uid b = { r, user, cb, arg, NULL, 0 };
	size_t i, n = strlen(user);
	char *key;
	int rc;

	if ((key = malloc(n + 3)) == NULL)
		return ENOMEM;
	key[0] = 'u';
	key[1] = ':';
	for (i = 0; i < n; i++)
		key[i + 2] = (char)tolower((unsigned char)user[i]);
	rc = each_index(r, key, n + 2, uid_hit, &b);
	free(key);
	free(b.seen);
	return rc;
}

/* Walks the "e:" keys of f; skip_delta: leave out the UUIDs the delta
 * holds (its version wins). */
static int
file_each(const struct agentid_records *r, const struct records_file *f,
    bool skip_delta, agentid_records_cb cb, void *arg)
{
	struct cdb c = f->cdb;
	struct agentid_stored s;
	const unsigned char *k, *v, *dv;
	unsigned pos, klen, vlen, dvlen;
	int rc;

	if (!f->open)
		return 0;
	cdb_seqinit(&pos, &c);
	while ((rc = cdb_seqnext(&pos, &c)) > 0) {
		klen = cdb_keylen(&c);
		if (klen != 18 || (k = cdb_get(&c, klen, cdb_keypos(&c))) == NULL)
			continue;
		if (k[0] != 'e' || k[1] != ':')
			continue;
		if (skip_delta && find(&r->delta, k, 18, &dv, &dvlen) != 0)
			continue;
		vlen = cdb_datalen(&c);
		if ((v = cdb_get(&c, vlen, cdb_datapos(&c))) == NULL)
			return EBADMSG;
		memset(&s, 0, sizeof(s));
		if ((rc = decode(v, vlen, &s)) != 0)
			return rc;
		if (s.flags & AGENTID_STORED_TOMBSTONE)
			continue;
		memcpy(s.uuid, k + 2, 16);
		rc = cb(&s, arg);
		agentid_stored_clear(&s);
		if (rc != 0)
			return rc;
	}
	return rc < 0 ? EBADMSG : 0;
}

/* Every live entry: see records.h. */
int
agentid_records_each(const struct agentid_records *r, agentid_records_cb cb,
    void *arg)
{
	int rc;

	if ((rc = file_each(r, &r->delta, false, cb, arg)) != 0)
		return rc;
	return file_each(r, &r->base, r->delta.open, cb, arg);
}

/* The delta's entries, undecoded: see records.h. */
int
agentid_records_delta_raw(const struct agentid_records *r,
    agentid_records_raw_cb cb, void *arg)
{
	struct cdb c = r->delta.cdb;
	const unsigned char *k, *v;
	unsigned pos, klen, vlen;
	int rc;

	if (!r->delta.open)
		return 0;
	cdb_seqinit(&pos, &c);
	while ((rc = cdb_seqnext(&pos, &c)) > 0) {
		klen = cdb_keylen(&c);
		if (klen != 18 || (k = cdb_get(&c, klen, cdb_keypos(&c))) == NULL ||
		    k[0] != 'e' || k[1] != ':')
			continue;
		vlen = cdb_datalen(&c);
		if ((v = cdb_get(&c, vlen, cdb_datapos(&c))) == NULL)
			return EBADMSG;
		if ((rc = cb(k + 2, v, vlen, arg)) != 0)
			return rc;
	}
	return rc < 0 ? EBADMSG : 0;
}

/* Reads AGENTS.contact: see records.h. */
int
agentid_records_contact(const char *replica, struct agentid_contact *c)
{
	char *path, buf[1024], *line, *save = NULL, why[256];
	struct stat st;
	ssize_t n;
	int fd, rc = 0;

	memset(c, 0, sizeof(*c));
	if ((path = agentid_records_path(replica != NULL ? replica :
	    AGENTID_DEFAULT_REPLICA, ".contact")) == NULL)
		return ENOMEM;
	/* only root or agentid may vouch for freshness: the replica's
	 * trust rules, for the file and its directory */
	rc = agentid_replica_open_trusted(path, &fd, &st, why, sizeof(why));
	free(path);
	if (rc != 0)
		return rc == EPERM ? EACCES : rc;
	c->last_contact = (int64_t)st.st_mtime;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return EIO;
	buf[n] = '\0';
	for (line = strtok_r(buf, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "uri=", 4) == 0)
			snprintf(c->uri, sizeof(c->uri), "%s", line + 4);
		else if (strncmp(line, "generation=", 11) == 0)
			c->generation = strtoull(line + 11, NULL, 10);
		else if (strncmp(line, "entries=", 8) == 0)
			c->entries = strtoull(line + 8, NULL, 10);
		else if (strncmp(line, "changes=", 8) == 0)
			c->changes = strtoull(line + 8, NULL, 10);
		else if (strncmp(line, "last_change=", 12) == 0)
			c->last_change = strtoll(line + 12, NULL, 10);
	}
	return rc;
}

/* Fresh when the contact is no older than max_age (and not from the
 * future by more than a second: a clock stepped back does not count). */
bool
agentid_records_fresh(const char *replica, int64_t now, int64_t max_age)
{
	struct agentid_contact c;

	if (agentid_records_contact(replica, &c) != 0)
		return false;
	return c.last_contact <= now + 1 && now - c.last_contact <= max_age;
}
