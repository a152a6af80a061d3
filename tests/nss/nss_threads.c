/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_threads.c - 8 threads look agents up while the replica is replaced
 * over and over (by rename, as sync does). Built by test_nss_threads.sh
 * together with the module's sources under ThreadSanitizer.
 *
 *   nss_threads REPLICA_A REPLICA_B PATH USERS LOOKUPS_PER_THREAD
 *
 * A and B hold the same agents with different tags ("genA", "genB") in the
 * gecos and home: every answer must come whole from one of the two.
 */
#include "config.h"

#include <errno.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum nss_status _nss_agent_getpwnam_r(const char *name, struct passwd *pw,
    char *buf, size_t buflen, int *errnop);
enum nss_status _nss_agent_getpwuid_r(uid_t uid, struct passwd *pw, char *buf,
    size_t buflen, int *errnop);

#define THREADS 8

static const char *path_a, *path_b, *path;
static unsigned users;
static unsigned long lookups;
static atomic_int done;
static atomic_ulong bad, swaps;

/* One answer: the tag in the gecos and in the home must agree. */
static int
consistent(const struct passwd *pw, unsigned i)
{
	char want[64];
	const char *tag = strstr(pw->pw_gecos, " gen");

	if (tag == NULL || (strcmp(tag, " genA") != 0 && strcmp(tag, " genB") != 0))
		return 0;
	snprintf(want, sizeof(want), "/home/%s/agent-%07u", tag + 1, i + 1);
	return strcmp(pw->pw_dir, want) == 0 && pw->pw_uid == 100000 + i;
}

/* LOOKUPS lookups of random agents, by name and by uid. */
static void *
worker(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg, i;
	char name[32], buf[1024];
	struct passwd pw;
	unsigned long n;
	int err;

	for (n = 0; n < lookups; n++) {
		enum nss_status st;

		i = (unsigned)rand_r(&seed) % users;
		if (n % 2) {
			snprintf(name, sizeof(name), "agent-%07u", i + 1);
			st = _nss_agent_getpwnam_r(name, &pw, buf, sizeof(buf), &err);
		} else {
			st = _nss_agent_getpwuid_r(100000 + i, &pw, buf, sizeof(buf),
			    &err);
		}
		if (st != NSS_STATUS_SUCCESS || !consistent(&pw, i))
			atomic_fetch_add(&bad, 1);
	}
	atomic_fetch_add(&done, 1);
	return NULL;
}

/* Swaps PATH between A and B (hard link + rename) until the workers end. */
static void *
replacer(void *arg)
{
	char tmp[4096];
	unsigned long k = 0;

	(void)arg;
	snprintf(tmp, sizeof(tmp), "%s.swap", path);
	while (atomic_load(&done) < THREADS) {
		unlink(tmp);
		if (link(k % 2 ? path_a : path_b, tmp) != 0 ||
		    rename(tmp, path) != 0) {
			perror("replace");
			exit(2);
		}
		k++;
		atomic_store(&swaps, k);
		usleep(1000);
	}
	return NULL;
}

int
main(int argc, char **argv)
{
	pthread_t t[THREADS], r;
	unsigned long i;

	if (argc != 6) {
		fprintf(stderr, "usage: nss_threads A B PATH USERS LOOKUPS\n");
		return 2;
	}
	path_a = argv[1];
	path_b = argv[2];
	path = argv[3];
	users = (unsigned)strtoul(argv[4], NULL, 10);
	lookups = strtoul(argv[5], NULL, 10);
	if (setenv("AGENTID_REPLICA", path, 1) != 0 || users == 0)
		return 2;
	if (pthread_create(&r, NULL, replacer, NULL) != 0)
		return 2;
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(i + 1)) != 0)
			return 2;
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_join(r, NULL);
	printf("%d threads x %lu lookups, replica replaced %lu times, "
	    "%lu bad answers\n", THREADS, lookups, atomic_load(&swaps),
	    atomic_load(&bad));
	return atomic_load(&bad) == 0 && atomic_load(&swaps) > 10 ? 0 : 1;
}
