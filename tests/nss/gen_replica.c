/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_replica.c - writes replicas directly with the replica writer, for the
 * NSS tests and the benchmark (no directory needed).
 *
 *   gen_replica --fixture [--now T] PATH      the fixture of tests/nss
 *   gen_replica --users N [--groups G] [--tag T] [--min-uid U] PATH
 *       N agents "agent-0000001".. (uid 100000+i), G groups "team-00001"..
 *       (gid 200000+j, agent i in group i % G); T goes into every gecos and
 *       home, so that a reader can tell two generations apart.
 *   gen_replica --delta PATH                  writes PATH.delta for the base
 *       at PATH (its generation): bot-ok's shell changed, agent-0000001
 *       deleted, new-bot added, team-00001's members changed (the names
 *       of tests/fuzz/fuzz_replica.c's base; the seed of its corpus)
 *   gen_replica --delta-changes K [--tag T] PATH   writes PATH.delta for
 *       a base of --users agents at PATH: K of them (spread over the
 *       whole range) with another shell, as after K directory changes
 *       (for the benchmarks: every agent still resolves)
 *   --generation G                            the base's generation (0:
 *       chosen by the writer)
 *   gen_replica --tamper WHAT PATH            rewrites one field of PATH's
 *       header, keeping its CRC right: WHAT is magic, version, size or
 *       min_uid=N (files that only the reader's own checks can refuse).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "replica_format.h"

#define DAY 86400

/* Adds one user or dies. */
static void
user(struct agentid_replica_writer *w, const char *name, uint32_t uid,
    const char *gecos, const char *home, const char *shell,
    enum agentid_replica_state st, bool has_nb, int64_t nb, int64_t na)
{
	struct agentid_replica_entry e = { name, uid, uid, gecos, home, shell,
	    st, has_nb, nb, na };
	struct agentid_error err = { "" };

	if (agentid_replica_write_user(w, &e, &err) != 0) {
		fprintf(stderr, "gen_replica: %s\n", err.msg);
		exit(1);
	}
}

/* Adds one group or dies. */
static void
group(struct agentid_replica_writer *w, const char *name, uint32_t gid,
    char *const *members, size_t n)
{
	struct agentid_error err = { "" };

	if (agentid_replica_write_group(w, name, gid, members, n, &err) != 0) {
		fprintf(stderr, "gen_replica: %s\n", err.msg);
		exit(1);
	}
}

/* The fixture: one agent per state, a long entry, groups. */
static void
fixture(struct agentid_replica_writer *w, int64_t now)
{
	static char *agents[] = { "alice-bot", "expired-bot", "root", "long-bot" };
	char gecos[1001], home[301], *big[200], *p;
	size_t i;

	user(w, "alice-bot", 20001, "Alice's build bot", "/home/alice-bot",
	    "/bin/bash", AGENTID_REPLICA_OK, true, now - DAY, now + 30 * DAY);
	user(w, "expired-bot", 20002, "expired", "/home/expired-bot",
	    "/bin/bash", AGENTID_REPLICA_OK, false, 0, now - DAY);
	user(w, "suspended-bot", 20003, "suspended", "/home/suspended-bot",
	    "/bin/bash", AGENTID_REPLICA_SUSPENDED, false, 0, now + DAY);
	user(w, "revoked-bot", 20004, "revoked", "/home/revoked-bot",
	    "/bin/bash", AGENTID_REPLICA_REVOKED, false, 0, now + DAY);
	user(w, "orphan-bot", 20005, "orphaned", "/home/orphan-bot",
	    "/bin/bash", AGENTID_REPLICA_ORPHANED, false, 0, now + DAY);
	user(w, "future-bot", 20006, "not yet valid", "/home/future-bot",
	    "/bin/bash", AGENTID_REPLICA_OK, true, now + DAY, now + 2 * DAY);
	user(w, "skew-bot", 20008, "expired 30 s ago, inside clock_skew",
	    "/home/skew-bot", "/bin/sh", AGENTID_REPLICA_OK, false, 0, now - 30);
	memset(gecos, 'g', sizeof(gecos) - 1);
	gecos[sizeof(gecos) - 1] = '\0';
	memcpy(gecos, "Long Bot ", 9);
	memset(home, 'h', sizeof(home) - 1);
	home[sizeof(home) - 1] = '\0';
	memcpy(home, "/home/", 6);
	user(w, "long-bot", 20007, gecos, home, "/bin/zsh", AGENTID_REPLICA_OK,
	    false, 0, now + DAY);
	group(w, "agents", 30001, agents, 4);
	for (i = 0; i < 200; i++) {
		if (asprintf(&p, i == 7 ? "long-bot" : "member-%03zu", i) < 0)
			exit(1);
		big[i] = p;
	}
	group(w, "big-team", 30002, big, 200);
	for (i = 0; i < 200; i++)
		free(big[i]);
	group(w, "empty", 30003, NULL, 0);
}

/* N generated agents in G groups. */
static void
bulk(struct agentid_replica_writer *w, uint32_t n, uint32_t g, const char *tag,
    int64_t now)
{
	char name[32], gecos[128], home[128], **members = NULL;
	size_t fill, per;
	uint32_t i, j;

	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "agent-%07u", i + 1);
		snprintf(gecos, sizeof(gecos), "Agent %u of owner-%u %s", i + 1,
		    i % 997, tag);
		snprintf(home, sizeof(home), "/home/%s/%s", tag, name);
		user(w, name, 100000 + i, gecos, home, "/bin/bash",
		    AGENTID_REPLICA_OK, true, now - DAY, now + (i % 10 == 0 ?
		    -DAY : 30 * DAY));
	}
	if (g == 0)
		return;
	per = n / g + 1;
	if ((members = calloc(per, sizeof(*members))) == NULL)
		exit(1);
	for (j = 0; j < g; j++) {
		fill = 0;
		for (i = j; i < n; i += g)
			if (asprintf(&members[fill++], "agent-%07u", i + 1) < 0)
				exit(1);
		snprintf(name, sizeof(name), "team-%05u", j + 1);
		group(w, name, 200000 + j, members, fill);
		for (i = 0; i < fill; i++)
			free(members[i]);
	}
	free(members);
}

