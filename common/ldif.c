/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldif.c - one directory change (add, modify, delete of one entry) and its
 * LDIF (RFC 2849), which agentid --dry-run prints and ldapmodify accepts.
 * Pure: ldap_admin.c writes the same structure.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "internal.h"
#include "lifecycle.h"

/* Starts ch as op on dn. */
int
agentid_change_init(struct agentid_change *ch, enum agentid_change_op op,
    const char *dn)
{
	memset(ch, 0, sizeof(*ch));
	ch->op = op;
	return (ch->dn = strdup(dn)) == NULL ? ENOMEM : 0;
}

/* Adds value to the (op, attr) modification, creating it on first use. */
int
agentid_change_value(struct agentid_change *ch, enum agentid_mod_op op,
    const char *attr, const char *value)
{
	struct agentid_mod *m = NULL, *nm;
	size_t i;

	for (i = 0; i < ch->n_mods; i++)
		if (ch->mods[i].op == op && strcmp(ch->mods[i].attr, attr) == 0)
			m = &ch->mods[i];
	if (m == NULL) {
		if ((nm = realloc(ch->mods, (ch->n_mods + 1) * sizeof(*nm))) == NULL)
			return ENOMEM;
		ch->mods = nm;
		m = &ch->mods[ch->n_mods];
		memset(m, 0, sizeof(*m));
		m->op = op;
		if ((m->attr = strdup(attr)) == NULL)
			return ENOMEM;
		ch->n_mods++;
	}
	if (value == NULL)
		return 0;
	return agentid_strv_add(&m->values, &m->n, value);
}

/* Frees what ch owns. */
void
agentid_change_clear(struct agentid_change *ch)
{
	size_t i;

	for (i = 0; i < ch->n_mods; i++) {
		free(ch->mods[i].attr);
		agentid_strv_free(ch->mods[i].values);
	}
	free(ch->mods);
	free(ch->dn);
	memset(ch, 0, sizeof(*ch));
}

/* A growing string. */
struct sbuf {
	char *s;
	size_t len, cap;
	bool fail;
};

static void
put(struct sbuf *b, const char *s, size_t n)
{
	char *ns;
	size_t cap;

	if (b->fail)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = (b->len + n + 1) * 2;
		if ((ns = realloc(b->s, cap)) == NULL) {
			b->fail = true;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
puts_(struct sbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* RFC 2849 SAFE-STRING: printable ASCII, not starting with space, colon
 * or "<", not ending with space; anything else goes base64. */
static bool
ldif_safe(const char *v)
{
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v);

	if (n == 0)
		return true;
	if (p[0] == ' ' || p[0] == ':' || p[0] == '<' || p[n - 1] == ' ')
		return false;
	for (; *p != '\0'; p++)
		if (*p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* "attr: value" or "attr:: base64" and a newline. */
static void
put_line(struct sbuf *b, const char *attr, const char *v)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)v;
	size_t n = strlen(v), i;
	char q[4];

	puts_(b, attr);
	if (ldif_safe(v)) {
		puts_(b, n > 0 ? ": " : ":");
		puts_(b, v);
		puts_(b, "\n");
		return;
	}
	puts_(b, ":: ");
	for (i = 0; i < n; i += 3) {
		unsigned x = (unsigned)p[i] << 16 |
		    (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) |
		    (i + 2 < n ? p[i + 2] : 0);

		q[0] = tab[x >> 18 & 63];
		q[1] = tab[x >> 12 & 63];
		q[2] = i + 1 < n ? tab[x >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tab[x & 63] : '=';
		put(b, q, 4);
	}
	puts_(b, "\n");
}

/* The change as LDIF; malloc'd, NULL when out of memory. */
char *
agentid_change_ldif(const struct agentid_change *ch)
{
	static const char *const ops[] = { "add", "replace", "delete" };
	struct sbuf b = { NULL, 0, 0, false };
	size_t i, j;

	put_line(&b, "dn", ch->dn);
	switch (ch->op) {
	case AGENTID_CHANGE_ADD:
		puts_(&b, "changetype: add\n");
		for (i = 0; i < ch->n_mods; i++)
			for (j = 0; j < ch->mods[i].n; j++)
				put_line(&b, ch->mods[i].attr, ch->mods[i].values[j]);
		break;
	case AGENTID_CHANGE_MODIFY:
		puts_(&b, "changetype: modify\n");
		for (i = 0; i < ch->n_mods; i++) {
			put_line(&b, ops[ch->mods[i].op], ch->mods[i].attr);
			for (j = 0; j < ch->mods[i].n; j++)
				put_line(&b, ch->mods[i].attr, ch->mods[i].values[j]);
			puts_(&b, "-\n");
		}
		break;
	case AGENTID_CHANGE_DELETE:
		puts_(&b, "changetype: delete\n");
		break;
	}
	if (b.fail) {
		free(b.s);
		return NULL;
	}
	return b.s;
}
