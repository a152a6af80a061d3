/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_replica_pairing.c - a reader that opens the base, then finds no
 * delta because agentidd compacted in between (a new base renamed in, the
 * old delta unlinked), must not serve the old base alone: that brings back
 * what the delta removed (a revoked agent's shell, a group membership that
 * initgroups hands a login for the life of its session).
 *
 * The race is made deterministic: openat() is interposed, and the first
 * open of the delta does the compaction (rename, unlink) just before it.
 * Runs as root (the reader trusts only files root or agentid owns); SKIP
 * otherwise.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica.h"
#include "agentid_replica_writer.h"

static char base_path[256], next_path[256];
static int swaps;       /* compactions left to do at the delta's open */

int openat(int dfd, const char *name, int flags, ...);

/* The reader opens the delta with openat(dir, "replica.delta"): do the
 * writer's compaction first. */
int
openat(int dfd, const char *name, int flags, ...)
{
	mode_t mode = 0;
	va_list ap;
	size_t n = strlen(name);

	if (flags & O_CREAT) {
		va_start(ap, flags);
		mode = (mode_t)va_arg(ap, int);
		va_end(ap);
	}
	if (swaps > 0 && n > 6 && strcmp(name + n - 6, ".delta") == 0) {
		char dpath[300];

		swaps--;
		snprintf(dpath, sizeof(dpath), "%s.delta", base_path);
		if (rename(next_path, base_path) != 0 || unlink(dpath) != 0) {
			perror("compaction");
			exit(99);
		}
	}
	return (int)syscall(SYS_openat, dfd, name, flags, mode);
}

static void
die(const char *what, const struct agentid_error *err)
{
	fprintf(stderr, "FAIL: %s: %s\n", what, err != NULL ? err->msg : "");
	exit(1);
}

/* A base at path: bot (state st), group team listing bot. */
static uint64_t
write_base(const char *path, enum agentid_replica_state st)
{
	struct agentid_replica_meta meta = { 0, 1000, 60, "/usr/sbin/nologin",
	    0 };
	struct agentid_replica_entry e = { "bot", 20001, 20001, "", "/home/bot",
	    "/bin/bash", st, false, 0, 4000000000 };
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	char *members[] = { "bot" };
	uint64_t gen;

	if (agentid_replica_writer_new(path, &meta, &w, &err) != 0 ||
	    agentid_replica_write_user(w, &e, &err) != 0 ||
	    agentid_replica_write_group(w, "team", 30001,
	    st == AGENTID_REPLICA_OK ? members : NULL,
	    st == AGENTID_REPLICA_OK ? 1 : 0, &err) != 0)
		die("base", &err);
	gen = agentid_replica_writer_generation(w);
	if (agentid_replica_commit(w, &err) != 0)
		die("base commit", &err);
	agentid_replica_writer_free(w);
	return gen;
}

/* The delta of base gen: bot revoked, out of team. */
static void
write_delta(const char *path, uint64_t gen)
{
	struct agentid_replica_meta meta = { 0, 1000, 60, "/usr/sbin/nologin",
	    0 };
	struct agentid_replica_entry e = { "bot", 20001, 20001, "", "/home/bot",
	    "/bin/bash", AGENTID_REPLICA_REVOKED, false, 0, 4000000000 };
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };

	if (agentid_replica_writer_new_delta(path, &meta, gen, &w, &err) != 0 ||
	    agentid_replica_write_user(w, &e, &err) != 0 ||
	    agentid_replica_write_group(w, "team", 30001, NULL, 0, &err) != 0 ||
	    agentid_replica_write_members(w, "bot", NULL, 0, &err) != 0 ||
	    agentid_replica_commit(w, &err) != 0)
		die("delta", &err);
	agentid_replica_writer_free(w);
}

/* bot as a reader opened now sees it: revoked, in no group. */
static int
check(const char *label)
{
	struct agentid_replica *r = NULL;
	struct agentid_replica_user u;
	struct agentid_replica_gids g;
	int rc, fails = 0;

	if ((rc = agentid_replica_open(base_path, &r)) != 0) {
		/* refusing is fail closed too */
		printf("ok: %s: refused (%s)\n", label, strerror(rc));
		return 0;
	}
	if (agentid_replica_user_by_name(r, "bot", &u) == 0 &&
	    u.state == AGENTID_REPLICA_OK) {
		printf("FAIL: %s: bot served as active (the old base without "
		    "its delta)\n", label);
		fails++;
	}
	if (agentid_replica_groups_of(r, "bot", &g) == 0 && g.n > 0) {
		printf("FAIL: %s: bot still in %u group(s)\n", label, g.n);
		fails++;
	}
	if (fails == 0)
		printf("ok: %s\n", label);
	agentid_replica_close(r);
	return fails;
}

int
main(void)
{
	char dir[] = "/tmp/agentid-pairing.XXXXXX";
	char cmd[512];
	uint64_t gen;
	int fails = 0;

	if (geteuid() != 0) {
		printf("SKIP: needs root (the reader trusts root's files)\n");
		return 77;
	}
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 99;
	}
	snprintf(base_path, sizeof(base_path), "%s/replica.cdb", dir);
	snprintf(next_path, sizeof(next_path), "%s/next.cdb", dir);

	gen = write_base(base_path, AGENTID_REPLICA_OK);
	write_delta(base_path, gen);
	fails += check("base + delta");

	/* the compaction's base: what base + delta said */
	write_base(next_path, AGENTID_REPLICA_REVOKED);
	swaps = 1;
	fails += check("compacted between the base's open and the delta's");
	if (swaps != 0) {
		printf("FAIL: the delta was never opened\n");
		fails++;
	}
	fails += check("after the compaction");

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", dir);
	return fails == 0 ? 0 : 1;
}
