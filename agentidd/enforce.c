/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enforce.c - the session enforcer: one pass over the session registry
 * (common/session_registry.h) deciding every open agent session again, the
 * way pam_agent decided it at session open, and ending those the data now
 * denies.
 *
 * Finding a session's processes: by the kernel audit session id
 * (/proc/PID/sessionid), which pam_loginuid set for the session and which
 * every descendant inherits whatever it does (setsid, double fork, a new
 * process group); never by process group or POSIX session, which any agent
 * leaves with one setsid(). logind's TerminateSession is asked first when
 * the session has a logind id (it ends the session's cgroup); processes of
 * the audit session still there after enforce_grace get SIGKILL either way.
 *
 * Only a decision made from data ends a session: a lookup that fails (the
 * directory or the replica unavailable) ends nothing, whatever it lasts.
 *
 * What a pass costs (docs/design-notes.md, "Session enforcement"): the
 * enforcer keeps what it parsed of the registry (re-read a file only when
 * its inode, size or times change), reads /proc only to prune (each
 * heartbeat) and to end a session, and, over the records replica, decides
 * again only the sessions whose chain lookups (the user's uid, the DNs
 * walked) an entry changed since the previous pass names, plus those whose
 * deadline came; every heartbeat, and whenever it cannot tell what changed,
 * it decides every session, as a pass did before.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_replica.h"
#include "chain.h"
#include "enforce.h"
#include "internal.h"
#include "records.h"
#include "session_registry.h"

#define SWEEP_ROUNDS 200          /* SIGKILL sweeps after the grace */
#define POLL_MS 20
#define CHANGES_MAX 512           /* changed keys past which every session
                                   * is decided (cheaper than matching) */

/* One registered session the enforcer knows, and what this pass did. */
struct item {
	struct sessreg_session s;
	struct sessreg_ident id;  /* the registry file's version parsed */
	bool seen;                /* in the registry at this pass's walk */
	bool drop;                /* pruned or ended: leaves the cache */
	bool decided;             /* allowed from data; keys below complete */
	int64_t deadline;         /* when that decision changes by itself */
	char **keys;              /* what its chain build looked up: "u:" +
	                           * the user in lower case, "d:" + each DN
	                           * canonical (agentid_dn_canon) */
	size_t n_keys;
	bool keys_lost;           /* ENOMEM while recording: decide again */
	/* this pass */
	bool end;                 /* denied from data: end it */
	struct agentid_chain chain;
	struct agentid_decision d;
	const char *action;
	uint64_t signalled;
};

/* One entry of a records delta: its UUID and a hash of its stored bytes. */
struct dsum {
	unsigned char uuid[16];
	uint64_t hash;
};

struct enforcer {
	const struct agentid_config *cfg;
	enum agentid_source source; /* what the caller's lookup reads */
	char **reported;          /* enforce no: session ids already audited */
	size_t n_reported;
	char host[256];
	char boot[37];
	/* the registry as last walked, sorted by id */
	struct item **items;
	size_t n_items, cap_items;
	size_t unreadable;
	struct sessreg_ident dir_id;
	int64_t dir_walked;       /* time() before that walk */
	bool dir_valid;
	/* the records: this pass's, the previous pass's, the latter's delta */
	char *replica;
	struct agentid_records *rec, *prev;
	struct dsum *sums;
	size_t n_sums;
	bool sums_ok;
	uint64_t sums_gen, sums_base;
	int64_t next_full;        /* the next pass deciding every session */
};

/* The keys an entry change touches (CHANGES_MAX at most). */
struct keyset {
	char **v;
	size_t n;
};

/* See enforce.h. */
int
enforcer_new(const struct agentid_config *cfg, struct enforcer **out)
{
	struct enforcer *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENOMEM;
	e->cfg = cfg;
	e->source = AGENTID_SOURCE_REPLICA;
	*out = e;
	return 0;
}

/* See enforce.h. */
void
enforcer_set_source(struct enforcer *e, enum agentid_source source)
{
	e->source = source;
}

/* Frees one cached session. */
static void
item_free(struct item *it)
{
	if (it == NULL)
		return;
	agentid_chain_clear(&it->chain);
	agentid_strv_free(it->keys);
	free(it);
}

/* See enforce.h. */
void
enforcer_set_records(struct enforcer *e, const char *replica,
    struct agentid_records *r)
{
	if (e->rec != NULL)
		agentid_records_close(e->rec);
	e->rec = r;
	if (r == NULL)
		return;
	if (replica == NULL)
		replica = AGENTID_DEFAULT_REPLICA;
	if (e->replica == NULL || strcmp(e->replica, replica) != 0) {
		free(e->replica);
		/* no copy, no pairing of deltas: every pass decides all */
		e->replica = strdup(replica);
		e->sums_ok = false;
	}
}

/* See enforce.h. */
void
enforcer_free(struct enforcer *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n_reported; i++)
		free(e->reported[i]);
	free(e->reported);
	for (i = 0; i < e->n_items; i++)
		item_free(e->items[i]);
	free(e->items);
	if (e->rec != NULL)
		agentid_records_close(e->rec);
	if (e->prev != NULL)
		agentid_records_close(e->prev);
	free(e->replica);
	free(e->sums);
	free(e);
}

