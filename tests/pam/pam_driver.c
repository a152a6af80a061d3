/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_driver.c - drives a PAM stack for the module tests, without touching
 * /etc: a handle from pam_start_confdir() on a test service directory, the
 * environment sshd would set (pam_putenv), then the actions asked for.
 *
 *   pam_driver --confdir DIR --service S --user U [--rhost H] [--tty T]
 *              [--env NAME=VALUE]... [--pin MODULE.so]... ACTION...
 *
 * ACTION is auth, setcred, account, open or close. Prints "ACTION=PAM_CODE" per action,
 * then "env NAME=VALUE" for the PAM environment (tests/pam/pam_probe.so
 * records there what a module itself returned). --pin loads a module with
 * RTLD_NODELETE first, so that it stays mapped after pam_end (LeakSanitizer
 * then sees its allocations as they are). Exit 0 when everything ran
 * (whatever the codes), 2 on usage or setup errors, 77 without
 * pam_start_confdir.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

#include "pam_codes.h"

#define MAX_ARGS 16

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
	fprintf(stderr, "usage: pam_driver --confdir DIR --service S --user U "
	    "[--rhost H] [--tty T] [--env N=V]... [--pin MODULE]... ACTION...\n");
	exit(2);
}

/* Runs the actions; see the top of this file. */
int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL, *rhost = NULL;
	const char *tty = NULL, *envs[MAX_ARGS];
	struct pam_conv conv = { no_conv, NULL };
	pam_handle_t *pamh = NULL;
	char **env;
	int i, n_envs = 0, r, last = PAM_SUCCESS;

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--confdir") == 0)
			confdir = argv[i + 1];
		else if (strcmp(argv[i], "--service") == 0)
			service = argv[i + 1];
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[i + 1];
		else if (strcmp(argv[i], "--rhost") == 0)
			rhost = argv[i + 1];
		else if (strcmp(argv[i], "--tty") == 0)
			tty = argv[i + 1];
		else if (strcmp(argv[i], "--env") == 0 && n_envs < MAX_ARGS)
			envs[n_envs++] = argv[i + 1];
		else if (strcmp(argv[i], "--pin") == 0) {
			if (dlopen(argv[i + 1], RTLD_NOW | RTLD_NODELETE) == NULL) {
				fprintf(stderr, "dlopen: %s\n", dlerror());
				return 2;
			}
		} else
			usage();
	}
	if (confdir == NULL || service == NULL || user == NULL || i >= argc)
		usage();
#ifdef HAVE_PAM_START_CONFDIR
	r = pam_start_confdir(service, user, &conv, confdir, &pamh);
#else
	fprintf(stderr, "SKIP: libpam has no pam_start_confdir\n");
	return 77;
#endif
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "pam_start_confdir: %s\n", pam_code_name(r));
		return 2;
	}
	if ((rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) != PAM_SUCCESS) ||
	    (tty != NULL && pam_set_item(pamh, PAM_TTY, tty) != PAM_SUCCESS)) {
		fprintf(stderr, "pam_set_item failed\n");
		return 2;
	}
	for (r = 0; r < n_envs; r++)
		if (pam_putenv(pamh, envs[r]) != PAM_SUCCESS) {
			fprintf(stderr, "pam_putenv %s failed\n", envs[r]);
			return 2;
		}
	for (; i < argc; i++) {
		if (strcmp(argv[i], "auth") == 0)
			r = pam_authenticate(pamh, 0);
		else if (strcmp(argv[i], "setcred") == 0)
			r = pam_setcred(pamh, PAM_ESTABLISH_CRED);
		else if (strcmp(argv[i], "account") == 0)
			r = pam_acct_mgmt(pamh, 0);
		else if (strcmp(argv[i], "open") == 0)
			r = pam_open_session(pamh, 0);
		else if (strcmp(argv[i], "close") == 0)
			r = pam_close_session(pamh, 0);
		else
			usage();
		printf("%s=%s\n", argv[i], pam_code_name(r));
		last = r;
	}
	if ((env = pam_getenvlist(pamh)) != NULL) {
		for (r = 0; env[r] != NULL; r++) {
			printf("env %s\n", env[r]);
			free(env[r]);
		}
		free(env);
	}
	fflush(stdout);
	pam_end(pamh, last);
	return 0;
}
