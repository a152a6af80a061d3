/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_null.c - the glibc floor for scripts/bench: an NSS module ("null")
 * that answers passwd lookups at once with a constant entry and initgroups
 * with no group. What glibc's dispatch costs by itself.
 */
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>
#include <sys/types.h>

enum nss_status _nss_null_getpwnam_r(const char *name, struct passwd *pw,
    char *buf, size_t buflen, int *errnop);
enum nss_status _nss_null_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
    size_t buflen, int *errnop);
enum nss_status _nss_null_initgroups_dyn(const char *user, gid_t group,
    long *start, long *size, gid_t **groupsp, long limit, int *errnop);

/* Fills pw with name and constants. */
static enum nss_status
fill(const char *name, uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	size_t len = strlen(name) + 1;

	if (buf == NULL || buflen < len + 2) {
		*errnop = ERANGE;
		return NSS_STATUS_TRYAGAIN;
	}
	memcpy(buf, name, len);
	buf[len] = '\0';
	pw->pw_name = buf;
	pw->pw_passwd = buf + len;
	pw->pw_gecos = buf + len;
	pw->pw_dir = buf + len;
	pw->pw_shell = buf + len;
	pw->pw_uid = uid;
	pw->pw_gid = uid;
	return NSS_STATUS_SUCCESS;
}

enum nss_status
_nss_null_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	return fill(name, 100000, pw, buf, buflen, errnop);
}

enum nss_status
_nss_null_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	return fill("null", uid, pw, buf, buflen, errnop);
}

enum nss_status
_nss_null_initgroups_dyn(const char *user, gid_t group, long *start,
    long *size, gid_t **groupsp, long limit, int *errnop)
{
	(void)user;
	(void)group;
	(void)start;
	(void)size;
	(void)groupsp;
	(void)limit;
	(void)errnop;
	return NSS_STATUS_SUCCESS;
}
