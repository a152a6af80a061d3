/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit_append.c - appends hash-chained records to the audit trail.
 *
 * Every append, in its own process (each sshd login is one):
 *   open the log (O_APPEND|O_CLOEXEC|O_NOFOLLOW; created 0600, its directory
 *   0700) -> flock(LOCK_EX), waiting at most AUDIT_LOCK_WAIT_MS -> check
 *   that the path still names the inode we locked (else logrotate moved it:
 *   reopen) -> read the last line by seeking back from the end -> one
 *   write(2) of the whole new line -> fsync -> unlock.
 *
 * Rotation: "<log>.chain" is a second hard link to the live trail file.
 * logrotate renames the log away; the link still names the rotated inode,
 * so the first writer of the new (empty) file reads the last line of the
 * rotated one through it (under that file's lock) and then moves the link
 * to the new file. No state is kept besides the trail itself, so a crash at
 * any point loses nothing: the link is checked and repaired on every append.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"
#include "internal.h"

#define AUDIT_LOCK_WAIT_MS 10000  /* give up (fail closed) after 10 s */
#define AUDIT_TAIL_CHUNK 8192

/* What the last line of a trail file tells the next writer. */
struct tail {
	char hash[AUDIT_HASH_HEX + 1]; /* SHA-256 of the last line, or zeros */
	uint64_t seq;                  /* its "seq"; 0 when none/unknown */
	bool torn;                     /* the file does not end with '\n' */
	bool empty;                    /* no line at all */
	bool seal;                     /* the last line is a seal line */
};

/* Reads exactly len bytes at off; returns 0, EIO (short file) or errno. */
static int
pread_full(int fd, char *buf, size_t len, off_t off)
{
	ssize_t n;

	while (len > 0) {
		n = pread(fd, buf, len, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		if (n == 0)
			return EIO;
		buf += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/*
 * Finds the start of the line that ends at end (exclusive), seeking back
 * chunk by chunk: never reads more than that line. Returns 0, EBADMSG
 * (longer than AUDIT_MAX_SCAN) or an I/O errno.
 */
static int
line_start(int fd, off_t end, off_t *start, const char *path,
    struct agentid_error *err)
{
	char chunk[AUDIT_TAIL_CHUNK], *nl;
	off_t pos;
	size_t n;
	int r;

	*start = 0;
	for (pos = end; pos > 0; pos -= (off_t)n) {
		n = pos < AUDIT_TAIL_CHUNK ? (size_t)pos : AUDIT_TAIL_CHUNK;
		if ((r = pread_full(fd, chunk, n, pos - (off_t)n)) != 0)
			return agentid_seterr(err, r, "read %s: %s", path,
			    strerror(r));
		if ((nl = memrchr(chunk, '\n', n)) != NULL) {
			*start = pos - (off_t)n + (nl - chunk) + 1;
			break;
		}
		if (end - (pos - (off_t)n) > AUDIT_MAX_SCAN)
			break;
	}
	if (end - *start > AUDIT_MAX_SCAN)
		return agentid_seterr(err, EBADMSG, "%s: last line is longer "
		    "than %d bytes: not an agentid audit trail", path,
		    AUDIT_MAX_SCAN);
	return 0;
}

/* Reads bytes [start, end) into a malloc'd *out; 0 or errno. */
static int
read_span(int fd, off_t start, off_t end, char **out, const char *path,
    struct agentid_error *err)
{
	size_t n = (size_t)(end - start);
	int r;

	if ((*out = malloc(n + 1)) == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	if ((r = pread_full(fd, *out, n, start)) != 0) {
		free(*out);
		*out = NULL;
		return agentid_seterr(err, r, "read %s: %s", path, strerror(r));
	}
	return 0;
}

/* Fills t->hash and t->seq from the last line [start, end) held in line;
 * for a torn line, prev (NULL if none) is the complete line before it. */
static int
tail_from(struct audit_hasher *h, struct tail *t, const char *line,
    size_t len, const char *prev, size_t plen)
{
	struct audit_fields f;
	int r;

	if ((r = audit_hash_hex(h, line, len, t->hash)) != 0)
		return r;
	if (t->torn) {
		/* the fragment counts as the record that was being written */
		if (prev != NULL && audit_parse_line(prev, plen, &f, NULL) == 0 &&
		    f.has_seq)
			t->seq = f.seq + 1;
	} else if (audit_parse_line(line, len, &f, NULL) == 0 && f.has_seq) {
		t->seq = f.seq;
		t->seal = audit_is_seal(&f);
	}
	return 0;
}

/*
 * Reads what the next record chains onto: the hash and seq of the last
 * line of fd (size bytes), without reading the rest of the file. One pread
 * of the last AUDIT_TAIL_CHUNK bytes is enough for records of normal size;
 * longer lines are found by seeking back further. After a torn last line
 * (no newline: a crash mid-write), the hash is that of the fragment.
 * Returns 0, EBADMSG (absurdly long line) or an I/O errno.
 */
static int
read_tail(int fd, off_t size, struct audit_hasher *h, struct tail *t,
    const char *path, struct agentid_error *err)
{
	char chunk[AUDIT_TAIL_CHUNK], *line = NULL, *prev = NULL, *nl, *pnl;
	off_t end, start, pstart, base;
	size_t n, len;
	int r;

	memset(t, 0, sizeof(*t));
	memcpy(t->hash, AUDIT_ZERO_HASH, sizeof(t->hash));
	if (size == 0) {
		t->empty = true;
		return 0;
	}
	n = size < AUDIT_TAIL_CHUNK ? (size_t)size : AUDIT_TAIL_CHUNK;
	base = size - (off_t)n;
	if ((r = pread_full(fd, chunk, n, base)) != 0)
		return agentid_seterr(err, r, "read %s: %s", path, strerror(r));
	t->torn = chunk[n - 1] != '\n';
	len = t->torn ? n : n - 1;
	nl = memrchr(chunk, '\n', len);
	if (nl != NULL || base == 0) {
		/* fast path: the whole last line is in the chunk */
		start = nl != NULL ? nl - chunk + 1 : 0;
		pnl = NULL;
		if (t->torn && nl != NULL && nl > chunk)
			pnl = memrchr(chunk, '\n', (size_t)(nl - chunk));
		if (t->torn && nl != NULL && (pnl != NULL || base == 0)) {
			pstart = pnl != NULL ? pnl - chunk + 1 : 0;
			r = tail_from(h, t, chunk + start, len - (size_t)start,
			    chunk + pstart, (size_t)(start - 1 - pstart));
		} else if (!t->torn || nl == NULL) {
			r = tail_from(h, t, chunk + start, len - (size_t)start,
			    NULL, 0);
		} else {
			goto slow;
		}
		if (r != 0)
			agentid_seterr(err, r, "SHA-256 failed");
		return r;
	}
slow:
	end = t->torn ? size : size - 1;
	if ((r = line_start(fd, end, &start, path, err)) != 0 ||
	    (r = read_span(fd, start, end, &line, path, err)) != 0)
		goto out;
	if (t->torn && start > 0 &&
	    ((r = line_start(fd, start - 1, &pstart, path, err)) != 0 ||
	    (r = read_span(fd, pstart, start - 1, &prev, path, err)) != 0))
		goto out;
	if ((r = tail_from(h, t, line, (size_t)(end - start), prev,
	    prev != NULL ? (size_t)(start - 1 - pstart) : 0)) != 0)
		agentid_seterr(err, r, "SHA-256 failed");
out:
	free(line);
	free(prev);
	return r;
}

/* Creates the trail's directory (last component only) 0700; 0 or errno. */
static int
make_dir(const char *path, struct agentid_error *err)
{
	char dir[PATH_MAX];
	char *slash;
	int r;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return agentid_seterr(err, ENAMETOOLONG, "%s: path too long", path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return agentid_seterr(err, ENOENT, "audit log %s: no such file",
		    path);
	*slash = '\0';
	if (dir[0] == '\0')
		return agentid_seterr(err, ENOENT, "audit log %s: no such file",
		    path);
	if (mkdir(dir, 0700) != 0) {
		r = errno;
		if (r == EEXIST)
			return 0;
		return agentid_seterr(err, r, "audit directory %s: cannot create "
		    "it: %s", dir, strerror(r));
	}
	/* mkdir's mode went through the umask; say exactly what we mean */
	if (chmod(dir, 0700) != 0 || (geteuid() == 0 && chown(dir, 0, 0) != 0)) {
		r = errno;
		return agentid_seterr(err, r, "audit directory %s: %s", dir,
		    strerror(r));
	}
	return 0;
}

/*
 * Opens path for appending and locks it, making sure the locked inode is
 * still the one the path names (logrotate may rename it while we wait).
 * Sets *created when this call created the file. Returns 0 or errno.
 */
static int
open_locked(const char *path, int *fdp, struct stat *st, bool *created,
    struct agentid_error *err)
{
	const int flags = O_RDWR | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY;
	struct stat pst;
	bool tried_dir = false;
	int fd = -1, r = 0, tries;

	*fdp = -1;
	for (tries = 0; tries < 32; tries++) {
		*created = false;
		if ((fd = open(path, flags)) < 0 && errno == ENOENT) {
			if ((fd = open(path, flags | O_CREAT | O_EXCL, 0600)) >= 0)
				*created = true;
			else if (errno == EEXIST)
				continue;
			else if (errno == ENOENT && !tried_dir) {
				tried_dir = true;
				if ((r = make_dir(path, err)) != 0)
					return r;
				continue;
			}
		}
		if (fd < 0) {
			r = errno;
			return agentid_seterr(err, r, "cannot open audit log %s: %s",
			    path, strerror(r));
		}
		if (*created && (fchmod(fd, 0600) != 0 ||
		    (geteuid() == 0 && fchown(fd, 0, 0) != 0))) {
			r = errno;
			agentid_seterr(err, r, "audit log %s: %s", path, strerror(r));
			goto out;
		}
		if ((r = agentid_flock_wait(fd, LOCK_EX, AUDIT_LOCK_WAIT_MS)) != 0) {
			agentid_seterr(err, r, "cannot lock audit log %s: %s", path,
			    r == ETIMEDOUT ? "still locked by another process "
			    "after 10 s" : strerror(r));
			goto out;
		}
		if (fstat(fd, st) != 0) {
			r = errno;
			agentid_seterr(err, r, "fstat %s: %s", path, strerror(r));
			goto out;
		}
		if (!S_ISREG(st->st_mode)) {
			r = EINVAL;
			agentid_seterr(err, r, "audit log %s is not a regular file",
			    path);
			goto out;
		}
		if (lstat(path, &pst) == 0 && pst.st_ino == st->st_ino &&
		    pst.st_dev == st->st_dev) {
			*fdp = fd;
			return 0;
		}
		close(fd); /* rotated or removed while we waited: start again */
		fd = -1;
	}
	return agentid_seterr(err, EAGAIN, "audit log %s keeps being replaced",
	    path);
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/*
 * The tail of the trail before an empty file: the last line of the file
 * that chain (the hard link) still names, read under that file's lock.
 * No link, or a link to this very file, starts a new trail (zeros).
 */
static int
read_predecessor(const char *chain, const struct stat *st,
    struct audit_hasher *h, struct tail *t, struct agentid_error *err)
{
	struct stat cst;
	int fd, r;

	if ((r = read_tail(-1, 0, h, t, chain, err)) != 0)
		return r;
	if ((fd = open(chain, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY)) < 0) {
		r = errno;
		if (r == ENOENT)
			return 0;
		return agentid_seterr(err, r, "cannot open %s: %s", chain,
		    strerror(r));
	}
	if (fstat(fd, &cst) != 0) {
		r = errno;
		agentid_seterr(err, r, "fstat %s: %s", chain, strerror(r));
		goto out;
	}
	if (!S_ISREG(cst.st_mode) ||
	    (cst.st_ino == st->st_ino && cst.st_dev == st->st_dev))
		goto out;
	if ((r = agentid_flock_wait(fd, LOCK_SH, AUDIT_LOCK_WAIT_MS)) != 0) {
		agentid_seterr(err, r, "cannot lock %s: %s", chain, strerror(r));
		goto out;
	}
	if (fstat(fd, &cst) != 0) {
		r = errno;
		agentid_seterr(err, r, "fstat %s: %s", chain, strerror(r));
		goto out;
	}
	r = read_tail(fd, cst.st_size, h, t, chain, err);
	t->torn = false; /* never repair the rotated file; chain onto it as is */
out:
	close(fd);
	return r;
}

/*
 * Points chain at the file we hold (fd's inode, named path) when it does
 * not already: link to a temporary name, check, rename over. Best effort:
 * a failure only costs the link across the next rotation.
 */
static void
update_chain_link(const char *path, const char *chain, const struct stat *st)
{
	char tmp[PATH_MAX];
	struct stat cst;

	if (lstat(chain, &cst) == 0 && cst.st_ino == st->st_ino &&
	    cst.st_dev == st->st_dev)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", chain, (long)getpid()) >=
	    (int)sizeof(tmp))
		return;
	(void)unlink(tmp);
	if (link(path, tmp) != 0)
		return;
	if (lstat(tmp, &cst) != 0 || cst.st_ino != st->st_ino ||
	    cst.st_dev != st->st_dev || rename(tmp, chain) != 0)
		(void)unlink(tmp);
}

/* See agentid_audit.h. */
void
agentid_audit_event_init(struct agentid_audit_event *ev, const char *event,
    const struct agentid_request *req, const struct agentid_chain *chain,
    const struct agentid_decision *d)
{
	memset(ev, 0, sizeof(*ev));
	ev->ts = req->now;
	ev->host = req->host;
	ev->event = event;
	ev->service = req->service;
	ev->user = req->user;
	ev->rhost = req->rhost;
	ev->decision = d;
	ev->source = d != NULL ? agentid_source_name(d->source) : NULL;
	ev->chain = chain;
	ev->pid = getpid();
	ev->duration = -1;
}

/* ------------------------------------------------------------ sealing */

/* The sealing key, opened and locked while the trail's lock is held. */
struct sealer {
	int fd;                        /* -1: no sealing */
	char path[PATH_MAX];
	struct audit_seal_state st;    /* as read */
	struct audit_seal_state next;  /* moved on to now's interval */
	bool due;                      /* a seal line goes before the record */
	struct audit_seal seal;
};

/* Forgets the keys and closes the file (which drops its lock). */
static void
sealer_close(struct sealer *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	explicit_bzero(&s->st, sizeof(s->st));
	explicit_bzero(&s->next, sizeof(s->next));
}

/*
 * Opens and locks the sealing key of cfg. A missing key means sealing is
 * not set up: ENOENT, logged when the trail was sealed up to its last line
 * (someone removed the key). A key that is there but unusable (not 0600,
 * not root's, torn) is logged and also disables sealing for this append:
 * sealing never blocks a record. Returns 0 with s->fd open, or an errno.
 */
static int
sealer_open(const struct agentid_config *cfg, struct sealer *s,
    bool last_is_seal, struct agentid_error *err)
{
	size_t want = audit_seal_state_len();
	char text[512];
	struct stat st;
	ssize_t n;
	int r;

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	if ((r = audit_seal_key_path(cfg, s->path, sizeof(s->path))) != 0)
		return agentid_seterr(err, r, "sealing key path too long");
	s->fd = open(s->path, O_RDWR | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
	if (s->fd < 0) {
		r = errno;
		if (r == ENOENT) {
			if (last_is_seal)
				syslog(LOG_AUTHPRIV | LOG_ERR, "agentid audit: "
				    "sealing key %s is gone: the trail was sealed "
				    "and no longer is (run agentid audit keygen "
				    "and give the security team the new key)",
				    s->path);
			return agentid_seterr(err, r, "no sealing key %s (agentid "
			    "audit keygen creates it)", s->path);
		}
		agentid_seterr(err, r, "sealing key %s: %s", s->path,
		    strerror(r));
		goto bad;
	}
	if (fstat(s->fd, &st) != 0) {
		r = errno;
		agentid_seterr(err, r, "sealing key %s: %s", s->path, strerror(r));
		goto bad;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0 ||
	    (geteuid() == 0 && st.st_uid != 0)) {
		r = EACCES;
		agentid_seterr(err, r, "sealing key %s is not a regular file "
		    "of mode 0600%s", s->path, geteuid() == 0 ?
		    " owned by root" : "");
		goto bad;
	}
	if ((r = agentid_flock_wait(s->fd, LOCK_EX, AUDIT_LOCK_WAIT_MS)) != 0) {
		agentid_seterr(err, r, "cannot lock sealing key %s: %s", s->path,
		    strerror(r));
		goto bad;
	}
	do
		n = pread(s->fd, text, sizeof(text), 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != want ||
	    audit_seal_state_parse(text, want, &s->st) != 0) {
		r = EBADMSG;
		agentid_seterr(err, r, "sealing key %s is damaged", s->path);
		explicit_bzero(text, sizeof(text));
		goto bad;
	}
	explicit_bzero(text, sizeof(text));
	return 0;
bad:
	syslog(LOG_AUTHPRIV | LOG_ERR, "agentid audit: %s; the trail is not "
	    "sealed", err != NULL ? err->msg : "sealing key unusable");
	sealer_close(s);
	return r;
}

/*
 * Prepares what this append does to the key: when now is past the key's
 * interval, a seal of that interval (under its key, over the chain head
 * t->hash at position seq) and the key moved on to now's interval.
 * Returns 0, or an errno (the caller then appends without sealing).
 */
static int
sealer_prepare(struct sealer *s, int64_t now, const struct tail *t,
    uint64_t seq, struct agentid_error *err)
{
	uint64_t target = audit_seal_epoch(s->st.start, s->st.interval_len, now);
	char ts[64];
	uint64_t i;
	int r;

	s->due = false;
	if (target <= s->st.epoch)
		return 0;      /* same interval (or a clock that went back) */
	if (target - s->st.epoch > AUDIT_SEAL_MAX_STEPS)
		return agentid_seterr(err, ERANGE, "sealing key %s is at "
		    "interval %" PRIu64 ", now is interval %" PRIu64 ": clock "
		    "far off; not sealing", s->path, s->st.epoch, target);
	audit_format_ts(now, ts, sizeof(ts));
	s->seal.interval = s->st.epoch;
	memcpy(s->seal.key_id, s->st.key_id, sizeof(s->seal.key_id));
	if ((r = audit_seal_mac(s->st.key, s->st.key_id, s->st.epoch, seq, ts,
	    strlen(ts), t->hash, s->seal.mac)) != 0)
		return agentid_seterr(err, r, "HMAC-SHA256 failed");
	s->next = s->st;
	for (i = s->st.epoch; i < target; i++)
		if ((r = audit_seal_evolve(s->next.key)) != 0)
			return agentid_seterr(err, r, "HMAC-SHA256 failed");
	s->next.epoch = target;
	s->due = true;
	return 0;
}

/*
 * Overwrites the key file in place with the next interval's key and
 * fsyncs it, so the sealed interval's key is gone from the disk. Called
 * once the seal line is on disk. Failure is logged: the old key stays.
 */
static void
sealer_commit(struct sealer *s)
{
	size_t len = audit_seal_state_len();
	char text[512];
	ssize_t n;
	int r = 0;

	audit_seal_state_format(&s->next, text, sizeof(text));
	do
		n = pwrite(s->fd, text, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != len)
		r = n < 0 ? errno : EIO;
	else if (fsync(s->fd) != 0)
		r = errno;
	explicit_bzero(text, sizeof(text));
	if (r != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "agentid audit: cannot move the "
		    "sealing key %s on to interval %" PRIu64 ": %s; the key of "
		    "interval %" PRIu64 " is still on disk", s->path,
		    s->next.epoch, strerror(r), s->st.epoch);
}

/* This boot's id, kept once read (it cannot change while the process
 * lives: pam_agent.so stays loaded, so every later record of the process
 * reuses it). A read that fails is not kept: the next record tries again.
 * boot_id_state: 0 unread, 1 being stored, 2 stored (a child forked at 1
 * only reads the file each time). */
static char boot_id[37];
static int boot_id_state;

/* Reads the kernel's boot id into buf (37 bytes); 0 or -1. */
static int
read_boot_id_file(char *buf)
{
	ssize_t n;
	size_t i;
	int fd;

	if ((fd = open("/proc/sys/kernel/random/boot_id",
	    O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return -1;
	do
		n = read(fd, buf, 37);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 36)
		return -1;
	buf[36] = '\0';
	for (i = 0; i < 36; i++)
		if (!((buf[i] >= '0' && buf[i] <= '9') ||
		    (buf[i] >= 'a' && buf[i] <= 'f') || buf[i] == '-'))
			return -1;
	return 0;
}

/* This boot's id (the kept one, else read into buf, 37 bytes), or NULL
 * when it cannot be read. */
static const char *
read_boot_id(char *buf)
{
	int unread = 0;

	if (__atomic_load_n(&boot_id_state, __ATOMIC_ACQUIRE) == 2)
		return boot_id;
	if (read_boot_id_file(buf) != 0)
		return NULL;
	if (__atomic_compare_exchange_n(&boot_id_state, &unread, 1, false,
	    __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		memcpy(boot_id, buf, sizeof(boot_id));
		__atomic_store_n(&boot_id_state, 2, __ATOMIC_RELEASE);
	}
	return buf;
}

/*
 * One append under the trail's lock: the seal line that is due (if the
 * sealing key is set up and now is past its interval), then ev's record
 * (NULL: only the seal), in one write(2). *sealing_err receives why
 * sealing did not happen (ENOENT: no key), for agentid_audit_seal_now.
 */
static int
append_locked(const struct agentid_config *cfg,
    const struct agentid_audit_event *ev, const struct agentid_audit_event *sev,
    int64_t now, int *sealing_err, struct agentid_error *serr,
    struct agentid_error *err)
{
	const char *path;
	char chain[PATH_MAX], hash[AUDIT_HASH_HEX + 1], shash[AUDIT_HASH_HEX + 1];
	char sysline[1024];
	char *rec = NULL, *sline = NULL, *buf = NULL;
	struct audit_hasher *h = NULL;
	struct sealer sl = { .fd = -1 };
	struct stat st;
	struct tail t;
	bool created = false;
	size_t rlen = 0, slen = 0, blen = 0;
	uint64_t seq;
	ssize_t n;
	int fd = -1, r;

	*sealing_err = 0;
	path = cfg->audit_log != NULL ? cfg->audit_log : AGENTID_DEFAULT_AUDIT_LOG;
	if (path[0] != '/')
		return agentid_seterr(err, EINVAL, "audit_log %s is not an "
		    "absolute path", path);
	if (snprintf(chain, sizeof(chain), "%s" AUDIT_CHAIN_SUFFIX, path) >=
	    (int)sizeof(chain))
		return agentid_seterr(err, ENAMETOOLONG, "%s: path too long", path);
	if ((r = audit_hasher_new(&h)) != 0)
		return agentid_seterr(err, r, "cannot set up SHA-256");
	if ((r = open_locked(path, &fd, &st, &created, err)) != 0)
		goto out;
	if (st.st_size == 0)
		r = read_predecessor(chain, &st, h, &t, err);
	else
		r = read_tail(fd, st.st_size, h, &t, path, err);
	if (r != 0)
		goto out;
	seq = t.seq > 0 && t.seq < UINT64_MAX - 1 ? t.seq + 1 : 1;
	/* the key is taken after the trail's lock, and only under it */
	if ((*sealing_err = sealer_open(cfg, &sl, t.seal, serr)) == 0 &&
	    (*sealing_err = sealer_prepare(&sl, now, &t, seq, serr)) != 0)
		syslog(LOG_AUTHPRIV | LOG_ERR, "agentid audit: %s", serr->msg);
	if (sl.due) {
		if ((sline = audit_format_record(sev, &sl.seal, seq, t.hash)) == NULL) {
			r = agentid_seterr(err, ENOMEM, "cannot format seal line");
			goto out;
		}
		slen = strlen(sline);
		if ((r = audit_hash_hex(h, sline, slen, shash)) != 0) {
			agentid_seterr(err, r, "SHA-256 failed");
			goto out;
		}
		memcpy(t.hash, shash, sizeof(t.hash));
		seq++;
	}
	if (ev != NULL) {
		if ((rec = audit_format_record(ev, NULL, seq, t.hash)) == NULL) {
			r = agentid_seterr(err, ENOMEM, "cannot format audit record");
			goto out;
		}
		rlen = strlen(rec);
		if (rlen + 2 > AUDIT_MAX_LINE) {
			r = agentid_seterr(err, EMSGSIZE, "audit record of %zu "
			    "bytes is longer than %d", rlen, AUDIT_MAX_LINE);
			goto out;
		}
		if ((r = audit_hash_hex(h, rec, rlen, hash)) != 0) {
			agentid_seterr(err, r, "SHA-256 failed");
			goto out;
		}
	}
	if (rec == NULL && sline == NULL) {
		r = 0;         /* seal_now with nothing due */
		goto out;
	}
	if ((buf = malloc(rlen + slen + 3)) == NULL) {
		r = agentid_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	/* a torn last line (crash mid-write) is terminated, and chained over */
	if (t.torn)
		buf[blen++] = '\n';
	if (sline != NULL) {
		memcpy(buf + blen, sline, slen);
		blen += slen;
		buf[blen++] = '\n';
	}
	if (rec != NULL) {
		memcpy(buf + blen, rec, rlen);
		blen += rlen;
		buf[blen++] = '\n';
	}
	do
		n = write(fd, buf, blen);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != blen) {
		r = n < 0 ? errno : ENOSPC;
		/* never leave half a record behind (we still hold the lock) */
		if (n > 0 && ftruncate(fd, st.st_size) != 0)
			r = EIO;
		agentid_seterr(err, r, "cannot write audit log %s: %s", path,
		    strerror(r));
		goto out;
	}
	/* a seal must be on disk before its key is erased */
	if (cfg->audit_fsync || sl.due) {
		if (fsync(fd) != 0)
			r = errno;
		else if (created)
			r = agentid_fsync_parent(path);
		if (r != 0) {
			agentid_seterr(err, r, "fsync %s: %s", path, strerror(r));
			goto out;
		}
	}
	if (sl.due)
		sealer_commit(&sl);
	sealer_close(&sl);
	update_chain_link(path, chain, &st);
	close(fd);
	fd = -1;
	if (t.torn)
		syslog(LOG_AUTHPRIV | LOG_WARNING, "agentid audit: %s ended with "
		    "a partial line (crash during a write?); terminated it at "
		    "byte %jd, record seq=%" PRIu64 " chains over it", path,
		    (intmax_t)st.st_size, seq);
	if (cfg->audit_syslog && sline != NULL) {
		audit_syslog_line(sev, &sl.seal, seq - 1, shash,
		    sysline, sizeof(sysline));
		syslog(LOG_AUTHPRIV | LOG_INFO, "agentid audit: %s", sysline);
	}
	if (cfg->audit_syslog && rec != NULL) {
		audit_syslog_line(ev, NULL, seq, hash, sysline, sizeof(sysline));
		syslog(LOG_AUTHPRIV | LOG_INFO, "agentid audit: %s", sysline);
	}
	r = 0;
out:
	sealer_close(&sl);
	if (fd >= 0)
		close(fd);
	free(buf);
	free(rec);
	free(sline);
	audit_hasher_free(h);
	return r;
}

/* See agentid_audit.h. */
int
agentid_audit_append(const struct agentid_config *cfg,
    const struct agentid_audit_event *ev, struct agentid_error *err)
{
	struct agentid_audit_event e;
	struct agentid_error serr = { "" };
	char boot[37];
	int sr;

	if (cfg == NULL || ev == NULL)
		return agentid_seterr(err, EINVAL, "no config or event to audit");
	e = *ev;
	if (e.boot_id == NULL)
		e.boot_id = read_boot_id(boot);
	/* sealing problems were logged; they never fail a record */
	return append_locked(cfg, &e, &e, ev->ts, &sr, &serr, err);
}

/* See agentid_audit.h. */
int
agentid_audit_seal_now(const struct agentid_config *cfg, int64_t now,
    struct agentid_error *err)
{
	struct agentid_audit_event sev;
	struct agentid_error serr = { "" };
	char host[256];
	int r, sr;

	if (cfg == NULL)
		return agentid_seterr(err, EINVAL, "no config");
	memset(&sev, 0, sizeof(sev));
	sev.ts = now;
	sev.duration = -1;
	if (agentid_host_name(cfg, host, sizeof(host)) == 0)
		sev.host = host;
	if ((r = append_locked(cfg, NULL, &sev, now, &sr, &serr, err)) != 0)
		return r;
	/* say why nothing was sealed: no key, damaged key, clock */
	if (sr != 0)
		return agentid_seterr(err, sr, "%s", serr.msg);
	return 0;
}
