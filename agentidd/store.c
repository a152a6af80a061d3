/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * store.c - agentidd's copy of the directory, by entryUUID, and how it is
 * written out after each batch: the records delta (or, past a threshold, a
 * new base) and the NSS replica's delta (or base), whose agents are decided
 * through the chain builder over the records just written. Only the
 * entries a batch can have changed are decided again: the changed ones and
 * every entry whose chain goes through one (found through the owner DN
 * index, transitively), plus those in the recheck list.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "agentidd.h"
#include "chain.h"
#include "internal.h"
#include "records.h"
#include "replica_format.h"
#include "replica_publish.h"

#define DELTA_MAX 4096     /* records in a delta before compaction */
#define DELTA_SHARE 10     /* or this percentage of the base */
/* the same bounds for the NSS delta (users, groups, tombstones, member
 * lists) */
#define NSS_DELTA_MAX 4096
#define NSS_DELTA_SHARE 10
#define NSS_DELTA_MIN 256  /* below this, a delta is kept whatever the base
                            * (a small delta costs readers nothing) */

static void compact_abort(struct store *st, const char *why);

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
	st->compact_fd = -1;
	if ((st->slot = calloc(st->cap, sizeof(*st->slot))) == NULL)
		return ENOMEM;
	return 0;
}

void
store_free(struct store *st)
{
	size_t i;

	if (st->slot != NULL)
		compact_abort(st, "agentidd stops");
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL) {
			agentid_stored_clear(&st->slot[i]->s);
			free(st->slot[i]->old_user);
			free(st->slot[i]->old_group);
			free(st->slot[i]->snap_user);
			free(st->slot[i]->snap_group);
			free(st->slot[i]);
		}
	free(st->slot);
	free(st->dirty_v);
	free(st->queue);
	free(st->seeds);
	free(st->kids);
	free(st->dns);
	free(st->since_v);
	free(st->recheck);
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
		if (drop_dead && old[i]->deleted && !old[i]->queued &&
		    !old[i]->dirty && !old[i]->since) {
			free(old[i]->old_user);
			free(old[i]->old_group);
			free(old[i]->snap_user);
			free(old[i]->snap_group);
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

/* The hash of dn's canonical form (never 0: 0 means none). */
static uint64_t
dn_hash(const char *dn)
{
	char stackbuf[512], *buf = stackbuf;
	size_t len;
	uint64_t h;

	if (dn == NULL || dn[0] == '\0')
		return 0;
	len = strlen(dn) + 1;
	if (len > sizeof(stackbuf) && (buf = malloc(len)) == NULL)
		return 1; /* a collision costs a needless re-decision only */
	agentid_dn_canon(dn, buf);
	h = agentid_fnv1a(buf, strlen(buf));
	if (buf != stackbuf)
		free(buf);
	return h != 0 ? h : 1;
}

/* The slot of owner hash h in the owner index: its own, or the free one. */
static size_t
kid_slot_of(const struct store *st, uint64_t h)
{
	size_t j;

	for (j = (size_t)(h * 0x9e3779b97f4a7c15ull >> 17) & (st->kids_cap - 1);
	    st->kids[j].h != 0 && st->kids[j].h != h;
	    j = (j + 1) & (st->kids_cap - 1))
		;
	return j;
}

/* Links nd under its owner's DN hash. */
static int
kid_link(struct store *st, struct node *nd)
{
	struct kid_slot *old = st->kids;
	size_t i, j, oldcap = st->kids_cap;

	nd->owner_hash = dn_hash(nd->s.rec.owner_dn);
	nd->kid_next = nd->kid_prev = NULL;
	if (nd->owner_hash == 0)
		return 0;
	if ((st->kids_n + 1) * 2 > st->kids_cap) {
		size_t cap = st->kids_cap == 0 ? 1024 : st->kids_cap * 2;

		if ((st->kids = calloc(cap, sizeof(*st->kids))) == NULL) {
			st->kids = old;
			nd->owner_hash = 0;
			return ENOMEM;
		}
		st->kids_cap = cap;
		for (i = 0; i < oldcap; i++)
			if (old[i].h != 0)
				st->kids[kid_slot_of(st, old[i].h)] = old[i];
		free(old);
	}
	j = kid_slot_of(st, nd->owner_hash);
	if (st->kids[j].h == 0) {
		st->kids[j].h = nd->owner_hash;
		st->kids_n++;
	}
	nd->kid_next = st->kids[j].head;
	if (nd->kid_next != NULL)
		nd->kid_next->kid_prev = nd;
	st->kids[j].head = nd;
	return 0;
}

/* Unlinks nd from the owner index. */
static void
kid_unlink(struct store *st, struct node *nd)
{
	size_t j;

	if (nd->owner_hash == 0)
		return;
	if (nd->kid_prev != NULL) {
		nd->kid_prev->kid_next = nd->kid_next;
	} else {
		j = kid_slot_of(st, nd->owner_hash);
		if (st->kids[j].h == nd->owner_hash)
			st->kids[j].head = nd->kid_next;
	}
	if (nd->kid_next != NULL)
		nd->kid_next->kid_prev = nd->kid_prev;
	nd->kid_next = nd->kid_prev = NULL;
	nd->owner_hash = 0;
}

/* The slot of DN hash h in the DN index: its own, or the free one. */
static size_t
dn_slot_of(const struct store *st, uint64_t h)
{
	size_t j;

	for (j = (size_t)(h * 0x9e3779b97f4a7c15ull >> 17) & (st->dns_cap - 1);
	    st->dns[j].h != 0 && st->dns[j].h != h;
	    j = (j + 1) & (st->dns_cap - 1))
		;
	return j;
}

/* Links nd under its DN's hash (nd->dn_hash set). */
static int
dn_link(struct store *st, struct node *nd)
{
	struct kid_slot *old = st->dns;
	size_t i, j, oldcap = st->dns_cap;

	nd->dn_next = NULL;
	if (nd->dn_hash == 0)
		return 0;
	if ((st->dns_n + 1) * 2 > st->dns_cap) {
		size_t cap = st->dns_cap == 0 ? 1024 : st->dns_cap * 2;

		if ((st->dns = calloc(cap, sizeof(*st->dns))) == NULL) {
			st->dns = old;
			return ENOMEM;
		}
		st->dns_cap = cap;
		for (i = 0; i < oldcap; i++)
			if (old[i].h != 0)
				st->dns[dn_slot_of(st, old[i].h)] = old[i];
		free(old);
	}
	j = dn_slot_of(st, nd->dn_hash);
	if (st->dns[j].h == 0) {
		st->dns[j].h = nd->dn_hash;
		st->dns_n++;
	}
	nd->dn_next = st->dns[j].head;
	st->dns[j].head = nd;
	return 0;
}

/* Unlinks nd from the DN index (its chain is short: the entries whose
 * canonical DNs hash the same). */
static void
dn_unlink(struct store *st, struct node *nd)
{
	struct node **pp;
	size_t j;

	if (nd->dn_hash == 0 || st->dns_cap == 0)
		return;
	j = dn_slot_of(st, nd->dn_hash);
	if (st->dns[j].h != nd->dn_hash)
		return;
	for (pp = &st->dns[j].head; *pp != NULL; pp = &(*pp)->dn_next)
		if (*pp == nd) {
			*pp = nd->dn_next;
			break;
		}
	nd->dn_next = NULL;
}

/* Appends v to a growable array of n elements of size elem. */
static int
push(void **v, size_t *n, size_t *cap, size_t elem, const void *x)
{
	if (*n == *cap) {
		size_t ncap = *cap == 0 ? 256 : *cap * 2;
		void *nv = realloc(*v, ncap * elem);

		if (nv == NULL)
			return ENOMEM;
		*v = nv;
		*cap = ncap;
	}
	memcpy((char *)*v + *n * elem, x, elem);
	(*n)++;
	return 0;
}

/* Lists nd as changed or re-decided since the snapshot of the background
 * compaction in flight (if any). */
static void
since_add(struct store *st, struct node *nd)
{
	if (!st->compact_on || nd->since)
		return;
	if (push((void **)&st->since_v, &st->n_since, &st->cap_since,
	    sizeof(nd), &nd) != 0) {
		st->compact_broken = true;
		return;
	}
	nd->since = true;
}

/* Marks nd changed since the records base, and lists it: a records delta
 * is collected from that list, not from a scan of every node (tens of ms
 * at 1M entries). */
static void
mark_dirty(struct store *st, struct node *nd)
{
	if (st->compact_on) {
		nd->since_dirty = true;
		since_add(st, nd);
	}
	if (nd->dirty)
		return;
	st->n_dirty++;
	nd->dirty = true;
	if (push((void **)&st->dirty_v, &st->n_dirty_v, &st->cap_dirty_v,
	    sizeof(nd), &nd) != 0)
		st->force_base = true; /* a base scans every node */
}

/* Puts nd on the queue of the next NSS write. */
static int
enqueue(struct store *st, struct node *nd)
{
	int rc;

	since_add(st, nd);
	if (nd->queued)
		return 0;
	if ((rc = push((void **)&st->queue, &st->n_queue, &st->cap_queue,
	    sizeof(nd), &nd)) != 0) {
		st->nss_force_base = true; /* the next write rebuilds all */
		return 0;
	}
	nd->queued = true;
	return 0;
}

/* Before nd's entry changes or goes: remembers the names it is served
 * under and the DN the chains of others may go through. */
static void
before_change(struct store *st, struct node *nd)
{
	if (st->compact_on && !nd->snap_saved) {
		/* the names the child's base may serve it under */
		nd->snap_saved = true;
		if (!nd->deleted && ((nd->s.rec.uid != NULL &&
		    (nd->snap_user = strdup(nd->s.rec.uid)) == NULL) ||
		    (nd->s.group_name != NULL &&
		    (nd->snap_group = strdup(nd->s.group_name)) == NULL)))
			st->compact_broken = true;
	}
	if (nd->deleted)
		return;
	if (nd->pub_user && nd->old_user == NULL && nd->s.rec.uid != NULL &&
	    (nd->old_user = strdup(nd->s.rec.uid)) == NULL)
		st->nss_force_base = true;
	if (nd->pub_group && nd->old_group == NULL && nd->s.group_name != NULL &&
	    (nd->old_group = strdup(nd->s.group_name)) == NULL)
		st->nss_force_base = true;
	if (nd->dn_hash != 0 && push((void **)&st->seeds, &st->n_seeds,
	    &st->cap_seeds, sizeof(uint64_t), &nd->dn_hash) != 0)
		st->nss_force_base = true;
	kid_unlink(st, nd);
	dn_unlink(st, nd);
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
	before_change(st, nd);
	if (!nd->deleted) {
		if (is_listed_agent(&nd->s))
			st->n_agents--;
		agentid_stored_clear(&nd->s);
	} else {
		st->n_live++;
	}
	nd->s = *s;
	memset(s, 0, sizeof(*s));
	nd->dn_hash = dn_hash(nd->s.rec.dn);
	if (kid_link(st, nd) != 0)
		st->nss_force_base = true;
	if (dn_link(st, nd) != 0)
		st->dns_broken = true; /* rebuilt before the next publish */
	enqueue(st, nd);
	if (is_listed_agent(&nd->s))
		st->n_agents++;
	nd->deleted = false;
	mark_dirty(st, nd);
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
	before_change(st, nd);
	enqueue(st, nd);
	nd->dn_hash = 0;
	if (is_listed_agent(&nd->s))
		st->n_agents--;
	memcpy(keep, nd->s.uuid, 16);
	agentid_stored_clear(&nd->s);
	memcpy(nd->s.uuid, keep, 16);
	nd->deleted = true;
	nd->needs_eval = false;
	mark_dirty(st, nd);
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

/* Collects the nodes to write: every live one (base) or the dirty ones
 * (from their list). */
static int
collect(struct store *st, bool base, const struct agentid_stored ***recs,
    size_t *n, unsigned char (**tombs)[16], size_t *nt)
{
	size_t i, m = base ? st->n : st->n_dirty_v;

	*recs = calloc(m + 1, sizeof(**recs));
	*tombs = calloc(m + 1, sizeof(**tombs));
	*n = *nt = 0;
	if (*recs == NULL || *tombs == NULL)
		return ENOMEM;
	for (i = 0; !base && i < st->n_dirty_v; i++) {
		struct node *nd = st->dirty_v[i];

		if (!nd->deleted)
			(*recs)[(*n)++] = &nd->s;
		else
			memcpy((*tombs)[(*nt)++], nd->s.uuid, 16);
	}
	for (i = 0; base && i < st->cap; i++) {
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

/* Whether dn is base or under it (no base: everything). */
static bool
under(const char *dn, const char *base)
{
	if (base == NULL || base[0] == '\0')
		return true;
	return agentid_dn_under(dn, base);
}

/*
 * The chain builder's lookup over the store itself, for the NSS write: the
 * entry at a DN from the DN index (canonical hash, then agentid_dn_equal),
 * judged by records_lookup.c's own rule (agentid_records_entry_judge), so
 * that it answers what the records file just written would answer, without
 * canonicalising, probing the cdb and decoding a record per link of every
 * chain. Owners are few (1M agents share some 10k): the node a DN string
 * names is memoised by the string as given, for the length of one write.
 */
struct dn_memo {
	char *dn;                 /* as the chain asked for it */
	uint64_t h;               /* its hash as given (not canonical) */
	struct node *nd;          /* NULL: no entry there */
};

struct store_lookup {
	struct store *st;
	struct dn_memo *memo;     /* open addressing by h */
	size_t cap, n;
};

static void
store_lookup_free(struct store_lookup *sl)
{
	size_t i;

	for (i = 0; i < sl->cap; i++)
		free(sl->memo[i].dn);
	free(sl->memo);
	sl->memo = NULL;
	sl->cap = sl->n = 0;
}

/* Rebuilds the DN index from every live node (after an ENOMEM). */
static int
dn_rebuild(struct store *st)
{
	size_t i;

	free(st->dns);
	st->dns = NULL;
	st->dns_cap = st->dns_n = 0;
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL && !st->slot[i]->deleted &&
		    dn_link(st, st->slot[i]) != 0)
			return ENOMEM;
	st->dns_broken = false;
	return 0;
}

/* The live node at dn, uncached. */
static struct node *
dn_find(const struct store *st, const char *dn)
{
	uint64_t h = dn_hash(dn);
	struct node *nd;
	size_t j;

	if (h == 0 || st->dns_cap == 0)
		return NULL;
	j = dn_slot_of(st, h);
	if (st->dns[j].h != h)
		return NULL;
	for (nd = st->dns[j].head; nd != NULL; nd = nd->dn_next)
		if (!nd->deleted && nd->dn_hash == h &&
		    agentid_dn_equal(nd->s.rec.dn, dn))
			return nd;
	return NULL;
}

/* The node at dn through the memo: 0, or ENOMEM. */
static int
memo_find(struct store_lookup *sl, const char *dn, struct node **out)
{
	uint64_t h = agentid_fnv1a(dn, strlen(dn));
	struct dn_memo *m;
	size_t i, j;

	if ((sl->n + 1) * 2 > sl->cap) {
		struct dn_memo *old = sl->memo;
		size_t oldcap = sl->cap, cap = oldcap == 0 ? 256 : oldcap * 2;

		if ((sl->memo = calloc(cap, sizeof(*sl->memo))) == NULL) {
			sl->memo = old;
			return ENOMEM;
		}
		sl->cap = cap;
		for (i = 0; i < oldcap; i++) {
			if (old[i].dn == NULL)
				continue;
			for (j = (size_t)old[i].h & (cap - 1); sl->memo[j].dn != NULL;
			    j = (j + 1) & (cap - 1))
				;
			sl->memo[j] = old[i];
		}
		free(old);
	}
	for (j = (size_t)h & (sl->cap - 1); sl->memo[j].dn != NULL;
	    j = (j + 1) & (sl->cap - 1))
		if (sl->memo[j].h == h && strcmp(sl->memo[j].dn, dn) == 0) {
			*out = sl->memo[j].nd;
			return 0;
		}
	m = &sl->memo[j];
	if ((m->dn = strdup(dn)) == NULL)
		return ENOMEM;
	m->h = h;
	m->nd = dn_find(sl->st, dn);
	sl->n++;
	*out = m->nd;
	return 0;
}

/* lookup.entry over the store: see records_lookup.c's records_entry. */
static int
store_entry(void *ctx, const char *dn, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct store_lookup *sl = ctx;
	struct node *nd;
	bool hit, match, active;
	int r;

	*found = false;
	if (memo_find(sl, dn, &nd) != 0)
		return agentid_seterr(err, ENOMEM, "out of memory");
	if (nd == NULL)
		return 0;
	if ((r = agentid_records_entry_judge(sl->st->cfg, &nd->s, &hit, &match,
	    &active, err)) != 0 || !hit)
		return r;
	memset(rec, 0, sizeof(*rec));
	if (agentid_record_copy(rec, &nd->s.rec) != 0)
		return agentid_seterr(err, ENOMEM, "out of memory");
	rec->owner_match = match;
	rec->owner_active = active;
	*found = true;
	return 0;
}

/* lookup.agent: the NSS write starts every chain from the agent's own
 * record (agentid_replica_entry_decide), never by name. */
static int
store_agent(void *ctx, const char *user, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	(void)ctx;
	(void)rec;
	*found = false;
	return agentid_seterr(err, ENOTSUP, "%s: agentidd looks agents up by "
	    "entry, not by name", user);
}

/* What one node publishes now: a user and/or a group. */
struct item {
	struct node *nd;
	bool has_u, has_g;
	struct agentid_replica_entry e;
	enum agentid_reason reason;
	const char *oldu, *oldg;  /* the names it is served under now */
	bool wrote_u, wrote_g;    /* written or unchanged: served after */
};

struct publish {
	struct store *st;
	struct agentid_lookup lk;
	struct store_lookup sl;   /* lk's context */
	const char *path;         /* the NSS base written or read (NULL: the
	                           * replica's own; the background compaction's
	                           * .next) */
	uint64_t base_gen;        /* delta: of the base it is for (0: ours) */
	bool final;               /* the delta that brings the compaction's
	                           * base (path) in place */
	struct agentid_replica_writer *w;
	struct agentid_replica *view; /* what readers see now (delta mode) */
	int64_t now;
	int rc;
	bool warn_all;            /* the first base: warn of every refusal
	                           * (later ones only of entries that changed) */
	size_t agents, groups, skipped;
};

/* A write's state, with the lookup over the store. */
static void
publish_init(struct publish *p, struct store *st, int64_t now)
{
	memset(p, 0, sizeof(*p));
	p->st = st;
	p->now = now;
	p->sl.st = st;
	p->lk.agent = store_agent;
	p->lk.entry = store_entry;
	p->lk.ctx = &p->sl;
}

static void
publish_fini(struct publish *p)
{
	agentid_replica_writer_free(p->w);
	agentid_replica_close(p->view);
	store_lookup_free(&p->sl);
	p->w = NULL;
	p->view = NULL;
}

/* Is this node's group one NSS serves (a posixGroup under group_base)? */
static bool
serves_group(const struct store *st, const struct node *nd)
{
	return !nd->deleted && (nd->s.flags & AGENTID_STORED_GROUP) != 0 &&
	    nd->s.group_name != NULL && under(nd->s.rec.dn, st->cfg->group_base ?
	    st->cfg->group_base : st->cfg->base);
}

/* Decides what nd publishes into it. ENOMEM-like errors only. */
static int
decide_item(struct publish *p, struct node *nd, struct item *it)
{
	struct agentid_error err = { "" };
	int rc;

	memset(it, 0, sizeof(*it));
	it->nd = nd;
	it->oldu = nd->pub_user ? (nd->old_user != NULL ? nd->old_user :
	    nd->s.rec.uid) : NULL;
	it->oldg = nd->pub_group ? (nd->old_group != NULL ? nd->old_group :
	    nd->s.group_name) : NULL;
	it->has_g = serves_group(p->st, nd);
	if (nd->deleted || !(nd->s.flags & AGENTID_STORED_AGENT_FILTER))
		return 0;
	rc = agentid_replica_entry_decide(p->st->cfg, &p->lk, &nd->s.rec, p->now,
	    &it->e, &it->reason, &err);
	if (rc == 0)
		it->has_u = true;
	else if (rc == ENOMEM)
		return rc;
	else
		p->skipped++;
	return 0;
}

/* A state time alone can change: decided again at every write. */
static bool
timed(const struct store *st, const struct item *it)
{
	return it->has_u && st->cfg->max_lifetime > 0 &&
	    (it->reason == AGENTID_LIFETIME_EXCEEDS_POLICY ||
	    it->reason == AGENTID_NOT_YET_VALID);
}

/* Remembers nd's UUID for the next write. */
static void
recheck_add(struct store *st, const struct node *nd)
{
	if (push((void **)&st->recheck, &st->n_recheck, &st->cap_recheck, 16,
	    nd->s.uuid) != 0)
		st->nss_force_base = true;
}

/* An I/O or memory error stops the write; a refused entry is skipped. */
static bool
fatal(int rc)
{
	return rc == ENOMEM || rc == EFBIG || rc == EIO || rc == ENOSPC;
}

/* Writes it's user into the writer; true when written. */
static bool
write_user(struct publish *p, struct item *it)
{
	struct agentid_error err = { "" };
	int rc;

	rc = agentid_replica_write_user(p->w, &it->e, &err);
	if (fatal(rc))
		p->rc = rc;
	else if (rc != 0) {
		p->skipped++;
		if (rc == EEXIST)
			recheck_add(p->st, it->nd); /* may come free */
		if ((p->view == NULL || rc != EEXIST) &&
		    (p->warn_all || it->nd->queued))
			agentidd_log(LOG_WARNING, "NSS: not served: %s", err.msg);
	}
	return rc == 0;
}

/* Writes it's group; true when written. */
static bool
write_group(struct publish *p, struct item *it)
{
	struct agentid_error err = { "" };
	const struct agentid_stored *s = &it->nd->s;
	int rc;

	rc = agentid_replica_write_group(p->w, s->group_name, s->rec.gid_number,
	    s->members, s->n_members, &err);
	if (fatal(rc))
		p->rc = rc;
	else if (rc != 0) {
		p->skipped++;
		if (rc == EEXIST)
			recheck_add(p->st, it->nd);
		if (p->warn_all || it->nd->queued)
			agentidd_log(LOG_WARNING, "NSS: group not served: %s",
			    err.msg);
	}
	return rc == 0;
}

/* The identity of a local accounts file, to see it change. */
static void
local_stat(struct stat *st, const char *path)
{
	if (stat(path, st) != 0)
		memset(st, 0, sizeof(*st));
}

/* True when /etc/passwd or /etc/group changed since the NSS base. */
static bool
local_changed(const struct store *st)
{
	static const char *const paths[2] = { AGENTID_FILES_PASSWD,
	    AGENTID_FILES_GROUP };
	struct stat now;
	size_t i;

	for (i = 0; i < 2; i++) {
		local_stat(&now, paths[i]);
		if (now.st_ino != st->local_files[i].st_ino ||
		    now.st_dev != st->local_files[i].st_dev ||
		    now.st_size != st->local_files[i].st_size ||
		    now.st_mtim.tv_sec != st->local_files[i].st_mtim.tv_sec ||
		    now.st_mtim.tv_nsec != st->local_files[i].st_mtim.tv_nsec)
			return true;
	}
	return false;
}

/* See agentidd.h. */
bool
store_local_changed(const struct store *st)
{
	return st->nss_base_gen != 0 && local_changed(st);
}

/* A new writer (base, or delta for the current base) with the local
 * accounts reserved. */
static int
writer_start(struct store *st, struct publish *p, bool delta, int64_t now,
    struct agentid_error *err)
{
	struct agentid_replica_meta meta;
	int rc;

	memset(&meta, 0, sizeof(meta));
	meta.generated = now;
	meta.min_uid = st->cfg->min_uid > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)st->cfg->min_uid;
	meta.clock_skew = st->cfg->clock_skew;
	meta.nologin_shell = st->cfg->nologin_shell;
	if (!delta && p->path != NULL) {
		/* a background base, written under another name: the writer
		 * cannot see the live files' generations, and a clock stepped
		 * back would number it below the base it replaces (a reader
		 * would then take the new delta for an old one and serve the
		 * old base alone): above every generation in place */
		struct agentid_replica *cur;
		struct timespec ts;
		uint64_t floor = st->nss_base_gen, g;

		if (agentid_replica_open(st->replica, &cur) == 0) {
			if (agentid_replica_info(cur)->generation > floor)
				floor = agentid_replica_info(cur)->generation;
			agentid_replica_close(cur);
		}
		clock_gettime(CLOCK_REALTIME, &ts);
		g = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
		meta.generation = g > floor ? g : floor + 1;
	}
	if (delta)
		rc = agentid_replica_writer_new_delta(st->replica, &meta,
		    p->base_gen != 0 ? p->base_gen : st->nss_base_gen, &p->w, err);
	else
		rc = agentid_replica_writer_new(p->path != NULL ? p->path :
		    st->replica, &meta, &p->w, err);
	if (rc != 0)
		return rc;
	return agentid_replica_writer_reserve_local(p->w, AGENTID_FILES_PASSWD,
	    AGENTID_FILES_GROUP, err);
}

/* Clears the queue and the names kept for it. */
static void
queue_done(struct store *st)
{
	size_t i;

	for (i = 0; i < st->n_queue; i++) {
		struct node *nd = st->queue[i];

		nd->queued = false;
		free(nd->old_user);
		free(nd->old_group);
		nd->old_user = nd->old_group = NULL;
	}
	st->n_queue = 0;
	st->n_seeds = 0;
}

/* One pass of the full base: nodes served now first (pass 0), so that an
 * entry keeps its name and id against a newcomer claiming them, then the
 * others. */
static void
base_pass(struct publish *p, int pass)
{
	struct store *st = p->st;
	struct item it;
	size_t i;

	for (i = 0; i < st->cap && p->rc == 0; i++) {
		struct node *nd = st->slot[i];

		if (nd == NULL || nd->deleted ||
		    (pass == 0) != (nd->pub_user || nd->pub_group))
			continue;
		if ((p->rc = decide_item(p, nd, &it)) != 0)
			return;
		nd->pub_user = it.has_u && write_user(p, &it);
		nd->pub_group = it.has_g && write_group(p, &it);
		p->agents += nd->pub_user;
		p->groups += nd->pub_group;
		if (timed(st, &it))
			recheck_add(st, nd);
	}
}

/* Writes a new NSS base from every node; it retires the delta. */
static int
publish_base(struct store *st, struct publish *p, int64_t now,
    struct agentid_error *err)
{
	size_t i;
	int rc;

	compact_abort(st, "a new NSS base is written now");
	st->n_recheck = 0;
	p->warn_all = st->nss_base_gen == 0;
	if ((rc = writer_start(st, p, false, now, err)) != 0)
		return rc;
	local_stat(&st->local_files[0], AGENTID_FILES_PASSWD);
	local_stat(&st->local_files[1], AGENTID_FILES_GROUP);
	base_pass(p, 0);
	base_pass(p, 1);
	if ((rc = p->rc) != 0)
		return agentid_seterr(err, rc, "%s: cannot write", st->replica);
	if ((rc = agentid_replica_commit(p->w, err)) != 0)
		return rc;
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL && st->slot[i]->deleted)
			st->slot[i]->pub_user = st->slot[i]->pub_group = false;
	st->nss_base_gen = agentid_replica_writer_generation(p->w);
	st->nss_served = p->agents + p->groups;
	st->nss_force_base = false;
	st->nss_last_base = true;
	st->nss_last_written = st->nss_served;
	return 0;
}

/* A sorted set of strings or ids for one write (small: a batch). */
struct nameset {
	char **v;
	size_t n, cap;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Adds s (not copied: it must outlive the set). */
static int
nameset_add(struct nameset *ns, const char *s)
{
	return push((void **)&ns->v, &ns->n, &ns->cap, sizeof(char *), &s);
}

static void
nameset_sort(struct nameset *ns)
{
	if (ns->n > 1)
		qsort(ns->v, ns->n, sizeof(*ns->v), cmp_str);
}

static bool
nameset_has(const struct nameset *ns, const char *s)
{
	return ns->n > 0 && bsearch(&s, ns->v, ns->n, sizeof(*ns->v),
	    cmp_str) != NULL;
}

/* True when the user u readers see now is e, field for field. */
static bool
same_user(const struct agentid_replica_user *u,
    const struct agentid_replica_entry *e)
{
#define SAME(str, c) ((str).len == (c != NULL ? strlen(c) : 0) && \
	((str).len == 0 || memcmp((str).p, c, (str).len) == 0))
	return SAME(u->name, e->name) && u->uid == e->uid && u->gid == e->gid &&
	    SAME(u->gecos, e->gecos) && SAME(u->home, e->home) &&
	    SAME(u->shell, e->shell) && u->state == e->state &&
	    u->has_not_before == e->has_not_before &&
	    (!e->has_not_before || u->not_before == e->not_before) &&
	    u->not_after == e->not_after;
}

/* True when the group g readers see now is nd's, members in order. */
static bool
same_group(const struct agentid_replica_group *g, const struct node *nd)
{
	struct agentid_replica_str m;
	size_t cur = 0, i;

	if (!SAME(g->name, nd->s.group_name) || g->gid != nd->s.rec.gid_number ||
	    g->n_members != nd->s.n_members)
		return false;
	for (i = 0; i < nd->s.n_members; i++)
		if (!agentid_replica_member_next(g, &cur, &m) ||
		    !SAME(m, nd->s.members[i]))
			return false;
	return true;
#undef SAME
}

/* A C string of a replica string, in buf. */
static const char *
cstr(const struct agentid_replica_str *s, char *buf, size_t len)
{
	size_t n = s->len < len - 1 ? s->len : len - 1;

	memcpy(buf, s->p, n);
	buf[n] = '\0';
	return buf;
}

/* The members whose lists a changed group touches, with the gids to take
 * out of and put into their lists. */
struct member_change {
	char *name;
	uint32_t gid;             /* the group's gid */
	bool add;                 /* put in (new group) or take out (old) */
};

struct delta_state {
	struct publish *p;
	struct member_change *mc;
	size_t n_mc, cap_mc;
};

/* Records that member's list loses (add false) or gains gid. */
static int
member_change(struct delta_state *ds, const char *name, size_t len,
    uint32_t gid, bool add)
{
	struct member_change c;
	int rc;

	if ((c.name = strndup(name, len)) == NULL)
		return ENOMEM;
	c.gid = gid;
	c.add = add;
	if ((rc = push((void **)&ds->mc, &ds->n_mc, &ds->cap_mc, sizeof(c),
	    &c)) != 0)
		free(c.name);
	return rc;
}

static int
cmp_mc(const void *a, const void *b)
{
	const struct member_change *x = a, *y = b;

	return strcmp(x->name, y->name);
}

/* Writes the new list of every member a changed group touches: the list
 * readers see now, without the changed groups' old gids, with their new
 * ones. */
static int
write_member_lists(struct delta_state *ds, struct agentid_error *err)
{
	struct agentid_replica_gids now;
	uint32_t *gids = NULL, *ng;
	size_t i, j, k, n, cap = 0;
	int rc = 0;

	if (ds->n_mc > 1)
		qsort(ds->mc, ds->n_mc, sizeof(*ds->mc), cmp_mc);
	for (i = 0; i < ds->n_mc && rc == 0; i = j) {
		for (j = i + 1; j < ds->n_mc &&
		    strcmp(ds->mc[j].name, ds->mc[i].name) == 0; j++)
			;
		n = 0;
		if (agentid_replica_groups_of(ds->p->view, ds->mc[i].name,
		    &now) != 0)
			now.n = 0;
		if (cap < now.n + (j - i)) {
			cap = now.n + (j - i);
			if ((ng = realloc(gids, cap * sizeof(*gids))) == NULL) {
				rc = ENOMEM;
				break;
			}
			gids = ng;
		}
		for (k = 0; k < now.n; k++) {
			uint32_t g = agentid_replica_gid_at(&now, (uint32_t)k);
			size_t x;

			for (x = i; x < j && (ds->mc[x].add || ds->mc[x].gid != g);
			    x++)
				;
			if (x == j)
				gids[n++] = g;
		}
		for (k = i; k < j; k++)
			if (ds->mc[k].add)
				gids[n++] = ds->mc[k].gid;
		if (n > 1)
			qsort(gids, n, sizeof(*gids), cmp_u32);
		{
			size_t o = 0;

			for (k = 0; k < n; k++)
				if (o == 0 || gids[o - 1] != gids[k])
					gids[o++] = gids[k];
			n = o;
		}
		/* a delta's list is bounded, a base's is not: dropped, the
		 * list would stay as the base has it (a gid just removed
		 * kept): a new base instead */
		if (n > AGENTID_REPLICA_MAX_MEMBERS) {
			rc = ECANCELED;
			break;
		}
		rc = agentid_replica_write_members(ds->p->w, ds->mc[i].name, gids, n,
		    err);
		if (rc == EINVAL || rc == EEXIST)
			rc = 0; /* a name NSS would never serve */
	}
	free(gids);
	return rc;
}

/* Carries a record of the old delta into the new one unless this write
 * already has its name (the writer says EEXIST). */
static int
carry(const struct agentid_replica_delta_rec *r, void *arg)
{
	struct publish *p = arg;
	struct agentid_error err = { "" };
	char gecos[AGENTID_REPLICA_MAX_FIELD + 1], home[sizeof(gecos)],
	    shell[sizeof(gecos)], **members = NULL;
	struct agentid_replica_entry e;
	struct agentid_replica_str m;
	size_t cur = 0, i, n = 0;
	int rc;

	if (r->tombstone)
		rc = agentid_replica_write_tombstone(p->w, r->kind == 'g', r->name,
		    &err);
	else if (r->kind == 'm') {
		uint32_t *g = calloc((size_t)r->gids.n + 1, sizeof(*g));

		if (g == NULL)
			return ENOMEM;
		for (i = 0; i < r->gids.n; i++)
			g[i] = agentid_replica_gid_at(&r->gids, (uint32_t)i);
		rc = agentid_replica_write_members(p->w, r->name, g, r->gids.n,
		    &err);
		free(g);
	} else if (r->kind == 'n') {
		memset(&e, 0, sizeof(e));
		e.name = r->name;
		e.uid = r->user.uid;
		e.gid = r->user.gid;
		e.gecos = cstr(&r->user.gecos, gecos, sizeof(gecos));
		e.home = cstr(&r->user.home, home, sizeof(home));
		e.shell = cstr(&r->user.shell, shell, sizeof(shell));
		e.state = r->user.state;
		e.has_not_before = r->user.has_not_before;
		e.not_before = r->user.not_before;
		e.not_after = r->user.not_after;
		rc = agentid_replica_write_user(p->w, &e, &err);
	} else {
		if ((members = calloc(r->group.n_members + 1,
		    sizeof(*members))) == NULL)
			return ENOMEM;
		while (n < r->group.n_members &&
		    agentid_replica_member_next(&r->group, &cur, &m))
			if ((members[n++] = strndup(m.p, m.len)) == NULL) {
				rc = ENOMEM;
				goto out;
			}
		rc = agentid_replica_write_group(p->w, r->name, r->group.gid,
		    members, n, &err);
	}
out:
	for (i = 0; i < n; i++)
		free(members[i]);
	free(members);
	if (fatal(rc))
		return rc;
	if (rc != 0 && rc != EEXIST)
		agentidd_log(LOG_WARNING, "NSS: not carried: %s", err.msg);
	return 0;
}
/* Ids pushed one at a time, then sorted for bsearch. */
struct idlist {
	uint32_t *v;
	size_t n, cap;
};

static int
idlist_add(struct idlist *l, uint32_t id)
{
	return push((void **)&l->v, &l->n, &l->cap, sizeof(id), &id);
}

static bool
idlist_has(const struct idlist *l, uint32_t id)
{
	return l->n > 0 && bsearch(&id, l->v, l->n, sizeof(id), cmp_u32) != NULL;
}

/* The queue, grown by every entry whose chain goes through a queued one
 * (its DN, or the DN it had: the owner index, transitively), and by the
 * recheck list. */
static int
affected(struct store *st)
{
	struct { uint64_t *v; size_t n, cap; } hq = { NULL, 0, 0 };
	size_t i, j, n_first;
	struct node *k, *nd;
	int rc = 0;

	for (i = 0; i < st->n_recheck; i++)
		if ((nd = store_find(st, st->recheck[i])) != NULL && !nd->deleted)
			enqueue(st, nd);
	st->n_recheck = 0;
	n_first = st->n_queue;
	for (i = 0; i < st->n_seeds && rc == 0; i++)
		rc = push((void **)&hq.v, &hq.n, &hq.cap, sizeof(uint64_t),
		    &st->seeds[i]);
	for (i = 0; i < n_first && rc == 0; i++)
		if (st->queue[i]->dn_hash != 0)
			rc = push((void **)&hq.v, &hq.n, &hq.cap, sizeof(uint64_t),
			    &st->queue[i]->dn_hash);
	for (i = 0; i < hq.n && rc == 0 && st->kids_cap > 0; i++) {
		j = kid_slot_of(st, hq.v[i]);
		if (st->kids[j].h != hq.v[i])
			continue;
		for (k = st->kids[j].head; k != NULL && rc == 0; k = k->kid_next) {
			if (k->queued)
				continue;
			enqueue(st, k);
			if (k->dn_hash != 0)
				rc = push((void **)&hq.v, &hq.n, &hq.cap,
				    sizeof(uint64_t), &k->dn_hash);
		}
	}
	free(hq.v);
	return rc != 0 || st->nss_force_base ? ENOMEM : 0;
}

/* Writes a delta of what the queue changed; ECANCELED when a new base
 * must be written instead (no usable base, the delta past its bound). */
static int
publish_delta(struct store *st, struct publish *p, int64_t now,
    struct agentid_error *err)
{
	struct nameset vac_users = { NULL, 0, 0 }, vac_groups = { NULL, 0, 0 };
	struct idlist vac_uids = { NULL, 0, 0 }, vac_gids = { NULL, 0, 0 };
	struct delta_state ds = { p, NULL, 0, 0 };
	struct agentid_replica_user cu;
	struct agentid_replica_group cg;
	char nm[AGENTID_MAX_NAME + 1];
	struct item *items = NULL, *it;
	size_t i, n, count;
	int rc;

	if ((rc = agentid_replica_open(p->path != NULL ? p->path : st->replica,
	    &p->view)) != 0) {
		agentidd_log(LOG_NOTICE, "NSS: %s unreadable (%s): a new base",
		    p->path != NULL ? p->path : st->replica, strerror(rc));
		rc = ECANCELED;
		goto out;
	}
	if (agentid_replica_info(p->view)->base_generation !=
	    (p->base_gen != 0 ? p->base_gen : st->nss_base_gen)) {
		agentidd_log(LOG_NOTICE, "NSS: %s is not the base agentidd wrote "
		    "(agentid sync?): a new base", st->replica);
		rc = ECANCELED;
		goto out;
	}
	if (affected(st) != 0) {
		rc = ECANCELED;
		goto out;
	}
	n = st->n_queue;
	if ((items = calloc(n + 1, sizeof(*items))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((rc = decide_item(p, st->queue[i], &items[i])) != 0)
			goto out;
	/* names and ids given up in this write may be taken in it */
	for (i = 0, rc = 0; i < n && rc == 0; i++) {
		it = &items[i];
		if (it->oldu != NULL) {
			if (!it->has_u || strcmp(it->e.name, it->oldu) != 0)
				rc = nameset_add(&vac_users, it->oldu);
			if (rc == 0 && agentid_replica_user_by_name(p->view, it->oldu,
			    &cu) == 0 && (!it->has_u || it->e.uid != cu.uid))
				rc = idlist_add(&vac_uids, cu.uid);
		}
		if (rc == 0 && it->oldg != NULL) {
			if (!it->has_g || strcmp(it->nd->s.group_name, it->oldg) != 0)
				rc = nameset_add(&vac_groups, it->oldg);
			if (rc == 0 && agentid_replica_group_by_name(p->view, it->oldg,
			    &cg) == 0 && (!it->has_g ||
			    it->nd->s.rec.gid_number != cg.gid))
				rc = idlist_add(&vac_gids, cg.gid);
		}
	}
	if (rc != 0)
		goto out;
	nameset_sort(&vac_users);
	nameset_sort(&vac_groups);
	if (vac_uids.n > 1)
		qsort(vac_uids.v, vac_uids.n, sizeof(uint32_t), cmp_u32);
	if (vac_gids.n > 1)
		qsort(vac_gids.v, vac_gids.n, sizeof(uint32_t), cmp_u32);
	if ((rc = writer_start(st, p, true, now, err)) != 0)
		goto out;
	/* users: unchanged ones stay in the files as they are; a name or uid
	 * another entry holds (and keeps) is not taken from it */
	for (i = 0; i < n && p->rc == 0; i++) {
		bool own;

		it = &items[i];
		if (!it->has_u)
			continue;
		own = it->oldu != NULL && strcmp(it->oldu, it->e.name) == 0;
		if (own && agentid_replica_user_by_name(p->view, it->e.name,
		    &cu) == 0 && same_user(&cu, &it->e)) {
			it->wrote_u = true;
			continue;
		}
		if ((!own && agentid_replica_user_by_name(p->view, it->e.name,
		    &cu) == 0 && !nameset_has(&vac_users, it->e.name)) ||
		    (agentid_replica_user_by_uid(p->view, it->e.uid, &cu) == 0 &&
		    (it->oldu == NULL || strcmp(cstr(&cu.name, nm, sizeof(nm)),
		    it->oldu) != 0) && !idlist_has(&vac_uids, it->e.uid))) {
			agentidd_log(LOG_WARNING, "NSS: not served: %s: uid %u or "
			    "its name is another agent's", it->e.name, it->e.uid);
			recheck_add(st, it->nd);
			p->skipped++;
			continue;
		}
		it->wrote_u = write_user(p, it);
	}
	for (i = 0; i < n && p->rc == 0; i++) {
		it = &items[i];
		if (it->oldu != NULL && !(it->wrote_u &&
		    strcmp(it->e.name, it->oldu) == 0) &&
		    (rc = agentid_replica_write_tombstone(p->w, false, it->oldu,
		    err)) != 0 && rc != EEXIST)
			p->rc = rc;
	}
	/* groups, and the lists of the members they gain or lose */
	for (i = 0; i < n && p->rc == 0; i++) {
		const struct agentid_stored *s;
		struct agentid_replica_str m;
		bool own, have_old;
		size_t cur = 0, k;

		it = &items[i];
		s = &it->nd->s;
		if (!it->has_g && it->oldg == NULL)
			continue;
		own = it->has_g && it->oldg != NULL &&
		    strcmp(it->oldg, s->group_name) == 0;
		have_old = it->oldg != NULL && agentid_replica_group_by_name(p->view,
		    it->oldg, &cg) == 0;
		if (own && have_old && same_group(&cg, it->nd)) {
			it->wrote_g = true;
			continue;
		}
		while (have_old && p->rc == 0 &&
		    agentid_replica_member_next(&cg, &cur, &m))
			p->rc = member_change(&ds, m.p, m.len, cg.gid, false);
		if (it->has_g && !((!own && agentid_replica_group_by_name(p->view,
		    s->group_name, &cg) == 0 &&
		    !nameset_has(&vac_groups, s->group_name)) ||
		    (agentid_replica_group_by_gid(p->view, s->rec.gid_number,
		    &cg) == 0 && (it->oldg == NULL ||
		    strcmp(cstr(&cg.name, nm, sizeof(nm)), it->oldg) != 0) &&
		    !idlist_has(&vac_gids, s->rec.gid_number))))
			it->wrote_g = write_group(p, it);
		else if (it->has_g)
			recheck_add(st, it->nd);
		for (k = 0; it->wrote_g && k < s->n_members && p->rc == 0; k++)
			p->rc = member_change(&ds, s->members[k],
			    strlen(s->members[k]), s->rec.gid_number, true);
		if (p->rc == 0 && it->oldg != NULL && !(it->wrote_g && own) &&
		    (rc = agentid_replica_write_tombstone(p->w, true, it->oldg,
		    err)) != 0 && rc != EEXIST)
			p->rc = rc;
	}
	if ((rc = p->rc) != 0 || (rc = write_member_lists(&ds, err)) != 0 ||
	    (rc = agentid_replica_delta_each(p->view, carry, p)) != 0) {
		if (rc == ECANCELED) {
			agentidd_log(LOG_INFO, "NSS: a member list too long for "
			    "a delta: a new base");
			goto out;
		}
		agentid_seterr(err, rc, "%s: cannot write the delta", st->replica);
		goto out;
	}
	count = agentid_replica_writer_count(p->w);
	/* past its bound, the delta is still written (readers see the
	 * change now) and a child compacts in the background */
	if (!p->final && !st->compact_on && (count > NSS_DELTA_MAX ||
	    (count > NSS_DELTA_MIN &&
	    count * 100 > (st->nss_served + 1) * NSS_DELTA_SHARE)))
		st->want_nss = true;
	if ((rc = p->final ? agentid_replica_commit_with_base(p->w, p->path,
	    err) : agentid_replica_commit(p->w, err)) != 0)
		goto out;
	for (i = 0; i < n; i++) {
		items[i].nd->pub_user = items[i].wrote_u;
		items[i].nd->pub_group = items[i].wrote_g;
		if (timed(st, &items[i]))
			recheck_add(st, items[i].nd);
	}
	st->nss_last_base = false;
	st->nss_last_written = count;
out:
	for (i = 0; i < ds.n_mc; i++)
		free(ds.mc[i].name);
	free(ds.mc);
	free(items);
	free(vac_users.v);
	free(vac_groups.v);
	free(vac_uids.v);
	free(vac_gids.v);
	return rc;
}

/* Writes the NSS replica from the records just written: a delta of what
 * the batch changed, or a new base (first write, compaction, the local
 * accounts changed, the base on disk is not ours). */
static int
publish(struct store *st, int64_t now, struct agentid_error *err)
{
	struct publish p;
	bool base;
	int rc;

	memset(&p, 0, sizeof(p));
	p.st = st;
	p.now = now;
	if (st->dns_broken && (rc = dn_rebuild(st)) != 0) {
		agentid_seterr(err, rc, "out of memory");
		goto out;
	}
	base = st->nss_force_base || st->nss_base_gen == 0;
	if (!base && local_changed(st)) {
		agentidd_log(LOG_INFO, "NSS: %s or %s changed: a new base",
		    AGENTID_FILES_PASSWD, AGENTID_FILES_GROUP);
		base = true;
	}
	publish_init(&p, st, now);
	if (!base && (rc = publish_delta(st, &p, now, err)) == ECANCELED) {
		publish_fini(&p);
		publish_init(&p, st, now);
		err->msg[0] = '\0';
		base = true;
	}
	if (base)
		rc = publish_base(st, &p, now, err);
out:
	if (rc != 0)
		st->nss_force_base = true; /* rebuilt whole next time */
	queue_done(st);
	publish_fini(&p);
	return rc;
}

/* Writes the records (a delta, or a base when one is forced) and the NSS
 * replica for the batch. */
static int
flush_once(struct store *st, int64_t now, struct agentid_error *err)
{
	const struct agentid_stored **recs = NULL;
	unsigned char (*tombs)[16] = NULL;
	char *bpath = NULL, *dpath = NULL;
	size_t n, nt, i;
	bool base, compact = false;
	int rc = ENOMEM;

	base = st->force_base || st->base_gen == 0;
	/* past its bound, the delta is still written and a child compacts
	 * in the background (compact_start) */
	if (!base && !st->compact_on && (st->n_dirty > DELTA_MAX ||
	    st->n_dirty * 100 > (st->n_live + 1) * DELTA_SHARE))
		st->want_records = true;
	if (base)
		compact_abort(st, "a new records base is written now");
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
		st->n_dirty_v = 0;
		for (i = 0; i < st->cap; i++)
			if (st->slot[i] != NULL)
				st->slot[i]->dirty = false;
		compact = true;
	} else if ((rc = agentid_records_write(dpath, 1, st->gen, st->base_gen,
	    recs, n, (const unsigned char (*)[16])tombs, nt, err)) != 0) {
		goto out;
	}
	rc = publish(st, now, err);
	/* deleted entries leave the table once the records base holds
	 * them no more and the NSS write has seen them go */
	if (compact && rehash(st, st->cap, true) != 0 && rc == 0)
		rc = agentid_seterr(err, ENOMEM, "out of memory");
	if (rc != 0)
		goto out;
	st->changed = false;
	/* a base's writers freed hundreds of MB at 1M entries: give back
	 * what the heap can (glibc keeps freed memory otherwise) */
	if (compact || st->nss_last_base)
		(void)malloc_trim(0);
out:
	free(recs);
	free(tombs);
	free(bpath);
	free(dpath);
	return rc;
}

/*
 * Background compaction. A delta past its bound used to be compacted on
 * the spot: both bases rewritten (at 1M agents ~16 s), no batch applied
 * meanwhile. Now a child forked from the daemon writes both bases from
 * its copy-on-write image of the store, to side names (.records.next,
 * REPLICA.next) plus the list of what its NSS base serves (.next.pub),
 * and only writes files and exits. The parent goes on writing deltas
 * against the old bases, and lists every entry changed or decided again
 * since the fork (since_v; the names it had then in snap_user/snap_group).
 * Once the child has exited, the next flush puts its bases in place, each
 * with a delta of what changed since the fork: the delta first (readers
 * that open then see a delta for a newer base and open again), the base
 * renamed over the old one right after it. A reader never sees the new
 * base with the old delta (an older state than the one it saw). A child
 * that fails, or a snapshot whose changes could not all be tracked, falls
 * back to the synchronous compaction, logged as an error.
 */
struct compact_paths {
	char *rnext, *nnext, *pub;
};

/* Removes the files of path's directory whose names are path's last
 * component followed by suffix and anything (the writers' mkstemp names). */
static void
unlink_prefixed(const char *path, const char *suffix)
{
	const char *slash = strrchr(path, '/');
	char *dir, *prefix;
	struct dirent *de;
	size_t n;
	DIR *d;
	int dfd;

	if (slash == NULL)
		return;
	if ((dir = strndup(path, (size_t)(slash - path) + 1)) == NULL)
		return;
	if (asprintf(&prefix, "%s%s", slash + 1, suffix) < 0) {
		free(dir);
		return;
	}
	n = strlen(prefix);
	if ((d = opendir(dir)) != NULL) {
		dfd = dirfd(d);
		while ((de = readdir(d)) != NULL)
			if (strncmp(de->d_name, prefix, n) == 0 &&
			    de->d_name[n] != '\0')
				(void)unlinkat(dfd, de->d_name, 0);
		closedir(d);
	}
	free(prefix);
	free(dir);
}

static void
compact_paths_free(struct compact_paths *cp)
{
	free(cp->rnext);
	free(cp->nnext);
	free(cp->pub);
	memset(cp, 0, sizeof(*cp));
}

static int
compact_paths(const struct store *st, struct compact_paths *cp)
{
	memset(cp, 0, sizeof(*cp));
	if ((cp->rnext = agentid_records_path(st->replica, ".records.next")) ==
	    NULL || asprintf(&cp->nnext, "%s.next", st->replica) < 0 ||
	    asprintf(&cp->pub, "%s.next.pub", st->replica) < 0) {
		cp->nnext = cp->pub = NULL;
		compact_paths_free(cp);
		return ENOMEM;
	}
	return 0;
}

static void
compact_unlink(const struct compact_paths *cp)
{
	(void)unlink(cp->rnext);
	(void)unlink(cp->nnext);
	(void)unlink(cp->pub);
	/* a child killed while writing leaves its writers' temporary files
	 * (mkstemp names beside them): hundreds of MB each at 1M agents */
	unlink_prefixed(cp->rnext, ".tmp");
	unlink_prefixed(cp->nnext, ".tmp.");
}

#define PUB_USER 1
#define PUB_GROUP 2
#define PUB_RECHECK 4
#define PUB_REC 17                /* UUID, flags */

/* The child: what its NSS base serves and must decide again, one record
 * of PUB_REC bytes each. */
static int
write_pub(struct store *st, const char *path)
{
	unsigned char buf[PUB_REC * 4096];
	size_t i, len = 0, k;
	ssize_t w;
	int fd, rc = 0;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return errno;
	for (i = 0; i < st->cap + st->n_recheck && rc == 0; i++) {
		const unsigned char *u;
		unsigned char f;

		if (i < st->cap) {
			struct node *nd = st->slot[i];

			if (nd == NULL || nd->deleted ||
			    !(nd->pub_user || nd->pub_group))
				continue;
			u = nd->s.uuid;
			f = (nd->pub_user ? PUB_USER : 0) |
			    (nd->pub_group ? PUB_GROUP : 0);
		} else {
			u = st->recheck[i - st->cap];
			f = PUB_RECHECK;
		}
		memcpy(buf + len, u, 16);
		buf[len + 16] = f;
		len += PUB_REC;
		if (len == sizeof(buf) || i + 1 == st->cap + st->n_recheck) {
			for (k = 0; k < len && rc == 0; k += (size_t)w)
				if ((w = write(fd, buf + k, len - k)) < 0 &&
				    errno != EINTR)
					rc = errno;
				else if (w < 0)
					w = 0;
			len = 0;
		}
	}
	for (k = 0; k < len && rc == 0; k += (size_t)w)
		if ((w = write(fd, buf + k, len - k)) < 0)
			rc = errno;
	if (close(fd) != 0 && rc == 0)
		rc = errno;
	return rc;
}

static pid_t compact_parent; /* set before each fork, for the child */

/* The child: both bases from its image of the store, then exit (it
 * only writes files: the parent's libldap threads are not here). */
static void __attribute__((noreturn))
compact_child(struct store *st, int fd, int64_t now,
    const struct compact_paths *cp)
{
	struct agentid_error err = { "" };
	const struct agentid_stored **recs = NULL;
	unsigned char (*tombs)[16] = NULL;
	struct publish p;
	size_t n, nt;
	int rc;

	signal(SIGTERM, SIG_DFL);
	signal(SIGINT, SIG_DFL);
	/* a parent gone (outside a unit's cgroup) must not find an orphan
	 * renaming files under its successor */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != compact_parent)
		_exit(1);
	/* syslog's descriptor is closed below: forget it, so that nothing
	 * here writes into a file that took its number */
	closelog();
	/* the directory connection is the parent's: this copy of its socket
	 * would keep it open after the parent closes it */
	if (fd > 3)
		(void)close_range(3, (unsigned)fd - 1, 0);
	(void)close_range((unsigned)fd + 1, ~0U, 0);
	memset(&p, 0, sizeof(p));
	/* tests: the fallback to the synchronous compaction */
	if (secure_getenv("AGENTIDD_TEST_COMPACT_FAIL") != NULL) {
		rc = agentid_seterr(&err, EIO, "AGENTIDD_TEST_COMPACT_FAIL is set");
		goto out;
	}
	if (st->compact_records &&
	    ((rc = collect(st, true, &recs, &n, &tombs, &nt)) != 0 ||
	    (rc = agentid_records_write(cp->rnext, 0, st->compact_gen,
	    st->compact_gen, recs, n, NULL, 0, &err)) != 0))
		goto out;
	if (!st->compact_nss)
		goto out;
	publish_init(&p, st, now);
	p.path = cp->nnext;
	if ((rc = publish_base(st, &p, now, &err)) != 0)
		goto out;
	if ((rc = write_pub(st, cp->pub)) != 0)
		agentid_seterr(&err, rc, "%s: %s", cp->pub, strerror(rc));
out:
	if (rc != 0) {
		if (err.msg[0] == '\0')
			agentid_seterr(&err, rc, "%s", strerror(rc));
		if (write(fd, err.msg, strlen(err.msg)) < 0)
			rc = EIO;
	}
	_exit(rc != 0 ? 1 : 0);
}

static int64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Forgets what was tracked since the fork. */
static void
since_clear(struct store *st)
{
	size_t i;

	for (i = 0; i < st->n_since; i++) {
		struct node *nd = st->since_v[i];

		nd->since = nd->since_dirty = nd->snap_saved = false;
		free(nd->snap_user);
		free(nd->snap_group);
		nd->snap_user = nd->snap_group = NULL;
	}
	st->n_since = 0;
	st->compact_on = false;
	st->compact_broken = false;
	st->compact_exited = false;
	if (st->compact_fd > 0)
		close(st->compact_fd);
	st->compact_fd = -1;
}

/* Stops a background compaction (a synchronous base is written instead,
 * or the daemon stops). */
static void
compact_abort(struct store *st, const char *why)
{
	struct compact_paths cp;
	int status;

	if (!st->compact_on)
		return;
	if (st->compact_pid > 0) {
		(void)kill(st->compact_pid, SIGKILL);
		while (waitpid(st->compact_pid, &status, 0) < 0 && errno == EINTR)
			;
		st->compact_pid = 0;
	}
	since_clear(st);
	if (compact_paths(st, &cp) == 0) {
		compact_unlink(&cp);
		compact_paths_free(&cp);
	}
	agentidd_log(LOG_NOTICE, "compaction in the background dropped: %s", why);
}

/* Falls back to the synchronous compaction (both bases at the next write),
 * loudly. */
static void
compact_fallback(struct store *st, const char *why)
{
	agentidd_log(LOG_ERR, "compaction in the background failed (%s): "
	    "compacting synchronously; no change is visible until it ends", why);
	compact_abort(st, why);
	st->compact_fallbacks++;
	st->force_base = true;
	st->nss_force_base = true;
}

/* Forks the child that writes new bases. */
static void
compact_start(struct store *st, int64_t now)
{
	struct compact_paths cp;
	int pfd[2], e;
	pid_t pid;

	st->compact_records = st->want_records;
	st->compact_nss = st->want_nss;
	st->want_records = st->want_nss = false;
	if (compact_paths(st, &cp) != 0) {
		compact_fallback(st, "out of memory");
		return;
	}
	compact_unlink(&cp);
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		e = errno;
		compact_paths_free(&cp);
		compact_fallback(st, strerror(e));
		return;
	}
	st->compact_gen = ++st->gen;
	local_stat(&st->compact_local[0], AGENTID_FILES_PASSWD);
	local_stat(&st->compact_local[1], AGENTID_FILES_GROUP);
	compact_parent = getpid();
	if ((pid = fork()) == 0) {
		close(pfd[0]);
		compact_child(st, pfd[1], now, &cp);
	}
	e = errno;
	close(pfd[1]);
	compact_paths_free(&cp);
	if (pid < 0) {
		close(pfd[0]);
		compact_fallback(st, strerror(e));
		return;
	}
	st->compact_pid = pid;
	st->compact_fd = pfd[0];
	st->compact_on = true;
	st->compact_exited = false;
	st->compact_broken = false;
	st->n_since = 0;
	st->compact_started = mono_ms();
	st->compactions++;
	agentidd_log(LOG_INFO, "compaction: child %ld writes a new %s in the "
	    "background (%zu entries)", (long)pid, st->compact_records ?
	    (st->compact_nss ? "records base and NSS base" : "records base") :
	    "NSS base", st->n_live);
}

