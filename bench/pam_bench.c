/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_bench.c - PAM account decisions through the real libpam stack, for
 * scripts/bench. Prints one line of key=value figures; never fails on time.
 *
 *   pam_bench run CONFDIR SERVICE PREFIX FIRST COUNT
 *       one decision (pam_start_confdir, PAM_RHOST, pam_acct_mgmt, pam_end:
 *       a fresh handle per decision, as sshd has per connection) for each
 *       of the users PREFIX + k on 7 digits, k in [FIRST, FIRST + COUNT);
 *       prints mean, median and p99 in microseconds, decisions per second and how
 *       many returned PAM_SUCCESS.
 *   pam_bench watch CONFDIR SERVICE USER TIMEOUT
 *       decides for USER every 10 ms until the answer is not PAM_SUCCESS;
 *       prints the wall-clock time (CLOCK_REALTIME seconds) it first was,
 *       or "at=timeout" after TIMEOUT seconds.
 *
 * Exit 2 on usage errors, 77 when libpam has no pam_start_confdir.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <security/pam_appl.h>

/* A conversation that answers nothing: no module may ask here. */
static int
no_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	(void)n;
	(void)msg;
	(void)resp;
	(void)data;
	return PAM_CONV_ERR;
}

static double
clock_s(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* One decision; the PAM code (or -1 when no handle could be made). */
static int
decide(const char *confdir, const char *service, const char *user)
{
#ifdef HAVE_PAM_START_CONFDIR
	struct pam_conv conv = { no_conv, NULL };
	pam_handle_t *pamh = NULL;
	int r;

	if (pam_start_confdir(service, user, &conv, confdir, &pamh) != PAM_SUCCESS)
		return -1;
	(void)pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
	r = pam_acct_mgmt(pamh, 0);
	pam_end(pamh, r);
	return r;
#else
	(void)confdir;
	(void)service;
	(void)user;
	return -1;
#endif
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
#ifndef HAVE_PAM_START_CONFDIR
	(void)argc;
	(void)argv;
	fprintf(stderr, "SKIP: libpam has no pam_start_confdir\n");
	return 77;
#else
	char user[128];

	if (argc == 7 && strcmp(argv[1], "run") == 0) {
		unsigned long first = strtoul(argv[5], NULL, 10);
		unsigned long count = strtoul(argv[6], NULL, 10), i, ok = 0;
		double *t, sum = 0, t0, wall, p;
		int r, other = PAM_SUCCESS;

		if (count == 0 || (t = calloc(count, sizeof(*t))) == NULL)
			return 2;
		wall = clock_s(CLOCK_MONOTONIC);
		for (i = 0; i < count; i++) {
			snprintf(user, sizeof(user), "%s%07lu", argv[4], first + i);
			t0 = clock_s(CLOCK_MONOTONIC);
			r = decide(argv[2], argv[3], user);
			t[i] = clock_s(CLOCK_MONOTONIC) - t0;
			sum += t[i];
			if (r == PAM_SUCCESS)
				ok++;
			else
				other = r;
		}
		wall = clock_s(CLOCK_MONOTONIC) - wall;
		qsort(t, count, sizeof(*t), cmp_double);
		p = t[(unsigned long)((double)count * 0.99) < count ?
		    (unsigned long)((double)count * 0.99) : count - 1];
		/* the median beside the mean: on a loaded machine a few
		 * preempted decisions move the mean, not the median */
		printf("decisions=%lu mean_us=%.2f p50_us=%.2f p99_us=%.2f "
		    "per_s=%.1f ok=%lu last_other=%d\n", count,
		    sum / (double)count * 1e6, t[count / 2] * 1e6, p * 1e6,
		    (double)count / wall, ok, other);
		free(t);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "watch") == 0) {
		double end = clock_s(CLOCK_MONOTONIC) + strtod(argv[5], NULL);
		struct timespec ten_ms = { 0, 10 * 1000 * 1000 };

		while (clock_s(CLOCK_MONOTONIC) < end) {
			if (decide(argv[2], argv[3], argv[4]) != PAM_SUCCESS) {
				printf("at=%.6f\n", clock_s(CLOCK_REALTIME));
				return 0;
			}
			nanosleep(&ten_ms, NULL);
		}
		printf("at=timeout\n");
		return 0;
	}
	fprintf(stderr, "usage: pam_bench run CONFDIR SERVICE PREFIX FIRST COUNT\n"
	    "       pam_bench watch CONFDIR SERVICE USER TIMEOUT\n");
	return 2;
#endif
}