/* The delta described at the top, for the base at path. */
static int
delta(const char *path, const struct agentid_replica_meta *meta)
{
	struct agentid_replica_entry e = { "bot-ok", 100001, 100001, "g", "/h",
	    "/bin/zsh", AGENTID_REPLICA_REVOKED, false, 0, 1900000000 };
	struct agentid_replica_writer *w = NULL;
	struct agentid_replica *r = NULL;
	struct agentid_error err = { "" };
	char *members[] = { "bot-ok", "new-bot" };
	uint32_t gids[] = { 200001 };
	uint64_t gen;
	int rc;

	if (agentid_replica_open_file(path, false, &r, NULL, 0) != 0) {
		fprintf(stderr, "gen_replica: %s: no base\n", path);
		return 1;
	}
	gen = agentid_replica_info(r)->generation;
	agentid_replica_close(r);
	if ((rc = agentid_replica_writer_new_delta(path, meta, gen, &w,
	    &err)) == 0 &&
	    (rc = agentid_replica_write_user(w, &e, &err)) == 0 &&
	    (rc = agentid_replica_write_tombstone(w, false, "agent-0000001",
	    &err)) == 0) {
		e.name = "new-bot";
		e.uid = e.gid = 100003;
		e.state = AGENTID_REPLICA_OK;
		rc = agentid_replica_write_user(w, &e, &err);
	}
	if (rc == 0)
		rc = agentid_replica_write_group(w, "team-00001", 200001, members, 2,
		    &err);
	if (rc == 0)
		rc = agentid_replica_write_members(w, "new-bot", gids, 1, &err);
	if (rc == 0)
		rc = agentid_replica_write_members(w, "agent-0000001", NULL, 0,
		    &err);
	if (rc == 0)
		rc = agentid_replica_commit(w, &err);
	agentid_replica_writer_free(w);
	if (rc != 0)
		fprintf(stderr, "gen_replica: %s\n", err.msg);
	return rc == 0 ? 0 : 1;
}

/* A delta of k agents of the base at path with another shell. */
static int
delta_changes(const char *path, const struct agentid_replica_meta *meta,
    uint32_t k, const char *tag)
{
	struct agentid_replica_writer *w = NULL;
	struct agentid_replica *r = NULL;
	struct agentid_replica_user u;
	struct agentid_error err = { "" };
	char name[32], gecos[128], home[128];
	uint32_t n, i, step;
	uint64_t gen;
	int rc;

	if (agentid_replica_open_file(path, false, &r, NULL, 0) != 0) {
		fprintf(stderr, "gen_replica: %s: no base\n", path);
		return 1;
	}
	gen = agentid_replica_info(r)->generation;
	n = agentid_replica_info(r)->n_users;
	if (n == 0 || k > n) {
		agentid_replica_close(r);
		return 2;
	}
	step = n / k;
	rc = agentid_replica_writer_new_delta(path, meta, gen, &w, &err);
	for (i = 0; rc == 0 && i < k; i++) {
		struct agentid_replica_entry e;

		snprintf(name, sizeof(name), "agent-%07u", i * step + 1);
		if (agentid_replica_user_by_name(r, name, &u) != 0) {
			rc = ENOENT;
			break;
		}
		snprintf(gecos, sizeof(gecos), "%.*s", (int)u.gecos.len, u.gecos.p);
		snprintf(home, sizeof(home), "%.*s", (int)u.home.len, u.home.p);
		e = (struct agentid_replica_entry){ name, u.uid, u.gid, gecos, home,
		    tag, u.state, u.has_not_before, u.not_before, u.not_after };
		rc = agentid_replica_write_user(w, &e, &err);
	}
	agentid_replica_close(r);
	if (rc == 0)
		rc = agentid_replica_commit(w, &err);
	agentid_replica_writer_free(w);
	if (rc != 0)
		fprintf(stderr, "gen_replica: %s\n", err.msg[0] != '\0' ? err.msg :
		    strerror(rc));
	return rc == 0 ? 0 : 1;
}

