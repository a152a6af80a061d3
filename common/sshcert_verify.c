/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshcert_verify.c - verifies the CA signature of an OpenSSH certificate with
 * OpenSSL EVP: ssh-ed25519, ecdsa-sha2-nistp256/384/521 (SHA-256/384/512)
 * and RSA with rsa-sha2-256/512. ssh-rsa (SHA-1) signatures are refused.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "agentid.h"
#include "agentid_sshcert.h"
#include "sshcert_internal.h"

/* OpenSSL's name of the curve of an ECDSA key type. */
static const char *
ec_group_name(enum agentid_sshkey_type t)
{
	switch (t) {
	case AGENTID_SSHKEY_ECDSA_P256:
		return "prime256v1";
	case AGENTID_SSHKEY_ECDSA_P384:
		return "secp384r1";
	case AGENTID_SSHKEY_ECDSA_P521:
		return "secp521r1";
	default:
		return NULL;
	}
}

/* Builds an EVP_PKEY (ECDSA or RSA) from params; 0 or EKEYREJECTED. */
static int
pkey_fromdata(const char *alg, OSSL_PARAM_BLD *bld, EVP_PKEY **out)
{
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	int r = EKEYREJECTED;

	if ((params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1)
		goto out;
	r = 0;
out:
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	return r;
}

/* The CA key as an EVP_PKEY; 0 or EKEYREJECTED. */
static int
ca_pkey(const struct sshkey_pub *k, EVP_PKEY **out)
{
	OSSL_PARAM_BLD *bld = NULL;
	BIGNUM *n = NULL, *e = NULL;
	int r = EKEYREJECTED;

	*out = NULL;
	switch (k->type) {
	case AGENTID_SSHKEY_ED25519:
		*out = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, k->a,
		    k->a_len);
		r = *out != NULL ? 0 : EKEYREJECTED;
		break;
	case AGENTID_SSHKEY_ECDSA_P256:
	case AGENTID_SSHKEY_ECDSA_P384:
	case AGENTID_SSHKEY_ECDSA_P521:
		if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
		    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
		    ec_group_name(k->type), 0) != 1 ||
		    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    k->a, k->a_len) != 1)
			goto out;
		r = pkey_fromdata("EC", bld, out);
		break;
	case AGENTID_SSHKEY_RSA:
		if ((e = BN_bin2bn(k->a, (int)k->a_len, NULL)) == NULL ||
		    (n = BN_bin2bn(k->b, (int)k->b_len, NULL)) == NULL ||
		    BN_num_bits(n) < SSHKEY_RSA_MIN_BITS ||
		    (bld = OSSL_PARAM_BLD_new()) == NULL ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) != 1 ||
		    OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) != 1)
			goto out;
		r = pkey_fromdata("RSA", bld, out);
		break;
	default:
		break;
	}
out:
	OSSL_PARAM_BLD_free(bld);
	BN_free(n);
	BN_free(e);
	return r;
}

