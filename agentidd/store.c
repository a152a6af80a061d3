/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - agentidd's copy of the directory, by entryUUID, and how it is
 * written out after each batch: the records delta (or, past a threshold, a
 * new base) and the NSS replica, whose agents are decided through the
 * chain builder over the records just written.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "agentidd.h"
#include "chain.h"
#include "internal.h"
#include "records.h"
#include "replica_publish.h"

#define DELTA_MAX 4096     /* records in a delta before compaction */
#define DELTA_SHARE 10     /* or this percentage of the base */

/* The library's one hash, of a UUID. */
static size_t
uuid_hash(const unsigned char u[16])
{
	return (size_t)agentid_fnv1a(u, 16);
}

int
store_init(struct store *st, const struct agentid_config *cfg,
    const char *replica)
{
	memset(st, 0, sizeof(*st));
	st->cfg = cfg;
	st->replica = replica;
	st->cap = 1024;
	if ((st->slot = calloc(st->cap, sizeof(*st->slot))) == NULL)
		return ENOMEM;
	return 0;
}

void
store_free(struct store *st)
{
	size_t i;

	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL) {
			agentid_stored_clear(&st->slot[i]->s);
			free(st->slot[i]);
		}
	free(st->slot);
	memset(st, 0, sizeof(*st));
}

/* The slot of uuid: its node, or the empty slot where it would go. */
static size_t
slot_of(const struct store *st, const unsigned char uuid[16])
{
	size_t j;

	for (j = uuid_hash(uuid) & (st->cap - 1); st->slot[j] != NULL;
	    j = (j + 1) & (st->cap - 1))
		if (memcmp(st->slot[j]->s.uuid, uuid, 16) == 0)
			break;
	return j;
}

/* Doubles the table at half load; drop_dead: leaves tombstones out. */
static int
rehash(struct store *st, size_t cap, bool drop_dead)
{
	struct node **old = st->slot;
	size_t i, oldcap = st->cap;

	if ((st->slot = calloc(cap, sizeof(*st->slot))) == NULL) {
		st->slot = old;
		return ENOMEM;
	}
	st->cap = cap;
	st->n = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i] == NULL)
			continue;
		if (drop_dead && old[i]->deleted) {
			free(old[i]);
			continue;
		}
		st->slot[slot_of(st, old[i]->s.uuid)] = old[i];
		st->n++;
	}
	free(old);
	return 0;
}

struct node *
store_find(struct store *st, const unsigned char uuid[16])
{
	return st->slot[slot_of(st, uuid)];
}

/* Is this stored entry an agent NSS could serve (counted for the
 * mass-delete guard)? */
static bool
is_listed_agent(const struct agentid_stored *s)
{
	return (s->flags & AGENTID_STORED_AGENT_FILTER) != 0;
}

int
store_put(struct store *st, struct agentid_stored *s)
{
	struct node *nd;
	size_t j;

	if ((st->n + 1) * 2 > st->cap && rehash(st, st->cap * 2, false) != 0)
		return ENOMEM;
	j = slot_of(st, s->uuid);
	if ((nd = st->slot[j]) == NULL) {
		if ((nd = calloc(1, sizeof(*nd))) == NULL)
			return ENOMEM;
		st->slot[j] = nd;
		st->n++;
		nd->deleted = true;
	}
	if (!nd->deleted) {
		if (is_listed_agent(&nd->s))
			st->n_agents--;
		agentid_stored_clear(&nd->s);
	} else {
		st->n_live++;
	}
	nd->s = *s;
	memset(s, 0, sizeof(*s));
	if (is_listed_agent(&nd->s))
		st->n_agents++;
	nd->deleted = false;
	if (!nd->dirty)
		st->n_dirty++;
	nd->dirty = true;
	nd->present = true;
	nd->needs_eval = true;
	st->changed = true;
	return 0;
}

