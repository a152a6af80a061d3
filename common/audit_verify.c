/*
 * audit_verify.c - checks that one or more trail files (oldest first, as
 * logrotate left them) form one unbroken hash chain.
 *
 * Each line is hashed once (SHA-256 of its bytes without the newline) and
 * scanned once (audit_parse_line); the files are streamed through one big
 * buffer, so a million lines take about a second.
 *
 * Which line is "the first bad one": the chain alone cannot tell an edited
 * line k-1 from a removed line between k-1 and k (line k's prev no longer
 * matches either way). "seq" can: a gap or a step back names the line at
 * which lines were removed, reordered or duplicated; with seq continuous,
 * the next line decides whether line k-1 was edited (line k+1 chains onto
 * line k) or line k itself (its own prev was changed, so k+1 breaks too).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"

#define VERIFY_BUF (4 * 1024 * 1024)

struct pos {
	size_t file;
	uint64_t line;
};

struct verifier {
	const char *const *files;
	struct agentid_audit_summary *sum;
	struct agentid_error *err;
	struct audit_hasher *h;
	bool have_prev;               /* a line was seen already */
	char prev_hash[AUDIT_HASH_HEX + 1];
	bool prev_has_seq;
	uint64_t prev_seq;
	struct pos prev_pos;
	/* a broken link at line k with seq continuous, waiting for line k+1 */
	bool pending;
	struct pos pend_before;       /* line k-1 */
	struct pos pend_at;           /* line k */
};

/* Records the first bad line and returns EBADMSG. */
static int
bad(struct verifier *v, struct pos p, const char *fmt, const char *detail)
{
	v->sum->bad_file = p.file;
	v->sum->bad_line = p.line;
	agentid_seterr(v->err, EBADMSG, "%s:%" PRIu64 ": %s%s",
	    v->files[p.file], p.line, fmt, detail != NULL ? detail : "");
	return EBADMSG;
}

/* Settles a pending broken link now that line k+1 is known (or is not). */
static int
resolve_pending(struct verifier *v, bool next_chains)
{
	char msg[160];

	v->pending = false;
	if (next_chains) {
		snprintf(msg, sizeof(msg), "edited: its hash does not match the "
		    "\"prev\" recorded by the next line (%s:%" PRIu64 ")",
		    v->files[v->pend_at.file], v->pend_at.line);
		return bad(v, v->pend_before, msg, NULL);
	}
	return bad(v, v->pend_at, "edited: its \"prev\" matches neither the "
	    "line before it nor does the next line chain onto it", NULL);
}

/* Counts a verified line in the summary. */
static void
tally(struct verifier *v, const struct audit_fields *f, int64_t ts)
{
	struct agentid_audit_summary *s = v->sum;
	char reason[64];
	enum agentid_reason r = AGENTID_REASON_MAX;

	if (s->lines == 0) {
		s->first_ts = ts;
		s->first_seq = f->seq;
	}
	s->last_ts = ts;
	s->last_seq = f->seq;
	s->lines++;
	if (f->reason != NULL && f->reason_len < sizeof(reason)) {
		memcpy(reason, f->reason, f->reason_len);
		reason[f->reason_len] = '\0';
		r = agentid_reason_parse(reason);
	}
	s->by_reason[r]++;
	if (f->decision != NULL && f->decision_len == 5 &&
	    memcmp(f->decision, "allow", 5) == 0)
		s->by_decision[AGENTID_AUDIT_ALLOW]++;
	else if (f->decision != NULL && f->decision_len == 4 &&
	    memcmp(f->decision, "deny", 4) == 0)
		s->by_decision[AGENTID_AUDIT_DENY]++;
	else
		s->by_decision[AGENTID_AUDIT_OTHER]++;
}

