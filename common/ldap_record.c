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

/* What aidl_entry_parse keeps: aidl_record_attrs and what agentidd's
 * store and filters read besides (its sync_attrs). */
static const char *const entry_attrs[AIDL_ENTRY_ATTRS] = {
	"objectClass", "uid", "agentOwner", "agentScope", "agentKeyFingerprint",
	"agentNotBefore", "agentNotAfter", "agentStatus", "uidNumber",
	"gidNumber", "homeDirectory", "loginShell", "gecos", "description",
	"cn", "memberUid", "entryUUID"
};

/* The index of an attribute description in entry_attrs, or -1. Exact
 * names without case, as ldap_get_values_len matches them. */
static int
attr_index(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < AIDL_ENTRY_ATTRS; i++)
		if (strlen(entry_attrs[i]) == len &&
		    strncasecmp(entry_attrs[i], name, len) == 0)
			return (int)i;
	return -1;
}

void
aidl_entry_free(struct aidl_entry *v)
{
	size_t i;

	for (i = 0; i < AIDL_ENTRY_ATTRS; i++)
		if (v->vals[i] != NULL)
			ber_memfree(v->vals[i]);
	if (v->ber != NULL)
		ber_free(v->ber, 0);
	free(v->dn);
	memset(v, 0, sizeof(*v));
}

