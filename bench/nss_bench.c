/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_bench.c - mean cost of getpwnam_r / getpwuid_r, cold and warm.
 * Prints figures; never fails on time (exit 1 only when lookups fail).
 *
 *   nss_bench glibc name PREFIX FIRST N COUNT
 *   nss_bench glibc uid  -      FIRST N COUNT
 *   nss_bench direct SO name PREFIX FIRST N COUNT
 *   nss_bench direct SO uid  -      FIRST N COUNT
 *
 * Keys: COUNT distinct ones spread over [FIRST, FIRST + N) (a stride
 * permutation, so that neighbours in the file are not neighbours in time);
 * names are PREFIX followed by the number on 7 digits. "glibc" goes through
 * getpwnam_r/getpwuid_r and nsswitch.conf (run it in a namespace that
 * chooses the module); "direct" dlopens SO and calls _nss_agent_* itself.
 * Cold: the first pass over the keys in this fresh process (module load and
 * first touch of every page included); warm: the mean of 5 more passes.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <pwd.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *,
    size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t,
    int *);

static pwnam_fn direct_nam;
static pwuid_fn direct_uid;

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One lookup; 0 when found. */
static int
lookup(bool by_uid, const char *prefix, unsigned long key)
{
	char name[64], buf[1024];
	struct passwd pw, *res = NULL;
	int err = 0;

	if (by_uid) {
		if (direct_uid != NULL)
			return direct_uid((uid_t)key, &pw, buf, sizeof(buf), &err) ==
			    NSS_STATUS_SUCCESS ? 0 : 1;
		return getpwuid_r((uid_t)key, &pw, buf, sizeof(buf), &res) == 0 &&
		    res != NULL ? 0 : 1;
	}
	snprintf(name, sizeof(name), "%s%07lu", prefix, key);
	if (direct_nam != NULL)
		return direct_nam(name, &pw, buf, sizeof(buf), &err) ==
		    NSS_STATUS_SUCCESS ? 0 : 1;
	return getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 &&
	    res != NULL ? 0 : 1;
}

/* Greatest common divisor. */
static unsigned long
gcd(unsigned long a, unsigned long b)
{
	while (b != 0) {
		unsigned long t = a % b;

		a = b;
		b = t;
	}
	return a;
}

/* Seconds for one pass over the keys; failures counted. The keys step by
 * about 0.618 n (coprime to n): spread over the whole table, not bunched
 * at its start as a fixed large stride can leave them. */
static double
pass(bool by_uid, const char *prefix, unsigned long first, unsigned long n,
    unsigned long count, unsigned long *fails)
{
	double t0 = now();
	unsigned long i, step = n > 2 ? (unsigned long)((double)n * 0.6180339887) : 1;

	while (n > 1 && gcd(step, n) != 1)
		step++;
	for (i = 0; i < count; i++)
		*fails += (unsigned long)lookup(by_uid, prefix,
		    first + (i * step) % n);
	return now() - t0;
}

int
main(int argc, char **argv)
{
	unsigned long first, n, count, fails = 0;
	const char *prefix;
	double cold, warm = 0;
	bool by_uid;
	int a = 2, k;

	if (argc >= 3 && strcmp(argv[1], "direct") == 0) {
		void *dl = dlopen(argv[2], RTLD_NOW | RTLD_LOCAL);

		if (dl == NULL) {
			fprintf(stderr, "nss_bench: %s\n", dlerror());
			return 2;
		}
		*(void **)&direct_nam = dlsym(dl, "_nss_agent_getpwnam_r");
		*(void **)&direct_uid = dlsym(dl, "_nss_agent_getpwuid_r");
		if (direct_nam == NULL || direct_uid == NULL)
			return 2;
		a = 3;
	} else if (argc < 2 || strcmp(argv[1], "glibc") != 0) {
		a = argc; /* usage */
	}
	if (argc != a + 5) {
		fprintf(stderr, "usage: nss_bench glibc|direct SO (name PREFIX | "
		    "uid -) FIRST N COUNT\n");
		return 2;
	}
	by_uid = strcmp(argv[a], "uid") == 0;
	prefix = argv[a + 1];
	first = strtoul(argv[a + 2], NULL, 10);
	n = strtoul(argv[a + 3], NULL, 10);
	count = strtoul(argv[a + 4], NULL, 10);
	if (n == 0 || count == 0 || count > n)
		return 2;
	cold = pass(by_uid, prefix, first, n, count, &fails);
	for (k = 0; k < 5; k++)
		warm += pass(by_uid, prefix, first, n, count, &fails);
	printf("cold %8.2f us  warm %8.2f us  (%lu keys%s)\n",
	    cold / (double)count * 1e6, warm / 5 / (double)count * 1e6, count,
	    fails ? ", LOOKUPS FAILED" : "");
	return fails ? 1 : 0;
}
