/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit_seal.c - the keys of forward-secure sealing (docs/audit-sealing.md):
 * the one-way step from one interval's key to the next, the MAC of a seal
 * line, the sealing key file on the host and the verification key kept
 * off it, and "agentid audit keygen".
 *
 * Every primitive is HMAC-SHA256 from OpenSSL with a distinct label, so
 * that no derived value can stand in for another:
 *   key(i+1)  = HMAC(key(i), "agentid audit seal v1: evolve")
 *   mackey(i) = HMAC(key(i), "agentid audit seal v1: mac")
 *   seal      = HMAC(mackey(i), "agentid audit seal v1" 0 key_id 0 i 0
 *                    seq 0 ts 0 prev)
 *   key_id    = first 16 hex digits of HMAC(key(0), "agentid audit seal
 *               v1: id")
 * key(0) is the verification key's secret; the host keeps only key(i) of
 * its current interval and overwrites it when it moves on.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"
#include "internal.h"

#define LABEL_EVOLVE "agentid audit seal v1: evolve"
#define LABEL_MAC "agentid audit seal v1: mac"
#define LABEL_ID "agentid audit seal v1: id"
#define LABEL_SEAL "agentid audit seal v1"
#define VKEY_PREFIX "agentid-seal-v1:"
#define STATE_FMT "agentid audit sealing key v1\nid %s\nstart %020" PRId64 \
	"\ninterval %020" PRId64 "\nepoch %020" PRIu64 "\nkey %s\n"

static const char hexd[] = "0123456789abcdef";

/* Writes n bytes of b as lowercase hex into out (2n + 1 bytes). */
static void
to_hex(const unsigned char *b, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = hexd[b[i] >> 4];
		out[2 * i + 1] = hexd[b[i] & 0xf];
	}
	out[2 * n] = '\0';
}

