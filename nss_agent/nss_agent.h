/* SPDX-License-Identifier: BSD-2-Clause */
/* nss_agent.h - internals of libnss_agent.so.2 (not installed). */
#ifndef NSS_AGENT_H
#define NSS_AGENT_H

#include <nss.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid_replica.h"
#include "agentid.h" /* AGENTID_DEFAULT_REPLICA: macros only, no symbol */

/* At most how often (milliseconds) the replica's paths are stat'ed to see
 * a new delta (map.c); a new base is seen at the next lookup by fstat.
 * 1% of the second DESIGN.md allows for a change to reach NSS. */
#define NSS_AGENT_RECHECK_MS 10

/* One mapped replica, shared by the lookups that hold a reference. */
struct nss_agent_map {
	struct agentid_replica *rep;
	unsigned long refs;       /* lookups in flight, + 1 while current */
	struct nss_agent_map *next; /* on the stale list once replaced */
};

/* The current replica with a reference held, after checking that the files
 * mapped are intact (fstat) and, every NSS_AGENT_RECHECK_MS, still the ones
 * the paths name, remapping them when not.
 * ENODATA when there is none usable (missing, unreadable, untrusted or
 * corrupt). */
int nss_agent_acquire(struct nss_agent_map **out);
/* Drops the reference; unmaps a replaced replica with its last user. */
void nss_agent_release(struct nss_agent_map *m);

/* Enumeration cursors (setpwent/getpwent_r, setgrent/getgrent_r). */
enum nss_agent_cursor { NSS_AGENT_PWENT, NSS_AGENT_GRENT };
uint32_t nss_agent_cursor_get(enum nss_agent_cursor c);
void nss_agent_cursor_set(enum nss_agent_cursor c, uint32_t v);

/* The caller's buffer, handed out from one cursor. */
struct nss_buf {
	char *next;
	size_t left;
};

void nss_buf_init(struct nss_buf *b, char *buf, size_t len);
/* A NUL-terminated copy of len bytes; ERANGE when it does not fit. */
int nss_buf_str(struct nss_buf *b, const char *s, size_t len, char **out);
/* An aligned array of n pointers; ERANGE when it does not fit. */
int nss_buf_ptrs(struct nss_buf *b, size_t n, char ***out);
/* The one translation to the NSS ABI: 0 success, ENOENT not found, ERANGE
 * and ENOMEM try again (with *errnop set), anything else unavailable. */
enum nss_status nss_agent_status(int rc, int *errnop);

/* Seconds since the epoch, for deciding whether a chain is valid now. */
int64_t nss_agent_now(void);

#endif
