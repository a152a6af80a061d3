/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sshcert.c - the OpenSSH certificate parser against certificates that
 * ssh-keygen made at test time (tests/unit/test_sshcert.sh passes the
 * directory), hand-made blobs that break the limits, every truncation,
 * every flipped byte, and a loop of random mutations.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "agentid.h"
#include "agentid_sshcert.h"

static const char *datadir;

static const char *const key_types[] = {
	"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa",
};
#define N_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* Certificates made by the wrapper that parse and verify. */
static const char *const good_certs[] = {
	"ed25519", "ecdsa256", "ecdsa384", "ecdsa521", "rsa", "noext",
	"expired", "future", "host", "noprinc", "forever", "forcecmd",
	"rsa512", "rsa256", "crossed",
};
#define N_GOOD (sizeof(good_certs) / sizeof(good_certs[0]))

/* Reads DIR/name into a NUL-terminated string; NULL if absent. */
static char *
slurp(const char *name)
{
	char path[4096], *buf;
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", datadir, name);
	if ((f = fopen(path, "r")) == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The first line of DIR/name, without newline. */
static char *
read_line(const char *name)
{
	char *s = slurp(name);

	assert_non_null(s);
	s[strcspn(s, "\n")] = '\0';
	return s;
}

/* The base64 field of a .pub file ("type base64 comment"). */
static char *
pub_b64(const char *file)
{
	char *s = read_line(file), *b, *e, *out;

	b = strchr(s, ' ');
	assert_non_null(b);
	b++;
	e = strchr(b, ' ');
	if (e != NULL)
		*e = '\0';
	out = strdup(b);
	free(s);
	return out;
}

/* The decoded blob of DIR/<name>-cert.pub (or a plain .pub when full). */
static unsigned char *
load_blob(const char *file, size_t *len)
{
	char *b64 = pub_b64(file);
	unsigned char *blob;

	assert_int_equal(agentid_base64_decode(b64, strlen(b64), 1 << 20, &blob,
	    len), 0);
	free(b64);
	return blob;
}

static unsigned char *
load_cert(const char *name, size_t *len)
{
	char file[256];

	snprintf(file, sizeof(file), "%s-cert.pub", name);
	return load_blob(file, len);
}

/* Parses and verifies a certificate made by the wrapper. */
static struct agentid_sshcert *
good_cert(const char *name)
{
	struct agentid_sshcert *c = NULL;
	struct agentid_error err = { "" };
	unsigned char *blob;
	size_t len;
	int r;

	blob = load_cert(name, &len);
	r = agentid_sshcert_parse(blob, len, &c, &err);
	if (r != 0)
		fail_msg("%s: parse: %s", name, err.msg);
	r = agentid_sshcert_verify(c, &err);
	if (r != 0)
		fail_msg("%s: verify: %s", name, err.msg);
	free(blob);
	return c;
}

/* Parse then verify; 0 only when both accept. */
static int
parse_verify(const unsigned char *blob, size_t len)
{
	struct agentid_sshcert *c = NULL;
	struct agentid_error err;
	int r;

	if ((r = agentid_sshcert_parse(blob, len, &c, &err)) != 0) {
		assert_null(c);
		return r;
	}
	r = agentid_sshcert_verify(c, &err);
	/* touch what a caller would use */
	(void)agentid_sshcert_check(c, "bot", (int64_t)time(NULL), &err);
	agentid_sshcert_free(c);
	return r;
}

/* ---------------------------------------------------------------- tests */

static void
test_each_key_type(void **state)
{
	size_t i;
	int64_t now = (int64_t)time(NULL);
	const enum agentid_sshkey_type want[] = {
		AGENTID_SSHKEY_ED25519, AGENTID_SSHKEY_ECDSA_P256,
		AGENTID_SSHKEY_ECDSA_P384, AGENTID_SSHKEY_ECDSA_P521,
		AGENTID_SSHKEY_RSA,
	};

	(void)state;
	for (i = 0; i < N_TYPES; i++) {
		struct agentid_sshcert *c = good_cert(key_types[i]);
		struct agentid_error err;
		char name[64], *fp, *cafp, id[64];

		snprintf(id, sizeof(id), "key id %s", key_types[i]);
		assert_int_equal(c->key_type, want[i]);
		assert_int_equal(c->ca_type, want[i]);
		assert_int_equal(c->cert_type, AGENTID_SSHCERT_USER);
		assert_true(c->serial == 4242);
		assert_string_equal(c->key_id, id);
		assert_int_equal(c->n_principals, 2);
		assert_string_equal(c->principals[0], "bot");
		assert_string_equal(c->principals[1], "alice");
		assert_null(c->principals[2]);
		assert_non_null(c->task);
		assert_string_equal(c->task, "TASK-42");
		assert_string_equal(c->on_behalf_of, "alice@example.com");
		assert_true(agentid_sshcert_has_principal(c, "alice"));
		assert_false(agentid_sshcert_has_principal(c, "mallory"));
		assert_true(c->valid_after < (uint64_t)now);
		assert_true(c->valid_before > (uint64_t)now);
		assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), 0);
		assert_int_equal(agentid_sshcert_check(c, "mallory", now, &err), EPERM);
		assert_int_equal(agentid_sshcert_check(c, "bot", now + 7200, &err),
		    EKEYEXPIRED);
		assert_null(c->force_command);
		assert_true(c->n_extensions >= 2);

		snprintf(name, sizeof(name), "%s.fp", key_types[i]);
		fp = read_line(name);
		snprintf(name, sizeof(name), "ca-%s.fp", key_types[i]);
		cafp = read_line(name);
		assert_string_equal(c->key_fp, fp);
		assert_string_equal(c->ca_fp, cafp);
		free(fp);
		free(cafp);
		agentid_sshcert_free(c);
	}
}

