/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshcert.c - parser of OpenSSH certificates (PROTOCOL.certkeys). Every
 * field goes through a bounds-checked reader: each length is checked against
 * what remains before it is used, counts have hard limits, and nothing is
 * allocated from a length that was not checked first.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "agentid.h"
#include "agentid_sshcert.h"
#include "internal.h"
#include "sshcert_internal.h"

static const struct {
	const char *plain;
	const char *cert;
	enum agentid_sshkey_type type;
} key_types[] = {
	{ "ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com", AGENTID_SSHKEY_ED25519 },
	{ "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256-cert-v01@openssh.com",
	  AGENTID_SSHKEY_ECDSA_P256 },
	{ "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384-cert-v01@openssh.com",
	  AGENTID_SSHKEY_ECDSA_P384 },
	{ "ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521-cert-v01@openssh.com",
	  AGENTID_SSHKEY_ECDSA_P521 },
	{ "ssh-rsa", "ssh-rsa-cert-v01@openssh.com", AGENTID_SSHKEY_RSA },
};
#define N_KEY_TYPES (sizeof(key_types) / sizeof(key_types[0]))

/* ------------------------------------------------------------- reader */

/* Starts a reader over len bytes at p. */
void
sshrd_init(struct sshrd *rd, const unsigned char *p, size_t len)
{
	rd->p = p;
	rd->left = len;
}

/* Reads a big-endian uint32; 0 or EBADMSG (truncated). */
int
sshrd_u32(struct sshrd *rd, uint32_t *v)
{
	if (rd->left < 4)
		return EBADMSG;
	*v = (uint32_t)rd->p[0] << 24 | (uint32_t)rd->p[1] << 16 |
	    (uint32_t)rd->p[2] << 8 | (uint32_t)rd->p[3];
	rd->p += 4;
	rd->left -= 4;
	return 0;
}

/* Reads a big-endian uint64; 0 or EBADMSG (truncated). */
int
sshrd_u64(struct sshrd *rd, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if (rd->left < 8)
		return EBADMSG;
	if ((r = sshrd_u32(rd, &hi)) != 0 || (r = sshrd_u32(rd, &lo)) != 0)
		return r;
	*v = (uint64_t)hi << 32 | lo;
	return 0;
}

/* Borrows a length-prefixed string (pointer into the buffer); 0 or EBADMSG. */
int
sshrd_string(struct sshrd *rd, const unsigned char **p, size_t *len)
{
	uint32_t n;

	if (rd->left < 4)
		return EBADMSG;
	n = (uint32_t)rd->p[0] << 24 | (uint32_t)rd->p[1] << 16 |
	    (uint32_t)rd->p[2] << 8 | (uint32_t)rd->p[3];
	if (n > rd->left - 4)
		return EBADMSG;
	*p = rd->p + 4;
	*len = n;
	rd->p += 4 + (size_t)n;
	rd->left -= 4 + (size_t)n;
	return 0;
}

/* A string read as a reader of its own contents; 0 or EBADMSG. */
int
sshrd_sub(struct sshrd *rd, struct sshrd *sub)
{
	const unsigned char *p;
	size_t len;
	int r;

	if ((r = sshrd_string(rd, &p, &len)) != 0)
		return r;
	sshrd_init(sub, p, len);
	return 0;
}

/*
 * Copies a string that must hold text: at most max bytes, no NUL inside, and
 * no control characters when printable is set. 0, EBADMSG or ENOMEM.
 */