bool
store_compact_done(struct store *st)
{
	int status;
	pid_t r;

	if (st->compact_exited)
		return true;
	if (!st->compact_on || st->compact_pid <= 0)
		return false;
	if ((r = waitpid(st->compact_pid, &status, WNOHANG)) == 0 ||
	    (r < 0 && errno == EINTR))
		return false;
	st->compact_status = r == st->compact_pid ? status : -1;
	st->compact_pid = 0;
	st->compact_exited = true;
	return true;
}

/* Reads the child's list: pub flags set on the nodes, those to decide
 * again queued. */
static int
read_pub(struct store *st, const char *path, size_t *served)
{
	unsigned char *buf = NULL;
	struct stat sb;
	size_t i, off;
	ssize_t r;
	int fd, rc = 0;

	*served = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return errno;
	if (fstat(fd, &sb) != 0 || sb.st_size % PUB_REC != 0 ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL) {
		rc = EBADMSG;
		goto out;
	}
	for (off = 0; off < (size_t)sb.st_size; off += (size_t)r)
		if ((r = read(fd, buf + off, (size_t)sb.st_size - off)) <= 0) {
			if (r < 0 && errno == EINTR) {
				r = 0;
				continue;
			}
			rc = EIO;
			goto out;
		}
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL)
			st->slot[i]->pub_user = st->slot[i]->pub_group = false;
	for (off = 0; off < (size_t)sb.st_size; off += PUB_REC) {
		struct node *nd = store_find(st, buf + off);
		unsigned char f = buf[off + 16];

		if (nd == NULL)
			continue; /* cannot be: nodes stay until the switch */
		if (f & PUB_USER)
			nd->pub_user = true;
		if (f & PUB_GROUP)
			nd->pub_group = true;
		*served += (f & PUB_USER ? 1 : 0) + (f & PUB_GROUP ? 1 : 0);
		if ((f & PUB_RECHECK) && !nd->deleted)
			enqueue(st, nd);
	}
