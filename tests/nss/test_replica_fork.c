/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_replica_fork.c - the replica reader's cache of the agentid user's
 * uid (common/replica_reader.c) behind a mutex, and fork. The reader is
 * compiled into libnss_agent.so.2, which any multi-threaded program loads;
 * a thread that forks while another holds that mutex leaves the child a
 * mutex nobody will unlock, and the child's next getpwnam() must not hang.
 *
 * Deterministic: this program's pthread_mutex_lock/trylock stand in for
 * libc's. Armed, the first one to take a mutex forks right there (the
 * mutex held, as another thread would hold it). In the child a
 * pthread_mutex_lock that would block on a held mutex exits 3 instead:
 * that is the hang, reported without waiting for it.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "agentid_replica.h"

#define WOULD_HANG 3

static volatile int armed;      /* fork at the next mutex taken */
static volatile int in_child;   /* this is the forked child */
static volatile pid_t child;    /* the child forked, in the parent */
static char path[256];

typedef int (*mutex_fn)(pthread_mutex_t *);

static mutex_fn
real(const char *name)
{
	return (mutex_fn)(uintptr_t)dlsym(RTLD_NEXT, name);
}

/* Opens the replica the way libnss_agent does; the child's whole life. */
static void
child_open(void)
{
	struct stat st;
	char why[256];
	int fd = -1;

	(void)agentid_replica_open_trusted(path, &fd, &st, why, sizeof(why));
	if (fd >= 0)
		close(fd);
	_exit(0);
}

/* Forks if armed; the caller holds m. */
static void
maybe_fork(void)
{
	pid_t pid;

	if (!armed || in_child)
		return;
	armed = 0;
	if ((pid = fork()) == 0) {
		in_child = 1;
		child_open();
	}
	child = pid;
}

int pthread_mutex_lock(pthread_mutex_t *m);
int pthread_mutex_trylock(pthread_mutex_t *m);

int
pthread_mutex_lock(pthread_mutex_t *m)
{
	int r;

	if (in_child) {
		/* taken already: only its holder (gone) could unlock it */
		if ((r = real("pthread_mutex_trylock")(m)) == EBUSY)
			_exit(WOULD_HANG);
		return r;
	}
	if ((r = real("pthread_mutex_lock")(m)) == 0)
		maybe_fork();
	return r;
}

int
pthread_mutex_trylock(pthread_mutex_t *m)
{
	int r;

	if ((r = real("pthread_mutex_trylock")(m)) == 0)
		maybe_fork();
	return r;
}

/* A replica directory and file not owned by root, so that the trust
 * check looks the agentid user up (the path that takes the mutex). */
static int
setup(void **state)
{
	char dir[] = "/tmp/agentid-fork-XXXXXX";
	FILE *f;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/agents.cdb", dir);
	if ((f = fopen(path, "w")) == NULL)
		return -1;
	fclose(f);
	if (geteuid() == 0 &&
	    (chown(dir, 65534, 65534) != 0 || chown(path, 65534, 65534) != 0))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char *slash;

	(void)state;
	(void)unlink(path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		(void)rmdir(path);
	}
	return 0;
}

static void
test_fork_while_cache_locked(void **state)
{
	struct stat st;
	char why[256];
	int fd = -1, status;

	(void)state;
	/* once unarmed: the cache filled (the lookup the child repeats) */
	(void)agentid_replica_open_trusted(path, &fd, &st, why, sizeof(why));
	if (fd >= 0)
		close(fd);
	fd = -1;
	child = 0;
	armed = 1;
	(void)agentid_replica_open_trusted(path, &fd, &st, why, sizeof(why));
	if (fd >= 0)
		close(fd);
	armed = 0;
	if (child == 0)
		skip(); /* the trust check took no mutex: nothing to fork at */
	assert_true(child > 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == WOULD_HANG)
		fail_msg("the child forked while the uid cache was locked "
		    "would block forever on its mutex");
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fork_while_cache_locked,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