void
store_delete(struct store *st, const unsigned char uuid[16])
{
	struct node *nd = store_find(st, uuid);
	unsigned char keep[16];

	if (nd == NULL || nd->deleted)
		return;
	if (is_listed_agent(&nd->s))
		st->n_agents--;
	memcpy(keep, nd->s.uuid, 16);
	agentid_stored_clear(&nd->s);
	memcpy(nd->s.uuid, keep, 16);
	nd->deleted = true;
	nd->needs_eval = false;
	if (!nd->dirty)
		st->n_dirty++;
	nd->dirty = true;
	st->n_live--;
	st->changed = true;
}

void
store_each(struct store *st, void (*fn)(struct node *, void *), void *arg)
{
	size_t i;

	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL && !st->slot[i]->deleted)
			fn(st->slot[i], arg);
}

/* Loads one entry of the records replica. */
static int
load_one(struct agentid_stored *s, void *arg)
{
	struct store *st = arg;
	struct node *nd;
	int r;

	if ((r = store_put(st, s)) != 0)
		return r;
	nd = store_find(st, s->uuid);
	(void)nd;
	return 0;
}

int
store_load(struct store *st)
{
	struct agentid_records *r;
	size_t i;
	int rc;

	if ((rc = agentid_records_open(st->replica, &r)) != 0)
		return rc;
	rc = agentid_records_each(r, load_one, st);
	st->base_gen = agentid_records_base_generation(r);
	st->gen = agentid_records_generation(r);
	agentid_records_close(r);
	/* what came from a delta is written into a new base first */
	st->force_base = true;
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL) {
			st->slot[i]->needs_eval = false;
			st->slot[i]->present = false;
		}
	return rc;
}

/* Collects the nodes to write: every live one (base) or the dirty ones. */
static int
collect(struct store *st, bool base, const struct agentid_stored ***recs,
    size_t *n, unsigned char (**tombs)[16], size_t *nt)
{
	size_t i;

	*recs = calloc(st->n + 1, sizeof(**recs));
	*tombs = calloc(st->n + 1, sizeof(**tombs));
	*n = *nt = 0;
	if (*recs == NULL || *tombs == NULL)
		return ENOMEM;
	for (i = 0; i < st->cap; i++) {
		struct node *nd = st->slot[i];

		if (nd == NULL || (!base && !nd->dirty))
			continue;
		if (!nd->deleted)
			(*recs)[(*n)++] = &nd->s;
		else if (!base)
			memcpy((*tombs)[(*nt)++], nd->s.uuid, 16);
	}
	return 0;
}

struct publish {
	struct store *st;
	struct agentid_lookup lk;
	struct agentid_replica_writer *w;
	int64_t now;
	int rc;
	char group_base[1024];
	size_t agents, groups, skipped;
};

/* True when dn is base or below it. */
static bool
under(const char *dn, const char *base)
{
	char *cd, *cb;
	size_t ld, lb;
	bool r = false;

	if (base == NULL || base[0] == '\0')
		return true;
	if ((cd = malloc(strlen(dn) + 1)) == NULL ||
	    (cb = malloc(strlen(base) + 1)) == NULL) {
		free(cd);
		return false;
	}
	agentid_dn_canon(dn, cd);
	agentid_dn_canon(base, cb);
	ld = strlen(cd);
	lb = strlen(cb);
	if (ld == lb)
		r = strcmp(cd, cb) == 0;
	else if (ld > lb)
		r = cd[ld - lb - 1] == ',' && strcmp(cd + ld - lb, cb) == 0;
	free(cd);
	free(cb);
	return r;
}

/* One node into the NSS replica: an agent decided through its chain, or
 * a group under group_base. */