out:
	free(buf);
	close(fd);
	return rc;
}

/* Puts the child's bases in place, each with a delta of what changed
 * since the fork. 0 with the force flags set when it must fall back. */
static int
compact_finish(struct store *st, int64_t now, struct agentid_error *err)
{
	const struct agentid_stored **recs = NULL;
	unsigned char (*tombs)[16] = NULL;
	struct agentid_replica *next = NULL;
	struct compact_paths cp;
	char *bpath = NULL, *dpath = NULL, msg[200];
	struct publish p;
	size_t i, n = 0, nt = 0, served = 0;
	ssize_t got;
	int status = st->compact_status, rc;

	memset(&p, 0, sizeof(p));
	if (compact_paths(st, &cp) != 0) {
		compact_fallback(st, "out of memory");
		return 0;
	}
	got = st->compact_fd > 0 ? read(st->compact_fd, msg, sizeof(msg) - 1) : 0;
	msg[got > 0 ? got : 0] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char why[300];

		snprintf(why, sizeof(why), "child %s %d: %s", WIFEXITED(status) ?
		    "exit status" : "signal", WIFEXITED(status) ?
		    WEXITSTATUS(status) : WTERMSIG(status), msg);
		compact_fallback(st, why);
		goto out;
	}
	if (st->compact_broken) {
		compact_fallback(st, "out of memory while tracking changes");
		goto out;
	}
	/* every node was seen before the fork, or is on the since list:
	 * the pub list applies now */
	if (st->compact_nss && (rc = read_pub(st, cp.pub, &served)) != 0) {
		compact_fallback(st, "the child's list is unreadable");
		goto out;
	}
	/* the records: a delta of what changed since the fork, for the new
	 * base, then the base */
	if ((bpath = agentid_records_path(st->replica, ".records")) == NULL ||
	    (dpath = agentid_records_path(st->replica, ".records.delta")) == NULL ||
	    (recs = calloc(st->n_since + 1, sizeof(*recs))) == NULL ||
	    (tombs = calloc(st->n_since + 1, sizeof(*tombs))) == NULL) {
		compact_fallback(st, "out of memory");
		goto out;
	}
	if (!st->compact_records) {
		/* the records delta as any batch writes it */
		free(recs);
		free(tombs);
		recs = NULL;
		tombs = NULL;
		if ((rc = collect(st, false, &recs, &n, &tombs, &nt)) != 0 ||
		    (rc = agentid_records_write(dpath, 1, st->gen + 1, st->base_gen,
		    recs, n, (const unsigned char (*)[16])tombs, nt, err)) != 0)
			goto fail;
		st->gen++;
		goto nss;
	}
	for (i = 0; i < st->n_since; i++) {
		struct node *nd = st->since_v[i];

		if (!nd->since_dirty)
			continue;
		if (!nd->deleted)
			recs[n++] = &nd->s;
		else
			memcpy(tombs[nt++], nd->s.uuid, 16);
	}
	if ((rc = agentid_records_write_delta_base(dpath, st->gen + 1,
	    st->compact_gen, recs, n, (const unsigned char (*)[16])tombs, nt,
	    cp.rnext, bpath, err)) != 0) {
		compact_fallback(st, err->msg);
		err->msg[0] = '\0';
		goto out;
	}
	st->gen++;
	st->base_gen = st->compact_gen;
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL)
			st->slot[i]->dirty = false;
	st->n_dirty = st->n_dirty_v = 0;
	for (i = 0; i < st->n_since; i++)
		if (st->since_v[i]->since_dirty)
			mark_dirty(st, st->since_v[i]);
