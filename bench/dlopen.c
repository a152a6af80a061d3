/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * bench/dlopen.c - what loading a PAM module costs a fresh process that has
 * libpam and libcrypto loaded already, as the sshd child that serves each
 * connection has. Prints figures; never fails on time.
 *
 *   bench/dlopen [-n RUNS] [-l PRELOAD]... LABEL=PATH...
 *
 * For each module, RUNS fresh processes (fork of this one, which never
 * loads a module itself) each time one dlopen(RTLD_NOW | RTLD_LOCAL), as
 * libpam opens modules, and the dlclose after it; prints the median, min and
 * max in milliseconds. A PATH that does not exist prints "not installed".
 * -l loads PRELOAD into this process first (as glibc has loaded
 * libnss_agent.so.2, and with it libcdb, when sshd looked the user up).
 * scripts/bench runs it on a build without sanitizers.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <security/pam_appl.h>

/* One run's figures, nanoseconds. */
struct run {
	long long open_ns;
	long long close_ns;
};

static long long
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* In a fresh child: times dlopen and dlclose of path; 0 or -1. */
static int
one_run(const char *path, struct run *out)
{
	int fd[2], st;
	pid_t pid;
	ssize_t n;

	if (pipe(fd) != 0)
		return -1;
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		struct run r;
		long long t0, t1, t2;
		void *h;

		close(fd[0]);
		t0 = now_ns();
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		t1 = now_ns();
		if (h == NULL) {
			fprintf(stderr, "dlopen %s: %s\n", path, dlerror());
			_exit(1);
		}
		dlclose(h);
		t2 = now_ns();
		r.open_ns = t1 - t0;
		r.close_ns = t2 - t1;
		_exit(write(fd[1], &r, sizeof(r)) == (ssize_t)sizeof(r) ? 0 : 1);
	}
	close(fd[1]);
	do
		n = read(fd[0], out, sizeof(*out));
	while (n < 0 && errno == EINTR);
	close(fd[0]);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0 || n != (ssize_t)sizeof(*out))
		return -1;
	return 0;
}

/* Median of v (sorted in place), milliseconds. */
static double
median_ms(long long *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_ll);
	return (n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0) / 1e6;
}

int
main(int argc, char **argv)
{
	int runs = 31, i, k, bad = 0;
	long long *opens, *cycles;

	while (argc > 2 && argv[1][0] == '-') {
		if (strcmp(argv[1], "-n") == 0)
			runs = atoi(argv[2]);
		else if (strcmp(argv[1], "-l") == 0) {
			if (dlopen(argv[2], RTLD_LAZY | RTLD_LOCAL) == NULL) {
				fprintf(stderr, "dlopen %s: %s\n", argv[2],
				    dlerror());
				return 1;
			}
		} else
			break;
		argc -= 2;
		argv += 2;
	}
	if (runs < 1 || runs > 10000 || argc < 2) {
		fprintf(stderr,
		    "usage: dlopen [-n RUNS] [-l PRELOAD]... LABEL=PATH...\n");
		return 2;
	}
	if ((opens = calloc((size_t)runs, sizeof(*opens))) == NULL ||
	    (cycles = calloc((size_t)runs, sizeof(*cycles))) == NULL)
		return 2;
	/* loaded and used, as in sshd: libpam and libcrypto */
	printf("process: %s, libpam (%s)\n", OpenSSL_version(OPENSSL_VERSION),
	    pam_strerror(NULL, PAM_SUCCESS));
	printf("%-18s %12s %10s %10s %16s\n", "module", "dlopen ms", "min",
	    "max", "dlopen+dlclose");
	for (k = 1; k < argc; k++) {
		const char *eq = strchr(argv[k], '=');
		const char *path = eq != NULL ? eq + 1 : argv[k];
		int label_len = eq != NULL ? (int)(eq - argv[k]) :
		    (int)strlen(argv[k]);
		struct run r;
		double min, max;

		if (access(path, F_OK) != 0) {
			printf("%-18.*s %12s\n", label_len, argv[k],
			    "not installed");
			continue;
		}
		for (i = 0; i < runs; i++) {
			if (one_run(path, &r) != 0)
				break;
			opens[i] = r.open_ns;
			cycles[i] = r.open_ns + r.close_ns;
		}
		if (i < runs) {
			printf("%-18.*s %12s\n", label_len, argv[k], "failed");
			bad = 1;
			continue;
		}
		qsort(opens, (size_t)runs, sizeof(*opens), cmp_ll);
		min = (double)opens[0] / 1e6;
		max = (double)opens[runs - 1] / 1e6;
		printf("%-18.*s %12.3f %10.3f %10.3f %16.3f\n", label_len, argv[k],
		    median_ms(opens, runs), min, max, median_ms(cycles, runs));
	}
	printf("(median of %d fresh processes each)\n", runs);
	free(opens);
	free(cycles);
	return bad;
}
