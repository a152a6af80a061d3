/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dn.c - the one DN comparison of libagentid. Sources hand over DNs in
 * RFC 4514 form (the LDAP source normalises them with libldap as it reads
 * them); this file compares two such DNs as the same entry when they differ
 * only in ASCII case or in spaces around the separators ',', '+' and '='.
 * It needs no LDAP library: the engine, the chain builder, sync and the
 * replica all use it.
 */
#include "config.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "internal.h"

/* Is c a separator around which spaces are insignificant? */
static bool
is_sep(char c)
{
	return c == ',' || c == '+' || c == '=' || c == ';';
}

/*
 * The canonical form of dn in out (at least strlen(dn) + 1 bytes): ASCII
 * lower case, no unescaped space next to a separator or at either end, ';'
 * read as ','. Escaped characters ("\,", "\ ", "\2C") are kept as written
 * (lower-cased), so an escaped comma never becomes a separator.
 */
void
agentid_dn_canon(const char *dn, char *out)
{
	size_t o = 0, i, n = strlen(dn);

	for (i = 0; i < n; i++) {
		char c = dn[i];

		if (c == '\\' && i + 1 < n) {
			out[o++] = '\\';
			out[o++] = (char)tolower((unsigned char)dn[++i]);
			continue;
		}
		if (c == ' ') {
			size_t j = i;

			while (j < n && dn[j] == ' ')
				j++;
			/* spaces at the end, before a separator or after one */
			if (j == n || is_sep(dn[j]) || o == 0 ||
			    (is_sep(out[o - 1]) && (o < 2 || out[o - 2] != '\\'))) {
				i = j - 1;
				continue;
			}
		}
		if (c == ';')
			c = ',';
		out[o++] = (char)tolower((unsigned char)c);
	}
	out[o] = '\0';
}

/* A character agentid_dn_canon only lower-cases (not the end). */
static bool
plain(char c)
{
	return c != '\0' && c != ' ' && c != ';' && c != '\\';
}

/* Same entry? NULL is never equal to anything. */
bool
agentid_dn_equal(const char *a, const char *b)
{
	char sa[512], sb[512], *ca = sa, *cb = sb;
	size_t la, lb;
	bool eq;

	if (a == NULL || b == NULL)
		return false;
	/* over a prefix without space, ';' or '\\' the canonical form is
	 * the lower-cased characters, one for one: a difference there is a
	 * difference of the canonical forms (most comparisons, as a chain's
	 * cycle check, end here without copying either DN) */
	for (la = 0; plain(a[la]) && plain(b[la]); la++)
		if (tolower((unsigned char)a[la]) != tolower((unsigned char)b[la]))
			return false;
	if (a[la] == '\0' && b[la] == '\0')
		return true;
	la = strlen(a);
	lb = strlen(b);
	if ((la >= sizeof(sa) && (ca = malloc(la + 1)) == NULL) ||
	    (lb >= sizeof(sb) && (cb = malloc(lb + 1)) == NULL)) {
		eq = false; /* out of memory: not proven equal */
		goto out;
	}
	agentid_dn_canon(a, ca);
	agentid_dn_canon(b, cb);
	eq = strcmp(ca, cb) == 0;
out:
	if (ca != sa)
		free(ca);
	if (cb != sb && cb != NULL)
		free(cb);
	return eq;
}

/*
 * Is dn base itself or an entry below it (compared as agentid_dn_equal
 * compares)? The empty base is the root: everything is under it. The
 * suffix must start after a separator that is not escaped: with base
 * "ou=agents,dc=example,dc=com", "uid=x\,ou=agents,dc=example,dc=com" is
 * one RDN "uid=x,ou=agents" under dc=example,dc=com, not under base.
 * NULL, or no memory: false (not proven under).
 */
bool
agentid_dn_under(const char *dn, const char *base)
{
	char sd[512], sb[512], *cd = sd, *cb = sb;
	size_t ld, lb, k;
	bool under = false;

	if (dn == NULL || base == NULL)
		return false;
	ld = strlen(dn);
	lb = strlen(base);
	if ((ld >= sizeof(sd) && (cd = malloc(ld + 1)) == NULL) ||
	    (lb >= sizeof(sb) && (cb = malloc(lb + 1)) == NULL))
		goto out;
	agentid_dn_canon(dn, cd);
	agentid_dn_canon(base, cb);
	ld = strlen(cd);
	lb = strlen(cb);
	if (lb == 0) {
		under = true;
		goto out;
	}
	if (ld == lb) {
		under = strcmp(cd, cb) == 0;
		goto out;
	}
	if (ld < lb + 2 || cd[ld - lb - 1] != ',' ||
	    strcmp(cd + ld - lb, cb) != 0)
		goto out;
	/* an odd run of backslashes before the comma escapes it */
	for (k = ld - lb - 1; k > 0 && cd[k - 1] == '\\'; k--)
		;
	under = ((ld - lb - 1 - k) % 2) == 0;
out:
	if (cd != sd && cd != NULL)
		free(cd);
	if (cb != sb && cb != NULL)
		free(cb);
	return under;
}
