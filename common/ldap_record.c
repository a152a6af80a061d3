/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_record.c - directory entries to struct agentid_record. Values come
 * from the network: each is length-checked, values with a NUL byte are
 * refused, and a value that does not parse fails closed (a bad
 * agentNotAfter reads as absent, which the engine denies as expired).
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ldap.h>

#include "agentid.h"
#include "internal.h"
#include "ldap_internal.h"

#define MAX_VALUES 1024 /* per attribute; more is refused as malformed */

char *aidl_record_attrs[] = {
	"objectClass", "uid", "agentOwner", "agentScope", "agentKeyFingerprint",
	"agentNotBefore", "agentNotAfter", "agentStatus", "uidNumber",
	"gidNumber", "homeDirectory", "loginShell", "gecos", "description",
	NULL
};

/* Copies a berval to a C string; EBADMSG if it holds a NUL byte. */
static int
bv_strdup(const struct berval *bv, char **out)
{
	char *s;

	*out = NULL;
	if (bv->bv_len > 0 && memchr(bv->bv_val, '\0', bv->bv_len) != NULL)
		return EBADMSG;
	if ((s = malloc(bv->bv_len + 1)) == NULL)
		return ENOMEM;
	memcpy(s, bv->bv_val, bv->bv_len);
	s[bv->bv_len] = '\0';
	*out = s;
	return 0;
}

/* The first value of attr as a string in *out (NULL when absent). */
static int
get_one(LDAP *ld, LDAPMessage *e, const char *attr, char **out)
{
	struct berval **v;
	int r = 0;

	*out = NULL;
	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return 0;
	if (v[0] != NULL)
		r = bv_strdup(v[0], out);
	ldap_value_free_len(v);
	return r;
}

/* All values of attr appended to the vector *vec of *n entries. */
static int
get_all(LDAP *ld, LDAPMessage *e, const char *attr, char ***vec, size_t *n)
{
	struct berval **v;
	char *s = NULL;
	size_t i;
	int r = 0;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return 0;
	for (i = 0; v[i] != NULL; i++) {
		if (i >= MAX_VALUES) {
			r = EBADMSG;
			goto out;
		}
		if ((r = bv_strdup(v[i], &s)) != 0)
			goto out;
		r = agentid_strv_add(vec, n, s);
		free(s);
		if (r != 0)
			goto out;
	}
out:
	ldap_value_free_len(v);
	return r;
}

/* How many values attr has. */
static size_t
count_values(LDAP *ld, LDAPMessage *e, const char *attr)
{
	struct berval **v;
	size_t n;

	if ((v = ldap_get_values_len(ld, e, attr)) == NULL)
		return 0;
	n = (size_t)ldap_count_values_len(v);
	ldap_value_free_len(v);
	return n;
}

/* True if the entry lists objectClass oc. */
bool
aidl_has_class(LDAP *ld, LDAPMessage *e, const char *oc)
{
	struct berval **v;
	size_t i;
	bool found = false;

	if ((v = ldap_get_values_len(ld, e, "objectClass")) == NULL)
		return false;
	for (i = 0; v[i] != NULL; i++)
		if (v[i]->bv_len == strlen(oc) &&
		    strncasecmp(v[i]->bv_val, oc, v[i]->bv_len) == 0)
			found = true;
	ldap_value_free_len(v);
	return found;
}

/* A uidNumber/gidNumber: decimal, fits in uint32_t. */
static bool
parse_u32(const char *s, uint32_t *out)
{
	uint64_t v;

	if (agentid_parse_decimal(s, UINT32_MAX, &v) != 0)
		return false;
	*out = (uint32_t)v;
	return true;
}

/* malloc'd RFC 4514 form of dn (spacing normalised), or a copy of dn. */
char *
aidl_dn_normalize(const char *dn)
{
	char *norm = NULL, *copy;

	if (dn == NULL)
		return NULL;
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &norm,
	    LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || norm == NULL)
		return strdup(dn);
	copy = strdup(norm);
	ldap_memfree(norm);
	return copy;
}

/* Reads a GeneralizedTime attribute; *bad when present but unparsable. */
static int
get_time(LDAP *ld, LDAPMessage *e, const char *attr, bool *has, int64_t *t,
    bool *bad)
{
	char *s = NULL;
	int r;

	*has = false;
	*bad = false;
	if ((r = get_one(ld, e, attr, &s)) != 0) {
		if (r != EBADMSG)
			return r;
		*bad = true;
		return 0;
	}
	if (s == NULL)
		return 0;
	if (agentid_parse_gentime(s, t) == 0)
		*has = true;
	else
		*bad = true;
	free(s);
	return 0;
}

/* Fills a zeroed r from entry e (agent or human). */
int
aidl_entry_record(LDAP *ld, LDAPMessage *e, struct agentid_record *r)
{
	char *dn = NULL, *owner = NULL, *num = NULL;
	bool bad;
	int rc = ENOMEM;

	if ((dn = ldap_get_dn(ld, e)) == NULL) {
		rc = EBADMSG;
		goto out;
	}
	if ((r->dn = aidl_dn_normalize(dn)) == NULL)
		goto out;
	r->is_agent = aidl_has_class(ld, e, "agentIdentity");
	r->owner_active = true;
	/* two uid values answer for two names: not an agent entry */
	if (count_values(ld, e, "uid") > 1) {
		r->ambiguous = true;
		r->is_agent = false;
	}
	if ((rc = get_one(ld, e, "uid", &r->uid)) != 0 ||
	    (rc = get_one(ld, e, "agentOwner", &owner)) != 0 ||
	    (rc = get_all(ld, e, "agentScope", &r->scope, &r->n_scope)) != 0 ||
	    (rc = get_all(ld, e, "agentKeyFingerprint", &r->fingerprints,
	    &r->n_fingerprints)) != 0 ||
	    (rc = get_one(ld, e, "agentStatus", &r->status_text)) != 0 ||
	    (rc = get_one(ld, e, "description", &r->description)) != 0)
		goto out;
	if (owner != NULL && (r->owner_dn = aidl_dn_normalize(owner)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	r->status = agentid_status_parse(r->status_text);
	if ((rc = get_time(ld, e, "agentNotAfter", &r->has_not_after,
	    &r->not_after, &bad)) != 0)
		goto out;
	/* unparsable notAfter stays absent: the engine denies it (expired) */
	if ((rc = get_time(ld, e, "agentNotBefore", &r->has_not_before,
	    &r->not_before, &bad)) != 0)
		goto out;
	if (bad) {
		/* unparsable notBefore: never valid (not_yet_valid) */
		r->has_not_before = true;
		r->not_before = INT64_MAX / 2;
	}
	if (aidl_has_class(ld, e, "posixAccount")) {
		bool ok;

		if ((rc = get_one(ld, e, "uidNumber", &num)) != 0)
			goto out;
		ok = parse_u32(num, &r->uid_number);
		free(num);
		num = NULL;
		if ((rc = get_one(ld, e, "gidNumber", &num)) != 0)
			goto out;
		ok = ok && parse_u32(num, &r->gid_number);
		if ((rc = get_one(ld, e, "homeDirectory", &r->home)) != 0 ||
		    (rc = get_one(ld, e, "loginShell", &r->shell)) != 0 ||
		    (rc = get_one(ld, e, "gecos", &r->gecos)) != 0)
			goto out;
		r->has_posix = ok && r->uid != NULL && r->home != NULL;
	}
	rc = 0;
out:
	if (dn != NULL)
		ldap_memfree(dn);
	free(owner);
	free(num);
	return rc;
}