int
aidl_entry_parse(LDAP *ld, LDAPMessage *e, struct aidl_entry *v)
{
	struct berval dn = { 0, NULL }, attr;
	BerVarray vals;
	int i, rc = EBADMSG;

	memset(v, 0, sizeof(*v));
	if (ldap_get_dn_ber(ld, e, &v->ber, &dn) != LDAP_SUCCESS ||
	    v->ber == NULL || dn.bv_val == NULL ||
	    memchr(dn.bv_val, '\0', dn.bv_len) != NULL)
		goto out;
	if ((v->dn = strndup(dn.bv_val, dn.bv_len)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	for (;;) {
		vals = NULL;
		if (ldap_get_attribute_ber(ld, e, v->ber, &attr, &vals) !=
		    LDAP_SUCCESS) {
			if (vals != NULL)
				ber_memfree(vals);
			goto out;
		}
		if (attr.bv_val == NULL)
			break;
		i = attr_index(attr.bv_val, attr.bv_len);
		/* an empty set reads as absent, as from ldap_get_values_len */
		if (i < 0 || v->vals[i] != NULL || vals == NULL ||
		    vals[0].bv_val == NULL) {
			if (vals != NULL)
				ber_memfree(vals);
			continue;
		}
		v->vals[i] = vals;
	}
	rc = 0;
out:
	/* what read stays (the DN of an entry whose attributes did not
	 * decode, for a marker): the caller frees *v in every case */
	return rc;
}

const struct berval *
aidl_entry_values(const struct aidl_entry *v, const char *attr)
{
	int i = attr_index(attr, strlen(attr));

	return i < 0 ? NULL : v->vals[i];
}

/* The first value of attr as a string in *out (NULL when absent). */
static int
get_one(const struct aidl_entry *e, const char *attr, char **out)
{
	const struct berval *v = aidl_entry_values(e, attr);

	*out = NULL;
	if (v == NULL || v[0].bv_val == NULL)
		return 0;
	return bv_strdup(&v[0], out);
}

/* All values of attr appended to the vector *vec of *n entries. */
static int
get_all(const struct aidl_entry *e, const char *attr, char ***vec, size_t *n)
{
	const struct berval *v = aidl_entry_values(e, attr);
	char *s = NULL;
	size_t i;
	int r;

	if (v == NULL)
		return 0;
	for (i = 0; v[i].bv_val != NULL; i++) {
		if (i >= MAX_VALUES)
			return EBADMSG;
		if ((r = bv_strdup(&v[i], &s)) != 0)
			return r;
		r = agentid_strv_add(vec, n, s);
		free(s);
		if (r != 0)
			return r;
	}
	return 0;
}

/* How many values attr has. */
static size_t
count_values(const struct aidl_entry *e, const char *attr)
{
	const struct berval *v = aidl_entry_values(e, attr);
	size_t n = 0;

	while (v != NULL && v[n].bv_val != NULL)
		n++;
	return n;
}

bool
aidl_entry_has_class(const struct aidl_entry *e, const char *oc)
{
	const struct berval *v = aidl_entry_values(e, "objectClass");
	size_t i, len = strlen(oc);

	for (i = 0; v != NULL && v[i].bv_val != NULL; i++)
		if (v[i].bv_len == len &&
		    strncasecmp(v[i].bv_val, oc, len) == 0)
			return true;
	return false;
}

/* True if the entry lists objectClass oc. */
bool
aidl_has_class(LDAP *ld, LDAPMessage *e, const char *oc)
{
	struct aidl_entry v;
	bool found;

	found = aidl_entry_parse(ld, e, &v) == 0 &&
	    aidl_entry_has_class(&v, oc);
	aidl_entry_free(&v);
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

/* True when ldap_dn_normalize would return dn unchanged: RDNs type=value
 * separated by ',' alone, each type a descriptor, each value made of
 * letters, digits, '.', '_', '@', '-' and inner spaces. Most DNs are of
 * this form; normalising them through libldap was a tenth of agentidd's
 * initial load. Anything else (escapes, '+', OIDs, ';', spaces around a
 * separator) takes the library's way. */
static bool
dn_is_normal(const char *dn)
{
	const char *p = dn;

	do {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
			return false;
		while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-')
			p++;
		if (*p++ != '=' || *p == ' ' || *p == ',' || *p == '\0')
			return false;
		for (; *p != ',' && *p != '\0'; p++)
			if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' ||
			    *p == '@' || *p == '-' || *p == ' '))
				return false;
		if (p[-1] == ' ')
			return false;
	} while (*p++ == ',');
	return true;
}

/* malloc'd RFC 4514 form of dn (spacing normalised), or a copy of dn. */
char *
aidl_dn_normalize(const char *dn)
{
	char *norm = NULL, *copy;

	if (dn == NULL)
		return NULL;
	if (dn_is_normal(dn))
		return strdup(dn);
	if (ldap_dn_normalize(dn, LDAP_DN_FORMAT_LDAP, &norm,
	    LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS || norm == NULL)
		return strdup(dn);
	copy = strdup(norm);
	ldap_memfree(norm);
	return copy;
}

/* Reads a GeneralizedTime attribute; *bad when present but unparsable. */
static int
get_time(const struct aidl_entry *e, const char *attr, bool *has,
    int64_t *t, bool *bad)
{
	char *s = NULL;
	int r;

	*has = false;
	*bad = false;
	if ((r = get_one(e, attr, &s)) != 0) {
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

/* Fills a zeroed r from a parsed entry (agent or human). */
int
aidl_entry_to_record(const struct aidl_entry *e, struct agentid_record *r)
{
	char *owner = NULL, *num = NULL;
	bool bad;
	int rc = ENOMEM;

	if ((r->dn = aidl_dn_normalize(e->dn)) == NULL)
		goto out;
	r->is_agent = aidl_entry_has_class(e, "agentIdentity");
	r->owner_active = true;
	/* two uid values answer for two names: not an agent entry */
	if (count_values(e, "uid") > 1) {
		r->ambiguous = true;
		r->is_agent = false;
	}
	if ((rc = get_one(e, "uid", &r->uid)) != 0 ||
	    (rc = get_one(e, "agentOwner", &owner)) != 0 ||
	    (rc = get_all(e, "agentScope", &r->scope, &r->n_scope)) != 0 ||
	    (rc = get_all(e, "agentKeyFingerprint", &r->fingerprints,
	    &r->n_fingerprints)) != 0 ||
	    (rc = get_one(e, "agentStatus", &r->status_text)) != 0 ||
	    (rc = get_one(e, "description", &r->description)) != 0)
		goto out;
	if (owner != NULL && (r->owner_dn = aidl_dn_normalize(owner)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	r->status = agentid_status_parse(r->status_text);
	if ((rc = get_time(e, "agentNotAfter", &r->has_not_after,
	    &r->not_after, &bad)) != 0)
		goto out;
	/* unparsable notAfter stays absent: the engine denies it (expired) */
	if ((rc = get_time(e, "agentNotBefore", &r->has_not_before,
	    &r->not_before, &bad)) != 0)
		goto out;
	if (bad) {
		/* unparsable notBefore: never valid (not_yet_valid) */
		r->has_not_before = true;
		r->not_before = INT64_MAX / 2;
	}
	if (aidl_entry_has_class(e, "posixAccount")) {
		bool ok;

		if ((rc = get_one(e, "uidNumber", &num)) != 0)
			goto out;
		ok = parse_u32(num, &r->uid_number);
		free(num);
		num = NULL;
		if ((rc = get_one(e, "gidNumber", &num)) != 0)
			goto out;
		ok = ok && parse_u32(num, &r->gid_number);
		if ((rc = get_one(e, "homeDirectory", &r->home)) != 0 ||
		    (rc = get_one(e, "loginShell", &r->shell)) != 0 ||
		    (rc = get_one(e, "gecos", &r->gecos)) != 0)
			goto out;
		r->has_posix = ok && r->uid != NULL && r->home != NULL;
	}
	rc = 0;
out:
	free(owner);
	free(num);
	return rc;
}

/* Fills a zeroed r from entry e (agent or human). */
int
aidl_entry_record(LDAP *ld, LDAPMessage *e, struct agentid_record *r)
{
	struct aidl_entry v;
	int rc;

	if ((rc = aidl_entry_parse(ld, e, &v)) == 0)
		rc = aidl_entry_to_record(&v, r);
	aidl_entry_free(&v);
	return rc;
}
