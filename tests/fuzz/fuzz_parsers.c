/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_parsers.c - fuzz target for the pure parsers of libagentid: the
 * configuration parser, GeneralizedTime, durations, scope matching and the
 * engine on a chain built from the input.
 *
 * With libFuzzer:  clang -fsanitize=fuzzer,address -DAGENTID_LIBFUZZER ...
 * Without (make check): runs a fixed number of pseudo-random and mutated
 * inputs through the same target under ASan/UBSan; any crash fails.
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Runs every parser on the input; never returns an error. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentid_config *c;
	struct agentid_error err;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_request req = { .user = "bot", .service = "sshd",
		.host = "build-7.example.com", .rhost = "10.1.2.3",
		.now = 1800000000 };
	struct agentid_policy pol = { .max_delegation_depth = 4,
		.clock_skew = 60, .max_lifetime = 86400,
		.require_scope = AGENTID_KIND_HOST };
	struct agentid_decision d;
	char *s, *line, *save = NULL;
	int64_t t;
	char buf[512];

	if (agentid_config_new(&c) == 0) {
		(void)agentid_config_parse(c, (const char *)data, size, "fuzz", &err);
		agentid_config_free(c);
	}
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	(void)agentid_parse_gentime(s, &t);
	(void)agentid_parse_duration(s, &t);
	(void)agentid_name_valid(s, &err);
	(void)agentid_scope_match_from(s, "2001:db8::1");
	(void)agentid_scope_match_from(s, "10.0.0.1");
	(void)agentid_scope_match_host(s, "build-7.example.com");
	/* each line a record: "dn|owner|scope,scope|status|notAfter" */
	for (line = strtok_r(s, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		struct agentid_record *r = agentid_chain_add(&chain);
		char *f[5] = { NULL }, *p = line;
		int i;

		if (r == NULL)
			break;
		for (i = 0; i < 5 && p != NULL; i++) {
			f[i] = p;
			if ((p = strchr(p, '|')) != NULL)
				*p++ = '\0';
		}
		r->dn = strdup(f[0]);
		r->is_agent = f[1] != NULL;
		if (f[1] != NULL)
			r->owner_dn = strdup(f[1]);
		if (f[2] != NULL) {
			char *g, *gs = NULL;

			r->scope = calloc(1, sizeof(char *));
			for (g = strtok_r(f[2], ",", &gs); g != NULL && r->scope != NULL;
			    g = strtok_r(NULL, ",", &gs)) {
				char **nv = realloc(r->scope, (r->n_scope + 2) * sizeof(char *));

				if (nv == NULL)
					break;
				r->scope = nv;
				r->scope[r->n_scope++] = strdup(g);
				r->scope[r->n_scope] = NULL;
			}
		}
		r->status = agentid_status_parse(f[3]);
		r->has_not_after = f[4] != NULL &&
		    agentid_parse_gentime(f[4], &r->not_after) == 0;
	}
	agentid_decide(&chain, &req, &pol, &d);
	agentid_explain(&chain, &d, buf, sizeof(buf));
	agentid_chain_clear(&chain);
	free(s);
	return 0;
}

#ifndef AGENTID_LIBFUZZER
static const char *const seeds[] = {
	"uri ldap://127.0.0.1/\nbase dc=x\ntimeout 3\nrequire_scope host from\n",
	"20261124041722.5+0130",
	"90d",
	"uid=bot,dc=x|uid=orch,dc=x|host:build-*,service:sshd|active|20301231000000Z\n"
	"uid=orch,dc=x|cn=alice|host:*,from:10.0.0.0/8|active|20301231000000Z\n"
	"cn=alice\n",
	"2001:db8::/32",
	"agent_filter (&(a=b)(|(c=d)(e=f)))\nmin_uid 1000\n",
};

/* xorshift: reproducible pseudo-random inputs */
static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

int
main(int argc, char **argv)
{
	long iters = argc > 1 ? atol(argv[1]) : 20000, i;
	uint8_t buf[1024] = { 0 }; /* the "duplicate a run" mutation exposes bytes past n */
	static const char alphabet[] = "0123456789Zz+-.,:/|*?[]()=\n# \tabcdefhostuidservicefrom";

	for (i = 0; i < iters; i++) {
		const char *seed = seeds[i % (sizeof(seeds) / sizeof(seeds[0]))];
		size_t n = strlen(seed), k, muts = next() % 8;

		if (n > sizeof(buf))
			n = sizeof(buf);
		memcpy(buf, seed, n);
		for (k = 0; k < muts && n > 0; k++) {
			size_t at = next() % n;

			switch (next() % 4) {
			case 0: /* replace with an interesting character */
				buf[at] = (uint8_t)alphabet[next() % (sizeof(alphabet) - 1)];
				break;
			case 1: /* any byte */
				buf[at] = (uint8_t)next();
				break;
			case 2: /* truncate */
				n = at;
				break;
			default: /* duplicate a run */
				if (n + 16 < sizeof(buf)) {
					memmove(buf + at + 16, buf + at, n - at);
					n += 16;
				}
			}
		}
		LLVMFuzzerTestOneInput(buf, n);
	}
	printf("fuzz_parsers: %ld inputs, no crash\n", iters);
	return 0;
}
#endif
