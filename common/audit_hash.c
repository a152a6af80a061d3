/* SPDX-License-Identifier: BSD-2-Clause */
/* audit_hash.c - SHA-256 of trail lines (OpenSSL EVP), as lowercase hex. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include <openssl/evp.h>

#include "audit_internal.h"

struct audit_hasher {
	EVP_MD_CTX *ctx;
	EVP_MD *fetched;     /* OpenSSL 3: fetched once, not per line */
	const EVP_MD *md;
};

/* Allocates a hasher; returns 0, ENOMEM or EIO (no SHA-256 provider). */
int
audit_hasher_new(struct audit_hasher **out)
{
	struct audit_hasher *h;
	int r = ENOMEM;

	*out = NULL;
	if ((h = calloc(1, sizeof(*h))) == NULL)
		return ENOMEM;
	if ((h->ctx = EVP_MD_CTX_new()) == NULL)
		goto out;
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	h->fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	h->md = h->fetched;
#else
	h->md = EVP_sha256();
#endif
	if (h->md == NULL) {
		r = EIO;
		goto out;
	}
	*out = h;
	h = NULL;
	r = 0;
out:
	audit_hasher_free(h);
	return r;
}

/* Frees h (NULL is fine). */
void
audit_hasher_free(struct audit_hasher *h)
{
	if (h == NULL)
		return;
	EVP_MD_CTX_free(h->ctx);
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	EVP_MD_free(h->fetched);
#endif
	free(h);
}

/* Hex SHA-256 of data into out; returns 0 or EIO. */
int
audit_hash_hex(struct audit_hasher *h, const void *data, size_t len,
    char out[AUDIT_HASH_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_DigestInit_ex(h->ctx, h->md, NULL) != 1 ||
	    EVP_DigestUpdate(h->ctx, data, len) != 1 ||
	    EVP_DigestFinal_ex(h->ctx, md, &mdlen) != 1 || mdlen != 32)
		return EIO;
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xf];
	}
	out[AUDIT_HASH_HEX] = '\0';
	return 0;
}
