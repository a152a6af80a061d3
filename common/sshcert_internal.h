/* SPDX-License-Identifier: BSD-2-Clause */
/* sshcert_internal.h - the bounds-checked reader and key helpers shared by
 * common/sshcert*.c; not part of the ABI. */
#ifndef AGENTID_SSHCERT_INTERNAL_H
#define AGENTID_SSHCERT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid_sshcert.h"

/* The certificate itself, and where its parts are (offsets into blob). */
struct agentid_sshcert_wire {
	unsigned char *blob;
	size_t blob_len;
	size_t signed_len;        /* bytes covered by the signature */
	size_t ca_off, ca_len;    /* signature key blob */
	size_t sig_off, sig_len;  /* signature blob */
};

#define SSHKEY_RSA_MIN_BITS 1024   /* as OpenSSH */
#define SSHKEY_RSA_MAX_BITS 16384

/* A window over bytes that shrinks as fields are read. */
struct sshrd {
	const unsigned char *p;
	size_t left;
};

/* A public key's fields, pointing into the blob they were read from:
 * ed25519 a = key; ECDSA a = point; RSA a = e, b = n (no leading zeros). */
struct sshkey_pub {
	enum agentid_sshkey_type type;
	const unsigned char *a, *b;
	size_t a_len, b_len;
};

void sshrd_init(struct sshrd *rd, const unsigned char *p, size_t len);
int sshrd_u32(struct sshrd *rd, uint32_t *v);
int sshrd_u64(struct sshrd *rd, uint64_t *v);
int sshrd_string(struct sshrd *rd, const unsigned char **p, size_t *len);
int sshrd_sub(struct sshrd *rd, struct sshrd *sub);
int sshrd_cstring(struct sshrd *rd, char **out, size_t max, bool printable);
int sshrd_mpint(struct sshrd *rd, const unsigned char **p, size_t *len,
    size_t maxbytes);

/* Plain type string of t ("ssh-rsa"), or NULL. */
const char *sshkey_plain_name(enum agentid_sshkey_type t);
/* Uncompressed point length and SSH curve name of an ECDSA type, else 0. */
size_t sshkey_ec_point_len(enum agentid_sshkey_type t, const char **curve);
int sshkey_read_fields(struct sshrd *rd, enum agentid_sshkey_type t,
    struct sshkey_pub *k);
int sshkey_parse_blob(const unsigned char *blob, size_t len,
    struct sshkey_pub *k);

#endif
