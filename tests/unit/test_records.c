/* SPDX-License-Identifier: BSD-2-Clause */
/* test_records.c - the records replica: writer/reader round trip, delta
 * and tombstones, the chain builder over it, and corruption (every flipped
 * byte gives EBADMSG or a consistent answer, never a crash). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agentid.h"
#include "chain.h"
#include "internal.h"
#include "records.h"

struct fixture {
	char dir[64];
	char replica[128];
	struct agentid_config *cfg;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	strcpy(f->dir, "/tmp/test_records.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->replica, sizeof(f->replica), "%s/agents.cdb", f->dir);
	assert_int_equal(agentid_config_new(&f->cfg), 0);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	agentid_config_free(f->cfg);
	free(f);
	return 0;
}

/* A stored entry: an agent owned by owner (or a human when owner NULL). */
static void
make(struct agentid_stored *s, unsigned char id, const char *dn,
    const char *uid, const char *owner, bool agent)
{
	memset(s, 0, sizeof(*s));
	memset(s->uuid, id, 16);
	assert_non_null(s->rec.dn = strdup(dn));
	if (uid != NULL) {
		assert_int_equal(agentid_strv_add(&s->uids, &s->n_uids, uid), 0);
		assert_non_null(s->rec.uid = strdup(uid));
	}
	if (agent) {
		s->flags = AGENTID_STORED_AGENT_CLASS | AGENTID_STORED_AGENT_FILTER;
		s->rec.is_agent = true;
		assert_non_null(s->rec.owner_dn = strdup(owner));
		s->rec.has_not_after = true;
		s->rec.not_after = 2000000000;
		s->rec.has_posix = true;
		s->rec.uid_number = 5000 + id;
		s->rec.gid_number = 5000;
		assert_non_null(s->rec.home = strdup("/home/agent"));
		assert_int_equal(agentid_strv_add(&s->rec.scope, &s->rec.n_scope,
		    "host:*"), 0);
	} else {
		s->flags = AGENTID_STORED_OWNER_FILTER | AGENTID_STORED_OWNER_ACTIVE;
	}
}

static void
write_base(struct fixture *f, struct agentid_stored *v, size_t n,
    uint64_t gen)
{
	const struct agentid_stored *p[8];
	struct agentid_error err = { "" };
	char *path = agentid_records_path(f->replica, ".records");
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = &v[i];
	assert_int_equal(agentid_records_write(path, 0, gen, gen, p, n, NULL, 0,
	    &err), 0);
	free(path);
}

