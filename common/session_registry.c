/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session_registry.c - the registry of open agent sessions (see
 * session_registry.h for the file format) and the /proc readers that tie a
 * session to its processes. The files are written by root only, but a
 * reader still trusts nothing in them: every line is checked, every number
 * bounded, and a file that does not parse is refused whole.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentid.h"
#include "internal.h"
#include "session_registry.h"

/* See session_registry.h. */
const char *
sessreg_dir(void)
{
	const char *d = secure_getenv(SESSREG_DIR_ENV);

	return d != NULL && d[0] == '/' ? d : SESSREG_DIR;
}

/* See session_registry.h. */
bool
sessreg_id_valid(const char *name)
{
	size_t i;

	for (i = 0; i < 32; i++)
		if (!((name[i] >= '0' && name[i] <= '9') ||
		    (name[i] >= 'a' && name[i] <= 'f')))
			return false;
	return name[32] == '\0';
}

/* A value fit for a line: not empty, shorter than max, no control byte. */
static bool
value_ok(const char *v, size_t max)
{
	size_t n = strnlen(v, max);

	if (n == 0 || n >= max)
		return false;
	for (; *v != '\0'; v++)
		if ((unsigned char)*v < 0x20 || *v == 0x7f)
			return false;
	return true;
}

/* ------------------------------------------------------------- format */

struct out {
	char *buf;
	size_t len, cap;
	int err;
};

/* Appends "key value\n" to o (records ENOMEM in o->err). */
static void
put(struct out *o, const char *key, const char *value)
{
	size_t need = strlen(key) + 1 + strlen(value) + 1;
	char *nb;

	if (o->err != 0)
		return;
	if (o->len + need + 1 > o->cap) {
		size_t cap = (o->cap + need + 1) * 2;

		if ((nb = realloc(o->buf, cap)) == NULL) {
			o->err = ENOMEM;
			return;
		}
		o->buf = nb;
		o->cap = cap;
	}
	o->len += (size_t)snprintf(o->buf + o->len, o->cap - o->len, "%s %s\n",
	    key, value);
}

/* Appends "key N\n". */
static void
put_u64(struct out *o, const char *key, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%" PRIu64, v);
	put(o, key, num);
}

/* See session_registry.h. */
int
sessreg_format(const struct sessreg_session *s, char **out, size_t *len)
{
	struct out o = { NULL, 0, 0, 0 };
	size_t i;

	*out = NULL;
	if (!sessreg_id_valid(s->id) || !value_ok(s->user, sizeof(s->user)) ||
	    !value_ok(s->service, sizeof(s->service)) ||
	    (s->rhost[0] != '\0' && !value_ok(s->rhost, sizeof(s->rhost))) ||
	    (s->tty[0] != '\0' && !value_ok(s->tty, sizeof(s->tty))) ||
	    (s->login_session[0] != '\0' &&
	    !value_ok(s->login_session, sizeof(s->login_session))) ||
	    !value_ok(s->boot_id, sizeof(s->boot_id)) || s->pid <= 0 ||
	    s->start < 0 || s->n_principals > SESSREG_MAX_PRINCIPALS)
		return EINVAL;
	if (s->has_cert) {
		if (!value_ok(s->ca_fp, sizeof(s->ca_fp)) ||
		    !value_ok(s->key_fp, sizeof(s->key_fp)))
			return EINVAL;
		for (i = 0; i < s->n_principals; i++)
			if (!value_ok(s->principals[i], sizeof(s->principals[i])))
				return EINVAL;
	}
	put(&o, "agentid-session", "1");
	put(&o, "id", s->id);
	put(&o, "user", s->user);
	put(&o, "service", s->service);
	if (s->rhost[0] != '\0')
		put(&o, "rhost", s->rhost);
	if (s->tty[0] != '\0')
		put(&o, "tty", s->tty);
	put_u64(&o, "pid", (uint64_t)s->pid);
	if (s->pid_start != 0)
		put_u64(&o, "pid_start", s->pid_start);
	if (s->has_audit_session && s->audit_session != SESSREG_AUDIT_UNSET)
		put_u64(&o, "audit_session", s->audit_session);
	if (s->login_session[0] != '\0')
		put(&o, "login_session", s->login_session);
	put(&o, "boot_id", s->boot_id);
	put_u64(&o, "start", (uint64_t)s->start);
	if (s->has_cert) {
		put(&o, "cert_ca", s->ca_fp);
		put(&o, "cert_key", s->key_fp);
		for (i = 0; i < s->n_principals; i++)
			put(&o, "cert_principal", s->principals[i]);
		put_u64(&o, "cert_valid_after", s->valid_after);
		put_u64(&o, "cert_valid_before", s->valid_before);
	}
	if (o.err != 0 || o.len > SESSREG_MAX_FILE) {
		free(o.buf);
		return o.err != 0 ? o.err : EINVAL;
	}
	*out = o.buf;
	*len = o.len;
	return 0;
}