/* Checks one line (without newline) at p; 0, EBADMSG or EIO. */
static int
check_line(struct verifier *v, const char *line, size_t len, struct pos p)
{
	struct audit_fields f;
	char hash[AUDIT_HASH_HEX + 1];
	const char *why = NULL;
	bool parsed, links;
	int64_t ts = 0;
	char msg[160];

	parsed = audit_parse_line(line, len, &f, &why) == 0;
	links = parsed && v->have_prev &&
	    memcmp(f.prev, v->prev_hash, AUDIT_HASH_HEX) == 0;
	if (v->pending)
		return resolve_pending(v, links);
	if (!parsed)
		return bad(v, p, "not a valid audit record: ", why);
	if (audit_parse_ts(f.ts, f.ts_len, &ts) != 0)
		return bad(v, p, "not a valid audit record: bad \"ts\"", NULL);
	if (!v->have_prev) {
		/* the first line: it may continue a rotated-away file */
		memcpy(v->sum->first_prev, f.prev, AUDIT_HASH_HEX);
		v->sum->first_prev[AUDIT_HASH_HEX] = '\0';
		v->sum->continues = memcmp(f.prev, AUDIT_ZERO_HASH,
		    AUDIT_HASH_HEX) != 0;
		if (!v->sum->continues && f.has_seq && f.seq != 1)
			return bad(v, p, "starts a trail (\"prev\" is zeros) but "
			    "its \"seq\" is not 1", NULL);
	} else {
		if (f.has_seq && v->prev_has_seq && f.seq <= v->prev_seq) {
			snprintf(msg, sizeof(msg), "duplicated or reordered: seq "
			    "%" PRIu64 " after seq %" PRIu64, f.seq, v->prev_seq);
			return bad(v, p, msg, NULL);
		}
		if (f.has_seq && v->prev_has_seq && f.seq != v->prev_seq + 1) {
			snprintf(msg, sizeof(msg), "line(s) removed or reordered "
			    "before this one: seq %" PRIu64 " after seq %" PRIu64,
			    f.seq, v->prev_seq);
			return bad(v, p, msg, NULL);
		}
		if (!links) {
			if (memcmp(f.prev, AUDIT_ZERO_HASH, AUDIT_HASH_HEX) == 0)
				return bad(v, p, "starts a new trail (\"prev\" is "
				    "zeros) in the middle of one", NULL);
			if (!f.has_seq || !v->prev_has_seq)
				return bad(v, p, "does not chain onto the line "
				    "before it (edited, removed or reordered "
				    "line)", NULL);
			v->pending = true;
			v->pend_before = v->prev_pos;
			v->pend_at = p;
		}
	}
	if (audit_hash_hex(v->h, line, len, hash) != 0)
		return agentid_seterr(v->err, EIO, "SHA-256 failed");
	memcpy(v->prev_hash, hash, sizeof(hash));
	v->have_prev = true;
	v->prev_has_seq = f.has_seq;
	v->prev_seq = f.seq;
	v->prev_pos = p;
	if (!v->pending)
		tally(v, &f, ts);
	return 0;
}

/* Takes LOCK_SH on fd, waiting at most 2 s; returns whether it got it. */
static bool
lock_briefly(int fd)
{
	struct timespec ts = { 0, 10 * 1000000L };
	int i;

	for (i = 0; i < 200; i++) {
		if (flock(fd, LOCK_SH | LOCK_NB) == 0)
			return true;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return false;
		nanosleep(&ts, NULL);
	}
	return false;
}

/* Streams one file through buf, checking each line; 0, EBADMSG or errno. */
static int
verify_file(struct verifier *v, size_t idx, char *buf)
{
	const char *path = v->files[idx];
	struct pos p = { idx, 0 };
	size_t have = 0, off, len;
	struct stat st;
	bool locked = false;
	char *nl;
	ssize_t n;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0) {
		r = errno;
		return agentid_seterr(v->err, r, "%s: %s", path, strerror(r));
	}
	if (fstat(fd, &st) != 0) {
		r = errno;
		agentid_seterr(v->err, r, "%s: %s", path, strerror(r));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = agentid_seterr(v->err, EISDIR, "%s: is a directory", path);
		goto out;
	}
	(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	for (;;) {
		do
			n = read(fd, buf + have, VERIFY_BUF - have);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			r = errno;
			agentid_seterr(v->err, r, "%s: %s", path, strerror(r));
			goto out;
		}
		if (n == 0) {
			/* a partial last line may be a write in progress:
			 * writers hold LOCK_EX while they write, so read the
			 * rest once under LOCK_SH (held only for that) */
			if (have == 0 || locked || !S_ISREG(st.st_mode) ||
			    !lock_briefly(fd))
				break;
			locked = true;
			continue;
		}
		have += (size_t)n;
		for (off = 0; (nl = memchr(buf + off, '\n', have - off)) != NULL;
		    off += len + 1) {
			len = (size_t)(nl - (buf + off));
			p.line++;
			if ((r = check_line(v, buf + off, len, p)) != 0)
				goto out;
		}
		have -= off;
		memmove(buf, buf + off, have);
		if (have > AUDIT_MAX_SCAN) {
			p.line++;
			r = bad(v, p, "line longer than 1 MiB", NULL);
			goto out;
		}
	}
	if (have > 0) {
		p.line++;
		if (v->pending)
			r = resolve_pending(v, false);
		else
			r = bad(v, p, "truncated: the last line has no newline "
			    "(torn or cut-off write)", NULL);
	}
out:
	close(fd);
	return r;
}

/* See agentid_audit.h. */
int
agentid_audit_verify(const char *const *files, size_t n,
    struct agentid_audit_summary *sum, struct agentid_error *err)
{
	struct verifier v;
	char *buf = NULL;
	size_t i;
	int r;

	memset(sum, 0, sizeof(*sum));
	memset(&v, 0, sizeof(v));
	v.files = files;
	v.sum = sum;
	v.err = err;
	if (n == 0 || files == NULL)
		return agentid_seterr(err, EINVAL, "no audit file to verify");
	if ((r = audit_hasher_new(&v.h)) != 0)
		return agentid_seterr(err, r, "cannot set up SHA-256");
	if ((buf = malloc(VERIFY_BUF)) == NULL) {
		r = agentid_seterr(err, ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++)
		if ((r = verify_file(&v, i, buf)) != 0)
			goto out;
	/* a broken link on the very last line: nothing follows to decide */
	if (v.pending) {
		r = resolve_pending(&v, true);
		goto out;
	}
	if (v.have_prev)
		memcpy(sum->head, v.prev_hash, sizeof(sum->head));
	r = 0;
out:
	free(buf);
	audit_hasher_free(v.h);
	return r;
}