static void
publish_one(struct node *nd, void *arg)
{
	struct publish *p = arg;
	struct agentid_replica_entry e;
	struct agentid_error err = { "" };
	const struct agentid_stored *s = &nd->s;
	int rc;

	if (p->rc != 0)
		return;
	if ((s->flags & AGENTID_STORED_GROUP) &&
	    under(s->rec.dn, p->st->cfg->group_base ? p->st->cfg->group_base :
	    p->st->cfg->base)) {
		rc = agentid_replica_write_group(p->w, s->group_name,
		    s->rec.gid_number, s->members, s->n_members, &err);
		if (rc == ENOMEM || rc == EFBIG || rc == EIO || rc == ENOSPC)
			p->rc = rc;
		else if (rc != 0)
			p->skipped++;
		else
			p->groups++;
	}
	if (!(s->flags & AGENTID_STORED_AGENT_FILTER))
		return;
	rc = agentid_replica_entry_decide(p->st->cfg, &p->lk, &s->rec, p->now,
	    &e, NULL, &err);
	if (rc == ENOENT) {
		p->skipped++;
		return;
	}
	if (rc == 0)
		rc = agentid_replica_write_user(p->w, &e, &err);
	if (rc == ENOMEM || rc == EFBIG || rc == EIO || rc == ENOSPC)
		p->rc = rc;
	else if (rc != 0)
		p->skipped++;
	else
		p->agents++;
}

/* Writes the NSS replica from the records just written. */
static int
publish(struct store *st, int64_t now, struct agentid_error *err)
{
	struct agentid_records_lookup_ctx ctx;
	struct agentid_replica_meta meta;
	struct agentid_records *r = NULL;
	struct publish p;
	int rc;

	memset(&p, 0, sizeof(p));
	p.st = st;
	p.now = now;
	if ((rc = agentid_records_open(st->replica, &r)) != 0)
		return agentid_seterr(err, rc, "records replica: cannot reopen");
	ctx.r = r;
	ctx.cfg = st->cfg;
	agentid_records_lookup(&ctx, &p.lk);
	memset(&meta, 0, sizeof(meta));
	meta.generated = now;
	meta.min_uid = st->cfg->min_uid > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)st->cfg->min_uid;
	meta.clock_skew = st->cfg->clock_skew;
	meta.nologin_shell = st->cfg->nologin_shell;
	if ((rc = agentid_replica_writer_new(st->replica, &meta, &p.w, err)) != 0)
		goto out;
	store_each(st, publish_one, &p);
	if ((rc = p.rc) != 0) {
		agentid_seterr(err, rc, "%s: cannot write", st->replica);
		goto out;
	}
	rc = agentid_replica_commit(p.w, err);
out:
	agentid_replica_writer_free(p.w);
	agentid_records_close(r);
	return rc;
}

int
store_flush(struct store *st, int64_t now, struct agentid_error *err)
{
	const struct agentid_stored **recs = NULL;
	unsigned char (*tombs)[16] = NULL;
	char *bpath = NULL, *dpath = NULL;
	size_t n, nt, i;
	bool base;
	int rc = ENOMEM;

	base = st->force_base || st->base_gen == 0 || st->n_dirty > DELTA_MAX ||
	    st->n_dirty * 100 > (st->n_live + 1) * DELTA_SHARE;
	if ((bpath = agentid_records_path(st->replica, ".records")) == NULL ||
	    (dpath = agentid_records_path(st->replica, ".records.delta")) == NULL)
		goto out;
	if ((rc = collect(st, base, &recs, &n, &tombs, &nt)) != 0)
		goto out;
	st->gen++;
	if (base) {
		/* the new base first: a reader that sees it ignores the
		 * older delta; then an empty delta for it */
		if ((rc = agentid_records_write(bpath, 0, st->gen, st->gen, recs, n,
		    NULL, 0, err)) != 0)
			goto out;
		st->base_gen = st->gen;
		st->gen++;
		if ((rc = agentid_records_write(dpath, 1, st->gen, st->base_gen,
		    NULL, 0, NULL, 0, err)) != 0)
			goto out;
		st->force_base = false;
		st->n_dirty = 0;
		for (i = 0; i < st->cap; i++)
			if (st->slot[i] != NULL)
				st->slot[i]->dirty = false;
		if ((rc = rehash(st, st->cap, true)) != 0)
			goto out;
	} else if ((rc = agentid_records_write(dpath, 1, st->gen, st->base_gen,
	    recs, n, (const unsigned char (*)[16])tombs, nt, err)) != 0) {
		goto out;
	}
	if ((rc = publish(st, now, err)) != 0)
		goto out;
	st->changed = false;
out:
	free(recs);
	free(tombs);
	free(bpath);
	free(dpath);
	return rc;
}
