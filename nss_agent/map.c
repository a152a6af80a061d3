/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * map.c - the process-wide replica mapping of libnss_agent.so.2 (the base
 * and its delta, read as one): opened on first use, replaced when either
 * file changes, shared by threads through a reference count, and safe
 * across fork.
 *
 * Two checks, of different cost (docs/design-notes.md, "Replica and NSS
 * module"):
 * - before every lookup, fstat of the descriptor the reader keeps open on
 *   the base (agentid_replica_intact): a file truncated or rewritten in
 *   place (an administrator's cp over it) must not be touched again, since
 *   reading a mapped page past the new end of the file is SIGBUS; and a
 *   file renamed over or removed drops its link count, so a new base is
 *   seen at the next lookup. No path walk. The delta (small: agentidd
 *   compacts it) is read into memory, which nothing can cut
 *   (AGENTID_REPLICA_DELTA_COPY); one past AGENTID_REPLICA_DELTA_COPY_MAX
 *   is mapped and fstat'ed too.
 * - at most every NSS_AGENT_RECHECK_MS, stat of both paths
 *   (agentid_replica_current): what fstat of the base cannot see, a new
 *   delta (renamed over the last one, or where there was none).
 * What remains is a truncation during a lookup already past its fstat: see
 * docs/design-notes.md.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "nss_agent.h"

#ifndef AGENTID_REPLICA_PATH
#define AGENTID_REPLICA_PATH AGENTID_DEFAULT_REPLICA
#endif

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
/* everything below is guarded by lock */
static struct nss_agent_map *current; /* NULL: no usable replica */
static struct nss_agent_map *stale;   /* replaced, still referenced */
static uint32_t cursors[2];
static struct timespec checked;       /* paths last stat'ed (coarse clock) */

/* fork: hold the lock across it so that the child gets a consistent state */
static void
fork_prepare(void)
{
	pthread_mutex_lock(&lock);
}

static void
fork_parent(void)
{
	pthread_mutex_unlock(&lock);
}

/* In the child only the forking thread lives, and it holds no reference:
 * drop the counts of the others (maps are freed on the next acquire). */
static void
fork_child(void)
{
	struct nss_agent_map *m;

	if (current != NULL)
		current->refs = 1;
	for (m = stale; m != NULL; m = m->next)
		m->refs = 0;
	pthread_mutex_unlock(&lock);
}

static void
register_atfork(void)
{
	(void)pthread_atfork(fork_prepare, fork_parent, fork_child);
}

/* Unmaps m. */
static void
map_free(struct nss_agent_map *m)
{
	agentid_replica_close(m->rep);
	free(m);
}

/* Frees the stale maps nobody uses any more. Called with lock held. */
static void
sweep_stale(void)
{
	struct nss_agent_map **pp = &stale, *m;

	while ((m = *pp) != NULL) {
		if (m->refs == 0) {
			*pp = m->next;
			map_free(m);
		} else {
			pp = &m->next;
		}
	}
}

/* Retires the current map. Called with lock held. */
static void
drop_current(void)
{
	struct nss_agent_map *m = current;

	current = NULL;
	if (m == NULL)
		return;
	if (--m->refs == 0) {
		map_free(m);
	} else {
		m->next = stale;
		stale = m;
	}
}

/* Whether NSS_AGENT_RECHECK_MS passed since the paths were last stat'ed,
 * on the coarse monotonic clock (read in the vDSO, a few ns; its tick of
 * 1-10 ms is precision enough for an interval of 10); when so, the check
 * is taken as made now. A clock that fails: always. Called with lock
 * held. */
static bool
recheck_due(void)
{
	struct timespec now;
	long long ns;

	if (clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0)
		return true;
	ns = (long long)(now.tv_sec - checked.tv_sec) * 1000000000LL +
	    (now.tv_nsec - checked.tv_nsec);
	if (ns >= 0 && ns < NSS_AGENT_RECHECK_MS * 1000000LL)
		return false;
	checked = now;
	return true;
}

/* Makes current match the files at path and path.delta: the files mapped
 * are intact (fstat, every call) and, every NSS_AGENT_RECHECK_MS, still
 * the ones the paths name; or a fresh mapping (or none). A path that
 * changed (AGENTID_REPLICA in tests) is a different replica too. Called
 * with lock held. */
static void
refresh(const char *path)
{
	struct agentid_replica *rep;
	struct nss_agent_map *m;

	if (current != NULL && agentid_replica_intact(current->rep, path) &&
	    (!recheck_due() || agentid_replica_current(current->rep, path)))
		return;
	drop_current();
	/* a delta read into memory: one file to fstat before each lookup */
	if (agentid_replica_open_flags(path, AGENTID_REPLICA_DELTA_COPY,
	    &rep) != 0)
		return;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		agentid_replica_close(rep);
		return;
	}
	/* the open walked both paths: the interval starts again */
	(void)clock_gettime(CLOCK_MONOTONIC_COARSE, &checked);
	m->rep = rep;
	m->refs = 1;
	current = m;
}

/* The replica's path: AGENTID_REPLICA (not for setuid programs) or the one
 * fixed at build time. */
static const char *
replica_path(void)
{
	const char *p = secure_getenv("AGENTID_REPLICA");

	return p != NULL && p[0] != '\0' ? p : AGENTID_REPLICA_PATH;
}

/* The current map, referenced. */
int
nss_agent_acquire(struct nss_agent_map **out)
{
	const char *path = replica_path();
	int rc = ENODATA;

	*out = NULL;
	pthread_once(&once, register_atfork);
	pthread_mutex_lock(&lock);
	if (stale != NULL)
		sweep_stale();
	refresh(path);
	if (current != NULL) {
		current->refs++;
		*out = current;
		rc = 0;
	}
	pthread_mutex_unlock(&lock);
	return rc;
}

/* Releases a reference taken by nss_agent_acquire. */
void
nss_agent_release(struct nss_agent_map *m)
{
	if (m == NULL)
		return;
	pthread_mutex_lock(&lock);
	if (--m->refs == 0)
		sweep_stale();
	pthread_mutex_unlock(&lock);
}

/* Where the enumeration c stands. */
uint32_t
nss_agent_cursor_get(enum nss_agent_cursor c)
{
	uint32_t v;

	pthread_mutex_lock(&lock);
	v = cursors[c];
	pthread_mutex_unlock(&lock);
	return v;
}

/* Moves the enumeration c to v. */
void
nss_agent_cursor_set(enum nss_agent_cursor c, uint32_t v)
{
	pthread_mutex_lock(&lock);
	cursors[c] = v;
	pthread_mutex_unlock(&lock);
}