static void
test_without_extensions(void **state)
{
	struct agentid_sshcert *c = good_cert("noext");

	(void)state;
	assert_int_equal(c->n_extensions, 0);
	assert_non_null(c->extensions);
	assert_null(c->extensions[0]);
	assert_null(c->task);
	assert_null(c->on_behalf_of);
	assert_string_equal(c->key_id, "noext");
	agentid_sshcert_free(c);
}

static void
test_validity(void **state)
{
	struct agentid_sshcert *c;
	struct agentid_error err;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	c = good_cert("expired");
	assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), EKEYEXPIRED);
	assert_non_null(strstr(err.msg, "expired"));
	agentid_sshcert_free(c);

	c = good_cert("future");
	assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), EKEYEXPIRED);
	assert_non_null(strstr(err.msg, "not yet valid"));
	agentid_sshcert_free(c);

	c = good_cert("forever");
	assert_true(c->valid_after == 0);
	assert_true(c->valid_before == UINT64_MAX);
	assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), 0);
	agentid_sshcert_free(c);
}

static void
test_principals_and_type(void **state)
{
	struct agentid_sshcert *c;
	struct agentid_error err;
	int64_t now = (int64_t)time(NULL);

	(void)state;
	c = good_cert("host");
	assert_int_equal(c->cert_type, AGENTID_SSHCERT_HOST);
	assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), EPERM);
	agentid_sshcert_free(c);

	c = good_cert("noprinc");
	assert_int_equal(c->n_principals, 0);
	assert_null(c->principals[0]);
	assert_int_equal(agentid_sshcert_check(c, "bot", now, &err), EPERM);
	agentid_sshcert_free(c);
}

static void
test_critical_options(void **state)
{
	struct agentid_sshcert *c = NULL;
	struct agentid_error err = { "" };
	unsigned char *blob;
	size_t len;

	(void)state;
	blob = load_cert("crit", &len);
	assert_int_equal(agentid_sshcert_parse(blob, len, &c, &err), ENOTSUP);
	assert_null(c);
	assert_non_null(strstr(err.msg, "unknown@example.com"));
	free(blob);

	c = good_cert("forcecmd");
	assert_string_equal(c->force_command, "/usr/bin/true");
	assert_string_equal(c->source_address, "127.0.0.1/32,::1");
	agentid_sshcert_free(c);
}

