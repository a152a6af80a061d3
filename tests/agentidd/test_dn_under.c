/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_dn_under.c - agentid_dn_under (common/dn.c): which entries agentidd
 * treats as under `base` (agents) and which naming context holds base.
 */
#include "config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static int fails;

static void
expect(const char *dn, const char *base, bool want)
{
	bool got = agentid_dn_under(dn, base);

	if (got != want) {
		fprintf(stderr, "FAIL: under(\"%s\", \"%s\") = %d, want %d\n",
		    dn ? dn : "(null)", base ? base : "(null)", got, want);
		fails++;
	}
}

int
main(void)
{
	const char *b = "ou=agents,dc=example,dc=com";
	char *longdn, *longbase;
	size_t i;

	expect(b, b, true);
	expect("uid=a,ou=agents,dc=example,dc=com", b, true);
	expect("uid=a,ou=more,ou=agents,dc=example,dc=com", b, true);
	expect("UID=a , OU=Agents, DC=Example,dc=COM", b, true);
	expect("uid=a;ou=agents;dc=example;dc=com", b, true);
	expect("uid=a,ou=people,dc=example,dc=com", b, false);
	expect("dc=example,dc=com", b, false);
	expect("ou=xagents,dc=example,dc=com", b, false);
	expect("uid=a,ou=xagents,dc=example,dc=com", b, false);
	/* an escaped comma joins two RDNs: not under base */
	expect("uid=x\\,ou=agents,dc=example,dc=com", b, false);
	/* an escaped backslash before a real separator: under */
	expect("uid=x\\\\,ou=agents,dc=example,dc=com", b, true);
	expect("uid=x\\\\\\,ou=agents,dc=example,dc=com", b, false);
	/* the naming context holds base */
	expect(b, "dc=example,dc=com", true);
	expect(b, "dc=com", true);
	expect(b, "dc=example,dc=org", false);
	expect(b, "", true);
	expect(NULL, b, false);
	expect(b, NULL, false);
	/* past the stack buffers */
	longdn = malloc(4096);
	longbase = malloc(2048);
	if (longdn == NULL || longbase == NULL)
		return 99;
	strcpy(longbase, "dc=com");
	for (i = 0; i < 200; i++) {
		memmove(longbase + 8, longbase, strlen(longbase) + 1);
		memcpy(longbase, "ou=x123,", 8);
	}
	snprintf(longdn, 4096, "uid=a,%s", longbase);
	expect(longdn, longbase, true);
	expect(longbase, longdn, false);
	free(longdn);
	free(longbase);
	if (fails == 0)
		printf("ok: agentid_dn_under\n");
	return fails == 0 ? 0 : 1;
}
