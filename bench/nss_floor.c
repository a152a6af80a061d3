/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_floor.c - an NSS module that answers every passwd lookup at once with
 * a constant entry: what glibc's NSS dispatch costs by itself. Built by
 * bench/nss.sh as libnss_floor.so.2 ("passwd: floor").
 */
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <string.h>

enum nss_status _nss_floor_getpwnam_r(const char *name, struct passwd *pw,
    char *buf, size_t buflen, int *errnop);
enum nss_status _nss_floor_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
    size_t buflen, int *errnop);

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
_nss_floor_getpwnam_r(const char *name, struct passwd *pw, char *buf,
    size_t buflen, int *errnop)
{
	return fill(name, 100000, pw, buf, buflen, errnop);
}

enum nss_status
_nss_floor_getpwuid_r(uid_t uid, struct passwd *pw, char *buf, size_t buflen,
    int *errnop)
{
	return fill("floor", uid, pw, buf, buflen, errnop);
}
