/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_admin.c - the directory writes of the lifecycle commands, with the
 * operator's own connection: who am I, searches by one attribute, the
 * uidNumbers in use, and applying one change (lifecycle.h). Each call gets
 * a fresh `timeout` budget: the tool runs several in a row.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "chain.h"
#include "internal.h"
#include "ldap_internal.h"
#include "lifecycle.h"

/* agentid_ldap_open with an in-memory password for cfg->binddn. */
int
agentid_ldap_open_password(const struct agentid_config *cfg,
    const char *password, struct agentid_ldap **out, struct agentid_error *err)
{
	return aidl_open_password(cfg, password, out, err);
}

/* The identity the server bound us as ("dn:" removed). */
int
agentid_ldap_whoami(struct agentid_ldap *l, char **id, struct agentid_error *err)
{
	struct berval *authzid = NULL;
	const char *s;
	int rc, r = 0;

	*id = NULL;
	aidl_deadline_restart(l);
	if ((rc = ldap_whoami_s(l->ld, &authzid, NULL, NULL)) != LDAP_SUCCESS)
		return aidl_seterr(l, rc, err, "who am I");
	if (authzid == NULL || authzid->bv_val == NULL || authzid->bv_len == 0) {
		r = agentid_seterr(err, EACCES, "%s: the server says this "
		    "connection is anonymous", l->uri);
		goto out;
	}
	s = authzid->bv_val;
	if (authzid->bv_len > 3 && strncmp(s, "dn:", 3) == 0)
		*id = strndup(s + 3, authzid->bv_len - 3);
	else
		*id = strndup(s, authzid->bv_len);
	if (*id == NULL)
		r = ENOMEM;
out:
	ber_bvfree(authzid);
	return r;
}

/* The chain builder's lookups over l, with a new time budget. */
void
agentid_ldap_lookup(struct agentid_ldap *l, struct agentid_lookup *lk)
{
	aidl_deadline_restart(l);
	aidl_lookup(l, lk);
}

/* uid=VALUE,base with VALUE escaped as RFC 4514 says. */
char *
agentid_ldap_agent_dn(const struct agentid_config *cfg, const char *uid)
{
	size_t n = strlen(uid), i, o = 0;
	char *v, *dn;

	if (cfg->base == NULL || (v = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)uid[i];

		if (strchr(",+\"\\<>;=", c) != NULL ||
		    (i == 0 && (c == ' ' || c == '#')) ||
		    (i == n - 1 && c == ' '))
			v[o++] = '\\';
		v[o++] = (char)c;
	}
	v[o] = '\0';
	n = strlen(v) + strlen(cfg->base) + 6;
	if ((dn = malloc(n)) != NULL)
		snprintf(dn, n, "uid=%s,%s", v, cfg->base);
	free(v);
	return dn;
}

/* Frees a NULL-terminated DN list. */
void
agentid_ldap_dns_free(char **dns)
{
	agentid_strv_free(dns);
}

/* DNs under base whose attr is value. */
int
agentid_ldap_find(struct agentid_ldap *l, const char *attr, const char *value,
    char ***dns, size_t *n, struct agentid_error *err)
{
	struct berval in, esc = { 0, NULL };
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL, *e;
	struct timeval tv;
	char *filter = NULL, *dn;
	size_t len;
	int rc, r = ENOMEM;

	*dns = NULL;
	*n = 0;
	in.bv_val = (char *)value;
	in.bv_len = strlen(value);
	if (ldap_bv2escaped_filter_value(&in, &esc) != 0 || esc.bv_val == NULL)
		goto out;
	len = strlen(attr) + strlen(esc.bv_val) + 4;
	if ((filter = malloc(len)) == NULL)
		goto out;
	snprintf(filter, len, "(%s=%s)", attr, esc.bv_val);
	aidl_deadline_restart(l);
	tv = aidl_timeout(l);
	rc = ldap_search_ext_s(l->ld, l->cfg->base, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, 0, &res);
	if (rc != LDAP_SUCCESS) {
		r = aidl_seterr(l, rc, err, filter);
		goto out;
	}
	for (e = ldap_first_entry(l->ld, res); e != NULL;
	    e = ldap_next_entry(l->ld, e)) {
		if ((dn = ldap_get_dn(l->ld, e)) == NULL)
			goto out;
		r = agentid_strv_add(dns, n, dn);
		ldap_memfree(dn);
		if (r != 0)
			goto out;
	}
	if (*dns == NULL && (*dns = calloc(1, sizeof(char *))) == NULL)
		goto out;
	r = 0;
out:
	if (r != 0) {
		agentid_strv_free(*dns);
		*dns = NULL;
		*n = 0;
	}
	if (res != NULL)
		ldap_msgfree(res);
	if (esc.bv_val != NULL)
		ber_memfree(esc.bv_val);
	free(filter);
	return r;
}

