/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid_sshcert.h - OpenSSH certificates (PROTOCOL.certkeys,
 * draft-miller-ssh-cert): a bounds-checked parser, CA signature verification
 * with OpenSSL, `ssh-keygen -l` fingerprints, and the SSH_AUTH_INFO_0 text
 * that sshd hands to PAM. Implemented in common/sshcert*.c.
 *
 * Errors (errno-style, message in err): EBADMSG malformed or over a limit,
 * ENOTSUP unsupported key type or unknown critical option, EKEYREJECTED bad
 * or refused signature (ssh-rsa SHA-1), ENOMEM.
 */
#ifndef AGENTID_SSHCERT_H
#define AGENTID_SSHCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Hard limits; anything beyond is refused (EBADMSG), never allocated. */
#define AGENTID_SSHCERT_MAX_BLOB        (64 * 1024) /* whole certificate */
#define AGENTID_SSHCERT_MAX_PRINCIPALS  256
#define AGENTID_SSHCERT_MAX_OPTIONS     64   /* critical options; extensions */
#define AGENTID_SSHCERT_MAX_STRING      4096 /* key id, principal, value */
#define AGENTID_SSHCERT_MAX_AUTHINFO    16   /* keys in SSH_AUTH_INFO_0 */
#define AGENTID_SSH_FP_SIZE             64   /* "SHA256:" + 43 + NUL fits */

#define AGENTID_SSHCERT_USER 1u
#define AGENTID_SSHCERT_HOST 2u

enum agentid_sshkey_type {
	AGENTID_SSHKEY_UNKNOWN = 0,
	AGENTID_SSHKEY_ED25519,
	AGENTID_SSHKEY_ECDSA_P256,
	AGENTID_SSHKEY_ECDSA_P384,
	AGENTID_SSHKEY_ECDSA_P521,
	AGENTID_SSHKEY_RSA,
};

struct agentid_sshcert {
	enum agentid_sshkey_type key_type;  /* of the certified key */
	const char *type_name;    /* "ssh-ed25519-cert-v01@openssh.com" (static) */
	uint64_t serial;
	uint32_t cert_type;       /* AGENTID_SSHCERT_USER or _HOST */
	char *key_id;             /* verbatim (no NUL inside) */
	char **principals;        /* NULL-terminated, never NULL once parsed */
	size_t n_principals;
	uint64_t valid_after;
	uint64_t valid_before;    /* UINT64_MAX = forever */
	/* critical options we know (any other one makes the parse fail) */
	char *force_command;
	char *source_address;
	bool verify_required;
	/* extensions: every name, and the two values we use */
	char **extensions;        /* NULL-terminated, never NULL once parsed */
	size_t n_extensions;
	char *task;               /* task@agentid, or NULL */
	char *on_behalf_of;       /* on-behalf-of@agentid, or NULL */
	/* the signing CA */
	enum agentid_sshkey_type ca_type;
	char *sig_alg;            /* "ssh-ed25519", "rsa-sha2-512", ... */
	char key_fp[AGENTID_SSH_FP_SIZE];  /* certified key, as ssh-keygen -l */
	char ca_fp[AGENTID_SSH_FP_SIZE];   /* CA key, as ssh-keygen -l */
	/* the certificate's bytes and where its signed part, CA key and
	 * signature lie: internal to common/sshcert*.c */
	struct agentid_sshcert_wire *wire;
};

/*
 * Parses an OpenSSH certificate blob (the base64-decoded second field of a
 * -cert.pub line). Checks structure, limits, known critical options and the
 * key formats and computes both fingerprints; does not verify the signature
 * (agentid_sshcert_verify) nor validity or principals (agentid_sshcert_check).
 */
int agentid_sshcert_parse(const void *blob, size_t len,
    struct agentid_sshcert **out, struct agentid_error *err);
/* Verifies the CA signature over the certificate; 0 or EKEYREJECTED. */
int agentid_sshcert_verify(const struct agentid_sshcert *c,
    struct agentid_error *err);
/*
 * 0 when c is a user certificate naming user (when user is not NULL) and
 * valid at now; EPERM (host certificate, principal not listed) or
 * EKEYEXPIRED (outside valid_after..valid_before) otherwise.
 */
int agentid_sshcert_check(const struct agentid_sshcert *c, const char *user,
    int64_t now, struct agentid_error *err);
/* True when name is one of the certificate's principals. */
bool agentid_sshcert_has_principal(const struct agentid_sshcert *c,
    const char *name);
void agentid_sshcert_free(struct agentid_sshcert *c);

/* SHA256 fingerprint of a public key blob as `ssh-keygen -l` prints it
 * ("SHA256:" + unpadded base64); 0, or ENOSPC when buf is too small. */
int agentid_sshkey_fingerprint(const void *blob, size_t len, char *buf,
    size_t buflen);
/* Key type named by an SSH key or certificate type string, or UNKNOWN. */
enum agentid_sshkey_type agentid_sshkey_type_parse(const char *name,
    bool *is_cert);

/* Strict base64 (RFC 4648, padding optional, no whitespace) into a new
 * buffer; EBADMSG on a bad character, E2BIG past max output bytes. */
int agentid_base64_decode(const char *s, size_t len, size_t max,
    unsigned char **out, size_t *outlen);

/* The keys sshd reports in SSH_AUTH_INFO_0 for this login. */
struct agentid_ssh_authinfo {
	struct agentid_sshcert **certs;  /* certificates, parsed and verified */
	size_t n_certs;
	char **key_fps;           /* plain public keys: fingerprints */
	size_t n_keys;
};

/*
 * Parses SSH_AUTH_INFO_0 ("publickey TYPE BASE64" lines; other methods are
 * skipped). Every certificate must parse and its signature verify, else the
 * whole text is refused. An empty or NULL text gives an empty result.
 */
int agentid_ssh_authinfo_parse(const char *text,
    struct agentid_ssh_authinfo *out, struct agentid_error *err);
void agentid_ssh_authinfo_clear(struct agentid_ssh_authinfo *ai);

#ifdef __cplusplus
}
#endif
#endif /* AGENTID_SSHCERT_H */