/* -------------------------------------------------------------- parse */

/* Keys of the file; each seen at most once but KEY_PRINCIPAL. */
enum key {
	KEY_ID, KEY_USER, KEY_SERVICE, KEY_RHOST, KEY_TTY, KEY_PID,
	KEY_PID_START, KEY_AUDIT, KEY_LOGIN, KEY_BOOT, KEY_START, KEY_CA,
	KEY_KEY, KEY_PRINCIPAL, KEY_VALID_AFTER, KEY_VALID_BEFORE, KEY_MAX
};
static const char *const key_names[KEY_MAX] = {
	"id", "user", "service", "rhost", "tty", "pid", "pid_start",
	"audit_session", "login_session", "boot_id", "start", "cert_ca",
	"cert_key", "cert_principal", "cert_valid_after", "cert_valid_before",
};

/* Copies value into dst[cap]; false when it does not fit. */
static bool
copy(char *dst, size_t cap, const char *value)
{
	size_t n = strlen(value);

	if (n >= cap)
		return false;
	memcpy(dst, value, n + 1);
	return true;
}

/* Stores one key's value into s; 0 or EBADMSG. */
static int
store(struct sessreg_session *s, enum key k, const char *v)
{
	uint64_t n;

	switch (k) {
	case KEY_ID:
		return sessreg_id_valid(v) && copy(s->id, sizeof(s->id), v) ?
		    0 : EBADMSG;
	case KEY_USER:
		return agentid_name_valid(v, NULL) == 0 &&
		    copy(s->user, sizeof(s->user), v) ? 0 : EBADMSG;
	case KEY_SERVICE:
		return copy(s->service, sizeof(s->service), v) ? 0 : EBADMSG;
	case KEY_RHOST:
		return copy(s->rhost, sizeof(s->rhost), v) ? 0 : EBADMSG;
	case KEY_TTY:
		return copy(s->tty, sizeof(s->tty), v) ? 0 : EBADMSG;
	case KEY_LOGIN:
		return copy(s->login_session, sizeof(s->login_session), v) ?
		    0 : EBADMSG;
	case KEY_BOOT:
		return strlen(v) == 36 && copy(s->boot_id, sizeof(s->boot_id), v) ?
		    0 : EBADMSG;
	case KEY_CA:
		return copy(s->ca_fp, sizeof(s->ca_fp), v) ? 0 : EBADMSG;
	case KEY_KEY:
		return copy(s->key_fp, sizeof(s->key_fp), v) ? 0 : EBADMSG;
	case KEY_PRINCIPAL:
		if (s->n_principals >= SESSREG_MAX_PRINCIPALS ||
		    !copy(s->principals[s->n_principals],
		    sizeof(s->principals[0]), v))
			return EBADMSG;
		s->n_principals++;
		return 0;
	default:
		break;
	}
	/* the rest are numbers */
	if (agentid_parse_decimal(v, UINT64_MAX, &n) != 0)
		return EBADMSG;
	switch (k) {
	case KEY_PID:
		/* the kernel's pid_max is at most 2^22 */
		if (n == 0 || n > 4194304)
			return EBADMSG;
		s->pid = (pid_t)n;
		return 0;
	case KEY_PID_START:
		s->pid_start = n;
		return 0;
	case KEY_AUDIT:
		if (n >= SESSREG_AUDIT_UNSET)
			return EBADMSG;
		s->has_audit_session = true;
		s->audit_session = (uint32_t)n;
		return 0;
	case KEY_START:
		if (n > INT64_MAX)
			return EBADMSG;
		s->start = (int64_t)n;
		return 0;
	case KEY_VALID_AFTER:
		s->valid_after = n;
		return 0;
	case KEY_VALID_BEFORE:
		s->valid_before = n;
		return 0;
	default:
		return EBADMSG;
	}
}