static void
test_rsa_signatures(void **state)
{
	struct agentid_sshcert *c;
	struct agentid_error err;
	unsigned char *blob;
	size_t len;
	char *fp;

	(void)state;
	c = good_cert("rsa512");
	assert_string_equal(c->sig_alg, "rsa-sha2-512");
	assert_int_equal(c->ca_type, AGENTID_SSHKEY_RSA);
	assert_int_equal(c->key_type, AGENTID_SSHKEY_ED25519);
	fp = read_line("ca-rsa.fp");
	assert_string_equal(c->ca_fp, fp);
	free(fp);
	agentid_sshcert_free(c);

	c = good_cert("rsa256");
	assert_string_equal(c->sig_alg, "rsa-sha2-256");
	agentid_sshcert_free(c);

	c = good_cert("crossed");
	assert_int_equal(c->ca_type, AGENTID_SSHKEY_ECDSA_P384);
	assert_int_equal(c->key_type, AGENTID_SSHKEY_RSA);
	fp = read_line("rsa.fp"); /* same key, other CA: same fingerprint */
	assert_string_equal(c->key_fp, fp);
	free(fp);
	agentid_sshcert_free(c);

	/* ssh-rsa (SHA-1): parses, never verifies */
	{
		char *s = slurp("sha1-cert.pub");

		if (s == NULL) {
			fprintf(stderr, "note: ssh-keygen made no ssh-rsa signature\n");
			return;
		}
		free(s);
	}
	blob = load_cert("sha1", &len);
	c = NULL;
	assert_int_equal(agentid_sshcert_parse(blob, len, &c, &err), 0);
	assert_string_equal(c->sig_alg, "ssh-rsa");
	assert_int_equal(agentid_sshcert_verify(c, &err), EKEYREJECTED);
	agentid_sshcert_free(c);
	free(blob);
}

static void
test_plain_key_fingerprint(void **state)
{
	unsigned char *blob;
	size_t len;
	char fp[AGENTID_SSH_FP_SIZE], *want;
	struct agentid_sshcert *c = NULL;
	struct agentid_error err;
	bool is_cert = true;

	(void)state;
	blob = load_blob("plain.pub", &len);
	want = read_line("plain.fp");
	assert_int_equal(agentid_sshkey_fingerprint(blob, len, fp, sizeof(fp)), 0);
	assert_string_equal(fp, want);
	assert_int_equal(agentid_sshkey_fingerprint(blob, len, fp, 20), ENOSPC);
	/* a plain key is not a certificate */
	assert_int_equal(agentid_sshcert_parse(blob, len, &c, &err), ENOTSUP);
	assert_null(c);
	assert_int_equal(agentid_sshkey_type_parse("ssh-ed25519", &is_cert),
	    AGENTID_SSHKEY_ED25519);
	assert_false(is_cert);
	assert_int_equal(agentid_sshkey_type_parse(
	    "sk-ssh-ed25519-cert-v01@openssh.com", NULL), AGENTID_SSHKEY_UNKNOWN);
	free(want);
	free(blob);
}

/* Every truncation fails; every flipped byte fails parse or verify. */
static void
test_truncate_and_flip_everywhere(void **state)
{
	size_t i, k, len;
	unsigned char *blob, *copy;

	(void)state;
	for (k = 0; k < N_GOOD; k++) {
		blob = load_cert(good_certs[k], &len);
		copy = malloc(len);
		assert_non_null(copy);
		for (i = 0; i < len; i++) {
			/* exact-size copy so ASan sees any read past the end */
			unsigned char *t = malloc(i + 1);

			memcpy(t, blob, i);
			if (parse_verify(i == 0 ? NULL : t, i) == 0)
				fail_msg("%s truncated to %zu bytes accepted",
				    good_certs[k], i);
			free(t);
		}
		for (i = 0; i < len; i++) {
			memcpy(copy, blob, len);
			copy[i] ^= 0xff;
			if (parse_verify(copy, len) == 0)
				fail_msg("%s with byte %zu flipped accepted",
				    good_certs[k], i);
			copy[i] ^= 0xa5;
			if (parse_verify(copy, len) == 0)
				fail_msg("%s with byte %zu changed accepted",
				    good_certs[k], i);
		}
		/* appended bytes are trailing data */
		copy = realloc(copy, len + 1);
		memcpy(copy, blob, len);
		copy[len] = 0;
		assert_int_not_equal(parse_verify(copy, len + 1), 0);
		free(copy);
		free(blob);
	}
}

