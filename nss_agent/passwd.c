/* SPDX-License-Identifier: BSD-2-Clause */
/* passwd.c - the passwd map of libnss_agent.so.2. */
#include "config.h"

#include <errno.h>
#include <pwd.h>

#include "nss_agent.h"

enum nss_status _nss_agent_getpwnam_r(const char *name, struct passwd *pw,
    char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agent_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
    size_t buflen, int *errnop);
enum nss_status _nss_agent_setpwent(void);
enum nss_status _nss_agent_getpwent_r(struct passwd *pw, char *buf,
    size_t buflen, int *errnop);
enum nss_status _nss_agent_endpwent(void);

/* Fills pw from u; ENOENT for an id that may not be served (below min_uid,
 * nobody, above 2^31-1), ERANGE when buf is too small. An agent whose chain
 * is not valid now gets the nologin shell. */
static int
fill_passwd(const struct agentid_replica *r,
    const struct agentid_replica_user *u, struct passwd *pw, char *buf,
    size_t buflen)
{
	const struct agentid_replica_info *info = agentid_replica_info(r);
	struct agentid_replica_str shell = u->shell;
	struct nss_buf b;
	int rc;

	if (!agentid_replica_id_ok(r, u->uid) || !agentid_replica_id_ok(r, u->gid))
		return ENOENT;
	if (!agentid_replica_user_valid(r, u, nss_agent_now()))
		shell = info->nologin_shell;
	nss_buf_init(&b, buf, buflen);
	if ((rc = nss_buf_str(&b, u->name.p, u->name.len, &pw->pw_name)) != 0 ||
	    (rc = nss_buf_str(&b, "*", 1, &pw->pw_passwd)) != 0 ||
	    (rc = nss_buf_str(&b, u->gecos.p, u->gecos.len, &pw->pw_gecos)) != 0 ||
	    (rc = nss_buf_str(&b, u->home.p, u->home.len, &pw->pw_dir)) != 0 ||
	    (rc = nss_buf_str(&b, shell.p, shell.len, &pw->pw_shell)) != 0)
		return rc;
	pw->pw_uid = u->uid;
	pw->pw_gid = u->gid;
	return 0;
}

/* getpwnam_r */
enum nss_status
_nss_agent_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	struct agentid_replica_user u;
	struct nss_agent_map *m;
	int rc;

	if ((rc = nss_agent_acquire(&m)) == 0) {
		if ((rc = agentid_replica_user_by_name(m->rep, name, &u)) == 0)
			rc = fill_passwd(m->rep, &u, pw, buf, buflen);
		nss_agent_release(m);
	}
	return nss_agent_status(rc, errnop);
}

/* getpwuid_r */
enum nss_status
_nss_agent_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	struct agentid_replica_user u;
	struct nss_agent_map *m;
	int rc;

	if ((rc = nss_agent_acquire(&m)) == 0) {
		if (!agentid_replica_id_ok(m->rep, (uint32_t)uid))
			rc = ENOENT;
		else if ((rc = agentid_replica_user_by_uid(m->rep, uid, &u)) == 0)
			rc = fill_passwd(m->rep, &u, pw, buf, buflen);
		nss_agent_release(m);
	}
	return nss_agent_status(rc, errnop);
}

/* setpwent: back to the first agent. */
enum nss_status
_nss_agent_setpwent(void)
{
	nss_agent_cursor_set(NSS_AGENT_PWENT, 0);
	return NSS_STATUS_SUCCESS;
}

/* endpwent */
enum nss_status
_nss_agent_endpwent(void)
{
	nss_agent_cursor_set(NSS_AGENT_PWENT, 0);
	return NSS_STATUS_SUCCESS;
}

/* getpwent_r: the next agent; the cursor stays put on ERANGE so that the
 * caller's retry with a larger buffer gets the same entry. */
enum nss_status
_nss_agent_getpwent_r(struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	struct agentid_replica_user u;
	struct nss_agent_map *m;
	uint32_t c;
	int rc;

	if ((rc = nss_agent_acquire(&m)) != 0)
		return nss_agent_status(rc, errnop);
	c = nss_agent_cursor_get(NSS_AGENT_PWENT);
	for (;;) {
		/* the delta's users, then the base's it does not hide */
		if ((rc = agentid_replica_user_next(m->rep, &c, &u)) != 0)
			break;
		rc = fill_passwd(m->rep, &u, pw, buf, buflen);
		if (rc != ENOENT)
			break;
	}
	if (rc == 0)
		nss_agent_cursor_set(NSS_AGENT_PWENT, c);
	nss_agent_release(m);
	return nss_agent_status(rc, errnop);
}
