/* SPDX-License-Identifier: BSD-2-Clause */
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

#include <openssl/crypto.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"
#include "internal.h"

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
	/* sealing: with a verification key, every seal is checked */
	bool keyed;
	unsigned char key[AUDIT_SEAL_KEY_LEN]; /* key of interval key_epoch */
	uint64_t key_epoch;
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
	if (audit_is_seal(f))
		return;        /* a seal decides nothing */
	s->by_reason[r]++;
	if (f->decision != NULL && f->decision_len == 5 &&
	    memcmp(f->decision, "allow", 5) == 0)
		s->by_decision[AGENTID_AUDIT_ALLOW]++;
	else if (f->decision != NULL && f->decision_len == 4 &&
	    memcmp(f->decision, "deny", 4) == 0)
		s->by_decision[AGENTID_AUDIT_DENY]++;
	else if (f->decision != NULL && f->decision_len == 6 &&
	    memcmp(f->decision, "ignore", 6) == 0)
		s->by_decision[AGENTID_AUDIT_IGNORE]++;
	else
		s->by_decision[AGENTID_AUDIT_OTHER]++;
}

/* "interval N (START .. END)" for messages. */
static void
interval_text(const struct verifier *v, uint64_t i, char *buf, size_t len)
{
	const struct agentid_audit_summary *s = v->sum;
	char a[32], b[32];

	if (s->seal_interval > 0 && i < (uint64_t)INT64_MAX / 2 /
	    (uint64_t)s->seal_interval) {
		audit_format_ts(s->seal_start + (int64_t)i * s->seal_interval,
		    a, sizeof(a));
		audit_format_ts(s->seal_start + (int64_t)(i + 1) *
		    s->seal_interval, b, sizeof(b));
		snprintf(buf, len, "interval %" PRIu64 " (%s .. %s)", i, a, b);
	} else {
		snprintf(buf, len, "interval %" PRIu64, i);
	}
}

/*
 * A seal line at p (already chained): counted, and with a key its MAC
 * checked under its interval's key, derived forward from the last one.
 * Returns 0, EBADMSG (err names the interval) or EIO.
 */
static int
check_seal(struct verifier *v, const struct audit_fields *f, struct pos p)
{
	struct agentid_audit_summary *s = v->sum;
	char msg[512], iv[192], mac[AUDIT_HASH_HEX + 1];
	uint64_t i;

	if (!f->has_interval || f->key == NULL || f->seal == NULL || !f->has_seq)
		return bad(v, p, "a seal line without a valid \"interval\", "
		    "\"key\", \"seal\" or \"seq\"", NULL);
	if (s->has_seal && f->interval < s->last_sealed) {
		snprintf(msg, sizeof(msg), "seal of interval %" PRIu64 " after "
		    "the seal of interval %" PRIu64 ": seals out of order",
		    f->interval, s->last_sealed);
		return bad(v, p, msg, NULL);
	}
	if (v->keyed) {
		interval_text(v, f->interval, iv, sizeof(iv));
		if (memcmp(f->key, s->key_id, AUDIT_SEAL_ID_HEX) != 0) {
			snprintf(msg, sizeof(msg), "%s: sealed with another key "
			    "(id %.16s; this verification key is %s): a new "
			    "keygen, or a forged seal", iv, f->key, s->key_id);
			return bad(v, p, msg, NULL);
		}
		if (f->interval - v->key_epoch > AUDIT_SEAL_MAX_STEPS) {
			snprintf(msg, sizeof(msg), "%s: too far ahead of the key's "
			    "start to derive its key", iv);
			return bad(v, p, msg, NULL);
		}
		for (i = v->key_epoch; i < f->interval; i++)
			if (audit_seal_evolve(v->key) != 0)
				return agentid_seterr(v->err, EIO, "HMAC failed");
		v->key_epoch = f->interval;
		if (audit_seal_mac(v->key, s->key_id, f->interval, f->seq, f->ts,
		    f->ts_len, f->prev, mac) != 0)
			return agentid_seterr(v->err, EIO, "HMAC failed");
		if (CRYPTO_memcmp(mac, f->seal, AUDIT_HASH_HEX) != 0) {
			snprintf(msg, sizeof(msg), "%s: the seal does not verify: "
			    "a line before it was changed, removed or added, or "
			    "the seal was forged", iv);
			return bad(v, p, msg, NULL);
		}
	}
	if (!s->has_seal)
		s->first_sealed = f->interval;
	else if (f->interval > s->last_sealed + 1)
		s->gap_intervals += f->interval - s->last_sealed - 1;
	s->has_seal = true;
	s->last_sealed = f->interval;
	s->seals++;
	return 0;
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
	if (v->pending)
		return 0;      /* an error is coming: the link is broken */
	tally(v, &f, ts);
	if (audit_is_seal(&f)) {
		int r = check_seal(v, &f, p);

		if (r != 0)
			return r;
		v->sum->sealed_lines = v->sum->lines;
	}
	return 0;
}

/* Takes LOCK_SH on fd, waiting at most 2 s; returns whether it got it. */
static bool
lock_briefly(int fd)
{
	return agentid_flock_wait(fd, LOCK_SH, 2000) == 0;
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

/* Both verifiers: the chain, and with vkey every seal. */
static int
verify_files(const char *const *files, size_t n, const char *vkey, int64_t now,
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
	if (vkey != NULL) {
		if (audit_seal_vkey_parse(vkey, &sum->seal_start,
		    &sum->seal_interval, v.key) != 0)
			return agentid_seterr(err, EINVAL, "not a verification "
			    "key (expected agentid-seal-v1:START:INTERVAL:"
			    "64 hex digits, as agentid audit keygen printed it)");
		if (audit_seal_key_id(v.key, sum->key_id) != 0) {
			r = agentid_seterr(err, EIO, "HMAC failed");
			goto out;
		}
		v.keyed = true;
		sum->key_checked = true;
		sum->now = now;
	}
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
	sum->unsealed_lines = sum->lines - sum->sealed_lines;
	if (v.keyed) {
		/* the interval of now is still open: it cannot be sealed yet */
		sum->current_interval = audit_seal_epoch(sum->seal_start,
		    sum->seal_interval, now);
		if (sum->has_seal) {
			sum->last_sealed_end = sum->seal_start +
			    (int64_t)(sum->last_sealed + 1) * sum->seal_interval;
			if (sum->current_interval > sum->last_sealed + 1)
				sum->missing_intervals = sum->current_interval -
				    sum->last_sealed - 1;
		} else {
			sum->missing_intervals = sum->current_interval;
		}
	}
	r = 0;
out:
	OPENSSL_cleanse(v.key, sizeof(v.key));
	free(buf);
	audit_hasher_free(v.h);
	return r;
}

/* See agentid_audit.h. */
int
agentid_audit_verify(const char *const *files, size_t n,
    struct agentid_audit_summary *sum, struct agentid_error *err)
{
	return verify_files(files, n, NULL, 0, sum, err);
}

/* See agentid_audit.h. */
int
agentid_audit_verify_key(const char *const *files, size_t n,
    const char *vkey, int64_t now, struct agentid_audit_summary *sum,
    struct agentid_error *err)
{
	if (vkey == NULL)
		return agentid_seterr(err, EINVAL, "no verification key");
	return verify_files(files, n, vkey, now, sum, err);
}
