/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enforce_session.c - one agent session for bench/enforce.sh, opened the
 * way sshd opens one: a fresh kernel audit session (what pam_loginuid does:
 * write /proc/self/loginuid), then the real PAM stack of a test service
 * directory (pam_start_confdir; account, then open_session: pam_agent
 * decides and registers the session), then the session's command in a
 * child, while this process stays alive as the session's leader (sshd's
 * monitor) and closes the session when the command ends.
 *
 *   enforce_session --confdir DIR --service S --user U --loginuid N
 *                   --ready FILE [--rhost H] [--tty T] -- CMD [ARG]...
 *
 * FILE gets "audit_session LEADER_PID CMD_PID" once the session is open.
 * Exit 0 after the command and close_session, 1 when account or
 * open_session refused, 2 on usage or setup errors. A SIGTERM from the
 * enforcer ends it like any process of the session.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

/* A conversation that answers nothing: pam_agent never asks. */
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

/* Writes s to path (what pam_loginuid does to /proc/self/loginuid).
 * 0 or -1. */
static int
write_file(const char *path, const char *s)
{
	size_t len = strlen(s);
	int fd, r = -1;

	if ((fd = open(path, O_WRONLY | O_CLOEXEC)) < 0)
		return -1;
	if (write(fd, s, len) == (ssize_t)len)
		r = 0;
	if (close(fd) != 0)
		r = -1;
	return r;
}

/* Reads the first line of path into buf (newline dropped). 0 or -1. */
static int
read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	int r = -1;

	if (f == NULL)
		return -1;
	if (fgets(buf, (int)len, f) != NULL) {
		buf[strcspn(buf, "\n")] = '\0';
		r = 0;
	}
	fclose(f);
	return r;
}

static void
usage(void)
{
	fprintf(stderr, "usage: enforce_session --confdir DIR --service S "
	    "--user U --loginuid N --ready FILE [--rhost H] [--tty T] -- "
	    "CMD [ARG]...\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *confdir = NULL, *service = NULL, *user = NULL;
	const char *loginuid = NULL, *ready = NULL, *rhost = NULL, *tty = NULL;
	struct pam_conv conv = { no_conv, NULL };
	char ses[32], line[128], tmp[4096];
	pam_handle_t *pamh = NULL;
	int i, r, status, rc = 2, opened = 0;
	pid_t child;
	FILE *f;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--confdir") == 0)
			confdir = argv[++i];
		else if (strcmp(argv[i], "--service") == 0)
			service = argv[++i];
		else if (strcmp(argv[i], "--user") == 0)
			user = argv[++i];
		else if (strcmp(argv[i], "--loginuid") == 0)
			loginuid = argv[++i];
		else if (strcmp(argv[i], "--ready") == 0)
			ready = argv[++i];
		else if (strcmp(argv[i], "--rhost") == 0)
			rhost = argv[++i];
		else if (strcmp(argv[i], "--tty") == 0)
			tty = argv[++i];
		else
			usage();
	}
	if (confdir == NULL || service == NULL || user == NULL ||
	    loginuid == NULL || ready == NULL || i >= argc)
		usage();
	/* pam_loginuid's job: a fresh audit session, inherited by all below */
	if (write_file("/proc/self/loginuid", loginuid) != 0 ||
	    read_line("/proc/self/sessionid", ses, sizeof(ses)) != 0) {
		perror("enforce_session: /proc/self/loginuid");
		goto out;
	}
	if (pam_start_confdir(service, user, &conv, confdir, &pamh) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "enforce_session: pam_start_confdir failed\n");
		goto out;
	}
	if ((rhost != NULL && pam_set_item(pamh, PAM_RHOST, rhost) !=
	    PAM_SUCCESS) ||
	    (tty != NULL && pam_set_item(pamh, PAM_TTY, tty) != PAM_SUCCESS))
		goto out;
	rc = 1;
	if ((r = pam_acct_mgmt(pamh, 0)) != PAM_SUCCESS ||
	    (r = pam_open_session(pamh, 0)) != PAM_SUCCESS) {
		fprintf(stderr, "enforce_session: %s: %s\n", user,
		    pam_strerror(pamh, r));
		goto out;
	}
	opened = 1;
	rc = 2;
	if ((child = fork()) < 0)
		goto out;
	if (child == 0) {
		execvp(argv[i], &argv[i]);
		_exit(127);
	}
	/* written whole, then renamed: the bench reads it once it exists */
	snprintf(line, sizeof(line), "%s %ld %ld\n", ses, (long)getpid(),
	    (long)child);
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", ready) >= sizeof(tmp) ||
	    (f = fopen(tmp, "we")) == NULL)
		goto out;
	fputs(line, f);
	if (fclose(f) != 0 || rename(tmp, ready) != 0)
		goto out;
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	rc = 0;
out:
	if (opened)
		(void)pam_close_session(pamh, 0);
	if (pamh != NULL)
		pam_end(pamh, PAM_SUCCESS);
	return rc;
}
