/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_list.c - walking every agent or group with the paged results
 * control (RFC 2696), so that listings are not cut at the server's
 * size limit. Each page is bounded by cfg->timeout.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "internal.h"
#include "ldap_internal.h"

#define PAGE_SIZE 250
#define MAX_MEMBERS 65536 /* memberUid values per group */

typedef int (*entry_fn)(LDAP *ld, LDAPMessage *e, void *arg);

/* Searches base/filter page by page and calls fn for each entry. */
static int
paged_search(struct agentid_ldap *l, const char *base, const char *filter,
    char **attrs, entry_fn fn, void *arg, struct agentid_error *err)
{
	struct timeval tv;
	struct berval cookie = { 0, NULL };
	LDAPControl *page = NULL, *sctrls[2] = { NULL, NULL }, **rctrls = NULL;
	LDAPControl *resp;
	LDAPMessage *res = NULL, *e;
	ber_int_t estimate;
	int rc, lrc, r = 0;

	for (;;) {
		rc = ldap_create_page_control(l->ld, PAGE_SIZE, &cookie, 0, &page);
		if (rc != LDAP_SUCCESS) {
			r = aidl_seterr(l, rc, err, "paged results control");
			goto out;
		}
		sctrls[0] = page;
		/* a listing is long: each page gets the whole timeout */
		aidl_deadline_restart(l);
		tv = aidl_timeout(l);
		rc = ldap_search_ext_s(l->ld, base, LDAP_SCOPE_SUBTREE, filter,
		    attrs, 0, sctrls, NULL, &tv, 0, &res);
		if (rc != LDAP_SUCCESS) {
			r = aidl_seterr(l, rc, err, "search");
			goto out;
		}
		for (e = ldap_first_entry(l->ld, res); e != NULL;
		    e = ldap_next_entry(l->ld, e))
			if ((r = fn(l->ld, e, arg)) != 0)
				goto out;
		rc = ldap_parse_result(l->ld, res, &lrc, NULL, NULL, NULL, &rctrls, 0);
		if (rc != LDAP_SUCCESS || lrc != LDAP_SUCCESS) {
			r = aidl_seterr(l, rc != LDAP_SUCCESS ? rc : lrc, err, "search");
			goto out;
		}
		ldap_msgfree(res);
		res = NULL;
		ldap_control_free(page);
		page = NULL;
		if (cookie.bv_val != NULL)
			ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		resp = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
		if (resp == NULL) /* server without paging: that was everything */
			break;
		rc = ldap_parse_pageresponse_control(l->ld, resp, &estimate, &cookie);
		ldap_controls_free(rctrls);
		rctrls = NULL;
		if (rc != LDAP_SUCCESS) {
			r = aidl_seterr(l, rc, err, "paged results response");
			goto out;
		}
		if (cookie.bv_val == NULL || cookie.bv_len == 0)
			break;
	}
out:
	if (rctrls != NULL)
		ldap_controls_free(rctrls);
	if (res != NULL)
		ldap_msgfree(res);
	if (page != NULL)
		ldap_control_free(page);
	if (cookie.bv_val != NULL)
		ber_memfree(cookie.bv_val);
	return r;
}

struct agent_walk {
	agentid_agent_cb cb;
	void *arg;
	struct agentid_error *err;
};

/* Parses one agent entry and hands it to the caller. */
static int
agent_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct agent_walk *w = arg;
	struct agentid_record rec;
	int r;

	memset(&rec, 0, sizeof(rec));
	if ((r = aidl_entry_record(ld, e, &rec)) != 0) {
		/* one malformed entry must not hide all the others */
		agentid_record_clear(&rec);
		return r == EBADMSG ? 0 : r;
	}
	/* an agent entry with two uid values is not an agent, but the
	 * inventory flags it (ambiguous) */
	if (rec.is_agent || rec.ambiguous)
		r = w->cb(&rec, w->arg);
	agentid_record_clear(&rec);
	return r;
}

/* Calls cb for each agent under base matching agent_filter. */
int
agentid_ldap_each_agent(struct agentid_ldap *l, agentid_agent_cb cb,
    void *arg, struct agentid_error *err)
{
	struct agent_walk w = { cb, arg, err };
	const char *filter = l->cfg->agent_filter ? l->cfg->agent_filter :
	    "(objectClass=agentIdentity)";

	return paged_search(l, l->cfg->base, filter, aidl_record_attrs,
	    agent_entry, &w, err);
}

struct group_walk {
	agentid_group_cb cb;
	void *arg;
};

/* Parses one posixGroup entry and hands it to the caller. */
static int
group_entry(LDAP *ld, LDAPMessage *e, void *arg)
{
	struct group_walk *w = arg;
	struct agentid_group g;
	struct berval **v = NULL;
	char *s = NULL;
	uint64_t gid;
	size_t i;
	int r = 0;

	memset(&g, 0, sizeof(g));
	if ((v = ldap_get_values_len(ld, e, "cn")) == NULL || v[0] == NULL ||
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) != NULL)
		goto out; /* skipped: not a usable group */
	if ((g.name = strndup(v[0]->bv_val, v[0]->bv_len)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	ldap_value_free_len(v);
	if ((v = ldap_get_values_len(ld, e, "gidNumber")) == NULL ||
	    v[0] == NULL || v[0]->bv_len == 0 || v[0]->bv_len > 10)
		goto out;
	if ((s = strndup(v[0]->bv_val, v[0]->bv_len)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	if (agentid_parse_decimal(s, UINT32_MAX, &gid) != 0)
		goto out;
	g.gid = (uint32_t)gid;
	ldap_value_free_len(v);
	if ((v = ldap_get_values_len(ld, e, "memberUid")) != NULL) {
		for (i = 0; v[i] != NULL && i < MAX_MEMBERS; i++) {
			char *m;

			if (memchr(v[i]->bv_val, '\0', v[i]->bv_len) != NULL)
				continue;
			if ((m = strndup(v[i]->bv_val, v[i]->bv_len)) == NULL) {
				r = ENOMEM;
				goto out;
			}
			r = agentid_strv_add(&g.members, &g.n_members, m);
			free(m);
			if (r != 0)
				goto out;
		}
	}
	if (g.members == NULL && (g.members = calloc(1, sizeof(char *))) == NULL) {
		r = ENOMEM;
		goto out;
	}
	r = w->cb(&g, w->arg);
out:
	if (v != NULL)
		ldap_value_free_len(v);
	free(s);
	free(g.name);
	agentid_strv_free(g.members);
	return r;
}

/* Calls cb for each posixGroup under group_base. */
int
agentid_ldap_each_group(struct agentid_ldap *l, agentid_group_cb cb,
    void *arg, struct agentid_error *err)
{
	static char *attrs[] = { "cn", "gidNumber", "memberUid", NULL };
	struct group_walk w = { cb, arg };
	const char *base = l->cfg->group_base ? l->cfg->group_base : l->cfg->base;

	return paged_search(l, base, "(objectClass=posixGroup)", attrs,
	    group_entry, &w, err);
}
