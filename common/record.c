/* SPDX-License-Identifier: BSD-2-Clause */
/* record.c - the record and chain model. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentid.h"
#include "chain.h"
#include "internal.h"

/* Frees a NULL-terminated vector of strings. */
void
agentid_strv_free(char **v)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Appends a copy of s; returns 0 or ENOMEM (vector unchanged). */
int
agentid_strv_add(char ***v, size_t *n, const char *s)
{
	char **nv, *copy;

	if ((copy = strdup(s)) == NULL)
		return ENOMEM;
	if ((nv = realloc(*v, (*n + 2) * sizeof(*nv))) == NULL) {
		free(copy);
		return ENOMEM;
	}
	nv[(*n)++] = copy;
	nv[*n] = NULL;
	*v = nv;
	return 0;
}

/* agentStatus value to enum: absent = active, unknown values = suspended. */
enum agentid_status
agentid_status_parse(const char *s)
{
	if (s == NULL || strcasecmp(s, "active") == 0)
		return AGENTID_STATUS_ACTIVE;
	if (strcasecmp(s, "revoked") == 0)
		return AGENTID_STATUS_REVOKED;
	return AGENTID_STATUS_SUSPENDED;
}

/* The status as DESIGN.md writes it. */
const char *
agentid_status_name(enum agentid_status st)
{
	switch (st) {
	case AGENTID_STATUS_ACTIVE:
		return "active";
	case AGENTID_STATUS_REVOKED:
		return "revoked";
	case AGENTID_STATUS_SUSPENDED:
	default:
		return "suspended";
	}
}

/* Frees everything a record owns and zeroes it. */
void
agentid_record_clear(struct agentid_record *r)
{
	if (r == NULL)
		return;
	free(r->dn);
	free(r->uid);
	free(r->owner_dn);
	agentid_strv_free(r->scope);
	agentid_strv_free(r->fingerprints);
	free(r->status_text);
	free(r->home);
	free(r->shell);
	free(r->gecos);
	free(r->description);
	memset(r, 0, sizeof(*r));
}

/* Appends a zeroed record (owner_active true) to c; NULL on ENOMEM. */
struct agentid_record *
agentid_chain_add(struct agentid_chain *c)
{
	struct agentid_record *nr;

	if ((nr = realloc(c->rec, (c->n + 1) * sizeof(*nr))) == NULL)
		return NULL;
	c->rec = nr;
	memset(&nr[c->n], 0, sizeof(*nr));
	nr[c->n].owner_active = true;
	return &nr[c->n++];
}

/* Frees all records of c. */
void
agentid_chain_clear(struct agentid_chain *c)
{
	size_t i;

	for (i = 0; i < c->n; i++)
		agentid_record_clear(&c->rec[i]);
	free(c->rec);
	c->rec = NULL;
	c->n = 0;
}

/* Copies a string vector; 0 or ENOMEM. */
static int
strv_copy(char ***dst, size_t *dn, char *const *src, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n && src != NULL && src[i] != NULL; i++)
		if ((r = agentid_strv_add(dst, dn, src[i])) != 0)
			return r;
	return 0;
}

/* Duplicates s into *out (NULL stays NULL); false on ENOMEM. */
static bool
dup_opt(char **out, const char *s)
{
	*out = NULL;
	if (s == NULL)
		return true;
	return (*out = strdup(s)) != NULL;
}

/* Deep copy of src into a zeroed dst. */
int
agentid_record_copy(struct agentid_record *dst, const struct agentid_record *src)
{
	dst->is_agent = src->is_agent;
	dst->has_not_before = src->has_not_before;
	dst->not_before = src->not_before;
	dst->has_not_after = src->has_not_after;
	dst->not_after = src->not_after;
	dst->status = src->status;
	dst->has_posix = src->has_posix;
	dst->uid_number = src->uid_number;
	dst->gid_number = src->gid_number;
	dst->owner_active = src->owner_active;
	dst->owner_match = src->owner_match;
	dst->ambiguous = src->ambiguous;
	if (!dup_opt(&dst->dn, src->dn) || !dup_opt(&dst->uid, src->uid) ||
	    !dup_opt(&dst->owner_dn, src->owner_dn) ||
	    !dup_opt(&dst->status_text, src->status_text) ||
	    !dup_opt(&dst->home, src->home) || !dup_opt(&dst->shell, src->shell) ||
	    !dup_opt(&dst->gecos, src->gecos) ||
	    !dup_opt(&dst->description, src->description) ||
	    strv_copy(&dst->scope, &dst->n_scope, src->scope, src->n_scope) != 0 ||
	    strv_copy(&dst->fingerprints, &dst->n_fingerprints, src->fingerprints,
	    src->n_fingerprints) != 0) {
		agentid_record_clear(dst);
		return ENOMEM;
	}
	return 0;
}