/* Random mutations (seeded, repeatable): never a crash, never accepted. */
static void
test_random_mutations(void **state)
{
	unsigned seed = 0x5eed1234u;
	size_t k, it, len, mlen;
	unsigned char *blob, *m;
	int rounds = 1500;

	(void)state;
	srand(seed);
	for (k = 0; k < N_GOOD; k++) {
		blob = load_cert(good_certs[k], &len);
		for (it = 0; it < (size_t)rounds; it++) {
			int nmut = 1 + rand() % 4, j;

			m = malloc(len + 64);
			assert_non_null(m);
			memcpy(m, blob, len);
			mlen = len;
			for (j = 0; j < nmut; j++) {
				size_t pos = (size_t)rand() % mlen;

				switch (rand() % 5) {
				case 0: /* random byte */
					m[pos] = (unsigned char)rand();
					break;
				case 1: /* a huge or odd length field */
					if (pos + 4 <= mlen) {
						uint32_t v = (rand() & 1) ? 0xffffffffu :
						    (uint32_t)rand() % 70000u;

						m[pos] = (unsigned char)(v >> 24);
						m[pos + 1] = (unsigned char)(v >> 16);
						m[pos + 2] = (unsigned char)(v >> 8);
						m[pos + 3] = (unsigned char)v;
					}
					break;
				case 2: /* cut */
					mlen = pos + 1;
					break;
				case 3: /* delete a byte */
					if (mlen > 1) {
						memmove(m + pos, m + pos + 1, mlen - pos - 1);
						mlen--;
					}
					break;
				default: /* insert a byte */
					if (mlen < len + 60) {
						memmove(m + pos + 1, m + pos, mlen - pos);
						m[pos] = (unsigned char)rand();
						mlen++;
					}
					break;
				}
			}
			if (parse_verify(m, mlen) == 0 &&
			    (mlen != len || memcmp(m, blob, len) != 0))
				fail_msg("%s: mutated certificate accepted (seed %u)",
				    good_certs[k], seed);
			free(m);
		}
		free(blob);
	}
}

/* ------------------------------------------------ hand-made certificates */

struct wbuf {
	unsigned char *p;
	size_t len, cap;
};