/* Reads 2n lowercase hex digits into b; 0 or EINVAL. */
static int
from_hex(const char *s, unsigned char *b, size_t n)
{
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		const char *h = strchr(hexd, s[2 * i]), *l = strchr(hexd, s[2 * i + 1]);

		if (s[2 * i] == '\0' || s[2 * i + 1] == '\0' || h == NULL ||
		    l == NULL)
			return EINVAL;
		hi = (int)(h - hexd);
		lo = (int)(l - hexd);
		b[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

/* out <- HMAC-SHA256(key, msg); 0 or EIO. */
static int
hmac(const unsigned char key[AUDIT_SEAL_KEY_LEN], const void *msg,
    size_t len, unsigned char out[AUDIT_SEAL_KEY_LEN])
{
	unsigned int outlen = 0;

	if (HMAC(EVP_sha256(), key, AUDIT_SEAL_KEY_LEN, msg, len, out,
	    &outlen) == NULL || outlen != AUDIT_SEAL_KEY_LEN)
		return EIO;
	return 0;
}

/* See audit_internal.h. */
uint64_t
audit_seal_epoch(int64_t start, int64_t len, int64_t t)
{
	if (len <= 0 || t <= start)
		return 0;
	return (uint64_t)(t - start) / (uint64_t)len;
}

/* See audit_internal.h. */
int
audit_seal_evolve(unsigned char key[AUDIT_SEAL_KEY_LEN])
{
	unsigned char next[AUDIT_SEAL_KEY_LEN];
	int r;

	if ((r = hmac(key, LABEL_EVOLVE, sizeof(LABEL_EVOLVE) - 1, next)) == 0)
		memcpy(key, next, sizeof(next));
	OPENSSL_cleanse(next, sizeof(next));
	return r;
}

/* See audit_internal.h. */
int
audit_seal_key_id(const unsigned char seed[AUDIT_SEAL_KEY_LEN],
    char out[AUDIT_SEAL_ID_HEX + 1])
{
	unsigned char md[AUDIT_SEAL_KEY_LEN];

	if (hmac(seed, LABEL_ID, sizeof(LABEL_ID) - 1, md) != 0)
		return EIO;
	to_hex(md, AUDIT_SEAL_ID_HEX / 2, out);
	return 0;
}

/* See audit_internal.h. */
int
audit_seal_mac(const unsigned char key[AUDIT_SEAL_KEY_LEN],
    const char *key_id, uint64_t interval, uint64_t seq, const char *ts,
    size_t ts_len, const char *prev_hex, char out[AUDIT_HASH_HEX + 1])
{
	unsigned char mk[AUDIT_SEAL_KEY_LEN], md[AUDIT_SEAL_KEY_LEN];
	char msg[256];
	int n, r = EIO;

	if (ts_len > 64)
		return EINVAL;
	n = snprintf(msg, sizeof(msg), "%s%c%s%c%" PRIu64 "%c%" PRIu64 "%c%.*s%c%.64s",
	    LABEL_SEAL, 0, key_id, 0, interval, 0, seq, 0, (int)ts_len, ts, 0,
	    prev_hex);
	if (n < 0 || (size_t)n >= sizeof(msg))
		return EINVAL;
	if (hmac(key, LABEL_MAC, sizeof(LABEL_MAC) - 1, mk) != 0 ||
	    hmac(mk, msg, (size_t)n, md) != 0)
		goto out;
	to_hex(md, sizeof(md), out);
	r = 0;
out:
	OPENSSL_cleanse(mk, sizeof(mk));
	return r;
}

/* See audit_internal.h. */
size_t
audit_seal_state_len(void)
{
	struct audit_seal_state st;
	char buf[512];

	memset(&st, 0, sizeof(st));
	memset(st.key_id, '0', AUDIT_SEAL_ID_HEX);
	audit_seal_state_format(&st, buf, sizeof(buf));
	return strlen(buf);
}

/* See audit_internal.h. */
void
audit_seal_state_format(const struct audit_seal_state *st, char *buf,
    size_t len)
{
	char key[AUDIT_SEAL_KEY_LEN * 2 + 1];

	to_hex(st->key, sizeof(st->key), key);
	snprintf(buf, len, STATE_FMT, st->key_id, st->start, st->interval_len,
	    st->epoch, key);
	OPENSSL_cleanse(key, sizeof(key));
}

/* See audit_internal.h. */
int
audit_seal_state_parse(const char *text, size_t len,
    struct audit_seal_state *st)
{
	char id[AUDIT_SEAL_ID_HEX + 1], key[AUDIT_SEAL_KEY_LEN * 2 + 1];
	char copy[512], again[512];
	int r = EBADMSG;

	memset(st, 0, sizeof(*st));
	if (len >= sizeof(copy) || len != audit_seal_state_len())
		return EBADMSG;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (sscanf(copy, "agentid audit sealing key v1\nid %16[0-9a-f]\nstart %"
	    SCNd64 "\ninterval %" SCNd64 "\nepoch %" SCNu64 "\nkey %64[0-9a-f]\n",
	    id, &st->start, &st->interval_len, &st->epoch, key) != 5 ||
	    strlen(id) != AUDIT_SEAL_ID_HEX ||
	    from_hex(key, st->key, sizeof(st->key)) != 0 ||
	    st->start < 0 || st->interval_len <= 0)
		goto out;
	memcpy(st->key_id, id, sizeof(id));
	/* strict: the text must be exactly what we write */
	audit_seal_state_format(st, again, sizeof(again));
	if (strcmp(again, copy) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(copy, sizeof(copy));
	OPENSSL_cleanse(again, sizeof(again));
	OPENSSL_cleanse(key, sizeof(key));
	if (r != 0)
		OPENSSL_cleanse(st, sizeof(*st));
	return r;
}

/* See audit_internal.h. */
int
audit_seal_vkey_parse(const char *text, int64_t *start, int64_t *len,
    unsigned char seed[AUDIT_SEAL_KEY_LEN])
{
	char copy[256], again[256], hex[AUDIT_SEAL_KEY_LEN * 2 + 1];
	size_t n;
	int r = EINVAL;

	while (*text == ' ' || *text == '\t' || *text == '\n' || *text == '\r')
		text++;
	n = strlen(text);
	while (n > 0 && (text[n - 1] == ' ' || text[n - 1] == '\t' ||
	    text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	if (n >= sizeof(copy))
		return EINVAL;
	memcpy(copy, text, n);
	copy[n] = '\0';
	if (sscanf(copy, VKEY_PREFIX "%" SCNd64 ":%" SCNd64 ":%64[0-9a-f]",
	    start, len, hex) != 3 || strlen(hex) != sizeof(hex) - 1 ||
	    *start < 0 || *len <= 0 || from_hex(hex, seed, AUDIT_SEAL_KEY_LEN) != 0)
		goto out;
	snprintf(again, sizeof(again), VKEY_PREFIX "%" PRId64 ":%" PRId64 ":%s",
	    *start, *len, hex);
	if (strcmp(again, copy) != 0)
		goto out;
	r = 0;
out:
	OPENSSL_cleanse(copy, sizeof(copy));
	OPENSSL_cleanse(again, sizeof(again));
	OPENSSL_cleanse(hex, sizeof(hex));
	return r;
}

/* See audit_internal.h. */
int
audit_seal_key_path(const struct agentid_config *cfg, char *buf, size_t len)
{
	const char *log = cfg->audit_log != NULL ? cfg->audit_log :
	    AGENTID_DEFAULT_AUDIT_LOG;
	size_t n = strlen(log);
	int w;

	if (cfg->audit_seal_key != NULL)
		w = snprintf(buf, len, "%s", cfg->audit_seal_key);
	else if (n > 4 && strcmp(log + n - 4, ".log") == 0)
		w = snprintf(buf, len, "%.*s.seal", (int)(n - 4), log);
	else
		w = snprintf(buf, len, "%s.seal", log);
	return w < 0 || (size_t)w >= len ? ENAMETOOLONG : 0;
}

/* Overwrites the old key file's bytes with zeros (best effort). */
static void
wipe_file(const char *path)
{
	char zeros[512];
	struct stat st;
	int fd;

	if ((fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY)) < 0)
		return;
	memset(zeros, 0, sizeof(zeros));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_size <= (off_t)sizeof(zeros) &&
	    pwrite(fd, zeros, (size_t)st.st_size, 0) == st.st_size)
		(void)fsync(fd);
	close(fd);
}

/* See agentid_audit.h. */
int
agentid_audit_keygen(const struct agentid_config *cfg, int64_t now,
    bool force, struct agentid_audit_keyinfo *out, struct agentid_error *err)
{
	struct audit_seal_state st;
	char path[PATH_MAX], tmp[PATH_MAX + 16], text[512], hex[65];
	struct stat pst;
	size_t tlen;
	ssize_t n;
	int fd = -1, r;

	memset(&st, 0, sizeof(st));
	if (cfg == NULL || out == NULL)
		return agentid_seterr(err, EINVAL, "keygen: no config");
	memset(out, 0, sizeof(*out));
	st.interval_len = cfg->audit_seal_interval > 0 ?
	    cfg->audit_seal_interval : 900;
	if (now < 0)
		return agentid_seterr(err, EINVAL, "keygen: time before 1970");
	if ((r = audit_seal_key_path(cfg, path, sizeof(path))) != 0 ||
	    snprintf(tmp, sizeof(tmp), "%s.new", path) >= (int)sizeof(tmp))
		return agentid_seterr(err, ENAMETOOLONG, "sealing key path too "
		    "long");
	if (path[0] != '/')
		return agentid_seterr(err, EINVAL, "sealing key %s is not an "
		    "absolute path", path);
	if (lstat(path, &pst) == 0 && !force)
		return agentid_seterr(err, EEXIST, "%s already exists: sealing "
		    "is set up (--force starts a new key; the old verification "
		    "key then checks only the seals made before)", path);
	/* intervals on a round grid, so that they end at :00 :15 :30 :45 */
	st.start = now - now % st.interval_len;
	st.epoch = 0;
	if (RAND_bytes(st.key, sizeof(st.key)) != 1) {
		r = agentid_seterr(err, EIO, "no random bytes for the key");
		goto out;
	}
	if ((r = audit_seal_key_id(st.key, st.key_id)) != 0) {
		agentid_seterr(err, r, "HMAC-SHA256 failed");
		goto out;
	}
	audit_seal_state_format(&st, text, sizeof(text));
	tlen = strlen(text);
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600)) < 0) {
		r = errno;
		agentid_seterr(err, r, "cannot create %s: %s", tmp, strerror(r));
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || (geteuid() == 0 && fchown(fd, 0, 0) != 0) ||
	    (n = write(fd, text, tlen)) < 0 || (size_t)n != tlen ||
	    fsync(fd) != 0) {
		r = errno != 0 ? errno : EIO;
		agentid_seterr(err, r, "cannot write %s: %s", tmp, strerror(r));
		(void)unlink(tmp);
		goto out;
	}
	if (force)
		wipe_file(path);
	if (rename(tmp, path) != 0) {
		r = errno;
		agentid_seterr(err, r, "cannot rename %s to %s: %s", tmp, path,
		    strerror(r));
		(void)unlink(tmp);
		goto out;
	}
	(void)agentid_fsync_parent(path);
	to_hex(st.key, sizeof(st.key), hex);
	snprintf(out->vkey, sizeof(out->vkey), VKEY_PREFIX "%" PRId64 ":%"
	    PRId64 ":%s", st.start, st.interval_len, hex);
	memcpy(out->key_id, st.key_id, sizeof(out->key_id));
	snprintf(out->path, sizeof(out->path), "%s", path);
	out->start = st.start;
	out->interval = st.interval_len;
	OPENSSL_cleanse(hex, sizeof(hex));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	OPENSSL_cleanse(text, sizeof(text));
	OPENSSL_cleanse(&st, sizeof(st));
	return r;
}