nss:
	if (!st->compact_nss) {
		/* the NSS delta as any batch writes it, against its base */
		bool recs_compacted = st->compact_records;

		agentidd_log(LOG_INFO, "compaction: new records base in place after "
		    "%lld ms", (long long)(mono_ms() - st->compact_started));
		since_clear(st);
		(void)unlink(cp.pub);
		if ((rc = publish(st, now, err)) != 0)
			goto out2;
		if (recs_compacted && rehash(st, st->cap, true) != 0) {
			rc = agentid_seterr(err, ENOMEM, "out of memory");
			goto out2;
		}
		st->changed = false;
		goto out2;
	}
	/* the NSS replica: everything decided since the fork again, against
	 * the new base, under the names that base serves it by */
	for (i = 0; i < st->n_since; i++) {
		struct node *nd = st->since_v[i];

		if (nd->snap_saved) {
			free(nd->old_user);
			free(nd->old_group);
			nd->old_user = nd->snap_user;
			nd->old_group = nd->snap_group;
			nd->snap_user = nd->snap_group = NULL;
		}
		enqueue(st, nd);
	}
	if (agentid_replica_open(cp.nnext, &next) != 0) {
		compact_fallback(st, "the child's NSS base is unreadable");
		goto out;
	}
	publish_init(&p, st, now);
	p.path = cp.nnext;
	p.base_gen = agentid_replica_info(next)->base_generation;
	p.final = true;
	memcpy(st->local_files, st->compact_local, sizeof(st->local_files));
	if (st->dns_broken && dn_rebuild(st) != 0) {
		compact_fallback(st, "out of memory");
		goto out;
	}
	if (local_changed(st)) {
		compact_fallback(st, "/etc/passwd or /etc/group changed");
		goto out;
	}
	if ((rc = publish_delta(st, &p, now, err)) != 0) {
		char why[700];

		snprintf(why, sizeof(why), "its NSS delta: %s", rc == ECANCELED ?
		    "cancelled" : err->msg);
		err->msg[0] = '\0';
		compact_fallback(st, why);
		goto out;
	}
	st->nss_base_gen = p.base_gen;
	st->nss_served = served;
	st->nss_force_base = false;
	agentidd_log(LOG_INFO, "compaction: new %s in place after %lld ms "
	    "(%zu entries changed or decided again meanwhile)",
	    st->compact_records ? "records base and NSS base" : "NSS base",
	    (long long)(mono_ms() - st->compact_started), st->n_since);
	since_clear(st);
	(void)unlink(cp.pub);
	queue_done(st);
	if (rehash(st, st->cap, true) != 0) {
		rc = agentid_seterr(err, ENOMEM, "out of memory");
		goto out2;
	}
	st->changed = false;
	rc = 0;
	goto out2;
out:
	queue_done(st);
	rc = 0;
	goto out2;
fail:
	/* the nodes' served flags may already be the child's base's: the
	 * next write rebuilds both bases whole rather than trust them */
	st->force_base = true;
	st->nss_force_base = true;
	queue_done(st);
	since_clear(st);
out2:
	publish_fini(&p);
	agentid_replica_close(next);
	compact_paths_free(&cp);
	free(recs);
	free(tombs);
	free(bpath);
	free(dpath);
	return rc;
}

int
store_flush(struct store *st, int64_t now, struct agentid_error *err)
{
	int rc;

	if (store_compact_done(st)) {
		if ((rc = compact_finish(st, now, err)) != 0)
			return rc;
		if (!st->force_base && !st->nss_force_base)
			return 0; /* this batch went into its deltas */
	}
	if ((rc = flush_once(st, now, err)) != 0)
		return rc;
	if ((st->want_records || st->want_nss) && !st->compact_on) {
		compact_start(st, now);
		if (st->force_base || st->nss_force_base)
			rc = flush_once(st, now, err); /* it fell back */
	}
	return rc;
}
