/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/engine.c - cost of one policy decision (pure engine, no I/O) and of
 * parsing a configuration. Prints figures; never fails on time.
 *   bench/engine [ITERATIONS]
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentid.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A chain of depth agents, each with a few grants, under a human. */
static void
build(struct agentid_chain *c, int depth)
{
	static char *scope[] = { "host:build-*", "host:ci-*.example.com",
		"service:sshd", "service:sudo", "from:10.0.0.0/8",
		"from:2001:db8::/32", NULL };
	char dn[128], owner[128];
	int i;

	for (i = 0; i < depth; i++) {
		struct agentid_record *r = agentid_chain_add(c);

		snprintf(dn, sizeof(dn), "uid=agent%d,ou=agents,dc=example,dc=com", i);
		snprintf(owner, sizeof(owner), i + 1 < depth ?
		    "uid=agent%d,ou=agents,dc=example,dc=com" :
		    "uid=alice,ou=people,dc=example,dc=com", i + 1);
		r->dn = strdup(dn);
		r->owner_dn = strdup(owner);
		r->is_agent = true;
		r->scope = scope;
		r->n_scope = 6;
		r->has_not_before = r->has_not_after = true;
		r->not_before = 1700000000;
		r->not_after = 1900000000;
	}
	agentid_chain_add(c)->dn = strdup("uid=alice,ou=people,dc=example,dc=com");
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 1000000;
	struct agentid_request req = { .user = "agent0", .service = "sshd",
		.host = "build-7.example.com", .rhost = "10.1.2.3",
		.now = 1800000000 };
	struct agentid_policy pol = { .max_delegation_depth = 4,
		.clock_skew = 60, .max_lifetime = 0,
		.require_scope = AGENTID_KIND_HOST | AGENTID_KIND_SERVICE };
	struct agentid_decision d;
	int depths[] = { 1, 2, 4 };
	size_t k;

	printf("policy engine, %ld decisions each:\n", iters);
	for (k = 0; k < sizeof(depths) / sizeof(depths[0]); k++) {
		struct agentid_chain c = { NULL, 0 };
		double t0, t1;
		long i, allowed = 0;

		build(&c, depths[k]);
		t0 = now_s();
		for (i = 0; i < iters; i++) {
			agentid_decide(&c, &req, &pol, &d);
			allowed += d.allow;
		}
		t1 = now_s();
		printf("  chain of %d agent(s): %.0f ns/decision (%ld allowed)\n",
		    depths[k], (t1 - t0) * 1e9 / (double)iters, allowed);
		for (i = 0; i < (long)c.n; i++)
			c.rec[i].scope = NULL; /* static, not ours to free */
		agentid_chain_clear(&c);
	}
	{
		static const char text[] = "uri ldaps://a.example.com/ ldaps://b/\n"
		    "base ou=agents,dc=example,dc=com\nssl on\ntimeout 3\n"
		    "max_delegation_depth 4\nclock_skew 60s\nrequire_scope host service\n"
		    "audit_log /var/log/agentid/audit.log\n";
		struct agentid_error err;
		double t0 = now_s(), t1;
		long i, n = iters / 10 + 1;

		for (i = 0; i < n; i++) {
			struct agentid_config *c;

			if (agentid_config_new(&c) != 0 ||
			    agentid_config_parse(c, text, sizeof(text) - 1, "b", &err) != 0)
				return 2;
			agentid_config_free(c);
		}
		t1 = now_s();
		printf("config parse (8 keys): %.2f us/parse\n", (t1 - t0) * 1e6 / (double)n);
	}
	return 0;
}