/* See session_registry.h. */
int
sessreg_parse(const char *text, size_t len, struct sessreg_session *out)
{
	unsigned seen[KEY_MAX] = { 0 };
	char line[1024];
	const char *p = text, *end = text + len, *nl, *sp;
	size_t n, i;
	bool first = true;
	int k;

	memset(out, 0, sizeof(*out));
	if (len > SESSREG_MAX_FILE)
		return EBADMSG;
	while (p < end) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return EBADMSG; /* torn or unterminated last line */
		n = (size_t)(nl - p);
		if (n >= sizeof(line))
			return EBADMSG;
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		/* NUL or a control byte anywhere refuses the file */
		for (i = 0; i < n; i++)
			if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
				return EBADMSG;
		if (first) {
			if (strcmp(line, SESSREG_MAGIC) != 0)
				return EBADMSG;
			first = false;
			continue;
		}
		if ((sp = strchr(line, ' ')) == NULL || sp == line ||
		    sp[1] == '\0')
			return EBADMSG;
		line[sp - line] = '\0';
		for (k = 0; k < KEY_MAX; k++)
			if (strcmp(line, key_names[k]) == 0)
				break;
		if (k == KEY_MAX || (k != KEY_PRINCIPAL && seen[k] > 0))
			return EBADMSG;
		seen[k]++;
		if (store(out, (enum key)k, sp + 1) != 0)
			return EBADMSG;
	}
	if (first || !seen[KEY_ID] || !seen[KEY_USER] || !seen[KEY_SERVICE] ||
	    !seen[KEY_PID] || !seen[KEY_BOOT] || !seen[KEY_START])
		return EBADMSG;
	/* a certificate is described whole or not at all */
	out->has_cert = seen[KEY_CA] || seen[KEY_KEY] || seen[KEY_PRINCIPAL] ||
	    seen[KEY_VALID_AFTER] || seen[KEY_VALID_BEFORE];
	if (out->has_cert && (!seen[KEY_CA] || !seen[KEY_KEY] ||
	    !seen[KEY_VALID_AFTER] || !seen[KEY_VALID_BEFORE]))
		return EBADMSG;
	return 0;
}

/* ----------------------------------------------------------- the files */

/* Opens dir (creating its last component 0700 when missing) and checks
 * that only we can write it. Returns an fd or -1 with errno set. */
static int
open_dir(const char *dir, bool create, struct agentid_error *err)
{
	struct stat st;
	int fd, e;

	if (create && strcmp(dir, SESSREG_DIR) == 0)
		(void)mkdir("/run/agentid", 0755); /* parent; EEXIST is fine */
	if (create && mkdir(dir, 0700) != 0 && errno != EEXIST) {
		e = errno;
		agentid_seterr(err, e, "%s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		e = errno;
		agentid_seterr(err, e, "%s: %s", dir, strerror(e));
		errno = e;
		return -1;
	}
	if (fstat(fd, &st) != 0 || (st.st_mode & 022) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid())) {
		close(fd);
		agentid_seterr(err, EACCES, "%s: must be owned by root and "
		    "writable by no one else", dir);
		errno = EACCES;
		return -1;
	}
	return fd;
}

/* Writes all of buf to fd; 0 or errno. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* See session_registry.h. */
int
sessreg_write(const char *dir, const struct sessreg_session *s,
    struct agentid_error *err)
{
	char tmp[64], *text = NULL;
	size_t len = 0;
	int dfd = -1, fd = -1, r;
	bool made = false;

