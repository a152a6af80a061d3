/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_lookups.c - 8 threads look agents up through libnss_agent.so.2
 * (dlopened, as glibc does) while another process, agentidd, rewrites the
 * replica. Built by tests/tsan/run.sh with -fsanitize=thread, against a
 * module built the same way.
 *
 *   nss_lookups MODULE REPLICA STABLE CHURN LOOKUPS MIN_FLIPS
 *
 * Agents stable-0001..STABLE (uid 43000+i) never change: each answer must
 * be exactly theirs. Agents churn-01..CHURN (uid 42000+k) are suspended and
 * resumed all the time: each answer must be whole, with the shell /bin/sh
 * or the nologin shell; a thread that sees an agent's shell differ from
 * the last time it looked counts a flip (the lookups saw the writer's
 * work). Every thread runs LOOKUPS lookups, then goes on until MIN_FLIPS
 * flips were seen in all (or 10 minutes passed: a guard against a hang,
 * never a measure). Exit 0 when no answer was wrong and enough flips were
 * seen, 1 otherwise, 2 on usage or setup errors.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define THREADS 8
#define MAX_CHURN 64
#define GUARD_SECONDS 600

typedef enum nss_status (*getpwnam_fn)(const char *, struct passwd *, char *,
    size_t, int *);
typedef enum nss_status (*getpwuid_fn)(uid_t, struct passwd *, char *,
    size_t, int *);

static getpwnam_fn by_name;
static getpwuid_fn by_uid;
static unsigned stable, churn;
static unsigned long lookups, min_flips;
static time_t deadline;
static atomic_ulong bad, flips, done_lookups;

/* Whether pw is exactly stable agent i's entry. */
static int
stable_ok(const struct passwd *pw, unsigned i)
{
	char name[32];

	snprintf(name, sizeof(name), "stable-%04u", i);
	return strcmp(pw->pw_name, name) == 0 && pw->pw_uid == 43000 + i &&
	    pw->pw_gid == 41000 && strcmp(pw->pw_dir, "/tmp") == 0 &&
	    strcmp(pw->pw_shell, "/bin/sh") == 0;
}

/* Whether pw is churn agent k's entry in one of its two states; *shell_sh
 * says which. */
static int
churn_ok(const struct passwd *pw, unsigned k, int *shell_sh)
{
	char name[32];

	snprintf(name, sizeof(name), "churn-%02u", k);
	if (strcmp(pw->pw_name, name) != 0 || pw->pw_uid != 42000 + k ||
	    pw->pw_gid != 41000 || strcmp(pw->pw_dir, "/tmp") != 0)
		return 0;
	*shell_sh = strcmp(pw->pw_shell, "/bin/sh") == 0;
	return *shell_sh || strstr(pw->pw_shell, "nologin") != NULL;
}

/* The lookups of one thread; see the top of this file. */
static void *
worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	int last[MAX_CHURN + 1];
	char name[32], buf[2048];
	struct passwd pw;
	unsigned long n;
	unsigned k;
	int err, sh;

	for (k = 0; k <= MAX_CHURN; k++)
		last[k] = -1;
	for (n = 0;; n++) {
		enum nss_status st;
		int is_churn = rand_r(&seed) % 4 == 0;

		if (n >= lookups && (atomic_load(&flips) >= min_flips ||
		    time(NULL) > deadline))
			break;
		k = 1 + (unsigned)rand_r(&seed) % (is_churn ? churn : stable);
		snprintf(name, sizeof(name), is_churn ? "churn-%02u" :
		    "stable-%04u", k);
		if (n % 2)
			st = by_name(name, &pw, buf, sizeof(buf), &err);
		else
			st = by_uid((is_churn ? 42000 : 43000) + k, &pw, buf,
			    sizeof(buf), &err);
		if (st != NSS_STATUS_SUCCESS) {
			if (atomic_fetch_add(&bad, 1) < 10)
				fprintf(stderr, "%s: status %d errno %d\n", name,
				    (int)st, err);
		} else if (!is_churn) {
			if (!stable_ok(&pw, k) && atomic_fetch_add(&bad, 1) < 10)
				fprintf(stderr, "%s: wrong answer %s:%u:%u:%s:%s\n",
				    name, pw.pw_name, (unsigned)pw.pw_uid,
				    (unsigned)pw.pw_gid, pw.pw_dir, pw.pw_shell);
		} else if (!churn_ok(&pw, k, &sh)) {
			if (atomic_fetch_add(&bad, 1) < 10)
				fprintf(stderr, "%s: wrong answer %s:%u:%u:%s:%s\n",
				    name, pw.pw_name, (unsigned)pw.pw_uid,
				    (unsigned)pw.pw_gid, pw.pw_dir, pw.pw_shell);
		} else {
			if (last[k] != -1 && last[k] != sh)
				atomic_fetch_add(&flips, 1);
			last[k] = sh;
		}
	}
	atomic_fetch_add(&done_lookups, n);
	return NULL;
}

/* A number, or exits 2. */
static unsigned long
arg_number(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0') {
		fprintf(stderr, "nss_lookups: bad number %s\n", s);
		exit(2);
	}
	return v;
}

int
main(int argc, char **argv)
{
	pthread_t t[THREADS];
	void *dl;
	unsigned long i;

	if (argc != 7) {
		fprintf(stderr, "usage: nss_lookups MODULE REPLICA STABLE CHURN "
		    "LOOKUPS MIN_FLIPS\n");
		return 2;
	}
	stable = (unsigned)arg_number(argv[3]);
	churn = (unsigned)arg_number(argv[4]);
	lookups = arg_number(argv[5]);
	min_flips = arg_number(argv[6]);
	if (stable == 0 || churn == 0 || churn > MAX_CHURN ||
	    setenv("AGENTID_REPLICA", argv[2], 1) != 0)
		return 2;
	if ((dl = dlopen(argv[1], RTLD_NOW)) == NULL) {
		fprintf(stderr, "dlopen: %s\n", dlerror());
		return 2;
	}
	by_name = (getpwnam_fn)dlsym(dl, "_nss_agent_getpwnam_r");
	by_uid = (getpwuid_fn)dlsym(dl, "_nss_agent_getpwuid_r");
	if (by_name == NULL || by_uid == NULL) {
		fprintf(stderr, "dlsym: %s\n", dlerror());
		return 2;
	}
	deadline = time(NULL) + GUARD_SECONDS;
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0)
			return 2;
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	printf("%d threads, %lu lookups, %lu wrong answers, %lu state flips "
	    "seen\n", THREADS, atomic_load(&done_lookups), atomic_load(&bad),
	    atomic_load(&flips));
	return atomic_load(&bad) == 0 && atomic_load(&flips) >= min_flips ?
	    0 : 1;
}