static void
test_round_trip(void **state)
{
	struct fixture *f = *state;
	struct agentid_stored v[3], got;
	struct agentid_records *r;
	struct agentid_records_lookup_ctx ctx;
	struct agentid_lookup lk;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	bool found;
	size_t i;

	make(&v[0], 1, "uid=alice,ou=people,dc=example,dc=org", "alice", NULL,
	    false);
	make(&v[1], 2, "uid=orch,ou=agents,dc=example,dc=org", "orch",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	make(&v[2], 3, "uid=bot,ou=agents,dc=example,dc=org", "bot",
	    "uid=orch, ou=agents,dc=example,dc=org", true);
	write_base(f, v, 3, 7);
	assert_int_equal(agentid_records_open(f->replica, &r), 0);
	assert_int_equal(agentid_records_generation(r), 7);
	assert_int_equal(agentid_records_by_dn(r,
	    "UID=Bot,ou=agents,dc=example,dc=org", &got, &found), 0);
	assert_true(found);
	assert_string_equal(got.rec.uid, "bot");
	assert_int_equal(got.rec.uid_number, 5003);
	assert_string_equal(got.rec.scope[0], "host:*");
	assert_true(got.rec.has_not_after);
	agentid_stored_clear(&got);

	ctx.r = r;
	ctx.cfg = f->cfg;
	agentid_records_lookup(&ctx, &lk);
	assert_int_equal(agentid_chain_build(&lk, 4, "bot", &chain, &err), 0);
	assert_int_equal(chain.n, 3);
	assert_string_equal(chain.rec[2].uid, "alice");
	assert_true(chain.rec[2].owner_match);
	assert_false(chain.rec[2].is_agent);
	agentid_chain_clear(&chain);
	/* user names are exact: BOT is not bot */
	assert_int_equal(agentid_chain_build(&lk, 4, "BOT", &chain, &err), 0);
	assert_int_equal(chain.n, 0);
	agentid_records_close(r);
	for (i = 0; i < 3; i++)
		agentid_stored_clear(&v[i]);
}

static int
count_cb(struct agentid_stored *s, void *arg)
{
	(void)s;
	(*(size_t *)arg)++;
	return 0;
}

static void
test_delta_and_tombstone(void **state)
{
	struct fixture *f = *state;
	struct agentid_stored v[3], nv, got;
	const struct agentid_stored *p[2];
	unsigned char tomb[1][16];
	struct agentid_records *r;
	struct agentid_error err = { "" };
	char *dpath = agentid_records_path(f->replica, ".records.delta");
	size_t i, n = 0;
	bool found;

	make(&v[0], 1, "uid=alice,ou=people,dc=example,dc=org", "alice", NULL,
	    false);
	make(&v[1], 2, "uid=orch,ou=agents,dc=example,dc=org", "orch",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	make(&v[2], 3, "uid=bot,ou=agents,dc=example,dc=org", "bot",
	    "uid=orch,ou=agents,dc=example,dc=org", true);
	write_base(f, v, 3, 10);
	/* the delta renames bot (same UUID) to robot, deletes orch, adds one */
	make(&nv, 3, "uid=robot,ou=agents,dc=example,dc=org", "robot",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	p[0] = &nv;
	memset(tomb[0], 2, 16);
	assert_int_equal(agentid_records_write(dpath, 1, 11, 10, p, 1,
	    (const unsigned char (*)[16])tomb, 1, &err), 0);
	assert_int_equal(agentid_records_open(f->replica, &r), 0);
	assert_int_equal(agentid_records_generation(r), 11);
	assert_int_equal(agentid_records_by_dn(r,
	    "uid=orch,ou=agents,dc=example,dc=org", &got, &found), 0);
	assert_false(found);
	assert_int_equal(agentid_records_by_dn(r,
	    "uid=bot,ou=agents,dc=example,dc=org", &got, &found), 0);
	assert_false(found); /* the base's index is stale: refused */
	assert_int_equal(agentid_records_by_dn(r,
	    "uid=robot,ou=agents,dc=example,dc=org", &got, &found), 0);
	assert_true(found);
	agentid_stored_clear(&got);
	assert_int_equal(agentid_records_each(r, count_cb, &n), 0);
	assert_int_equal(n, 2);
	agentid_records_close(r);

	/* a delta for an older base is ignored (compacted already) */
	write_base(f, v, 3, 12);
	assert_int_equal(agentid_records_open(f->replica, &r), 0);
	assert_int_equal(agentid_records_generation(r), 12);
	assert_int_equal(agentid_records_by_dn(r,
	    "uid=orch,ou=agents,dc=example,dc=org", &got, &found), 0);
	assert_true(found);
	agentid_stored_clear(&got);
	agentid_records_close(r);
	/* a delta for a base newer than the one beside it: EAGAIN, never a
	 * mix of the two */
	write_base(f, v, 3, 9);
	assert_int_equal(agentid_records_open(f->replica, &r), EAGAIN);
	free(dpath);
	agentid_stored_clear(&nv);
	for (i = 0; i < 3; i++)
		agentid_stored_clear(&v[i]);
}

static void
test_two_entries_same_uid(void **state)
{
	struct fixture *f = *state;
	struct agentid_stored v[3];
	struct agentid_records *r;
	struct agentid_records_lookup_ctx ctx;
	struct agentid_lookup lk;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	size_t i;

	make(&v[0], 1, "uid=alice,ou=people,dc=example,dc=org", "alice", NULL,
	    false);
	make(&v[1], 2, "uid=bot,ou=a,dc=example,dc=org", "bot",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	make(&v[2], 3, "uid=BOT,ou=b,dc=example,dc=org", "BOT",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	write_base(f, v, 3, 1);
	assert_int_equal(agentid_records_open(f->replica, &r), 0);
	ctx.r = r;
	ctx.cfg = f->cfg;
	agentid_records_lookup(&ctx, &lk);
	/* as the directory: uid=bot matches both without case */
	assert_int_equal(agentid_chain_build(&lk, 4, "bot", &chain, &err),
	    EBADMSG);
	agentid_chain_clear(&chain);
	agentid_records_close(r);
	for (i = 0; i < 3; i++)
		agentid_stored_clear(&v[i]);
}

static int
touch_cb(struct agentid_stored *s, void *arg)
{
	(void)arg;
	return s->rec.dn == NULL ? EINVAL : 0;
}

static void
test_corruption(void **state)
{
	struct fixture *f = *state;
	struct agentid_stored v[3], got;
	struct agentid_records *r;
	char *path = agentid_records_path(f->replica, ".records");
	unsigned char *orig;
	FILE *fp;
	long size, i;
	size_t n, bad = 0;
	bool found;
	int rc;

	make(&v[0], 1, "uid=alice,ou=people,dc=example,dc=org", "alice", NULL,
	    false);
	make(&v[1], 2, "uid=orch,ou=agents,dc=example,dc=org", "orch",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	make(&v[2], 3, "uid=bot,ou=agents,dc=example,dc=org", "bot",
	    "uid=orch,ou=agents,dc=example,dc=org", true);
	write_base(f, v, 3, 1);
	assert_non_null(fp = fopen(path, "rb"));
	fseek(fp, 0, SEEK_END);
	size = ftell(fp);
	rewind(fp);
	assert_non_null(orig = malloc((size_t)size));
	assert_int_equal(fread(orig, 1, (size_t)size, fp), (size_t)size);
	fclose(fp);
	/* every byte flipped in turn: the reader refuses or answers from an
	 * intact record, and never crashes (ASan watches) */
	for (i = 0; i < size; i++) {
		orig[i] ^= 0x5a;
		assert_non_null(fp = fopen(path, "wb"));
		assert_int_equal(fwrite(orig, 1, (size_t)size, fp), (size_t)size);
		fclose(fp);
		orig[i] ^= 0x5a;
		if ((rc = agentid_records_open(f->replica, &r)) != 0) {
			assert_int_equal(rc, EBADMSG);
			bad++;
			continue;
		}
		rc = agentid_records_by_dn(r,
		    "uid=bot,ou=agents,dc=example,dc=org", &got, &found);
		assert_true(rc == 0 || rc == EBADMSG);
		if (rc == 0 && found) {
			/* a record that passed its CRC is the one written */
			assert_string_equal(got.rec.uid, "bot");
			agentid_stored_clear(&got);
		}
		if (rc == EBADMSG)
			bad++;
		n = 0;
		rc = agentid_records_each(r, touch_cb, &n);
		assert_true(rc == 0 || rc == EBADMSG);
		agentid_records_close(r);
	}
	assert_true(bad > 0);
	/* the value bytes of bot's record: a flip there is EBADMSG */
	free(orig);
	free(path);
	for (i = 0; i < 3; i++)
		agentid_stored_clear(&v[i]);
}

static void
test_contact(void **state)
{
	struct fixture *f = *state;
	struct agentid_contact c, got;
	struct agentid_error err = { "" };

	assert_false(agentid_records_fresh(f->replica, time(NULL), 15));
	memset(&c, 0, sizeof(c));
	strcpy(c.uri, "ldap://127.0.0.1:389");
	c.generation = 42;
	c.entries = 3;
	assert_int_equal(agentid_records_contact_write(f->replica, &c, &err), 0);
	assert_int_equal(agentid_records_contact(f->replica, &got), 0);
	assert_int_equal(got.generation, 42);
	assert_string_equal(got.uri, "ldap://127.0.0.1:389");
	assert_true(agentid_records_fresh(f->replica, time(NULL), 15));
	assert_false(agentid_records_fresh(f->replica, time(NULL) + 60, 15));
}

/* The contact's mtime says when agentidd last heard from the directory. One
 * from the future (a clock stepped back, a contact written while the clock
 * was ahead) vouches for nothing: decisions leave the replica, as
 * agentid_records_fresh says, instead of trusting it until the clock
 * catches up. */
static void
test_contact_from_future(void **state)
{
	struct fixture *f = *state;
	struct agentid_stored v[2];
	struct agentid_contact c;
	struct agentid_request req;
	struct agentid_decision d;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	struct timespec ts[2];
	char *path;
	int64_t now = (int64_t)time(NULL);

	make(&v[0], 1, "uid=alice,ou=people,dc=example,dc=org", "alice", NULL,
	    false);
	make(&v[1], 2, "uid=bot,ou=agents,dc=example,dc=org", "bot",
	    "uid=alice,ou=people,dc=example,dc=org", true);
	assert_int_equal(agentid_strv_add(&v[1].rec.scope, &v[1].rec.n_scope,
	    "service:*"), 0);
	v[1].rec.not_after = now + 86400;
	write_base(f, v, 2, 1);
	memset(&c, 0, sizeof(c));
	assert_int_equal(agentid_records_contact_write(f->replica, &c, &err), 0);
	free(f->cfg->replica);
	assert_non_null(f->cfg->replica = strdup(f->replica));
	memset(&req, 0, sizeof(req));
	req.user = "bot";
	req.service = "sshd";
	req.host = "h.example.org";
	req.now = now;
	/* fresh: from the replica */
	assert_int_equal(agentid_decide_user(f->cfg, &req, &chain, &d, &err), 0);
	assert_int_equal(d.source, AGENTID_SOURCE_REPLICA);
	assert_true(d.allow);
	agentid_chain_clear(&chain);
	/* a day ahead of now: not fresh (no uri: the directory fails) */
	assert_non_null(path = agentid_records_path(f->replica, ".contact"));
	ts[0].tv_sec = ts[1].tv_sec = (time_t)(now + 86400);
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
	free(path);
	assert_false(agentid_records_fresh(f->replica, now, 15));
	agentid_decide_user(f->cfg, &req, &chain, &d, &err);
	assert_int_not_equal(d.source, AGENTID_SOURCE_REPLICA);
	assert_false(d.allow);
	agentid_chain_clear(&chain);
	agentid_stored_clear(&v[0]);
	agentid_stored_clear(&v[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delta_and_tombstone, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_two_entries_same_uid, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_corruption, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact, setup, teardown),
		cmocka_unit_test_setup_teardown(test_contact_from_future, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