	if ((r = sessreg_format(s, &text, &len)) != 0) {
		agentid_seterr(err, r, "session %s: cannot describe it", s->id);
		goto out;
	}
	if ((dfd = open_dir(dir, true, err)) < 0) {
		r = errno;
		goto out;
	}
	/* the id is random: a fixed temp name per id cannot collide */
	snprintf(tmp, sizeof(tmp), ".%s.tmp", s->id);
	(void)unlinkat(dfd, tmp, 0);
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) < 0) {
		r = errno;
		agentid_seterr(err, r, "%s/%s: %s", dir, tmp, strerror(r));
		goto out;
	}
	made = true;
	if ((r = write_all(fd, text, len)) == 0 && fsync(fd) != 0)
		r = errno;
	if (close(fd) != 0 && r == 0)
		r = errno;
	fd = -1;
	if (r != 0) {
		agentid_seterr(err, r, "%s/%s: %s", dir, tmp, strerror(r));
		goto out;
	}
	if (renameat(dfd, tmp, dfd, s->id) != 0) {
		r = errno;
		agentid_seterr(err, r, "%s/%s: %s", dir, s->id, strerror(r));
		goto out;
	}
	made = false;
	(void)fsync(dfd); /* /run is tmpfs; elsewhere this makes it durable */
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	free(text);
	return r;
}

/* See session_registry.h. */
int
sessreg_remove(const char *dir, const char *id)
{
	char path[4096];

	if (!sessreg_id_valid(id))
		return EINVAL;
	if (snprintf(path, sizeof(path), "%s/%s", dir, id) >= (int)sizeof(path))
		return ENAMETOOLONG;
	if (unlink(path) != 0 && errno != ENOENT)
		return errno;
	return 0;
}

/* The ident of what st describes. */
static void
ident_of(const struct stat *st, struct sessreg_ident *id)
{
	memset(id, 0, sizeof(*id));
	id->dev = (uint64_t)st->st_dev;
	id->ino = (uint64_t)st->st_ino;
	id->size = (uint64_t)st->st_size;
	id->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 +
	    st->st_mtim.tv_nsec;
	id->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 +
	    st->st_ctim.tv_nsec;
}

/* Reads name under the open directory dfd; see sessreg_read. id (may be
 * NULL) gets the ident of the file read. */
static int
read_at(int dfd, const char *name, struct sessreg_session *s,
    struct sessreg_ident *id)
{
	char buf[SESSREG_MAX_FILE + 1];
	struct stat st;
	size_t got = 0;
	ssize_t n;
	int fd, r;

