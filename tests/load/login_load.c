/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * login_load.c - one process of the login load test: ROUNDS logins through
 * the real libpam stack, in one process, a fresh handle (pam_start_confdir
 * ... pam_end) per round, as sshd opens one per connection.
 *
 *   login_load --confdir DIR --service S --rounds N --worker W
 *              [--rhost H] [--pin MODULE.so] USER=EXPECT...
 *
 * Round i logs in USER number (W + i) mod (number of USERs). EXPECT is
 * "allow" (account, session open and session close all PAM_SUCCESS) or the
 * PAM_* code account must return (no session is opened then, as sshd
 * opens none after a refused account). Prints one line
 *   "rounds R allowed A denied D unexpected U"
 * and, on stderr, the first unexpected results. Exit 0 when every result
 * was the expected one, 1 otherwise, 2 on usage or setup errors, 77
 * without pam_start_confdir.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "../pam/pam_codes.h"

#define MAX_USERS 32
#define MAX_REPORTED 10

struct user {
	const char *name;
	int allow;   /* 1: account+open+close succeed */
	int code;    /* otherwise what account returns */
};

/* A conversation that answers nothing: the module must never ask. */
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

/* Prints the usage and exits 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: login_load --confdir DIR --service S --rounds N "
	    "--worker W [--rhost H] [--pin MODULE] USER=allow|USER=PAM_CODE...\n");
	exit(2);
}

/* The code named name, or -1. */
static int
code_of(const char *name)
{
	int c;

	for (c = 0; c < 64; c++)
		if (strcmp(pam_code_name(c), name) == 0)
			return c;
	return -1;
}

/* A decimal below INT_MAX, or -1. */
static long
number(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > INT_MAX)
		return -1;
	return v;
}

/* One login; 0 when every result was the expected one. why gets the
 * first difference. */
static int
login(const char *confdir, const char *service, const char *rhost,
    const struct user *u, char *why, size_t whylen)
{
	struct pam_conv conv = { no_conv, NULL };
	pam_handle_t *pamh = NULL;
	int r, last, bad = 1;

#ifdef HAVE_PAM_START_CONFDIR
	r = pam_start_confdir(service, u->name, &conv, confdir, &pamh);
#else
	r = PAM_SYSTEM_ERR; /* main() never gets here */
	(void)conv;
#endif
	if (r != PAM_SUCCESS) {
		snprintf(why, whylen, "pam_start_confdir: %s", pam_code_name(r));
		return 1;
	}
	if ((last = pam_set_item(pamh, PAM_RHOST, rhost)) != PAM_SUCCESS ||
	    (last = pam_set_item(pamh, PAM_TTY, "ssh")) != PAM_SUCCESS) {
		snprintf(why, whylen, "pam_set_item: %s", pam_code_name(last));
		goto out;
	}
	last = pam_acct_mgmt(pamh, 0);
	if (!u->allow) {
		if (last != u->code)
			snprintf(why, whylen, "account=%s, expected %s",
			    pam_code_name(last), pam_code_name(u->code));
		else
			bad = 0;
		goto out;
	}
	if (last != PAM_SUCCESS) {
		snprintf(why, whylen, "account=%s, expected PAM_SUCCESS",
		    pam_code_name(last));
		goto out;
	}
	if ((last = pam_open_session(pamh, 0)) != PAM_SUCCESS) {
		snprintf(why, whylen, "open=%s", pam_code_name(last));
		goto out;
	}
	if ((last = pam_close_session(pamh, 0)) != PAM_SUCCESS) {
		snprintf(why, whylen, "close=%s", pam_code_name(last));
		goto out;
	}
	bad = 0;
out:
	pam_end(pamh, last);
	return bad;
}

/* Runs the rounds; see the top of this file. */
int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *rhost = "127.0.0.1";
	struct user users[MAX_USERS];
	long rounds = -1, worker = -1, i;
	unsigned long allowed = 0, denied = 0, unexpected = 0;
	size_t n = 0;
	char why[256];
	int a;

	for (a = 1; a < argc && strncmp(argv[a], "--", 2) == 0; a += 2) {
		if (a + 1 >= argc)
			usage();
		if (strcmp(argv[a], "--confdir") == 0)
			confdir = argv[a + 1];
		else if (strcmp(argv[a], "--service") == 0)
			service = argv[a + 1];
		else if (strcmp(argv[a], "--rhost") == 0)
			rhost = argv[a + 1];
		else if (strcmp(argv[a], "--rounds") == 0)
			rounds = number(argv[a + 1]);
		else if (strcmp(argv[a], "--worker") == 0)
			worker = number(argv[a + 1]);
		else if (strcmp(argv[a], "--pin") == 0) {
			/* kept mapped after pam_end: LeakSanitizer then sees
			 * the module's allocations as they are */
			if (dlopen(argv[a + 1], RTLD_NOW | RTLD_NODELETE) == NULL) {
				fprintf(stderr, "dlopen: %s\n", dlerror());
				return 2;
			}
		} else
			usage();
	}
	for (; a < argc; a++) {
		char *eq = strchr(argv[a], '=');

		if (eq == NULL || n == MAX_USERS)
			usage();
		*eq = '\0';
		users[n].name = argv[a];
		users[n].allow = strcmp(eq + 1, "allow") == 0;
		users[n].code = users[n].allow ? PAM_SUCCESS : code_of(eq + 1);
		if (users[n].code < 0 || *users[n].name == '\0')
			usage();
		n++;
	}
	if (confdir == NULL || service == NULL || rounds < 0 || worker < 0 ||
	    n == 0)
		usage();
#ifndef HAVE_PAM_START_CONFDIR
	fprintf(stderr, "SKIP: libpam has no pam_start_confdir\n");
	return 77;
#else
	for (i = 0; i < rounds; i++) {
		const struct user *u = &users[(size_t)(worker + i) % n];

		if (login(confdir, service, rhost, u, why, sizeof(why)) != 0) {
			if (unexpected++ < MAX_REPORTED)
				fprintf(stderr, "worker %ld round %ld user %s: %s\n",
				    worker, i, u->name, why);
		} else if (u->allow)
			allowed++;
		else
			denied++;
	}
	printf("rounds %ld allowed %lu denied %lu unexpected %lu\n", rounds,
	    allowed, denied, unexpected);
	return unexpected == 0 ? 0 : 1;
#endif
}