/* Sleeps ms milliseconds. */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Sends sig to every live process (not a zombie, not this one) whose kernel
 * audit session is ses; with sig 0 only counts them. Returns how many.
 * Never called with the unset id, which every process without a login
 * shares.
 */
static uint64_t
audit_session_signal(uint32_t ses, int sig)
{
	struct dirent *de;
	uint64_t n = 0, start;
	uint32_t have;
	pid_t self = getpid();
	char state;
	DIR *d;
	long pid;
	char *end;

	if (ses == SESSREG_AUDIT_UNSET || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 1 || pid == self)
			continue;
		if (sessreg_proc_sessionid((pid_t)pid, &have) != 0 || have != ses)
			continue;
		if (sessreg_proc_stat((pid_t)pid, &state, &start) != 0 ||
		    state == 'Z' || state == 'X')
			continue;
		if (sig == 0 || kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The session's processes: its audit session, or (none) its leader. */
static uint64_t
session_signal(const struct sessreg_session *s, int sig)
{
	if (s->has_audit_session)
		return audit_session_signal(s->audit_session, sig);
	if (!sessreg_leader_alive(s) || s->pid == getpid())
		return 0;
	return sig == 0 || kill(s->pid, sig) == 0 ? 1 : 0;
}

/* Is the session gone: leader exited and no process left in its audit
 * session, or registered in another boot? */
static bool
session_gone(const struct sessreg_session *s, const char *boot)
{
	if (boot[0] != '\0' && strcmp(s->boot_id, boot) != 0)
		return true;
	if (sessreg_leader_alive(s))
		return false;
	return !s->has_audit_session ||
	    audit_session_signal(s->audit_session, 0) == 0;
}

/* The request the session was opened with, at now. */
static void
session_request(const struct enforcer *e, const struct item *it, int64_t now,
    struct agentid_credential *cred, char *principals[2],
    struct agentid_request *req)
{
	const struct sessreg_session *s = &it->s;

	memset(req, 0, sizeof(*req));
	req->user = s->user;
	req->service = s->service;
	req->host = e->host;
	req->rhost = s->rhost[0] != '\0' ? s->rhost : NULL;
	req->now = now;
	req->creds_known = true;
	/* it was an agent when it opened: gone from the data is "deleted" */
	req->known_agent = true;
	if (!s->has_cert)
		return;
	memset(cred, 0, sizeof(*cred));
	principals[0] = s->n_principals > 0 ? (char *)s->principals[0] : NULL;
	principals[1] = NULL;
	cred->kind = AGENTID_CRED_CERT;
	cred->ca_fp = s->ca_fp;
	cred->key_fp = s->key_fp;
	cred->principals = principals;
	/* enforce_cert_expiry no: the certificate's end does not end it */
	cred->has_validity = e->cfg->enforce_cert_expiry;
	cred->valid_after = s->valid_after;
	cred->valid_before = s->valid_before;
	req->creds = cred;
	req->n_creds = 1;
}

/* Lowers *dl to t. */
static void
deadline(int64_t *dl, int64_t t)
{
	if (t < *dl)
		*dl = t;
}

/* The earliest time at which the allowed session's decision changes
 * without the data changing. */
static void
session_deadline(const struct enforcer *e, const struct item *it, int64_t *dl)
{
	int64_t skew = e->cfg->clock_skew;

	/* the engine says expired once now - skew > not_after */
	if (it->d.has_window && it->d.not_after < INT64_MAX - skew - 1)
		deadline(dl, it->d.not_after + skew + 1);
	/* and cert_expired once now - skew >= valid_before */
	if (e->cfg->enforce_cert_expiry && it->s.has_cert &&
	    it->s.valid_before < (uint64_t)(INT64_MAX - skew))
		deadline(dl, (int64_t)it->s.valid_before + skew);
}

/* Was this session's dry-run end audited already (enforce no)? Marks it. */
static bool
reported(struct enforcer *e, const char *id)
{
	char **v;
	size_t i;

	for (i = 0; i < e->n_reported; i++)
		if (strcmp(e->reported[i], id) == 0)
			return true;
	if ((v = realloc(e->reported, (e->n_reported + 1) * sizeof(*v))) == NULL)
		return false; /* audited again next pass: better than never */
	e->reported = v;
	if ((v[e->n_reported] = strdup(id)) != NULL)
		e->n_reported++;
	return false;
}

/* Writes the session_terminate record of it. */
static void
audit_end(const struct enforcer *e, const struct item *it, int64_t now)
{
	const struct sessreg_session *s = &it->s;
	struct agentid_audit_event ev;
	struct agentid_request req;
	struct agentid_error err = { "" };
	int r;

	memset(&req, 0, sizeof(req));
	req.user = s->user;
	req.service = s->service;
	req.host = e->host;
	req.rhost = s->rhost[0] != '\0' ? s->rhost : NULL;
	req.now = now;
	agentid_audit_event_init(&ev, "session_terminate", &req, &it->chain,
	    &it->d);
	ev.tty = s->tty[0] != '\0' ? s->tty : NULL;
	ev.pid = s->pid; /* the session's leader, as session_open wrote it */
	ev.session = s->id;
	ev.boot_id = s->boot_id;
	ev.has_audit_session = s->has_audit_session;
	ev.audit_session = s->audit_session;
	ev.login_session = s->login_session[0] != '\0' ? s->login_session : NULL;
	ev.has_cert_valid_before = s->has_cert &&
	    s->valid_before <= (uint64_t)INT64_MAX;
	ev.cert_valid_before = (int64_t)s->valid_before;
	ev.duration = now > s->start ? now - s->start : 0;
	if (it->d.culprit < it->chain.n)
		ev.culprit = it->chain.rec[it->d.culprit].dn;
	ev.action = it->action;
	ev.has_signalled = true;
	ev.signalled = it->signalled;
	if ((r = agentid_audit_append(e->cfg, &ev, &err)) != 0)
		fprintf(stderr, "agentid-enforcer: audit trail not written: %s; "
		    "event=session_terminate session=%s\n",
		    err.msg[0] != '\0' ? err.msg : strerror(r), s->id);
}

/* Starts ending it: logind, else SIGTERM. */
static void
end_start(const struct enforcer *e, struct item *it)
{
	struct agentid_error err = { "" };
	int r;

	(void)e;
	if (it->s.login_session[0] != '\0') {
		if ((r = logind_terminate(it->s.login_session, &err)) == 0) {
			it->action = "logind";
			/* logind signals the scope; these are what it ends */
			it->signalled = session_signal(&it->s, 0);
			return;
		}
		fprintf(stderr, "agentid-enforcer: %s; ending session %s by "
		    "signals\n", err.msg, it->s.id);
	}
	it->action = "signal";
	it->signalled = session_signal(&it->s, SIGTERM);
}

/* Waits up to the grace for the ended sessions' processes to exit, then
 * sends SIGKILL to the rest until none is left (bounded). */
static void
end_finish(const struct enforcer *e, struct item *const *items, size_t n)
{
	int64_t waited = 0, grace = e->cfg->enforce_grace * 1000;
	uint64_t left;
	size_t i;
	int round;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			if (items[i]->end && items[i]->action != NULL)
				left += session_signal(&items[i]->s, 0);
		if (left == 0 || waited >= grace)
			break;
		sleep_ms(POLL_MS);
		waited += POLL_MS;
	}
	/* a process forking while we sweep may leave a child: sweep again */
	for (round = 0; left > 0 && round < SWEEP_ROUNDS; round++) {
		left = 0;
		for (i = 0; i < n; i++)
			if (items[i]->end && items[i]->action != NULL)
				left += session_signal(&items[i]->s, SIGKILL);
		if (left > 0)
			sleep_ms(5);
	}
}

/* ------------------------------------------------------ the registry */

static int
item_cmp(const void *a, const void *b)
{
	return strcmp((*(struct item *const *)a)->s.id,
	    (*(struct item *const *)b)->s.id);
}

/* The cached session named id, or NULL. */
static struct item *
item_find(const struct enforcer *e, const char *id)
{
	size_t lo = 0, hi = e->n_items, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if ((c = strcmp(id, e->items[mid]->s.id)) == 0)
			return e->items[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

static bool
ident_eq(const struct sessreg_ident *a, const struct sessreg_ident *b)
{
	return a->dev == b->dev && a->ino == b->ino && a->size == b->size &&
	    a->mtime_ns == b->mtime_ns && a->ctime_ns == b->ctime_ns;
}

/* Forgets what was decided for it (its registry entry changed). */
static void
item_undecide(struct item *it)
{
	it->decided = false;
	agentid_strv_free(it->keys);
	it->keys = NULL;
	it->n_keys = 0;
	it->keys_lost = false;
}

struct walk {
	struct enforcer *e;
	bool reread;              /* parse every file again */
	struct item **added;      /* new sessions of this walk */
	size_t n_added, cap_added;
	size_t unreadable;
};

/* sessreg_each_changed: do we hold this very version? */
static bool
walk_known(const char *name, const struct sessreg_ident *id, void *arg)
{
	struct walk *w = arg;
	struct item *it;

	if (w->reread || (it = item_find(w->e, name)) == NULL ||
	    !ident_eq(&it->id, id))
		return false;
	it->seen = true;
	return true;
}

/* sessreg_each_changed: a file read (or not readable). */
static int
walk_read(const char *name, const struct sessreg_ident *id,
    const struct sessreg_session *s, int code, void *arg)
{
	struct walk *w = arg;
	struct item *it, **v;

	if (s == NULL) {
		/* left alone, and forgotten if it was readable before */
		w->unreadable++;
		fprintf(stderr, "agentid-enforcer: registry entry %s unreadable: "
		    "%s\n", name, strerror(code));
		return 0;
	}
	if ((it = item_find(w->e, name)) != NULL) {
		if (memcmp(&it->s, s, sizeof(*s)) != 0) {
			it->s = *s;
			item_undecide(it);
		}
		it->id = *id;
		it->seen = true;
		return 0;
	}
	if (w->n_added == w->cap_added) {
		size_t cap = w->cap_added == 0 ? 16 : w->cap_added * 2;

		if ((v = realloc(w->added, cap * sizeof(*v))) == NULL)
			return ENOMEM;
		w->added = v;
		w->cap_added = cap;
	}
	if ((it = calloc(1, sizeof(*it))) == NULL)
		return ENOMEM;
	it->s = *s;
	it->id = *id;
	it->seen = true;
	w->added[w->n_added++] = it;
	return 0;
}

/* Drops the cached sessions marked drop (or, when unseen, not seen). */
static void
items_compact(struct enforcer *e, bool unseen)
{
	size_t i, o = 0;

	for (i = 0; i < e->n_items; i++) {
		if (e->items[i]->drop || (unseen && !e->items[i]->seen)) {
			item_free(e->items[i]);
			continue;
		}
		e->items[o++] = e->items[i];
	}
	e->n_items = o;
}

/*
 * Brings the cache up to the registry. The directory is walked when its
 * own ident changed (an entry added or removed), when reread (every file
 * parsed again), or when its mtime was too recent to trust (a change in
 * the same clock tick as the last walk would leave it as it was: only an
 * mtime a second older than the walk proves the walk saw everything up to
 * it). A walked file is parsed again only when its ident changed.
 */
static int
registry_refresh(struct enforcer *e, bool reread)
{
	const char *dir = sessreg_dir();
	struct walk w;
	struct sessreg_ident did;
	struct item **v;
	int64_t t0 = (int64_t)time(NULL);
	size_t i;
	int r;

	if ((r = sessreg_dir_ident(dir, &did)) != 0) {
		e->dir_valid = false;
		if (r == ENOENT) {
			/* no registry: no session */
			for (i = 0; i < e->n_items; i++)
				e->items[i]->drop = true;
			items_compact(e, false);
		}
		return r;
	}
	if (!reread && e->dir_valid && ident_eq(&did, &e->dir_id) &&
	    did.mtime_ns / 1000000000 + 1 < e->dir_walked)
		return 0;
	memset(&w, 0, sizeof(w));
	w.e = e;
	w.reread = reread;
	for (i = 0; i < e->n_items; i++)
		e->items[i]->seen = false;
	e->dir_valid = false;
	if ((r = sessreg_each_changed(dir, walk_known, walk_read, &w)) != 0) {
		for (i = 0; i < w.n_added; i++)
			item_free(w.added[i]);
		free(w.added);
		return r;
	}
	items_compact(e, true);
	if (w.n_added > 0) {
		if (e->n_items + w.n_added > e->cap_items) {
			size_t cap = (e->n_items + w.n_added) * 2;

			if ((v = realloc(e->items, cap * sizeof(*v))) == NULL) {
				for (i = 0; i < w.n_added; i++)
					item_free(w.added[i]);
				free(w.added);
				return ENOMEM;
			}
			e->items = v;
			e->cap_items = cap;
		}
		memcpy(e->items + e->n_items, w.added,
		    w.n_added * sizeof(*w.added));
		e->n_items += w.n_added;
		qsort(e->items, e->n_items, sizeof(*e->items), item_cmp);
	}
	free(w.added);
	e->unreadable = w.unreadable;
	e->dir_id = did;
	e->dir_walked = t0;
	e->dir_valid = true;
	return 0;
}

/* ------------------------------------------------------- what changed */

/* Adds prefix + key (lower case: 'u'; canonical DN: 'd') to *v. */
static int
key_add(char ***v, size_t *n, char prefix, const char *key)
{
	size_t len = strlen(key), i;
	char *k;
	int r;

	if ((k = malloc(len + 3)) == NULL)
		return ENOMEM;
	k[0] = prefix;
	k[1] = ':';
	if (prefix == 'd') {
		agentid_dn_canon(key, k + 2);
	} else {
		for (i = 0; i <= len; i++)
			k[2 + i] = (char)tolower((unsigned char)key[i]);
	}
	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i], k) == 0) {
			free(k);
			return 0;
		}
	r = agentid_strv_add(v, n, k);
	free(k);
	return r;
}

