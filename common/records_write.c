/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * records_write.c - writes a records file (records.h): a base or a delta,
 * to a temporary file beside its path, fsynced and renamed into place, so
 * a reader sees the old file or the new one, never half of one.
 */
#include "config.h"

#include <cdb.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "internal.h"
#include "records.h"

/* A growable byte buffer for one value. */
struct buf {
	unsigned char *p;
	size_t len, cap;
	bool failed;
};

/* Appends n bytes; remembers a failure for the end of the chain. */
static void
put(struct buf *b, const void *p, size_t n)
{
	if (b->failed)
		return;
	if (b->len + n > b->cap) {
		size_t ncap = b->cap == 0 ? 512 : b->cap;
		unsigned char *np;

		while (ncap < b->len + n)
			ncap *= 2;
		if ((np = realloc(b->p, ncap)) == NULL) {
			b->failed = true;
			return;
		}
		b->p = np;
		b->cap = ncap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

static void
put_u32(struct buf *b, uint32_t v)
{
	unsigned char x[4] = { (unsigned char)v, (unsigned char)(v >> 8),
	    (unsigned char)(v >> 16), (unsigned char)(v >> 24) };

	put(b, x, 4);
}

static void
put_u64(struct buf *b, uint64_t v)
{
	put_u32(b, (uint32_t)v);
	put_u32(b, (uint32_t)(v >> 32));
}

/* A string: u32 length + bytes, 0xffffffff for NULL. Too long: failure. */
static void
put_str(struct buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		put_u32(b, UINT32_MAX);
		return;
	}
	if ((n = strlen(s)) > AGENTID_RECORDS_MAX_STR) {
		b->failed = true;
		return;
	}
	put_u32(b, (uint32_t)n);
	put(b, s, n);
}

static void
put_strv(struct buf *b, char *const *v, size_t n)
{
	size_t i;

	if (n > AGENTID_RECORDS_MAX_VALUES) {
		b->failed = true;
		return;
	}
	put_u32(b, (uint32_t)n);
	for (i = 0; i < n; i++)
		put_str(b, v[i]);
}

/* Stores the CRC-32C of bytes 4.. at bytes 0..3. */
static void
seal(struct buf *b)
{
	uint32_t crc = agentid_replica_crc32c(0, b->p + 4, b->len - 4);

	b->p[0] = (unsigned char)crc;
	b->p[1] = (unsigned char)(crc >> 8);
	b->p[2] = (unsigned char)(crc >> 16);
	b->p[3] = (unsigned char)(crc >> 24);
}

/* The value of one entry (records.h). */
static int
encode(const struct agentid_stored *s, struct buf *b)
{
	const struct agentid_record *r = &s->rec;
	uint32_t flags = s->flags & ~(AGENTID_STORED_IS_AGENT |
	    AGENTID_STORED_AMBIGUOUS | AGENTID_STORED_HAS_NB |
	    AGENTID_STORED_HAS_NA | AGENTID_STORED_HAS_POSIX |
	    AGENTID_STORED_TOMBSTONE);
	unsigned char st[4] = { (unsigned char)r->status, 0, 0, 0 };

	b->len = 0;
	b->failed = false;
	if (r->is_agent)
		flags |= AGENTID_STORED_IS_AGENT;
	if (r->ambiguous)
		flags |= AGENTID_STORED_AMBIGUOUS;
	if (r->has_not_before)
		flags |= AGENTID_STORED_HAS_NB;
	if (r->has_not_after)
		flags |= AGENTID_STORED_HAS_NA;
	if (r->has_posix)
		flags |= AGENTID_STORED_HAS_POSIX;
	put_u32(b, 0);
	put_u32(b, flags);
	put(b, st, 4);
	put_u64(b, (uint64_t)r->not_before);
	put_u64(b, (uint64_t)r->not_after);
	put_u32(b, r->uid_number);
	put_u32(b, r->gid_number);
	put_str(b, r->dn);
	put_str(b, r->owner_dn);
	put_str(b, r->status_text);
	put_str(b, r->home);
	put_str(b, r->shell);
	put_str(b, r->gecos);
	put_str(b, r->description);
	put_str(b, s->group_name);
	put_strv(b, s->uids, s->n_uids);
	put_strv(b, r->scope, r->n_scope);
	put_strv(b, r->fingerprints, r->n_fingerprints);
	put_strv(b, s->members, s->n_members);
	if (b->failed)
		return b->cap == 0 ? ENOMEM : EFBIG;
	seal(b);
	return 0;
}

/* Adds key prefix + body -> val. */
static int
add(struct cdb_make *cm, const char *prefix, const void *body, size_t blen,
    const void *val, size_t vlen)
{
	unsigned char kbuf[512], *key = kbuf;
	size_t plen = strlen(prefix), klen = plen + blen;
	int r = 0;

	if (klen > sizeof(kbuf) && (key = malloc(klen)) == NULL)
		return ENOMEM;
	memcpy(key, prefix, plen);
	memcpy(key + plen, body, blen);
	if (cdb_make_add(cm, key, (unsigned)klen, val, (unsigned)vlen) != 0)
		r = errno != 0 ? errno : EIO;
	if (key != kbuf)
		free(key);
	return r;
}

/* Index keys of one entry: its canonical DN and each uid lower-cased
 * (built on the stack when they fit: two mallocs an entry were a visible
 * share of writing a base of 1M entries). */
static int
add_index(struct cdb_make *cm, const struct agentid_stored *s)
{
	char kbuf[512], *k;
	size_t i, j, n;
	int r = 0;

	if (s->rec.dn != NULL) {
		n = strlen(s->rec.dn);
		if ((k = n < sizeof(kbuf) ? kbuf : malloc(n + 1)) == NULL)
			return ENOMEM;
		agentid_dn_canon(s->rec.dn, k);
		r = add(cm, "d:", k, strlen(k), s->uuid, 16);
		if (k != kbuf)
			free(k);
		if (r != 0)
			return r;
	}
	for (i = 0; i < s->n_uids; i++) {
		n = strlen(s->uids[i]);
		if ((k = n < sizeof(kbuf) ? kbuf : malloc(n + 1)) == NULL)
			return ENOMEM;
		for (j = 0; j < n; j++)
			k[j] = (char)tolower((unsigned char)s->uids[i][j]);
		r = add(cm, "u:", k, n, s->uuid, 16);
		if (k != kbuf)
			free(k);
		if (r != 0)
			return r;
	}
	return 0;
}

/* Writes a records file; then_from: renamed over then_to right after
 * (before the directory's fsync). */
static int
write_file(const char *path, unsigned kind, uint64_t generation,
    uint64_t base_generation, const struct agentid_stored *const *recs,
    size_t n, const unsigned char (*tombs)[16], size_t n_tombs,
    const char *then_from, const char *then_to, struct agentid_error *err)
{
	struct cdb_make cm;
	struct buf b = { NULL, 0, 0, false }, h = { NULL, 0, 0, false };
	char *tmp = NULL;
	size_t i;
	int fd = -1, r = ENOMEM;
	bool started = false;

	if (n > UINT32_MAX || n_tombs > UINT32_MAX)
		return agentid_seterr(err, EFBIG, "%s: too many records", path);
	if ((tmp = malloc(strlen(path) + 16)) == NULL)
		goto out;
	sprintf(tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		r = agentid_seterr(err, errno, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || cdb_make_start(&cm, fd) != 0) {
		r = agentid_seterr(err, errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	started = true;
	/* the header first: a reader finds it without walking the file */
	put(&h, AGENTID_RECORDS_MAGIC, 8);
	put_u32(&h, AGENTID_RECORDS_VERSION);
	put_u32(&h, kind);
	put_u64(&h, generation);
	put_u64(&h, base_generation);
	put_u32(&h, (uint32_t)n);
	put_u32(&h, (uint32_t)n_tombs);
	if (h.failed)
		goto out;
	put_u32(&h, agentid_replica_crc32c(0, h.p, h.len));
	if (h.failed || (r = add(&cm, "H", "", 0, h.p, h.len)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((r = encode(recs[i], &b)) != 0) {
			agentid_seterr(err, r, "%s: entry %s cannot be stored",
			    path, recs[i]->rec.dn != NULL ? recs[i]->rec.dn : "?");
			goto out;
		}
		if ((r = add(&cm, "e:", recs[i]->uuid, 16, b.p, b.len)) != 0 ||
		    (r = add_index(&cm, recs[i])) != 0)
			goto out;
	}
	for (i = 0; i < n_tombs; i++) {
		b.len = 0;
		put_u32(&b, 0);
		put_u32(&b, AGENTID_STORED_TOMBSTONE);
		if (b.failed) {
			r = ENOMEM;
			goto out;
		}
		seal(&b);
		if ((r = add(&cm, "e:", tombs[i], 16, b.p, b.len)) != 0)
			goto out;
	}
	started = false;
	if (cdb_make_finish(&cm) != 0 || fsync(fd) != 0) {
		r = errno != 0 ? errno : EIO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		r = errno;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		r = errno;
		goto out;
	}
	free(tmp);
	tmp = NULL;
	if (then_from != NULL && rename(then_from, then_to) != 0) {
		r = agentid_seterr(err, errno, "rename %s: %s", then_to,
		    strerror(errno));
		goto out;
	}
	(void)agentid_fsync_parent(path);
	r = 0;
out:
	if (started)
		(void)cdb_make_finish(&cm);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	if (r != 0 && err != NULL && err->msg[0] == '\0')
		agentid_seterr(err, r, "%s: %s", path, strerror(r));
	free(b.p);
	free(h.p);
	return r;
}

/* Writes a records file: see records.h. */
int
agentid_records_write(const char *path, unsigned kind, uint64_t generation,
    uint64_t base_generation, const struct agentid_stored *const *recs,
    size_t n, const unsigned char (*tombs)[16], size_t n_tombs,
    struct agentid_error *err)
{
	return write_file(path, kind, generation, base_generation, recs, n,
	    tombs, n_tombs, NULL, NULL, err);
}

/* A delta for a base not yet in place, then that base: see records.h. */
int
agentid_records_write_delta_base(const char *dpath, uint64_t generation,
    uint64_t base_generation, const struct agentid_stored *const *recs,
    size_t n, const unsigned char (*tombs)[16], size_t n_tombs,
    const char *base_from, const char *base_to, struct agentid_error *err)
{
	return write_file(dpath, 1, generation, base_generation, recs, n, tombs,
	    n_tombs, base_from, base_to, err);
}

/* Writes AGENTS.contact: see records.h. */
int
agentid_records_contact_write(const char *replica,
    const struct agentid_contact *c, struct agentid_error *err)
{
	char *path = agentid_records_path(replica, ".contact"), *tmp = NULL;
	FILE *f = NULL;
	int fd = -1, r = ENOMEM;

	if (path == NULL || (tmp = malloc(strlen(path) + 16)) == NULL)
		goto out;
	sprintf(tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		r = agentid_seterr(err, errno, "%s: %s", tmp, strerror(errno));
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0644) != 0 || (f = fdopen(fd, "w")) == NULL) {
		r = agentid_seterr(err, errno, "%s: %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	fprintf(f, "uri=%s\ngeneration=%llu\nentries=%llu\nchanges=%llu\n"
	    "last_change=%lld\n", c->uri, (unsigned long long)c->generation,
	    (unsigned long long)c->entries, (unsigned long long)c->changes,
	    (long long)c->last_change);
	if (fflush(f) != 0 || ferror(f)) {
		r = agentid_seterr(err, EIO, "%s: write failed", tmp);
		goto out;
	}
	r = fclose(f);
	f = NULL;
	if (r != 0 || rename(tmp, path) != 0) {
		r = agentid_seterr(err, errno, "%s: %s", path, strerror(errno));
		goto out;
	}
	free(tmp);
	tmp = NULL;
	r = 0;
out:
	if (f != NULL)
		fclose(f);
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		(void)unlink(tmp);
		free(tmp);
	}
	free(path);
	return r;
}