	memset(s, 0, sizeof(*s));
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ELOOP ? EACCES : errno;
	if (fstat(fd, &st) != 0) {
		r = errno;
		goto out;
	}
	if (id != NULL)
		ident_of(&st, id);
	r = EACCES;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 022) != 0 ||
	    (st.st_uid != 0 && st.st_uid != geteuid()))
		goto out;
	r = EFBIG;
	if (st.st_size > SESSREG_MAX_FILE)
		goto out;
	/* read to the end, never past the limit (the size may change) */
	while (got < sizeof(buf)) {
		if ((n = read(fd, buf + got, sizeof(buf) - got)) < 0) {
			if (errno == EINTR)
				continue;
			r = errno;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	if (got > SESSREG_MAX_FILE)
		goto out;
	r = EBADMSG;
	if (sessreg_parse(buf, got, s) != 0 || strcmp(s->id, name) != 0) {
		memset(s, 0, sizeof(*s));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* See session_registry.h. */
int
sessreg_read(const char *dir, const char *name, struct sessreg_session *s)
{
	int dfd, r;

	if (!sessreg_id_valid(name))
		return EINVAL;
	if ((dfd = open_dir(dir, false, NULL)) < 0)
		return errno;
	r = read_at(dfd, name, s, NULL);
	close(dfd);
	return r;
}


/* See session_registry.h. */
int
sessreg_dir_ident(const char *dir, struct sessreg_ident *id)
{
	struct stat st;

	if (lstat(dir, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return ENOTDIR;
	ident_of(&st, id);
	return 0;
}

/* See session_registry.h. */
int
sessreg_each_changed(const char *dir, sessreg_known_cb known,
    sessreg_read_cb cb, void *arg)
{
	struct sessreg_session *s = NULL;
	struct sessreg_ident id;
	struct dirent *de;
	struct stat st;
	DIR *d = NULL;
	int dfd, r = 0, code;

	if ((dfd = open_dir(dir, false, NULL)) < 0)
		return errno;
	if ((d = fdopendir(dfd)) == NULL) {
		r = errno;
		close(dfd);
		return r;
	}
	if ((s = malloc(sizeof(*s))) == NULL) {
		r = ENOMEM;
		goto out;
	}
	while ((errno = 0, de = readdir(d)) != NULL) {
		if (!sessreg_id_valid(de->d_name))
			continue; /* ".", "..", temp files */
		/* a stat, not an open and a parse, for a version we hold */
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
			ident_of(&st, &id);
			if (known(de->d_name, &id, arg))
				continue;
		} else if (errno == ENOENT) {
			continue;
		}
		code = read_at(dirfd(d), de->d_name, s, &id);
		if (code == ENOENT)
			continue; /* closed while we walked */
		if ((r = cb(de->d_name, code == 0 ? &id : NULL,
		    code == 0 ? s : NULL, code, arg)) != 0)
			goto out;
	}
	r = errno;
out:
	free(s);
	closedir(d);
	return r;
}

struct each_all {
	sessreg_cb cb;
	void *arg;
};

static bool
known_none(const char *name, const struct sessreg_ident *id, void *arg)
{
	(void)name;
	(void)id;
	(void)arg;
	return false;
}

static int
each_all_cb(const char *name, const struct sessreg_ident *id,
    const struct sessreg_session *s, int code, void *arg)
{
	struct each_all *e = arg;

	(void)id;
	return e->cb(name, s, code, e->arg);
}

/* See session_registry.h: every entry, read. */
int
sessreg_each(const char *dir, sessreg_cb cb, void *arg)
{
	struct each_all e = { cb, arg };

	return sessreg_each_changed(dir, known_none, each_all_cb, &e);
}

/* ---------------------------------------------------------------- /proc */

/* Reads the small file at path into buf, NUL-terminated; bytes read or -1
 * with errno (ENOENT when the process it belongs to is gone). */
static ssize_t
read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return errno == ESRCH ? (errno = ENOENT, -1) : -1;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	if (n < 0 && errno == ESRCH)
		errno = ENOENT;
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

/* read_small of /proc/PID/NAME (pid 0: this process). */
static ssize_t
proc_read(pid_t pid, const char *name, char *buf, size_t len)
{
	char path[64];

	if (pid == 0)
		snprintf(path, sizeof(path), "/proc/self/%s", name);
	else
		snprintf(path, sizeof(path), "/proc/%ld/%s", (long)pid, name);
	return read_small(path, buf, len);
}

/* See session_registry.h. */
int
sessreg_proc_sessionid(pid_t pid, uint32_t *out)
{
	char buf[32];
	uint64_t v;
	ssize_t n;

	if ((n = proc_read(pid, "sessionid", buf, sizeof(buf))) < 0)
		return errno;
	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	if (agentid_parse_decimal(buf, UINT32_MAX, &v) != 0)
		return EBADMSG;
	*out = (uint32_t)v;
	return 0;
}

/* See session_registry.h. */
int
sessreg_proc_stat(pid_t pid, char *state, uint64_t *start)
{
	char buf[1024], *p, *tok, *save = NULL;
	uint64_t v = 0;
	int field = 3;

	if (proc_read(pid, "stat", buf, sizeof(buf)) < 0)
		return errno;
	/* the command name may hold spaces and parentheses: skip to the
	 * last ')' */
	if ((p = strrchr(buf, ')')) == NULL || p[1] != ' ')
		return EBADMSG;
	for (tok = strtok_r(p + 2, " ", &save); tok != NULL;
	    tok = strtok_r(NULL, " \n", &save), field++) {
		if (field == 3)
			*state = tok[0];
		if (field == 22) {
			if (agentid_parse_decimal(tok, UINT64_MAX, &v) != 0)
				return EBADMSG;
			*start = v;
			return 0;
		}
	}
	return EBADMSG;
}

/* See session_registry.h. */
int
sessreg_boot_id(char *buf, size_t len)
{
	ssize_t n;
	size_t i;

	if (len < 37)
		return ENOSPC;
	if ((n = read_small("/proc/sys/kernel/random/boot_id", buf, len)) < 0)
		return errno;
	if (n < 36)
		return EBADMSG;
	buf[36] = '\0';
	for (i = 0; i < 36; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f') || buf[i] == '-'))
			return EBADMSG;
	return 0;
}

/* See session_registry.h. */
bool
sessreg_leader_alive(const struct sessreg_session *s)
{
	uint64_t start = 0;
	char state = '?';

	if (sessreg_proc_stat(s->pid, &state, &start) != 0)
		return false;
	if (state == 'Z' || state == 'X')
		return false;
	return s->pid_start == 0 || s->pid_start == start;
}