static int
dsum_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dsum *)a)->uuid,
	    ((const struct dsum *)b)->uuid, 16);
}

struct dsum_list {
	struct dsum *v;
	size_t n, cap;
};

/* Keeps one delta entry's UUID and the hash of its bytes. */
static int
dsum_add(const unsigned char uuid[16], const unsigned char *val, size_t len,
    void *arg)
{
	struct dsum_list *l = arg;
	struct dsum *nv;

	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 64 : l->cap * 2;
		if ((nv = realloc(l->v, l->cap * sizeof(*nv))) == NULL)
			return ENOMEM;
		l->v = nv;
	}
	memcpy(l->v[l->n].uuid, uuid, 16);
	l->v[l->n].hash = agentid_fnv1a(val, len) ^ (uint64_t)len << 48;
	l->n++;
	return 0;
}

/*
 * The entries of rec's delta with their hashes, sorted (none for a base
 * without delta). The records object pairs its delta with its base by
 * generation, so the entries are those of exactly this pass's state; a
 * repeated UUID is EAGAIN.
 */
static int
delta_sums(const struct agentid_records *rec, struct dsum **out,
    size_t *n_out)
{
	struct dsum_list l = { NULL, 0, 0 };
	size_t i;
	int r;

	*out = NULL;
	*n_out = 0;
	if ((r = agentid_records_delta_raw(rec, dsum_add, &l)) != 0) {
		free(l.v);
		return r == ENOMEM ? ENOMEM : EAGAIN;
	}
	if (l.n > 0)
		qsort(l.v, l.n, sizeof(*l.v), dsum_cmp);
	/* the writer never repeats a UUID; a file that does is not one
	 * whose entries can be paired with the last pass's */
	for (i = 1; i < l.n; i++)
		if (memcmp(l.v[i - 1].uuid, l.v[i].uuid, 16) == 0) {
			free(l.v);
			return EAGAIN;
		}
	*out = l.v;
	*n_out = l.n;
	return 0;
}