/* The SSH ECDSA signature (mpint r, mpint s) as DER; 0 or EBADMSG/ENOMEM. */
static int
ecdsa_sig_der(const unsigned char *sig, size_t len, size_t maxbytes,
    unsigned char **der, size_t *derlen)
{
	const unsigned char *rp, *sp;
	size_t rl, sl;
	struct sshrd rd;
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *p = NULL;
	int n, r = EBADMSG;

	sshrd_init(&rd, sig, len);
	if (sshrd_mpint(&rd, &rp, &rl, maxbytes) != 0 ||
	    sshrd_mpint(&rd, &sp, &sl, maxbytes) != 0 || rd.left != 0 ||
	    rl == 0 || sl == 0)
		goto out;
	r = ENOMEM;
	if ((es = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(rp, (int)rl, NULL)) == NULL ||
	    (bs = BN_bin2bn(sp, (int)sl, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, br, bs) != 1)
		goto out;
	br = bs = NULL; /* owned by es now */
	if ((n = i2d_ECDSA_SIG(es, &p)) <= 0)
		goto out;
	*der = p;
	*derlen = (size_t)n;
	r = 0;
out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(es);
	return r;
}

/*
 * Checks that alg is a signature algorithm we accept for a CA key of type
 * t; gives the digest (NULL for ed25519). EKEYREJECTED otherwise.
 */
static int
sig_digest(enum agentid_sshkey_type t, const char *alg, const EVP_MD **md)
{
	const char *plain = sshkey_plain_name(t);

	*md = NULL;
	switch (t) {
	case AGENTID_SSHKEY_ED25519:
		return strcmp(alg, plain) == 0 ? 0 : EKEYREJECTED;
	case AGENTID_SSHKEY_ECDSA_P256:
		*md = EVP_sha256();
		return strcmp(alg, plain) == 0 ? 0 : EKEYREJECTED;
	case AGENTID_SSHKEY_ECDSA_P384:
		*md = EVP_sha384();
		return strcmp(alg, plain) == 0 ? 0 : EKEYREJECTED;
	case AGENTID_SSHKEY_ECDSA_P521:
		*md = EVP_sha512();
		return strcmp(alg, plain) == 0 ? 0 : EKEYREJECTED;
	case AGENTID_SSHKEY_RSA:
		if (strcmp(alg, "rsa-sha2-256") == 0)
			*md = EVP_sha256();
		else if (strcmp(alg, "rsa-sha2-512") == 0)
			*md = EVP_sha512();
		else
			return EKEYREJECTED; /* ssh-rsa is SHA-1: refused */
		return 0;
	default:
		return EKEYREJECTED;
	}
}

/* Verifies c's CA signature; 0, EKEYREJECTED, EBADMSG or ENOMEM. */
int
agentid_sshcert_verify(const struct agentid_sshcert *c,
    struct agentid_error *err)
{
	struct sshkey_pub ca;
	struct sshrd rd;
	const unsigned char *sig, *alg;
	unsigned char *rsabuf = NULL, *der = NULL;
	size_t siglen, alglen, derlen = 0, modlen;
	const EVP_MD *md = NULL;
	EVP_PKEY *pkey = NULL;
	EVP_MD_CTX *mctx = NULL;
	const char *curve;
	int r;

	if (c == NULL || c->wire == NULL || c->wire->blob == NULL || c->sig_alg == NULL)
		return agentid_seterr(err, EINVAL, "certificate: not parsed");
	if ((r = sshkey_parse_blob(c->wire->blob + c->wire->ca_off, c->wire->ca_len, &ca)) != 0) {
		agentid_seterr(err, r, "certificate: bad CA key");
		goto out;
	}
	if ((r = sig_digest(ca.type, c->sig_alg, &md)) != 0) {
		agentid_seterr(err, r,
		    "certificate: signature algorithm %s refused for this CA key",
		    c->sig_alg);
		goto out;
	}
	sshrd_init(&rd, c->wire->blob + c->wire->sig_off, c->wire->sig_len);
	if ((r = sshrd_string(&rd, &alg, &alglen)) != 0 ||
	    (r = sshrd_string(&rd, &sig, &siglen)) != 0) {
		agentid_seterr(err, r, "certificate: bad signature");
		goto out;
	}
	if ((r = ca_pkey(&ca, &pkey)) != 0) {
		agentid_seterr(err, r, "certificate: CA key refused by OpenSSL");
		goto out;
	}
	r = EKEYREJECTED;
	switch (ca.type) {
	case AGENTID_SSHKEY_ED25519:
		if (siglen != 64) {
			agentid_seterr(err, r, "certificate: bad ed25519 signature length");
			goto out;
		}
		break;
	case AGENTID_SSHKEY_RSA:
		/* OpenSSH accepts a signature shorter than the modulus: pad it */
		modlen = (size_t)EVP_PKEY_get_size(pkey);
		if (siglen > modlen || siglen == 0) {
			agentid_seterr(err, r, "certificate: bad RSA signature length");
			goto out;
		}
		if ((rsabuf = calloc(1, modlen)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		memcpy(rsabuf + modlen - siglen, sig, siglen);
		sig = rsabuf;
		siglen = modlen;
		break;
	default: /* ECDSA */
		modlen = (sshkey_ec_point_len(ca.type, &curve) - 1) / 2;
		if (ecdsa_sig_der(sig, siglen, modlen, &der, &derlen) != 0) {
			agentid_seterr(err, r, "certificate: bad ECDSA signature");
			goto out;
		}
		sig = der;
		siglen = derlen;
		break;
	}
	if ((mctx = EVP_MD_CTX_new()) == NULL) {
		r = ENOMEM;
		goto out;
	}
	if (EVP_DigestVerifyInit(mctx, NULL, md, NULL, pkey) != 1 ||
	    EVP_DigestVerify(mctx, sig, siglen, c->wire->blob, c->wire->signed_len) != 1) {
		r = agentid_seterr(err, EKEYREJECTED,
		    "certificate: CA signature does not verify");
		goto out;
	}
	r = 0;
out:
	EVP_MD_CTX_free(mctx);
	EVP_PKEY_free(pkey);
	free(rsabuf);
	OPENSSL_free(der);
	if (r != 0)
		ERR_clear_error(); /* leave no error behind in the host process */
	return r;
}
