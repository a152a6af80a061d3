/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshcert_authinfo.c - the SSH_AUTH_INFO_0 text sshd gives PAM: one line per
 * authentication method that succeeded ("publickey TYPE BASE64" for keys and
 * certificates), and strict base64.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "agentid_sshcert.h"
#include "internal.h"
#include "sshcert_internal.h"

/* Value of a base64 character, or -1. */
static int
b64_value(unsigned char ch)
{
	if (ch >= 'A' && ch <= 'Z')
		return ch - 'A';
	if (ch >= 'a' && ch <= 'z')
		return ch - 'a' + 26;
	if (ch >= '0' && ch <= '9')
		return ch - '0' + 52;
	if (ch == '+')
		return 62;
	if (ch == '/')
		return 63;
	return -1;
}

/* Decodes base64 into a new buffer; 0, EBADMSG, E2BIG or ENOMEM. */
int
agentid_base64_decode(const char *s, size_t len, size_t max,
    unsigned char **out, size_t *outlen)
{
	unsigned char *buf;
	size_t i, n = 0, pad = 0;
	uint32_t acc = 0;
	unsigned bits = 0;
	int v;

	*out = NULL;
	*outlen = 0;
	while (pad < 2 && len > 0 && s[len - 1] == '=') {
		len--;
		pad++;
	}
	if (len % 4 == 1 || (pad > 0 && (len + pad) % 4 != 0))
		return EBADMSG;
	if (len / 4 > max / 3 + 1)
		return E2BIG;     /* bounds the allocation below */
	if ((buf = malloc(len / 4 * 3 + 3)) == NULL)
		return ENOMEM;
	for (i = 0; i < len; i++) {
		if ((v = b64_value((unsigned char)s[i])) < 0) {
			free(buf);
			return EBADMSG;
		}
		acc = (acc << 6) | (uint32_t)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			buf[n++] = (unsigned char)(acc >> bits);
		}
	}
	/* leftover bits must be zero (canonical encoding) */
	if ((acc & ((1u << bits) - 1)) != 0 || n > max) {
		free(buf);
		return n > max ? E2BIG : EBADMSG;
	}
	*out = buf;
	*outlen = n;
	return 0;
}

/* Frees everything in ai and zeroes it. */
void
agentid_ssh_authinfo_clear(struct agentid_ssh_authinfo *ai)
{
	size_t i;

	if (ai == NULL)
		return;
	for (i = 0; i < ai->n_certs; i++)
		agentid_sshcert_free(ai->certs[i]);
	free(ai->certs);
	agentid_strv_free(ai->key_fps);
	memset(ai, 0, sizeof(*ai));
}

/* Checks that the key blob starts with the type string the line gave. */
static bool
blob_has_type(const unsigned char *blob, size_t len, const char *type)
{
	const unsigned char *p;
	size_t n;
	struct sshrd rd;

	sshrd_init(&rd, blob, len);
	return sshrd_string(&rd, &p, &n) == 0 && n == strlen(type) &&
	    memcmp(p, type, n) == 0;
}

/* Handles one "publickey TYPE BASE64" entry. */
static int
authinfo_key(struct agentid_ssh_authinfo *ai, const char *type,
    const char *b64, size_t b64len, struct agentid_error *err)
{
	struct agentid_sshcert *c = NULL, **nc;
	unsigned char *blob = NULL;
	char fp[AGENTID_SSH_FP_SIZE];
	size_t len;
	bool is_cert = false;
	int r;

	if ((r = agentid_base64_decode(b64, b64len, AGENTID_SSHCERT_MAX_BLOB,
	    &blob, &len)) != 0) {
		r = agentid_seterr(err, r == ENOMEM ? ENOMEM : EBADMSG,
		    "SSH_AUTH_INFO_0: bad base64 key");
		goto out;
	}
	if (!blob_has_type(blob, len, type)) {
		r = agentid_seterr(err, EBADMSG,
		    "SSH_AUTH_INFO_0: key is not of type %.64s", type);
		goto out;
	}
	(void)agentid_sshkey_type_parse(type, &is_cert);
	if (!is_cert && strstr(type, "-cert-v01@openssh.com") == NULL) {
		/* a plain key (any type): only its fingerprint matters */
		if ((r = agentid_sshkey_fingerprint(blob, len, fp, sizeof(fp))) != 0 ||
		    (r = agentid_strv_add(&ai->key_fps, &ai->n_keys, fp)) != 0)
			goto out;
		r = 0;
		goto out;
	}
	if ((r = agentid_sshcert_parse(blob, len, &c, err)) != 0 ||
	    (r = agentid_sshcert_verify(c, err)) != 0)
		goto out;
	if ((nc = realloc(ai->certs, (ai->n_certs + 1) * sizeof(*nc))) == NULL) {
		r = ENOMEM;
		goto out;
	}
	ai->certs = nc;
	ai->certs[ai->n_certs++] = c;
	c = NULL;
	r = 0;
out:
	agentid_sshcert_free(c);
	free(blob);
	return r;
}

/* Parses SSH_AUTH_INFO_0; see agentid_sshcert.h. */
int
agentid_ssh_authinfo_parse(const char *text, struct agentid_ssh_authinfo *out,
    struct agentid_error *err)
{
	const char *line = text, *end, *f[3], *e[3], *p;
	size_t nf, seen = 0;
	int r = 0;

	memset(out, 0, sizeof(*out));
	while (line != NULL && *line != '\0') {
		if ((end = strchr(line, '\n')) == NULL)
			end = line + strlen(line);
		/* split into at most three space-separated fields */
		for (p = line, nf = 0; p < end && nf < 3; nf++) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				break;
			f[nf] = p;
			while (p < end && *p != ' ' && *p != '\t')
				p++;
			e[nf] = p;
		}
		if (nf >= 1 && (size_t)(e[0] - f[0]) == 9 &&
		    memcmp(f[0], "publickey", 9) == 0) {
			char type[65];
			size_t tlen;

			if (nf < 3 || (tlen = (size_t)(e[1] - f[1])) >= sizeof(type)) {
				r = agentid_seterr(err, EBADMSG,
				    "SSH_AUTH_INFO_0: malformed publickey line");
				goto out;
			}
			if (++seen > AGENTID_SSHCERT_MAX_AUTHINFO) {
				r = agentid_seterr(err, EBADMSG,
				    "SSH_AUTH_INFO_0: more than %d keys",
				    AGENTID_SSHCERT_MAX_AUTHINFO);
				goto out;
			}
			memcpy(type, f[1], tlen);
			type[tlen] = '\0';
			if ((r = authinfo_key(out, type, f[2], (size_t)(e[2] - f[2]),
			    err)) != 0)
				goto out;
		}
		line = *end == '\n' ? end + 1 : end;
	}
out:
	if (r != 0)
		agentid_ssh_authinfo_clear(out);
	return r;
}