/* Adds the keys of the entry uuid in r (if any) to ch. */
static int
entry_keys(const struct agentid_records *r, const unsigned char uuid[16],
    struct keyset *ch)
{
	struct agentid_stored s;
	bool found;
	size_t i;
	int rc;

	if ((rc = agentid_records_by_uuid(r, uuid, &s, &found)) != 0)
		return rc;
	if (!found)
		return 0;
	if (s.rec.dn != NULL)
		rc = key_add(&ch->v, &ch->n, 'd', s.rec.dn);
	for (i = 0; rc == 0 && i < s.n_uids; i++)
		rc = key_add(&ch->v, &ch->n, 'u', s.uids[i]);
	agentid_stored_clear(&s);
	return rc;
}

/*
 * What changed between the previous pass's records and this pass's: the
 * keys (DNs, uids) of every entry, before and after, whose stored bytes in
 * the delta differ. 0 with *ch, or EAGAIN when that cannot be told (no
 * previous pass over the records, a new base, a delta not paired with the
 * records, too many changes): then every session is decided. Keeps the
 * delta's hashes for the next pass either way.
 */
static int
records_changes(struct enforcer *e, bool want, struct keyset *ch)
{
	struct dsum *sums = NULL, *old;
	uint64_t gen, base;
	size_t n = 0, i, matched = 0;
	bool usable;
	int r;

	if (e->rec == NULL || e->replica == NULL) {
		e->sums_ok = false;
		return EAGAIN;
	}
	gen = agentid_records_generation(e->rec);
	base = agentid_records_base_generation(e->rec);
	usable = want && e->prev != NULL && e->sums_ok &&
	    e->sums_gen == agentid_records_generation(e->prev) &&
	    e->sums_base == agentid_records_base_generation(e->prev) &&
	    e->sums_base == base;
	if (usable && gen == e->sums_gen)
		return 0; /* the same records: nothing changed */
	if ((r = delta_sums(e->rec, &sums, &n)) != 0) {
		e->sums_ok = false;
		return EAGAIN;
	}
	r = usable ? 0 : EAGAIN;
	for (i = 0; r == 0 && i < n; i++) {
		old = e->n_sums == 0 ? NULL : bsearch(&sums[i], e->sums,
		    e->n_sums, sizeof(*e->sums), dsum_cmp);
		if (old != NULL)
			matched++;
		if (old != NULL && old->hash == sums[i].hash)
			continue;
		if (entry_keys(e->prev, sums[i].uuid, ch) != 0 ||
		    entry_keys(e->rec, sums[i].uuid, ch) != 0 ||
		    ch->n > CHANGES_MAX)
			r = EAGAIN;
	}
	/* a delta over the same base only grows: one that lost an entry
	 * is not the successor of the last one */
	if (r == 0 && matched != e->n_sums)
		r = EAGAIN;
	free(e->sums);
	e->sums = sums;
	e->n_sums = n;
	e->sums_gen = gen;
	e->sums_base = base;
	e->sums_ok = true;
	return r;
}

