/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentidd.h - shared by the files of the host daemon: the in-memory store
 * of directory entries (store.c), the RFC 4533 consumer (syncrepl.c), the
 * process's privileges and readiness (system.c) and the main loop
 * (agentidd.c).
 */
#ifndef AGENTIDD_H
#define AGENTIDD_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <ldap.h>

#include "agentid.h"
#include "records.h"

struct agentid_ldap;

/* One entry of the store; deleted nodes stay as tombstones until the next
 * base is written. */
struct node {
	struct agentid_stored s;
	bool deleted;
	bool dirty;               /* changed since the base */
	bool present;             /* seen in the current refresh */
	bool needs_eval;          /* filters not evaluated since it changed */
	/* the NSS replica (store.c) */
	bool pub_user, pub_group; /* served by the NSS replica now */
	bool queued;              /* on the queue of the next NSS write */
	char *old_user, *old_group; /* the name it is served under, when its
	                           * entry changed since */
	uint64_t dn_hash, owner_hash; /* of the canonical DNs */
	struct node *kid_next, *kid_prev; /* entries with the same owner DN */
	struct node *dn_next;     /* entries whose DN hashes the same */
	/* a background compaction (store.c): what changed since its snapshot,
	 * and what the bases it writes serve */
	bool since;               /* on st->since_v */
	bool since_dirty;         /* its record changed since the snapshot */
	bool snap_saved;          /* snap_user/snap_group: its names then */
	bool snap_pub_user, snap_pub_group; /* served by the new NSS base */
	char *snap_user, *snap_group;
};

/* The entries whose owner DN hashes to h (their chains go through it). */
struct kid_slot {
	uint64_t h;
	struct node *head;
};

struct store {
	const struct agentid_config *cfg;
	const char *replica;
	struct node **slot;       /* open addressing by entryUUID */
	size_t cap, n;            /* n: nodes, live or tombstones */
	size_t n_live, n_dirty, n_agents;
	uint64_t base_gen, gen;
	bool force_base;          /* loaded from a delta: compact on next flush */
	bool changed;             /* something to flush */
	uint64_t changes;         /* applied since start */
	int64_t last_change;
	struct node **dirty_v;    /* the dirty nodes (records delta) */
	size_t n_dirty_v, cap_dirty_v;
	/* the NSS replica: a base and a delta of what changed since */
	struct node **queue;      /* changed since the last NSS write */
	size_t n_queue, cap_queue;
	uint64_t *seeds;          /* DN hashes entries had before a change */
	size_t n_seeds, cap_seeds;
	struct kid_slot *kids;    /* owner DN hash -> entries it owns */
	size_t kids_cap, kids_n;
	struct kid_slot *dns;     /* DN hash -> entries at that DN (the
	                           * chain lookup over the store) */
	size_t dns_cap, dns_n;
	bool dns_broken;          /* an entry missing from it (ENOMEM) */
	unsigned char (*recheck)[16]; /* re-decided at every NSS write: a
	                           * state that time alone changes, or a
	                           * name/id another entry holds */
	size_t n_recheck, cap_recheck;
	uint64_t nss_base_gen;    /* 0: no NSS base written yet */
	size_t nss_served;        /* users and groups in that base */
	bool nss_force_base;
	struct stat local_files[2]; /* /etc/passwd, /etc/group at the base */
	/* the background compaction: a child writes both bases from a
	 * copy-on-write snapshot while batches go on as deltas (store.c) */
	pid_t compact_pid;        /* the child, or 0 (reaped) */
	bool compact_on;          /* from the fork to its bases in place */
	int compact_fd;           /* its error messages (pipe) */
	bool compact_exited;      /* reaped; compact_status holds how */
	int compact_status;
	bool compact_broken;      /* changes since the snapshot not all
	                           * tracked (ENOMEM): its bases are discarded */
	bool want_records, want_nss; /* that delta passed its bound */
	bool compact_records, compact_nss; /* what the child rewrites */
	uint64_t compact_gen;     /* records generation of the child's base */
	int64_t compact_started;  /* monotonic ms */
	struct stat compact_local[2]; /* /etc/passwd, /etc/group at the fork */
	struct node **since_v;    /* changed or re-decided since the fork */
	size_t n_since, cap_since;
	uint64_t compactions, compact_fallbacks; /* for the log */
	/* the last NSS write, for tests and benchmarks */
	bool nss_last_base;
	size_t nss_last_written;  /* records in the file written */
};

int store_init(struct store *st, const struct agentid_config *cfg,
    const char *replica);
void store_free(struct store *st);
/* Loads the records replica (if any): 0, or ENOENT/EBADMSG (start empty). */
int store_load(struct store *st);
struct node *store_find(struct store *st, const unsigned char uuid[16]);
/* Takes s (its contents are moved; s is zeroed). */
int store_put(struct store *st, struct agentid_stored *s);
void store_delete(struct store *st, const unsigned char uuid[16]);
/* Writes the records delta (or a new base) and the NSS replica. */
int store_flush(struct store *st, int64_t now, struct agentid_error *err);
/* True when /etc/passwd or /etc/group changed since the NSS base was
 * written: the next store_flush writes a new base (a local account now
 * holds a name or id the replica may serve). */
bool store_local_changed(const struct store *st);
/* True when a background compaction ended: the next store_flush (even
 * with nothing changed) puts its bases in place. */
bool store_compact_done(struct store *st);
/* Calls fn for every live node. */
void store_each(struct store *st, void (*fn)(struct node *, void *), void *arg);

/* The consumer of one connection. */
struct syncrepl {
	const struct agentid_config *cfg;
	struct store *st;
	LDAP *ld;
	int msgid;
	char *filter;
	char *search_base;        /* the naming context holding base */
	struct berval cookie;     /* last cookie received (applied or not) */
	bool full;                /* this refresh started with no cookie */
	bool refresh_done;
	bool refresh_required;    /* e-syncRefreshRequired */
	bool nonpresent_done;     /* deletes of this refresh applied */
	bool held_back;           /* a mass delete waits for confirmation */
	bool ended;               /* the server ended the search */
	uint64_t received;        /* entries received on this connection */
};

/* From the last run: was a mass delete held back (kept across refreshes). */
extern bool agentidd_mass_delete_pending;

int syncrepl_start(struct syncrepl *sr, struct store *st,
    const struct agentid_config *cfg, LDAP *ld, const struct berval *cookie,
    struct agentid_error *err);
/* Reads what is available (waits up to timeout_ms for the first message):
 * 0, or an errno code (the connection is unusable). */
int syncrepl_read(struct syncrepl *sr, int timeout_ms,
    struct agentid_error *err);
/* Evaluates the filters of changed entries with base-scope reads. */
int syncrepl_eval(struct syncrepl *sr, struct agentid_error *err);
void syncrepl_free(struct syncrepl *sr);

/* system.c */
void agentidd_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
extern bool agentidd_foreground;
/* As root: creates/chowns the replica directory, keeps the bind secret,
 * drops to user; refuses when user does not exist. Not root: nothing. */
int agentidd_drop(const char *user, struct agentid_config *cfg,
    const char *replica, struct agentid_error *err);
void agentidd_cleanup_secret(void);
/* READY=1 (or another state line) to $NOTIFY_SOCKET, when set. */
void agentidd_notify(const char *state);

/* Cookie file beside the replica. */
int cookie_load(const char *replica, struct berval *out);
int cookie_save(const char *replica, const struct berval *c);
/* data to path through a temporary file beside it: 0 or errno. */
int agentidd_write_file(const char *path, const void *data, size_t len);

#endif