int
sshrd_cstring(struct sshrd *rd, char **out, size_t max, bool printable)
{
	const unsigned char *p;
	size_t len, i;
	char *s;
	int r;

	*out = NULL;
	if ((r = sshrd_string(rd, &p, &len)) != 0)
		return r;
	if (len > max)
		return EBADMSG;
	for (i = 0; i < len; i++)
		if (p[i] == '\0' || (printable && (p[i] < 0x20 || p[i] == 0x7f)))
			return EBADMSG;
	if ((s = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(s, p, len);
	s[len] = '\0';
	*out = s;
	return 0;
}

/* True when the next string equals s exactly (and consumes it). */
static int
sshrd_expect(struct sshrd *rd, const char *s, bool *match)
{
	const unsigned char *p;
	size_t len;
	int r;

	if ((r = sshrd_string(rd, &p, &len)) != 0)
		return r;
	*match = len == strlen(s) && memcmp(p, s, len) == 0;
	return 0;
}

/*
 * Borrows a positive mpint of at most maxbytes significant bytes, leading
 * zero bytes stripped; 0 or EBADMSG (negative, too long, truncated).
 */
int
sshrd_mpint(struct sshrd *rd, const unsigned char **p, size_t *len,
    size_t maxbytes)
{
	const unsigned char *d;
	size_t n;
	int r;

	if ((r = sshrd_string(rd, &d, &n)) != 0)
		return r;
	if (n > 0 && (d[0] & 0x80) != 0)
		return EBADMSG;
	while (n > 0 && d[0] == 0) {
		d++;
		n--;
	}
	if (n > maxbytes)
		return EBADMSG;
	*p = d;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------- key types */

/* Key type named by name (plain or certificate type); UNKNOWN otherwise. */
enum agentid_sshkey_type
agentid_sshkey_type_parse(const char *name, bool *is_cert)
{
	size_t i;

	for (i = 0; name != NULL && i < N_KEY_TYPES; i++) {
		if (strcmp(name, key_types[i].plain) == 0) {
			if (is_cert != NULL)
				*is_cert = false;
			return key_types[i].type;
		}
		if (strcmp(name, key_types[i].cert) == 0) {
			if (is_cert != NULL)
				*is_cert = true;
			return key_types[i].type;
		}
	}
	return AGENTID_SSHKEY_UNKNOWN;
}

/* Plain key type string of t ("ssh-ed25519"), or NULL. */
const char *
sshkey_plain_name(enum agentid_sshkey_type t)
{
	size_t i;

	for (i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].type == t)
			return key_types[i].plain;
	return NULL;
}

/* Curve name and uncompressed point length of an ECDSA type; 0 if not. */
size_t
sshkey_ec_point_len(enum agentid_sshkey_type t, const char **curve)
{
	switch (t) {
	case AGENTID_SSHKEY_ECDSA_P256:
		*curve = "nistp256";
		return 1 + 2 * 32;
	case AGENTID_SSHKEY_ECDSA_P384:
		*curve = "nistp384";
		return 1 + 2 * 48;
	case AGENTID_SSHKEY_ECDSA_P521:
		*curve = "nistp521";
		return 1 + 2 * 66;
	default:
		*curve = NULL;
		return 0;
	}
}

/*
 * Reads the public key fields of type t (what follows the type string in a
 * key blob, or the nonce in a certificate) into k; 0, EBADMSG or ENOTSUP.
 */
int
sshkey_read_fields(struct sshrd *rd, enum agentid_sshkey_type t,
    struct sshkey_pub *k)
{
	const char *curve;
	size_t plen;
	bool match;
	int r;

	memset(k, 0, sizeof(*k));
	k->type = t;
	switch (t) {
	case AGENTID_SSHKEY_ED25519:
		if ((r = sshrd_string(rd, &k->a, &k->a_len)) != 0)
			return r;
		return k->a_len == 32 ? 0 : EBADMSG;
	case AGENTID_SSHKEY_ECDSA_P256:
	case AGENTID_SSHKEY_ECDSA_P384:
	case AGENTID_SSHKEY_ECDSA_P521:
		plen = sshkey_ec_point_len(t, &curve);
		if ((r = sshrd_expect(rd, curve, &match)) != 0)
			return r;
		if (!match)
			return EBADMSG;
		if ((r = sshrd_string(rd, &k->a, &k->a_len)) != 0)
			return r;
		/* only uncompressed points, as OpenSSH writes them */
		return k->a_len == plen && k->a[0] == 0x04 ? 0 : EBADMSG;
	case AGENTID_SSHKEY_RSA:
		if ((r = sshrd_mpint(rd, &k->a, &k->a_len, 8)) != 0 ||
		    (r = sshrd_mpint(rd, &k->b, &k->b_len, SSHKEY_RSA_MAX_BITS / 8)) != 0)
			return r;
		/* e odd and > 1, n within OpenSSH's limits */
		if (k->a_len == 0 || (k->a[k->a_len - 1] & 1) == 0 ||
		    (k->a_len == 1 && k->a[0] == 1))
			return EBADMSG;
		if (k->b_len < SSHKEY_RSA_MIN_BITS / 8)
			return EBADMSG;
		return 0;
	default:
		return ENOTSUP;
	}
}

/*
 * Parses a whole plain public key blob (string type, fields, nothing after);
 * 0, EBADMSG or ENOTSUP (unknown type, or a certificate used as a key).
 */
int
sshkey_parse_blob(const unsigned char *blob, size_t len, struct sshkey_pub *k)
{
	struct sshrd rd;
	char *name = NULL;
	enum agentid_sshkey_type t;
	bool is_cert = false;
	int r;

	sshrd_init(&rd, blob, len);
	if ((r = sshrd_cstring(&rd, &name, 64, true)) != 0)
		goto out;
	t = agentid_sshkey_type_parse(name, &is_cert);
	if (t == AGENTID_SSHKEY_UNKNOWN || is_cert) {
		r = ENOTSUP;
		goto out;
	}
	if ((r = sshkey_read_fields(&rd, t, k)) != 0)
		goto out;
	r = rd.left == 0 ? 0 : EBADMSG;
out:
	free(name);
	return r;
}

/* ---------------------------------------------------------- fingerprint */

/* "SHA256:" + unpadded base64 of the SHA-256 of blob; 0 or ENOSPC/EIO. */
int
agentid_sshkey_fingerprint(const void *blob, size_t len, char *buf,
    size_t buflen)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned char b64[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
	unsigned int mdlen = 0;
	int n;

	if (buflen < 7 + 44 + 1)
		return ENOSPC;
	if (EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL) != 1)
		return EIO;
	n = EVP_EncodeBlock(b64, md, (int)mdlen);
	while (n > 0 && b64[n - 1] == '=')
		n--;
	b64[n] = '\0';
	memcpy(buf, "SHA256:", 7);
	memcpy(buf + 7, b64, (size_t)n + 1);
	return 0;
}

/* Fingerprint of a plain key whose fields are the bytes f[0..flen). */
static int
fingerprint_fields(enum agentid_sshkey_type t, const unsigned char *f,
    size_t flen, char *buf, size_t buflen)
{
	const char *name = sshkey_plain_name(t);
	size_t nlen = strlen(name);
	unsigned char *blob;
	int r;

	if ((blob = malloc(4 + nlen + flen)) == NULL)
		return ENOMEM;
	blob[0] = (unsigned char)(nlen >> 24);
	blob[1] = (unsigned char)(nlen >> 16);
	blob[2] = (unsigned char)(nlen >> 8);
	blob[3] = (unsigned char)nlen;
	memcpy(blob + 4, name, nlen);
	memcpy(blob + 4 + nlen, f, flen);
	r = agentid_sshkey_fingerprint(blob, 4 + nlen + flen, buf, buflen);
	free(blob);
	return r;
}

/* ------------------------------------------------------------- options */

/* Reads the string list of valid principals into c. */
static int
parse_principals(struct sshrd *rd, struct agentid_sshcert *c,
    struct agentid_error *err)
{
	struct sshrd list;
	char *p = NULL;
	int r;

	if ((r = sshrd_sub(rd, &list)) != 0)
		return agentid_seterr(err, r, "certificate: truncated principals");
	while (list.left > 0) {
		if (c->n_principals >= AGENTID_SSHCERT_MAX_PRINCIPALS) {
			r = agentid_seterr(err, EBADMSG,
			    "certificate: more than %d principals",
			    AGENTID_SSHCERT_MAX_PRINCIPALS);
			goto out;
		}
		if ((r = sshrd_cstring(&list, &p, AGENTID_SSHCERT_MAX_STRING,
		    true)) != 0) {
			agentid_seterr(err, r, "certificate: bad principal");
			goto out;
		}
		if ((r = agentid_strv_add(&c->principals, &c->n_principals, p)) != 0)
			goto out;
		free(p);
		p = NULL;
	}
	r = 0;
out:
	free(p);
	return r;
}

/* Reads an option's data as exactly one text string (or "" when empty). */
static int
option_value(const unsigned char *d, size_t dlen, char **out)
{
	struct sshrd rd;
	int r;

	if (dlen == 0) {
		*out = strdup("");
		return *out == NULL ? ENOMEM : 0;
	}
	sshrd_init(&rd, d, dlen);
	if ((r = sshrd_cstring(&rd, out, AGENTID_SSHCERT_MAX_STRING, true)) != 0)
		return r;
	if (rd.left != 0) {
		free(*out);
		*out = NULL;
		return EBADMSG;
	}
	return 0;
}

/*
 * Reads the critical options (critical = true) or the extensions: name/data
 * pairs, at most AGENTID_SSHCERT_MAX_OPTIONS, no name twice. Unknown critical
 * options are refused (ENOTSUP), as sshd refuses them.
 */
static int
parse_options(struct sshrd *rd, bool critical, struct agentid_sshcert *c,
    struct agentid_error *err)
{
	const char *what = critical ? "critical option" : "extension";
	char **seen = NULL, *name = NULL, **slot;
	size_t n_seen = 0, i, dlen;
	const unsigned char *d;
	struct sshrd list;
	int r;

	if ((r = sshrd_sub(rd, &list)) != 0)
		return agentid_seterr(err, r, "certificate: truncated %ss", what);
	while (list.left > 0) {
		if (n_seen >= AGENTID_SSHCERT_MAX_OPTIONS) {
			r = agentid_seterr(err, EBADMSG, "certificate: more than %d %ss",
			    AGENTID_SSHCERT_MAX_OPTIONS, what);
			goto out;
		}
		if ((r = sshrd_cstring(&list, &name, 256, true)) != 0 ||
		    (r = sshrd_string(&list, &d, &dlen)) != 0) {
			agentid_seterr(err, r, "certificate: bad %s", what);
			goto out;
		}
		for (i = 0; i < n_seen; i++)
			if (strcmp(seen[i], name) == 0) {
				r = agentid_seterr(err, EBADMSG,
				    "certificate: %s %s given twice", what, name);
				goto out;
			}
		if ((r = agentid_strv_add(&seen, &n_seen, name)) != 0)
			goto out;
		slot = NULL;
		if (critical) {
			if (strcmp(name, "force-command") == 0)
				slot = &c->force_command;
			else if (strcmp(name, "source-address") == 0)
				slot = &c->source_address;
			else if (strcmp(name, "verify-required") == 0) {
				if (dlen != 0) {
					r = agentid_seterr(err, EBADMSG,
					    "certificate: verify-required has data");
					goto out;
				}
				c->verify_required = true;
			} else {
				r = agentid_seterr(err, ENOTSUP,
				    "certificate: unknown critical option %s", name);
				goto out;
			}
		} else {
			if ((r = agentid_strv_add(&c->extensions, &c->n_extensions,
			    name)) != 0)
				goto out;
			if (strcmp(name, "task@agentid") == 0)
				slot = &c->task;
			else if (strcmp(name, "on-behalf-of@agentid") == 0)
				slot = &c->on_behalf_of;
		}
		if (slot != NULL && (r = option_value(d, dlen, slot)) != 0) {
			agentid_seterr(err, r, "certificate: bad value of %s %s",
			    what, name);
			goto out;
		}
		free(name);
		name = NULL;
	}
	r = 0;
out:
	free(name);
	agentid_strv_free(seen);
	return r;
}

/* ---------------------------------------------------------------- parse */

/* Frees a certificate and everything it owns. */
void
agentid_sshcert_free(struct agentid_sshcert *c)
{
	if (c == NULL)
		return;
	free(c->key_id);
	agentid_strv_free(c->principals);
	free(c->force_command);
	free(c->source_address);
	agentid_strv_free(c->extensions);
	free(c->task);
	free(c->on_behalf_of);
	free(c->sig_alg);
	if (c->wire != NULL)
		free(c->wire->blob);
	free(c->wire);
	free(c);
}

/* Parses a certificate blob into *out; see agentid_sshcert.h. */
int
agentid_sshcert_parse(const void *blob, size_t len,
    struct agentid_sshcert **out, struct agentid_error *err)
{
	struct agentid_sshcert *c = NULL;
	struct sshkey_pub key, ca;
	const unsigned char *p, *fields, *d;
	struct sshrd rd, sig;
	char *name = NULL;
	bool is_cert = false;
	size_t dlen;
	int r = ENOMEM;

	*out = NULL;
	if (blob == NULL || len == 0) {
		r = agentid_seterr(err, EBADMSG, "certificate: empty");
		goto out;
	}
	if (len > AGENTID_SSHCERT_MAX_BLOB) {
		r = agentid_seterr(err, EBADMSG, "certificate: longer than %d bytes",
		    AGENTID_SSHCERT_MAX_BLOB);
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->wire = calloc(1, sizeof(*c->wire))) == NULL ||
	    (c->wire->blob = malloc(len)) == NULL ||
	    (c->principals = calloc(1, sizeof(char *))) == NULL ||
	    (c->extensions = calloc(1, sizeof(char *))) == NULL)
		goto out;
	memcpy(c->wire->blob, blob, len);
	c->wire->blob_len = len;
	sshrd_init(&rd, c->wire->blob, len);

	if ((r = sshrd_cstring(&rd, &name, 64, true)) != 0) {
		agentid_seterr(err, r, "certificate: bad type");
		goto out;
	}
	c->key_type = agentid_sshkey_type_parse(name, &is_cert);
	if (c->key_type == AGENTID_SSHKEY_UNKNOWN || !is_cert) {
		r = agentid_seterr(err, ENOTSUP,
		    "certificate: unsupported type %.64s", name);
		goto out;
	}
	c->type_name = key_types[0].cert;
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].type == c->key_type)
			c->type_name = key_types[i].cert;

	/* nonce, then the certified key's fields */
	if ((r = sshrd_string(&rd, &p, &dlen)) != 0) {
		agentid_seterr(err, r, "certificate: truncated nonce");
		goto out;
	}
	fields = rd.p;
	if ((r = sshkey_read_fields(&rd, c->key_type, &key)) != 0) {
		agentid_seterr(err, r, "certificate: bad public key");
		goto out;
	}
	if ((r = fingerprint_fields(c->key_type, fields, (size_t)(rd.p - fields),
	    c->key_fp, sizeof(c->key_fp))) != 0)
		goto out;

	if ((r = sshrd_u64(&rd, &c->serial)) != 0 ||
	    (r = sshrd_u32(&rd, &c->cert_type)) != 0) {
		agentid_seterr(err, r, "certificate: truncated serial/type");
		goto out;
	}
	if (c->cert_type != AGENTID_SSHCERT_USER &&
	    c->cert_type != AGENTID_SSHCERT_HOST) {
		r = agentid_seterr(err, EBADMSG, "certificate: bad type %u",
		    c->cert_type);
		goto out;
	}
	if ((r = sshrd_cstring(&rd, &c->key_id, AGENTID_SSHCERT_MAX_STRING,
	    false)) != 0) {
		agentid_seterr(err, r, "certificate: bad key id");
		goto out;
	}
	if ((r = parse_principals(&rd, c, err)) != 0)
		goto out;
	if ((r = sshrd_u64(&rd, &c->valid_after)) != 0 ||
	    (r = sshrd_u64(&rd, &c->valid_before)) != 0) {
		agentid_seterr(err, r, "certificate: truncated validity");
		goto out;
	}
	if ((r = parse_options(&rd, true, c, err)) != 0 ||
	    (r = parse_options(&rd, false, c, err)) != 0)
		goto out;
	if ((r = sshrd_string(&rd, &d, &dlen)) != 0) {   /* reserved */
		agentid_seterr(err, r, "certificate: truncated reserved field");
		goto out;
	}

	/* the CA key */
	if ((r = sshrd_string(&rd, &p, &dlen)) != 0) {
		agentid_seterr(err, r, "certificate: truncated signature key");
		goto out;
	}
	c->wire->ca_off = (size_t)(p - c->wire->blob);
	c->wire->ca_len = dlen;
	if ((r = sshkey_parse_blob(p, dlen, &ca)) != 0) {
		agentid_seterr(err, r, "certificate: bad or unsupported CA key");
		goto out;
	}
	c->ca_type = ca.type;
	if ((r = agentid_sshkey_fingerprint(p, dlen, c->ca_fp,
	    sizeof(c->ca_fp))) != 0)
		goto out;
	c->wire->signed_len = (size_t)(rd.p - c->wire->blob);

	/* the signature: string alg, string blob, nothing after; then the end */
	if ((r = sshrd_string(&rd, &p, &dlen)) != 0) {
		agentid_seterr(err, r, "certificate: truncated signature");
		goto out;
	}
	c->wire->sig_off = (size_t)(p - c->wire->blob);
	c->wire->sig_len = dlen;
	if (rd.left != 0) {
		r = agentid_seterr(err, EBADMSG, "certificate: trailing data");
		goto out;
	}
	sshrd_init(&sig, p, dlen);
	if ((r = sshrd_cstring(&sig, &c->sig_alg, 64, true)) != 0 ||
	    (r = sshrd_string(&sig, &d, &dlen)) != 0) {
		agentid_seterr(err, r, "certificate: bad signature");
		goto out;
	}
	if (sig.left != 0) {
		r = agentid_seterr(err, EBADMSG,
		    "certificate: trailing data in signature");
		goto out;
	}
	*out = c;
	c = NULL;
	r = 0;