/* Does a change touch what it's chain was built from? */
static bool
keys_hit(const struct item *it, const struct keyset *ch)
{
	size_t i, j;

	for (i = 0; i < it->n_keys; i++)
		for (j = 0; j < ch->n; j++)
			if (strcmp(it->keys[i], ch->v[j]) == 0)
				return true;
	return false;
}

/* A lookup that records what the chain builder asks in the session's
 * keys, then asks the caller's. */
struct recording {
	const struct agentid_lookup *in;
	struct item *it;
};

static int
recording_agent(void *ctx, const char *user, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct recording *rc = ctx;

	if (key_add(&rc->it->keys, &rc->it->n_keys, 'u', user) != 0)
		rc->it->keys_lost = true;
	return rc->in->agent(rc->in->ctx, user, rec, found, err);
}

static int
recording_entry(void *ctx, const char *dn, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	struct recording *rc = ctx;

	if (key_add(&rc->it->keys, &rc->it->n_keys, 'd', dn) != 0)
		rc->it->keys_lost = true;
	return rc->in->entry(rc->in->ctx, dn, rec, found, err);
}

/* ----------------------------------------------------------- the pass */

/* Prunes it: gone from the host, out of the registry. */
static void
prune(struct item *it, struct enforce_stats *st)
{
	(void)sessreg_remove(sessreg_dir(), it->s.id);
	it->drop = true;
	st->pruned++;
}

