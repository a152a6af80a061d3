/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit_verify.c - benchmark of the audit trail; prints figures, never
 * passes or fails on time.
 *   bench/audit_verify [--lines N] [--fsync-lines N] [--agentid PATH] [--dir DIR]
 * 1. appends N records (default 1000000) with agentid_audit_append,
 *    audit_fsync no, as separate calls (each opens, locks, reads the tail,
 *    writes and closes, as every login does): appends/s;
 * 2. appends --fsync-lines records (default 2000) with audit_fsync yes;
 * 3. verifies the N-line trail in-process (agentid_audit_verify) and, when
 *    the agentid tool is found (--agentid, default ./agentid), by running
 *    "agentid audit verify FILE": lines/s and total seconds.
 * Build without --enable-sanitizers for meaningful figures.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"

/* Seconds on the monotonic clock. */
static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Appends n records to path; returns seconds taken or -1. */
static double
append_many(const char *path, unsigned long n, bool sync)
{
	struct agentid_config *cfg = NULL;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	char user[32];
	unsigned long i;
	double t0, t = -1;

	if (agentid_config_new(&cfg) != 0)
		return -1;
	free(cfg->audit_log);
	if ((cfg->audit_log = strdup(path)) == NULL)
		goto out;
	cfg->audit_fsync = sync;
	cfg->audit_syslog = false;
	memset(&d, 0, sizeof(d));
	d.owner = "uid=alice,ou=people,dc=example,dc=org";
	d.has_window = true;
	d.not_after = 1893456000;
	memset(&ev, 0, sizeof(ev));
	ev.host = "host1.example.org";
	ev.event = "account";
	ev.service = "sshd";
	ev.user = user;
	ev.decision = &d;
	ev.rhost = "192.0.2.10";
	ev.pid = getpid();
	ev.duration = -1;
	t0 = now();
	for (i = 0; i < n; i++) {
		snprintf(user, sizeof(user), "bot%lu", i % 1000);
		d.allow = i % 5 != 4;
		d.reason = d.allow ? AGENTID_OK : AGENTID_EXPIRED;
		ev.ts = 1790000000 + (int64_t)i;
		if (agentid_audit_append(cfg, &ev, &err) != 0) {
			fprintf(stderr, "append: %s\n", err.msg);
			goto out;
		}
	}
	t = now() - t0;
out:
	agentid_config_free(cfg);
	return t;
}

/* Seconds of CPU this process has used. */
static double
cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Runs "agentid audit verify --quiet path"; returns wall seconds (or -1)
 * and the child's CPU seconds in *cpu_s. A libtool wrapper script in the
 * build tree costs ~0.3 s of shell: the real binary in .libs/ is run
 * instead when it is there.
 */
static double
run_tool(const char *agentid, const char *path, double *cpu_s)
{
	char real[1024], libs[512];
	const char *slash = strrchr(agentid, '/');
	struct rusage ru;
	double t0 = now();
	int status, dlen = slash != NULL ? (int)(slash - agentid) : 1;
	pid_t pid;

	snprintf(libs, sizeof(libs), "%.*s/.libs", dlen,
	    slash != NULL ? agentid : ".");
	snprintf(real, sizeof(real), "%s/%s", libs,
	    slash != NULL ? slash + 1 : agentid);
	if (access(real, X_OK) != 0)
		real[0] = '\0';
	if ((pid = fork()) < 0)
		return -1;
	if (pid == 0) {
		if (real[0] != '\0') {
			setenv("LD_LIBRARY_PATH", libs, 1);
			agentid = real;
		}
		execl(agentid, agentid, "audit", "verify", "--quiet", path,
		    (char *)NULL);
		_exit(127);
	}
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	*cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return now() - t0;
}

int
main(int argc, char **argv)
{
	unsigned long lines = 1000000, flines = 2000;
	const char *agentid = "./agentid", *base = NULL;
	char dir[256], log[300], flog[300], cmd[300];
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[1];
	struct stat st;
	double t, c;
	int i, rc = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--lines") == 0 && i + 1 < argc)
			lines = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--fsync-lines") == 0 && i + 1 < argc)
			flines = strtoul(argv[++i], NULL, 10);
		else if (strcmp(argv[i], "--agentid") == 0 && i + 1 < argc)
			agentid = argv[++i];
		else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
			base = argv[++i];
		else {
			fprintf(stderr, "usage: audit_verify [--lines N] "
			    "[--fsync-lines N] [--agentid PATH] [--dir DIR]\n");
			return 2;
		}
	}
	if (base == NULL && (base = getenv("TMPDIR")) == NULL)
		base = "/tmp";
	snprintf(dir, sizeof(dir), "%s/agentid-bench.XXXXXX", base);
	if (mkdtemp(dir) == NULL) {
		perror(dir);
		return 1;
	}
	snprintf(log, sizeof(log), "%s/a/audit.log", dir);
	snprintf(flog, sizeof(flog), "%s/f/audit.log", dir);

	if ((t = append_many(log, lines, false)) < 0)
		goto out;
	stat(log, &st);
	printf("append, audit_fsync no : %lu records in %.2f s = %.0f appends/s "
	    "(%.1f us each; %.0f MB, %.0f bytes/line)\n", lines, t, lines / t,
	    t / lines * 1e6, st.st_size / 1e6, (double)st.st_size / lines);
	if (flines > 0) {
		if ((t = append_many(flog, flines, true)) < 0)
			goto out;
		printf("append, audit_fsync yes: %lu records in %.2f s = %.0f "
		    "appends/s (%.1f us each) on %s\n", flines, t, flines / t,
		    t / flines * 1e6, base);
	}
	files[0] = log;
	c = cpu();
	t = now();
	if (agentid_audit_verify(files, 1, &sum, &err) != 0) {
		fprintf(stderr, "verify: %s\n", err.msg);
		goto out;
	}
	t = now() - t;
	c = cpu() - c;
	printf("verify (library)       : %" PRIu64 " lines in %.2f s = %.0f "
	    "lines/s (%.2f s CPU)\n", sum.lines, t, sum.lines / t, c);
	if (access(agentid, X_OK) == 0) {
		if ((t = run_tool(agentid, log, &c)) < 0) {
			fprintf(stderr, "%s audit verify failed\n", agentid);
			goto out;
		}
		printf("agentid audit verify   : %" PRIu64 " lines in %.2f s = "
		    "%.0f lines/s (whole command, %.2f s CPU)\n", sum.lines, t,
		    sum.lines / t, c);
	} else {
		printf("agentid audit verify   : not run (%s not found; "
		    "--agentid PATH)\n", agentid);
	}
	rc = 0;
out:
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return rc;
}
