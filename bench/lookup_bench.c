/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * lookup_bench.c - getpwnam_r / getpwuid_r / initgroups through glibc, mean
 * and p99, cold (first pass over the keys in this fresh process) and warm
 * (the further passes). Used by scripts/bench; prints one line of
 * key=value figures and never fails on time (exit 1 only when lookups fail).
 *
 *   lookup_bench OP PREFIX UIDBASE N COUNT PASSES
 *
 * OP is name, uid or initgroups. Keys are COUNT distinct numbers k in
 * [1, N], k = 1 + i * S mod N with S near 0.618 N and prime to N: spread
 * over the whole range whatever COUNT is (a small stride would keep a few
 * hundred keys at the top of a passwd file, and files would look fast),
 * and neighbours in the directory are not neighbours in time. The name is PREFIX and k on 7 digits, the uid
 * UIDBASE + k. PASSES >= 1 (the first one is the cold one). The client's
 * resident set size after all the lookups is printed as rss_kb.
 *
 *   lookup_bench watch NAME TIMEOUT
 *
 * getpwnam_r(NAME) every 2 ms until it resolves; prints "at=" and the
 * wall-clock time (CLOCK_REALTIME seconds) it first did, or "at=timeout"
 * after TIMEOUT seconds (scripts/bench's change -> visible rows).
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

enum op { OP_NAME, OP_UID, OP_INITGROUPS };

/* Monotonic seconds. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One lookup of key k; 0 when found. */
static int
lookup(enum op op, const char *prefix, unsigned long uidbase, unsigned long k)
{
	char name[64], buf[4096];
	struct passwd pw, *res = NULL;
	gid_t groups[256];
	int ng = 256;

	switch (op) {
	case OP_UID:
		return getpwuid_r((uid_t)(uidbase + k), &pw, buf, sizeof(buf),
		    &res) == 0 && res != NULL ? 0 : 1;
	case OP_NAME:
		snprintf(name, sizeof(name), "%s%07lu", prefix, k);
		return getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 &&
		    res != NULL ? 0 : 1;
	case OP_INITGROUPS:
		snprintf(name, sizeof(name), "%s%07lu", prefix, k);
		/* getgrouplist is initgroups without the setgroups(2) */
		return getgrouplist(name, (gid_t)(uidbase + k), groups, &ng) < 0 ||
		    ng < 1 ? 1 : 0;
	}
	return 1;
}

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

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Sorts t[0..n) and returns its 99th percentile. */
static double
p99(double *t, unsigned long n)
{
	unsigned long i;

	qsort(t, n, sizeof(*t), cmp_double);
	i = (unsigned long)((double)n * 0.99);
	return t[i < n ? i : n - 1];
}

/* VmRSS of this process in kB (0 when unknown). */
static long
rss_kb(void)
{
	char line[256];
	long kb = 0;
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* See the header: the first time NAME resolves. */
static int
watch(const char *name, double timeout)
{
	struct timespec nap = { 0, 2 * 1000000L }, rt;
	char buf[4096];
	struct passwd pw, *res;
	double end = now() + timeout;

	while (now() < end) {
		res = NULL;
		if (getpwnam_r(name, &pw, buf, sizeof(buf), &res) == 0 &&
		    res != NULL) {
			clock_gettime(CLOCK_REALTIME, &rt);
			printf("at=%.6f\n", (double)rt.tv_sec +
			    (double)rt.tv_nsec / 1e9);
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	printf("at=timeout\n");
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned long uidbase, n, count, passes, i, p, stride, fails = 0;
	double *cold, *warm, t0, t, csum = 0, wsum = 0;
	const char *prefix;
	enum op op;

	if (argc == 4 && strcmp(argv[1], "watch") == 0)
		return watch(argv[2], strtod(argv[3], NULL));
	if (argc != 7) {
		fprintf(stderr, "usage: lookup_bench name|uid|initgroups PREFIX "
		    "UIDBASE N COUNT PASSES\n"
		    "       lookup_bench watch NAME TIMEOUT\n");
		return 2;
	}
	if (strcmp(argv[1], "name") == 0)
		op = OP_NAME;
	else if (strcmp(argv[1], "uid") == 0)
		op = OP_UID;
	else if (strcmp(argv[1], "initgroups") == 0)
		op = OP_INITGROUPS;
	else
		return 2;
	prefix = argv[2];
	uidbase = strtoul(argv[3], NULL, 10);
	n = strtoul(argv[4], NULL, 10);
	count = strtoul(argv[5], NULL, 10);
	passes = strtoul(argv[6], NULL, 10);
	if (n == 0 || count == 0 || count > n || passes == 0)
		return 2;
	stride = (unsigned long)((double)n * 0.6180339887) | 1;
	while (gcd(stride, n) != 1)
		stride++;
	cold = calloc(count, sizeof(*cold));
	warm = calloc(count * (passes > 1 ? passes - 1 : 1), sizeof(*warm));
	if (cold == NULL || warm == NULL)
		return 2;
	for (p = 0; p < passes; p++)
		for (i = 0; i < count; i++) {
			unsigned long k = 1 + (unsigned long)
			    (((unsigned long long)i * stride) % n);

			t0 = now();
			fails += (unsigned long)lookup(op, prefix, uidbase, k);
			t = now() - t0;
			if (p == 0) {
				cold[i] = t;
				csum += t;
			} else {
				warm[(p - 1) * count + i] = t;
				wsum += t;
			}
		}
	printf("op=%s keys=%lu passes=%lu cold_mean_us=%.2f cold_p99_us=%.2f",
	    argv[1], count, passes, csum / (double)count * 1e6,
	    p99(cold, count) * 1e6);
	if (passes > 1)
		printf(" warm_mean_us=%.2f warm_p99_us=%.2f",
		    wsum / (double)(count * (passes - 1)) * 1e6,
		    p99(warm, count * (passes - 1)) * 1e6);
	printf(" fails=%lu rss_kb=%ld\n", fails, rss_kb());
	free(cold);
	free(warm);
	return fails ? 1 : 0;
}