static void
w_bytes(struct wbuf *w, const void *d, size_t n)
{
	if (n == 0)
		return;
	if (w->len + n > w->cap) {
		w->cap = (w->len + n) * 2 + 64;
		w->p = realloc(w->p, w->cap);
		assert_non_null(w->p);
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void
w_u32(struct wbuf *w, uint32_t v)
{
	unsigned char b[4] = { (unsigned char)(v >> 24), (unsigned char)(v >> 16),
		(unsigned char)(v >> 8), (unsigned char)v };

	w_bytes(w, b, 4);
}

static void
w_u64(struct wbuf *w, uint64_t v)
{
	w_u32(w, (uint32_t)(v >> 32));
	w_u32(w, (uint32_t)v);
}

static void
w_str(struct wbuf *w, const void *d, size_t n)
{
	w_u32(w, (uint32_t)n);
	w_bytes(w, d, n);
}

static void
w_cstr(struct wbuf *w, const char *s)
{
	w_str(w, s, strlen(s));
}

static void
w_buf(struct wbuf *w, const struct wbuf *inner)
{
	w_str(w, inner->p, inner->len);
}

struct spec {
	const char *type;
	size_t n_principals;
	const char *principal;     /* used for every principal */
	bool dup_extension;
	bool ca_is_cert;
	size_t n_ext;
	const char *task_raw;      /* raw data of task@agentid (not wrapped) */
	size_t key_len;
};

/* A structurally valid ed25519 certificate with a garbage signature. */
static void
build(struct wbuf *w, const struct spec *s)
{
	struct wbuf princ = { 0 }, crit = { 0 }, ext = { 0 }, ca = { 0 },
	    sig = { 0 }, val = { 0 };
	unsigned char zero[64] = { 0 }, pattern[32];
	size_t i;

	/* not all zeroes: that encodes a small-order point, for which a zero
	 * signature verifies (Ed25519 has no cofactor check) */
	memset(pattern, 0x5a, sizeof(pattern));
	memset(w, 0, sizeof(*w));
	w_cstr(w, s->type != NULL ? s->type : "ssh-ed25519-cert-v01@openssh.com");
	w_str(w, zero, 32);                                 /* nonce */
	w_str(w, zero, s->key_len != 0 ? s->key_len : 32);  /* pk */
	w_u64(w, 7);
	w_u32(w, 1);
	w_cstr(w, "made by hand");
	for (i = 0; i < s->n_principals; i++)
		w_cstr(&princ, s->principal != NULL ? s->principal : "bot");
	w_buf(w, &princ);
	w_u64(w, 0);
	w_u64(w, UINT64_MAX);
	w_buf(w, &crit);
	for (i = 0; i < s->n_ext; i++) {
		char name[32];

		snprintf(name, sizeof(name), "ext%03zu", i);
		w_cstr(&ext, name);
		w_str(&ext, "", 0);
	}
	if (s->dup_extension) {
		w_cstr(&ext, "permit-pty");
		w_str(&ext, "", 0);
		w_cstr(&ext, "permit-pty");
		w_str(&ext, "", 0);
	}
	if (s->task_raw != NULL) {
		w_cstr(&ext, "task@agentid");
		w_cstr(&ext, s->task_raw); /* not wrapped in a string */
	} else {
		w_cstr(&ext, "task@agentid");
		w_cstr(&val, "T-1");
		w_buf(&ext, &val);
	}
	w_buf(w, &ext);
	w_str(w, "", 0);                                    /* reserved */
	w_cstr(&ca, s->ca_is_cert ? "ssh-ed25519-cert-v01@openssh.com" :
	    "ssh-ed25519");
	w_str(&ca, pattern, 32);
	w_buf(w, &ca);
	w_cstr(&sig, "ssh-ed25519");
	w_str(&sig, zero, 64);
	w_buf(w, &sig);
	free(princ.p);
	free(crit.p);
	free(ext.p);
	free(ca.p);
	free(sig.p);
	free(val.p);
}

/* Parse result of a hand-made certificate. */
static int
parse_spec(const struct spec *s, struct agentid_error *err)
{
	struct agentid_sshcert *c = NULL;
	struct wbuf w;
	int r;

	build(&w, s);
	r = agentid_sshcert_parse(w.p, w.len, &c, err);
	if (r == 0) {
		/* structurally fine, but a zero signature never verifies */
		assert_int_not_equal(agentid_sshcert_verify(c, err), 0);
		if (s->task_raw == NULL)
			assert_string_equal(c->task, "T-1");
	}
	agentid_sshcert_free(c);
	free(w.p);
	return r;
}

static void
test_limits(void **state)
{
	struct agentid_error err = { "" };
	struct spec s;
	char longname[AGENTID_SSHCERT_MAX_STRING + 2];
	unsigned char big[16];

	(void)state;
	memset(&s, 0, sizeof(s));
	s.n_principals = 1;
	assert_int_equal(parse_spec(&s, &err), 0);

	s.n_principals = AGENTID_SSHCERT_MAX_PRINCIPALS;
	assert_int_equal(parse_spec(&s, &err), 0);
	s.n_principals = AGENTID_SSHCERT_MAX_PRINCIPALS + 1;
	assert_int_equal(parse_spec(&s, &err), EBADMSG);
	assert_non_null(strstr(err.msg, "principals"));

	memset(&s, 0, sizeof(s));
	s.n_ext = AGENTID_SSHCERT_MAX_OPTIONS - 1; /* + task@agentid */
	assert_int_equal(parse_spec(&s, &err), 0);
	s.n_ext = AGENTID_SSHCERT_MAX_OPTIONS;
	assert_int_equal(parse_spec(&s, &err), EBADMSG);

	memset(&s, 0, sizeof(s));
	s.dup_extension = true;
	assert_int_equal(parse_spec(&s, &err), EBADMSG);
	assert_non_null(strstr(err.msg, "twice"));

	memset(&s, 0, sizeof(s));
	s.ca_is_cert = true;
	assert_int_not_equal(parse_spec(&s, &err), 0);

	memset(&s, 0, sizeof(s));
	s.type = "sk-ssh-ed25519-cert-v01@openssh.com";
	assert_int_equal(parse_spec(&s, &err), ENOTSUP);
	s.type = "ssh-ed25519";
	assert_int_equal(parse_spec(&s, &err), ENOTSUP);

	memset(&s, 0, sizeof(s));
	s.key_len = 31; /* ed25519 keys are 32 bytes */
	assert_int_equal(parse_spec(&s, &err), EBADMSG);

	memset(&s, 0, sizeof(s));
	s.task_raw = "T-1"; /* value not wrapped in a string */
	assert_int_equal(parse_spec(&s, &err), EBADMSG);

	memset(&s, 0, sizeof(s));
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	s.n_principals = 1;
	s.principal = longname;
	assert_int_equal(parse_spec(&s, &err), EBADMSG);
	s.principal = "bad\nname";
	assert_int_equal(parse_spec(&s, &err), EBADMSG);

	/* sizes */
	assert_int_equal(agentid_sshcert_parse(NULL, 0, &(struct agentid_sshcert *){ NULL },
	    &err), EBADMSG);
	{
		struct agentid_sshcert *c = NULL;
		unsigned char *huge = calloc(1, AGENTID_SSHCERT_MAX_BLOB + 1);

		assert_int_equal(agentid_sshcert_parse(huge,
		    AGENTID_SSHCERT_MAX_BLOB + 1, &c, &err), EBADMSG);
		free(huge);
		/* a length field far past the end */
		memset(big, 0xff, sizeof(big));
		assert_int_equal(agentid_sshcert_parse(big, sizeof(big), &c, &err),
		    EBADMSG);
		assert_null(c);
	}
}

static void
test_base64(void **state)
{
	unsigned char *out;
	size_t len;

	(void)state;
	assert_int_equal(agentid_base64_decode("Zm9vYmFy", 8, 100, &out, &len), 0);
	assert_int_equal(len, 6);
	assert_memory_equal(out, "foobar", 6);
	free(out);
	assert_int_equal(agentid_base64_decode("Zm9vYg==", 8, 100, &out, &len), 0);
	assert_int_equal(len, 4);
	assert_memory_equal(out, "foob", 4);
	free(out);
	assert_int_equal(agentid_base64_decode("Zm9vYg", 6, 100, &out, &len), 0);
	assert_int_equal(len, 4);
	free(out);
	assert_int_equal(agentid_base64_decode("", 0, 100, &out, &len), 0);
	assert_int_equal(len, 0);
	free(out);
	assert_int_equal(agentid_base64_decode("Zm9v YmFy", 9, 100, &out, &len),
	    EBADMSG);
	assert_null(out);
	assert_int_equal(agentid_base64_decode("Zm9vYh==", 8, 100, &out, &len),
	    EBADMSG); /* non-zero leftover bits */
	assert_int_equal(agentid_base64_decode("Z", 1, 100, &out, &len), EBADMSG);
	assert_int_equal(agentid_base64_decode("Zm8=", 4, 100, &out, &len), 0);
	assert_memory_equal(out, "fo", 2);
	free(out);
	assert_int_equal(agentid_base64_decode("Zm9=", 4, 100, &out, &len),
	    EBADMSG); /* non-canonical */
	assert_int_equal(agentid_base64_decode("Zm9vYmFy", 8, 5, &out, &len), E2BIG);
	assert_int_equal(agentid_base64_decode("Zm9vYmFyYmF6YmF6", 16, 5, &out,
	    &len), E2BIG);
}

/* "publickey TYPE BASE64" for DIR/file. */
static char *
authinfo_line(const char *file)
{
	char *s = read_line(file), *e;

	e = strchr(s, ' ');
	assert_non_null(e);
	e = strchr(e + 1, ' ');
	if (e != NULL)
		*e = '\0';
	{
		char *out = malloc(strlen(s) + 16);

		sprintf(out, "publickey %s", s);
		free(s);
		return out;
	}
}

static void
test_auth_info(void **state)
{
	struct agentid_ssh_authinfo ai;
	struct agentid_error err = { "" };
	char *cert = authinfo_line("ed25519-cert.pub");
	char *plain = authinfo_line("plain.pub");
	char *crit = authinfo_line("crit-cert.pub");
	char *fp = read_line("plain.fp");
	char text[32768];
	size_t n;

	(void)state;
	assert_int_equal(agentid_ssh_authinfo_parse(NULL, &ai, &err), 0);
	assert_int_equal(ai.n_certs + ai.n_keys, 0);
	assert_int_equal(agentid_ssh_authinfo_parse("", &ai, &err), 0);
	assert_int_equal(ai.n_certs, 0);

	snprintf(text, sizeof(text), "%s\n", cert);
	assert_int_equal(agentid_ssh_authinfo_parse(text, &ai, &err), 0);
	assert_int_equal(ai.n_certs, 1);
	assert_int_equal(ai.n_keys, 0);
	assert_string_equal(ai.certs[0]->key_id, "key id ed25519");
	assert_string_equal(ai.certs[0]->task, "TASK-42");
	agentid_ssh_authinfo_clear(&ai);

	/* several methods, no final newline */
	snprintf(text, sizeof(text), "keyboard-interactive/pam\n%s\npassword\n%s",
	    plain, cert);
	assert_int_equal(agentid_ssh_authinfo_parse(text, &ai, &err), 0);
	assert_int_equal(ai.n_certs, 1);
	assert_int_equal(ai.n_keys, 1);
	assert_string_equal(ai.key_fps[0], fp);
	agentid_ssh_authinfo_clear(&ai);
	assert_null(ai.certs);

	/* a plain key alone */
	assert_int_equal(agentid_ssh_authinfo_parse(plain, &ai, &err), 0);
	assert_int_equal(ai.n_certs, 0);
	assert_int_equal(ai.n_keys, 1);
	agentid_ssh_authinfo_clear(&ai);

	/* the type token must match the blob */
	snprintf(text, sizeof(text), "publickey ssh-rsa-cert-v01@openssh.com %s",
	    strrchr(cert, ' ') + 1);
	assert_int_equal(agentid_ssh_authinfo_parse(text, &ai, &err), EBADMSG);

	/* bad base64, missing field */
	assert_int_equal(agentid_ssh_authinfo_parse(
	    "publickey ssh-ed25519-cert-v01@openssh.com AAA*", &ai, &err), EBADMSG);
	assert_int_equal(agentid_ssh_authinfo_parse(
	    "publickey ssh-ed25519-cert-v01@openssh.com", &ai, &err), EBADMSG);

	/* a certificate with a bad signature refuses the whole text */
	snprintf(text, sizeof(text), "%s", cert);
	n = strlen(text);
	text[n - 3] = text[n - 3] == 'A' ? 'B' : 'A';
	assert_int_not_equal(agentid_ssh_authinfo_parse(text, &ai, &err), 0);
	assert_null(ai.certs);

	/* unknown critical option */
	assert_int_equal(agentid_ssh_authinfo_parse(crit, &ai, &err), ENOTSUP);

	/* too many keys */
	text[0] = '\0';
	for (n = 0; n <= AGENTID_SSHCERT_MAX_AUTHINFO; n++) {
		strcat(text, plain);
		strcat(text, "\n");
	}
	assert_int_equal(agentid_ssh_authinfo_parse(text, &ai, &err), EBADMSG);
	assert_int_equal(ai.n_keys, 0);

	free(cert);
	free(plain);
	free(crit);
	free(fp);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_key_type),
		cmocka_unit_test(test_without_extensions),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_principals_and_type),
		cmocka_unit_test(test_critical_options),
		cmocka_unit_test(test_rsa_signatures),
		cmocka_unit_test(test_plain_key_fingerprint),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_base64),
		cmocka_unit_test(test_auth_info),
		cmocka_unit_test(test_truncate_and_flip_everywhere),
		cmocka_unit_test(test_random_mutations),
	};

	if (argc != 2) {
		fprintf(stderr, "usage: %s DIR (run tests/unit/test_sshcert.sh)\n",
		    argv[0]);
		return 77;
	}
	datadir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