/* Rewrites one header field of path and fixes the header CRC. */
static int
tamper(const char *what, const char *path)
{
	unsigned char h[AGENTID_REPLICA_HEADER_FIXED + AGENTID_REPLICA_MAX_FIELD];
	unsigned char vl[4];
	uint32_t vlen, crc, v;
	int fd;

	if ((fd = open(path, O_RDWR)) < 0 ||
	    pread(fd, vl, 4, AGENTID_REPLICA_HEADER_POS + 4) != 4)
		return 1;
	vlen = (uint32_t)vl[0] | (uint32_t)vl[1] << 8 | (uint32_t)vl[2] << 16 |
	    (uint32_t)vl[3] << 24;
	if (vlen > sizeof(h) ||
	    pread(fd, h, vlen, AGENTID_REPLICA_HEADER_VAL) != (ssize_t)vlen)
		return 1;
	if (strcmp(what, "magic") == 0) {
		h[0] ^= 0x20;
	} else if (strcmp(what, "version") == 0) {
		h[8] = 99;
	} else if (strcmp(what, "size") == 0) {
		h[24] ^= 1;
	} else if (strncmp(what, "min_uid=", 8) == 0) {
		v = (uint32_t)strtoul(what + 8, NULL, 10);
		h[48] = (unsigned char)(v & 0xff);
		h[49] = (unsigned char)(v >> 8 & 0xff);
		h[50] = (unsigned char)(v >> 16 & 0xff);
		h[51] = (unsigned char)(v >> 24 & 0xff);
	} else {
		return 2;
	}
	memset(h + 12, 0, 4);
	crc = agentid_replica_crc32c(0, h, vlen);
	h[12] = (unsigned char)(crc & 0xff);
	h[13] = (unsigned char)(crc >> 8 & 0xff);
	h[14] = (unsigned char)(crc >> 16 & 0xff);
	h[15] = (unsigned char)(crc >> 24 & 0xff);
	if (pwrite(fd, h, vlen, AGENTID_REPLICA_HEADER_VAL) != (ssize_t)vlen)
		return 1;
	return close(fd) == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fixture", no_argument, NULL, 'f' },
		{ "users", required_argument, NULL, 'u' },
		{ "groups", required_argument, NULL, 'g' },
		{ "tag", required_argument, NULL, 't' },
		{ "min-uid", required_argument, NULL, 'm' },
		{ "now", required_argument, NULL, 'n' },
		{ "tamper", required_argument, NULL, 'x' },
		{ "delta", no_argument, NULL, 'd' },
		{ "generation", required_argument, NULL, 'G' },
		{ "delta-changes", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct agentid_replica_meta meta = { 0, 1000, 60, "/usr/sbin/nologin",
	    0 };
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	const char *tag = "gen", *what = NULL;
	bool fix = false, want_delta = false;
	uint32_t users = 0, groups = 0, changes = 0;
	int c;

	meta.generated = (int64_t)time(NULL);
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fix = true; break;
		case 'u': users = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'g': groups = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 't': tag = optarg; break;
		case 'm': meta.min_uid = (uint32_t)strtoul(optarg, NULL, 10); break;
		case 'n': meta.generated = strtoll(optarg, NULL, 10); break;
		case 'x': what = optarg; break;
		case 'd': want_delta = true; break;
		case 'G': meta.generation = strtoull(optarg, NULL, 10); break;
		case 'k': changes = (uint32_t)strtoul(optarg, NULL, 10); break;
		default: return 2;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "usage: gen_replica (--fixture | --users N "
		    "[--groups G] [--tag T] | --tamper WHAT) PATH\n");
		return 2;
	}
	if (what != NULL)
		return tamper(what, argv[optind]);
	if (want_delta)
		return delta(argv[optind], &meta);
	if (changes > 0)
		return delta_changes(argv[optind], &meta, changes,
		    strcmp(tag, "gen") == 0 ? "/bin/sh" : tag);
	if (agentid_replica_writer_new(argv[optind], &meta, &w, &err) != 0) {
		fprintf(stderr, "gen_replica: %s\n", err.msg);
		return 1;
	}
	if (fix)
		fixture(w, meta.generated);
	else
		bulk(w, users, groups, tag, meta.generated);
	if (agentid_replica_commit(w, &err) != 0) {
		fprintf(stderr, "gen_replica: %s\n", err.msg);
		agentid_replica_writer_free(w);
		return 1;
	}
	agentid_replica_writer_free(w);
	return 0;
}