/* Every uidNumber in [lo, hi] under base. */
int
agentid_ldap_uid_numbers(struct agentid_ldap *l, uint32_t lo, uint32_t hi,
    uint32_t **nums, size_t *n, struct agentid_error *err)
{
	char *attrs[] = { "uidNumber", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	struct timeval tv;
	uint32_t *a = NULL, *na;
	unsigned long long u;
	char buf[24], *end;
	size_t i;
	int rc, r = 0;

	*nums = NULL;
	*n = 0;
	aidl_deadline_restart(l);
	tv = aidl_timeout(l);
	/* uidNumber has no ordering rule in every schema: read them all */
	rc = ldap_search_ext_s(l->ld, l->cfg->base, LDAP_SCOPE_SUBTREE,
	    "(uidNumber=*)", attrs, 0, NULL, NULL, &tv, 0, &res);
	if (rc != LDAP_SUCCESS) {
		r = aidl_seterr(l, rc, err, "reading the uidNumbers in use");
		goto out;
	}
	for (e = ldap_first_entry(l->ld, res); e != NULL;
	    e = ldap_next_entry(l->ld, e)) {
		if ((v = ldap_get_values_len(l->ld, e, "uidNumber")) == NULL)
			continue;
		for (i = 0; v[i] != NULL; i++) {
			if (v[i]->bv_len == 0 || v[i]->bv_len >= sizeof(buf))
				continue;
			memcpy(buf, v[i]->bv_val, v[i]->bv_len);
			buf[v[i]->bv_len] = '\0';
			errno = 0;
			u = strtoull(buf, &end, 10);
			if (errno != 0 || *end != '\0' || u < lo || u > hi)
				continue;
			if ((na = realloc(a, (*n + 1) * sizeof(*a))) == NULL) {
				ldap_value_free_len(v);
				r = ENOMEM;
				goto out;
			}
			a = na;
			a[(*n)++] = (uint32_t)u;
		}
		ldap_value_free_len(v);
	}
	*nums = a;
	a = NULL;
out:
	free(a);
	if (r != 0)
		*n = 0;
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/*
 * After dn was added holding uidNumber n: must dn give the number up?
 * Every entry under base holding n is read with its entryCSN (the
 * server's change sequence: a total order of the writes it accepted).
 * dn yields when another holder's CSN is earlier, or when a CSN is
 * missing (then every contender may yield: a retry or a refusal, never
 * two holders). Of two creates racing for n, the later add sees the
 * earlier one (it was written first) and yields; the earlier keeps it
 * whether or not it saw the later. *other: a holder that made dn yield.
 */
int
agentid_ldap_uid_contested(struct agentid_ldap *l, uint32_t n, const char *dn,
    bool *yield, char **other, struct agentid_error *err)
{
	char *attrs[] = { "entryCSN", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v;
	struct timeval tv;
	char filter[40], *edn, *mine = NULL, *best = NULL, *best_dn = NULL;
	bool unknown = false, found_self = false;
	int rc, r = ENOMEM;

	*yield = false;
	*other = NULL;
	snprintf(filter, sizeof(filter), "(uidNumber=%u)", n);
	aidl_deadline_restart(l);
	tv = aidl_timeout(l);
	rc = ldap_search_ext_s(l->ld, l->cfg->base, LDAP_SCOPE_SUBTREE, filter,
	    attrs, 0, NULL, NULL, &tv, 0, &res);
	if (rc != LDAP_SUCCESS) {
		r = aidl_seterr(l, rc, err, filter);
		goto out;
	}
	/* mine first: the CSN the others are compared with */
	for (e = ldap_first_entry(l->ld, res); e != NULL;
	    e = ldap_next_entry(l->ld, e)) {
		if ((edn = ldap_get_dn(l->ld, e)) == NULL)
			goto out;
		if (agentid_dn_equal(edn, dn)) {
			found_self = true;
			v = ldap_get_values_len(l->ld, e, "entryCSN");
			if (v != NULL && v[0] != NULL && mine == NULL)
				mine = strndup(v[0]->bv_val, v[0]->bv_len);
			ldap_value_free_len(v);
		}
		ldap_memfree(edn);
	}
	for (e = ldap_first_entry(l->ld, res); e != NULL;
	    e = ldap_next_entry(l->ld, e)) {
		char *csn = NULL;

		if ((edn = ldap_get_dn(l->ld, e)) == NULL)
			goto out;
		if (agentid_dn_equal(edn, dn)) {
			ldap_memfree(edn);
			continue;
		}
		v = ldap_get_values_len(l->ld, e, "entryCSN");
		if (v != NULL && v[0] != NULL)
			csn = strndup(v[0]->bv_val, v[0]->bv_len);
		ldap_value_free_len(v);
		if (csn == NULL || mine == NULL) {
			unknown = true;
		} else if (strcmp(csn, mine) <= 0 &&
		    (best == NULL || strcmp(csn, best) < 0)) {
			free(best);
			best = csn;
			csn = NULL;
			free(best_dn);
			best_dn = strdup(edn);
		}
		if (unknown && best_dn == NULL)
			best_dn = strdup(edn);
		free(csn);
		ldap_memfree(edn);
	}
	if (!found_self) {
		/* our entry is gone (deleted meanwhile): nothing to keep */
		*yield = true;
	} else if (best != NULL || unknown) {
		*yield = true;
		*other = best_dn;
		best_dn = NULL;
	}
	r = 0;
out:
	free(mine);
	free(best);
	free(best_dn);
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* LDAPMod array for ch (values borrowed from ch); NULL when out of memory. */
static LDAPMod **
ldap_mods(const struct agentid_change *ch, LDAPMod **store)
{
	static const int ops[] = { LDAP_MOD_ADD, LDAP_MOD_REPLACE,
	    LDAP_MOD_DELETE };
	LDAPMod **mods, *m;
	size_t i;

	if ((mods = calloc(ch->n_mods + 1, sizeof(*mods))) == NULL ||
	    (m = calloc(ch->n_mods + 1, sizeof(*m))) == NULL) {
		free(mods);
		return NULL;
	}
	for (i = 0; i < ch->n_mods; i++) {
		m[i].mod_op = ch->op == AGENTID_CHANGE_ADD ? LDAP_MOD_ADD :
		    ops[ch->mods[i].op];
		m[i].mod_type = ch->mods[i].attr;
		m[i].mod_values = ch->mods[i].values;
		mods[i] = &m[i];
	}
	*store = m;
	return mods;
}

/* Writes ch: add, modify or delete. */
int
agentid_ldap_apply(struct agentid_ldap *l, const struct agentid_change *ch,
    struct agentid_error *err)
{
	LDAPMod **mods = NULL, *store = NULL;
	struct timeval tv;
	int rc;

	aidl_deadline_restart(l);
	tv = aidl_timeout(l);
	(void)ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv);
	if (ch->op != AGENTID_CHANGE_DELETE && (mods = ldap_mods(ch, &store)) == NULL)
		return ENOMEM;
	switch (ch->op) {
	case AGENTID_CHANGE_ADD:
		rc = ldap_add_ext_s(l->ld, ch->dn, mods, NULL, NULL);
		break;
	case AGENTID_CHANGE_MODIFY:
		rc = ldap_modify_ext_s(l->ld, ch->dn, mods, NULL, NULL);
		break;
	default:
		rc = ldap_delete_ext_s(l->ld, ch->dn, NULL, NULL);
		break;
	}
	free(store);
	free(mods);
	if (rc != LDAP_SUCCESS)
		return aidl_seterr(l, rc, err, ch->dn);
	return 0;
}
