/* SPDX-License-Identifier: BSD-2-Clause */
/* group.c - the group and initgroups maps of libnss_agent.so.2. */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <stdlib.h>

#include "nss_agent.h"

enum nss_status _nss_agent_getgrnam_r(const char *name, struct group *gr,
    char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agent_getgrgid_r(gid_t gid, struct group *gr, char *buf,
    size_t buflen, int *errnop);
enum nss_status _nss_agent_setgrent(void);
enum nss_status _nss_agent_getgrent_r(struct group *gr, char *buf,
    size_t buflen, int *errnop);
enum nss_status _nss_agent_endgrent(void);
enum nss_status _nss_agent_initgroups_dyn(const char *user, gid_t group,
    long int *start, long int *size, gid_t **groupsp, long int limit,
    int *errnop);

/* Fills gr from g; ENOENT for a gid that may not be served (below min_uid,
 * nogroup, above 2^31-1), ERANGE when buf is too small. */
static int
fill_group(const struct agentid_replica *r,
    const struct agentid_replica_group *g, struct group *gr, char *buf,
    size_t buflen)
{
	struct agentid_replica_str s;
	struct nss_buf b;
	size_t cursor = 0, i = 0;
	char **mem;
	int rc;

	if (!agentid_replica_id_ok(r, g->gid))
		return ENOENT;
	nss_buf_init(&b, buf, buflen);
	if ((rc = nss_buf_ptrs(&b, (size_t)g->n_members + 1, &mem)) != 0 ||
	    (rc = nss_buf_str(&b, g->name.p, g->name.len, &gr->gr_name)) != 0 ||
	    (rc = nss_buf_str(&b, "*", 1, &gr->gr_passwd)) != 0)
		return rc;
	while (i < g->n_members && agentid_replica_member_next(g, &cursor, &s))
		if ((rc = nss_buf_str(&b, s.p, s.len, &mem[i++])) != 0)
			return rc;
	mem[i] = NULL;
	gr->gr_mem = mem;
	gr->gr_gid = g->gid;
	return 0;
}

/* getgrnam_r */
enum nss_status
_nss_agent_getgrnam_r(const char *name, struct group *gr, char *buf,
    size_t buflen, int *errnop)
{
	struct agentid_replica_group g;
	struct nss_agent_map *m;
	int rc;

	if ((rc = nss_agent_acquire(&m)) == 0) {
		if ((rc = agentid_replica_group_by_name(m->rep, name, &g)) == 0)
			rc = fill_group(m->rep, &g, gr, buf, buflen);
		nss_agent_release(m);
	}
	return nss_agent_status(rc, errnop);
}

/* getgrgid_r */
enum nss_status
_nss_agent_getgrgid_r(gid_t gid, struct group *gr, char *buf, size_t buflen,
    int *errnop)
{
	struct agentid_replica_group g;
	struct nss_agent_map *m;
	int rc;

	if ((rc = nss_agent_acquire(&m)) == 0) {
		if (!agentid_replica_id_ok(m->rep, (uint32_t)gid))
			rc = ENOENT;
		else if ((rc = agentid_replica_group_by_gid(m->rep, gid, &g)) == 0)
			rc = fill_group(m->rep, &g, gr, buf, buflen);
		nss_agent_release(m);
	}
	return nss_agent_status(rc, errnop);
}

/* setgrent: back to the first group. */
enum nss_status
_nss_agent_setgrent(void)
{
	nss_agent_cursor_set(NSS_AGENT_GRENT, 0);
	return NSS_STATUS_SUCCESS;
}

/* endgrent */
enum nss_status
_nss_agent_endgrent(void)
{
	nss_agent_cursor_set(NSS_AGENT_GRENT, 0);
	return NSS_STATUS_SUCCESS;
}

/* getgrent_r: the next group; the cursor stays put on ERANGE. */
enum nss_status
_nss_agent_getgrent_r(struct group *gr, char *buf, size_t buflen, int *errnop)
{
	struct agentid_replica_group g;
	struct nss_agent_map *m;
	uint32_t c;
	int rc;

	if ((rc = nss_agent_acquire(&m)) != 0)
		return nss_agent_status(rc, errnop);
	c = nss_agent_cursor_get(NSS_AGENT_GRENT);
	for (;;) {
		if ((rc = agentid_replica_group_next(m->rep, &c, &g)) != 0)
			break;
		rc = fill_group(m->rep, &g, gr, buf, buflen);
		if (rc != ENOENT)
			break;
	}
	if (rc == 0)
		nss_agent_cursor_set(NSS_AGENT_GRENT, c);
	nss_agent_release(m);
	return nss_agent_status(rc, errnop);
}

/* Appends gid to the caller's array unless present, growing it up to
 * limit (<= 0: no limit). */
static int
add_gid(gid_t gid, long int *start, long int *size, gid_t **groupsp,
    long int limit)
{
	long int i, nsize;
	gid_t *ng;

	for (i = 0; i < *start; i++)
		if ((*groupsp)[i] == gid)
			return 0;
	if (*start == *size) {
		if (limit > 0 && *size >= limit)
			return 0; /* full: glibc keeps what fits */
		nsize = *size > 0 ? *size * 2 : 16;
		if (limit > 0 && nsize > limit)
			nsize = limit;
		if ((ng = realloc(*groupsp, (size_t)nsize * sizeof(*ng))) == NULL)
			return ENOMEM;
		*groupsp = ng;
		*size = nsize;
	}
	(*groupsp)[(*start)++] = gid;
	return 0;
}

/* initgroups_dyn: the agent's groups, without its primary group. Only a
 * user of the replica gets any: groups may list any name (root...), and
 * the replica keeps a list for each. */
enum nss_status
_nss_agent_initgroups_dyn(const char *user, gid_t group, long int *start,
    long int *size, gid_t **groupsp, long int limit, int *errnop)
{
	struct agentid_replica_gids gids;
	struct agentid_replica_user u;
	struct nss_agent_map *m;
	uint32_t i;
	int rc;

	if ((rc = nss_agent_acquire(&m)) != 0)
		return nss_agent_status(rc, errnop);
	if ((rc = agentid_replica_user_by_name(m->rep, user, &u)) == 0 &&
	    (!agentid_replica_id_ok(m->rep, u.uid) ||
	    !agentid_replica_id_ok(m->rep, u.gid)))
		rc = ENOENT;
	if (rc == 0 &&
	    (rc = agentid_replica_groups_of(m->rep, user, &gids)) == 0) {
		for (i = 0; i < gids.n && rc == 0; i++) {
			gid_t gid = agentid_replica_gid_at(&gids, i);

			if (gid != group && agentid_replica_id_ok(m->rep, gid))
				rc = add_gid(gid, start, size, groupsp, limit);
		}
	}
	nss_agent_release(m);
	return nss_agent_status(rc, errnop);
}