/* See enforce.h. */
int
enforce_pass(struct enforcer *e, int64_t now, const struct agentid_lookup *lk,
    int64_t *next_deadline, struct enforce_stats *st)
{
	const struct agentid_config *cfg = e->cfg;
	int64_t hb = cfg->heartbeat > 0 ? cfg->heartbeat : 5;
	struct keyset ch = { NULL, 0 };
	struct agentid_lookup rlk;
	struct recording rc;
	struct agentid_credential cred;
	struct agentid_request req;
	struct agentid_policy pol;
	struct agentid_error err;
	char *principals[2];
	bool ending = false, slow, all;
	size_t i;
	int r;

	memset(st, 0, sizeof(*st));
	*next_deadline = INT64_MAX;
	if (e->host[0] == '\0' &&
	    (r = agentid_host_name(cfg, e->host, sizeof(e->host))) != 0)
		goto out;
	if (e->boot[0] == '\0' && sessreg_boot_id(e->boot, sizeof(e->boot)) != 0)
		e->boot[0] = '\0';
	/* each heartbeat: every file parsed, every session checked in /proc
	 * and decided, as if nothing were cached */
	slow = now >= e->next_full;
	all = records_changes(e, !slow, &ch) != 0 || slow;
	if ((r = registry_refresh(e, slow)) != 0)
		goto out;
	st->sessions = e->n_items;
	st->unreadable = e->unreadable;
	st->full = all;
	agentid_policy_from_config(&pol, cfg);
	for (i = 0; i < e->n_items; i++) {
		struct item *it = e->items[i];

		it->end = false;
		it->action = NULL;
		it->signalled = 0;
		if (slow && session_gone(&it->s, e->boot)) {
			prune(it, st);
			continue;
		}
		if (!all && it->decided && !it->keys_lost && now < it->deadline &&
		    !keys_hit(it, &ch)) {
			/* nothing its decision rests on changed */
			st->allowed++;
			deadline(next_deadline, it->deadline);
			continue;
		}
		st->decided++;
		item_undecide(it);
		rc.in = lk;
		rc.it = it;
		rlk.agent = recording_agent;
		rlk.entry = recording_entry;
		rlk.ctx = &rc;
		err.msg[0] = '\0';
		if ((r = agentid_chain_build(&rlk, cfg->max_delegation_depth,
		    it->s.user, &it->chain, &err)) != 0) {
			/* no data, no decision: the session goes on */
			st->lookup_errors++;
			fprintf(stderr, "agentid-enforcer: cannot decide session "
			    "%s again: %s\n", it->s.id,
			    err.msg[0] != '\0' ? err.msg : strerror(r));
			deadline(next_deadline, now + hb);
			continue;
		}
		session_request(e, it, now, &cred, principals, &req);
		agentid_decide(&it->chain, &req, &pol, &it->d);
		it->d.source = e->source;
		if (it->d.allow) {
			st->allowed++;
			it->deadline = INT64_MAX;
			session_deadline(e, it, &it->deadline);
			deadline(next_deadline, it->deadline);
			it->decided = true;
			agentid_chain_clear(&it->chain);
			continue;
		}
		/* /proc only now: a session already gone is pruned, not
		 * ended (no record for a session that ended by itself) */
		if (!slow && session_gone(&it->s, e->boot)) {
			prune(it, st);
			continue;
		}
		st->denied++;
		it->end = true;
		if (!cfg->enforce) {
			/* enforce no: say once what would have been done */
			if (!reported(e, it->s.id)) {
				it->action = "none";
				it->signalled = session_signal(&it->s, 0);
				audit_end(e, it, now);
			}
			it->end = false;
			continue;
		}
		end_start(e, it);
		st->signalled += it->signalled;
		/* audited as the signals go out, not a grace later: the
		 * record dates the decision, and a trail read at once
		 * already says why the session is going */
		audit_end(e, it, now);
		ending = true;
	}
	if (ending)
		end_finish(e, e->items, e->n_items);
	for (i = 0; i < e->n_items; i++) {
		if (e->items[i]->end) {
			(void)sessreg_remove(sessreg_dir(), e->items[i]->s.id);
			e->items[i]->drop = true;
		}
		agentid_chain_clear(&e->items[i]->chain);
	}
	items_compact(e, false);
	if (slow)
		e->next_full = now + hb;
	r = 0;
out:
	/* a pass that stopped short did not decide what changed: the next
	 * one cannot start from its records */
	if (r != 0)
		e->sums_ok = false;
	/* this pass's records are the next pass's "before" */
	if (e->prev != NULL)
		agentid_records_close(e->prev);
	e->prev = e->rec;
	e->rec = NULL;
	agentid_strv_free(ch.v);
	return r;
}
