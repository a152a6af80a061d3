/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * system.c - what agentidd asks of the system: logging, the privilege drop
 * to the `agentid` user (replica directory, bind secret), the readiness
 * notice to systemd and the cookie file.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <lber.h>

#include "agentid.h"
#include "agentidd.h"
#include "records.h"

bool agentidd_foreground;
static char *secret_dir, *secret_path;

/* Logs to stderr in the foreground, else to syslog; control characters
 * are escaped so nothing from the directory forges a line. */
void
agentidd_log(int prio, const char *fmt, ...)
{
	char raw[1024], out[2048];
	size_t i, o = 0;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	for (i = 0; raw[i] != '\0' && o + 5 < sizeof(out); i++) {
		unsigned char c = (unsigned char)raw[i];

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out + o, sizeof(out) - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
	if (agentidd_foreground)
		fprintf(stderr, "agentidd: %s\n", out);
	else
		syslog(prio, "%s", out);
}

/* Creates dir (0755) when missing and gives it to uid/gid. */
static int
own_dir(const char *dir, uid_t uid, gid_t gid, struct agentid_error *err)
{
	struct stat st;

	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		return agentid_seterr(err, errno, "%s: %s", dir, strerror(errno));
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		return agentid_seterr(err, ENOTDIR, "%s: not a directory", dir);
	if ((st.st_uid != uid || st.st_gid != gid) && chown(dir, uid, gid) != 0)
		return agentid_seterr(err, errno, "%s: chown: %s", dir,
		    strerror(errno));
	if ((st.st_mode & 0022) != 0 && chmod(dir, 0755) != 0)
		return agentid_seterr(err, errno, "%s: chmod: %s", dir,
		    strerror(errno));
	return 0;
}

/*
 * The bind password is readable by root only; the unprivileged process
 * reconnects and binds again later. It gets a copy in a private directory
 * on the runtime tmpfs (0700, its own), never on disk; removed at exit.
 */
static int
keep_secret(struct agentid_config *cfg, uid_t uid, gid_t gid,
    struct agentid_error *err)
{
	const char *run = secure_getenv("RUNTIME_DIRECTORY");
	char tmpl[256], *pw = NULL;
	int fd = -1, r;

	if (cfg->bindpw_file == NULL)
		return 0;
	if ((r = agentid_read_secret(cfg->bindpw_file, &pw, err)) != 0)
		return r;
	snprintf(tmpl, sizeof(tmpl), "%s/agentidd.XXXXXX",
	    run != NULL && run[0] == '/' ? run : "/run");
	if (mkdtemp(tmpl) == NULL) {
		r = agentid_seterr(err, errno, "%s: %s", tmpl, strerror(errno));
		goto out;
	}
	if ((secret_dir = strdup(tmpl)) == NULL ||
	    (secret_path = malloc(strlen(tmpl) + 8)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	sprintf(secret_path, "%s/bindpw", tmpl);
	if ((fd = open(secret_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
	    0400)) < 0 || write(fd, pw, strlen(pw)) != (ssize_t)strlen(pw) ||
	    fchown(fd, uid, gid) != 0 || chown(tmpl, uid, gid) != 0) {
		r = agentid_seterr(err, errno, "%s: %s", secret_path,
		    strerror(errno));
		goto out;
	}
	free(cfg->bindpw_file);
	if ((cfg->bindpw_file = strdup(secret_path)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	return r;
}

void
agentidd_cleanup_secret(void)
{
	if (secret_path != NULL)
		(void)unlink(secret_path);
	if (secret_dir != NULL)
		(void)rmdir(secret_dir);
}

/* See agentidd.h. */
int
agentidd_drop(const char *user, struct agentid_config *cfg,
    const char *replica, struct agentid_error *err)
{
	struct passwd *pw;
	char *dir, *slash;
	int r;

	if (geteuid() != 0) {
		agentidd_log(LOG_NOTICE, "not started as root: running as uid %u",
		    (unsigned)geteuid());
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		return 0;
	}
	/* getpwnam through NSS is fine here: agentidd is no NSS module, and
	 * the system user lives in /etc/passwd */
	errno = 0;
	if ((pw = getpwnam(user)) == NULL)
		return agentid_seterr(err, ESRCH, "system user '%s' does not exist: "
		    "create it (the agentid package does: useradd --system "
		    "agentid) or choose one with --user", user);
	if ((dir = strdup(replica)) == NULL)
		return ENOMEM;
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir)
		*slash = '\0';
	r = own_dir(dir, pw->pw_uid, pw->pw_gid, err);
	free(dir);
	if (r != 0 || (r = keep_secret(cfg, pw->pw_uid, pw->pw_gid, err)) != 0)
		return r;
	if (setgroups(0, NULL) != 0 || setgid(pw->pw_gid) != 0 ||
	    setuid(pw->pw_uid) != 0)
		return agentid_seterr(err, errno, "dropping to %s: %s", user,
		    strerror(errno));
	/* no way back: setuid(0) must fail now */
	if (setuid(0) == 0)
		return agentid_seterr(err, EPERM, "privileges not dropped");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		return agentid_seterr(err, errno, "no_new_privs: %s",
		    strerror(errno));
	agentidd_log(LOG_INFO, "running as %s (uid %u)", user,
	    (unsigned)pw->pw_uid);
	return 0;
}

/* sd_notify without libsystemd: one datagram to $NOTIFY_SOCKET. */
void
agentidd_notify(const char *state)
{
	const char *path = secure_getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (path == NULL || (path[0] != '/' && path[0] != '@') ||
	    strlen(path) >= sizeof(sa.sun_path))
		return;
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path));
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(path));
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0)
		return;
	(void)sendto(fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sa, len);
	close(fd);
}