out:
	free(name);
	agentid_sshcert_free(c);
	return r;
}

/* ---------------------------------------------------------------- check */

/* True when name is among c's principals. */
bool
agentid_sshcert_has_principal(const struct agentid_sshcert *c,
    const char *name)
{
	size_t i;

	if (c == NULL || name == NULL)
		return false;
	for (i = 0; i < c->n_principals; i++)
		if (strcmp(c->principals[i], name) == 0)
			return true;
	return false;
}

/* 0 for a user certificate naming user, valid at now; EPERM/EKEYEXPIRED. */
int
agentid_sshcert_check(const struct agentid_sshcert *c, const char *user,
    int64_t now, struct agentid_error *err)
{
	uint64_t t = now < 0 ? 0 : (uint64_t)now;

	if (c->cert_type != AGENTID_SSHCERT_USER)
		return agentid_seterr(err, EPERM, "certificate: not a user certificate");
	if (user != NULL && !agentid_sshcert_has_principal(c, user))
		return agentid_seterr(err, EPERM,
		    "certificate: principal %s not listed", user);
	if (t < c->valid_after)
		return agentid_seterr(err, EKEYEXPIRED, "certificate: not yet valid");
	if (t >= c->valid_before)
		return agentid_seterr(err, EKEYEXPIRED, "certificate: expired");
	return 0;
}