#define MAX_COOKIE 65536

/* Reads AGENTS.cookie; ENOENT when none. */
int
cookie_load(const char *replica, struct berval *out)
{
	char *path = agentid_records_path(replica, ".cookie"), *buf = NULL;
	ssize_t n;
	int fd, r = ENOMEM;

	out->bv_val = NULL;
	out->bv_len = 0;
	if (path == NULL)
		return ENOMEM;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) < 0) {
		r = errno;
		goto out;
	}
	if ((buf = malloc(MAX_COOKIE + 1)) == NULL)
		goto out;
	if ((n = read(fd, buf, MAX_COOKIE + 1)) <= 0 || n > MAX_COOKIE) {
		r = EBADMSG;
		goto out;
	}
	buf[n] = '\0';
	out->bv_val = buf;
	out->bv_len = (ber_len_t)n;
	buf = NULL;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return r;
}

/* Writes len bytes of data to path through a temporary file beside it
 * (mode 0644, fsync, rename); 0 or errno. */
int
agentidd_write_file(const char *path, const void *data, size_t len)
{
	char *tmp;
	int fd, r = 0;

	if ((tmp = malloc(strlen(path) + 16)) == NULL)
		return ENOMEM;
	sprintf(tmp, "%s.tmpXXXXXX", path);
	if ((fd = mkstemp(tmp)) < 0) {
		r = errno;
		free(tmp);
		return r;
	}
	if (fchmod(fd, 0644) != 0 || write(fd, data, len) != (ssize_t)len ||
	    fsync(fd) != 0 || rename(tmp, path) != 0)
		r = errno != 0 ? errno : EIO;
	close(fd);
	if (r != 0)
		(void)unlink(tmp);
	free(tmp);
	return r;
}

/* Writes AGENTS.cookie (temporary file, rename); an empty cookie removes
 * it. */
int
cookie_save(const char *replica, const struct berval *c)
{
	char *path = agentid_records_path(replica, ".cookie");
	int r;

	if (path == NULL)
		return ENOMEM;
	if (c == NULL || c->bv_val == NULL || c->bv_len == 0)
		r = unlink(path) == 0 || errno == ENOENT ? 0 : errno;
	else
		r = agentidd_write_file(path, c->bv_val, c->bv_len);
	free(path);
	return r;
}
