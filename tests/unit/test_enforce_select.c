/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_enforce_select.c - the enforcer's selective passes (agentidd/
 * enforce.c): over the records replica, a pass decides again only the
 * sessions whose chain an entry changed since the previous pass names, and
 * every session when it cannot tell (first pass, a new base). Sessions
 * here are forked children registered without an audit session (ended
 * through their leader); the records are written with the replica's own
 * writer. A change the selection missed would leave a revoked session
 * alive: the test checks each ended child is gone (reaped) and the others
 * are not.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "agentid.h"
#include "chain.h"
#include "../../agentidd/enforce.h"
#include "internal.h"
#include "records.h"
#include "session_registry.h"

#define ALICE "uid=alice,ou=people,dc=example,dc=org"

static char dir[64], replica[128], sessions[128], base_path[160],
    delta_path[160];
static struct agentid_config *cfg;

/* A stored entry: an agent owned by alice, or alice (agent false). */
static void
make(struct agentid_stored *s, unsigned char id, const char *uid, bool agent)
{
	char dn[128];

	memset(s, 0, sizeof(*s));
	memset(s->uuid, id, 16);
	snprintf(dn, sizeof(dn), agent ? "uid=%s,ou=agents,dc=example,dc=org" :
	    "uid=%s,ou=people,dc=example,dc=org", uid);
	assert_non_null(s->rec.dn = strdup(dn));
	assert_int_equal(agentid_strv_add(&s->uids, &s->n_uids, uid), 0);
	assert_non_null(s->rec.uid = strdup(uid));
	if (!agent) {
		s->flags = AGENTID_STORED_OWNER_FILTER | AGENTID_STORED_OWNER_ACTIVE;
		return;
	}
	s->flags = AGENTID_STORED_AGENT_CLASS | AGENTID_STORED_AGENT_FILTER |
	    AGENTID_STORED_IS_AGENT;
	s->rec.is_agent = true;
	assert_non_null(s->rec.owner_dn = strdup(ALICE));
	s->rec.has_not_after = true;
	/* within max_lifetime */
	s->rec.not_after = (int64_t)time(NULL) + 86400;
	assert_int_equal(agentid_strv_add(&s->rec.scope, &s->rec.n_scope,
	    "host:*"), 0);
	assert_int_equal(agentid_strv_add(&s->rec.scope, &s->rec.n_scope,
	    "service:sshd"), 0);
}

/* Writes records file path: kind 0 base, 1 delta over base gen base. */
static void
write_records(const char *path, unsigned kind, uint64_t gen, uint64_t base,
    struct agentid_stored *v, size_t n, const unsigned char (*tombs)[16],
    size_t n_tombs)
{
	const struct agentid_stored *p[8];
	struct agentid_error err = { "" };
	size_t i;

	for (i = 0; i < n; i++)
		p[i] = &v[i];
	assert_int_equal(agentid_records_write(path, kind, gen, base, p, n,
	    tombs, n_tombs, &err), 0);
}

/* A child standing for a session's leader, registered for user. */
static pid_t
open_session(const char *user, unsigned char idc)
{
	struct agentid_error err = { "" };
	struct sessreg_session s;
	char state;
	pid_t pid;

	if ((pid = fork()) == 0) {
		for (;;)
			pause();
	}
	assert_true(pid > 0);
	memset(&s, 0, sizeof(s));
	memset(s.id, idc, 32);
	snprintf(s.user, sizeof(s.user), "%s", user);
	snprintf(s.service, sizeof(s.service), "sshd");
	s.pid = pid;
	/* the child's start time, once it exists in /proc */
	assert_int_equal(sessreg_proc_stat(pid, &state, &s.pid_start), 0);
	assert_int_equal(sessreg_boot_id(s.boot_id, sizeof(s.boot_id)), 0);
	s.start = (int64_t)time(NULL);
	assert_int_equal(sessreg_write(sessions, &s, &err), 0);
	return pid;
}

/* One pass over the records as they are now. */
static void
pass(struct enforcer *e, struct enforce_stats *st)
{
	struct agentid_records_lookup_ctx ctx;
	struct agentid_records *r;
	struct agentid_lookup lk;
	int64_t next;

	assert_int_equal(agentid_records_open(replica, &r), 0);
	ctx.r = r;
	ctx.cfg = cfg;
	agentid_records_lookup(&ctx, &lk);
	enforcer_set_records(e, replica, r); /* e closes r */
	assert_int_equal(enforce_pass(e, (int64_t)time(NULL), &lk, &next, st),
	    0);
	if (getenv("TEST_TRACE") != NULL)
		fprintf(stderr, "full=%d sessions=%zu decided=%zu allowed=%zu "
		    "denied=%zu errors=%zu pruned=%zu\n", st->full, st->sessions,
		    st->decided, st->allowed, st->denied, st->lookup_errors,
		    st->pruned);
}

/* Was pid ended (it exited and we reaped it)? */
static bool
ended(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == pid;
}

static void
test_select(void **state)
{
	struct agentid_stored v[4], ch[3];
	struct agentid_error err = { "" };
	unsigned char tomb[1][16];
	struct enforce_stats st;
	struct enforcer *e;
	char text[512];
	pid_t pa, pb;
	size_t i;

	(void)state;
	if (geteuid() != 0) {
		/* the records are trusted only when root (or agentid) owns
		 * them, and root signals the sessions */
		fprintf(stderr, "SKIP: test_enforce_select needs root\n");
		skip();
	}
	strcpy(dir, "/tmp/test_enforce_select.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(replica, sizeof(replica), "%s/agents.cdb", dir);
	snprintf(sessions, sizeof(sessions), "%s/sessions", dir);
	snprintf(base_path, sizeof(base_path), "%s/agents.records", dir);
	snprintf(delta_path, sizeof(delta_path), "%s/agents.records.delta",
	    dir);
	assert_int_equal(setenv(SESSREG_DIR_ENV, sessions, 1), 0);
	/* a heartbeat far away: no pass decides all on its own clock */
	snprintf(text, sizeof(text), "hostname test.example.org\n"
	    "heartbeat 3600s\nenforce_grace 1s\nrequire_cert no\nreplica %s\n"
	    "audit_log %s/audit.log\n", replica, dir);
	assert_int_equal(agentid_config_new(&cfg), 0);
	assert_int_equal(agentid_config_parse(cfg, text, strlen(text), "test",
	    &err), 0);

	make(&v[0], 1, "alice", false);
	make(&v[1], 2, "bot-a", true);
	make(&v[2], 3, "bot-b", true);
	make(&v[3], 4, "bot-c", true);
	write_records(base_path, 0, 10, 10, v, 4, NULL, 0);
	pa = open_session("bot-a", 'a');
	pb = open_session("bot-b", 'b');
	assert_int_equal(enforcer_new(cfg, &e), 0);

	/* the first pass decides every session */
	pass(e, &st);
	assert_true(st.full);
	assert_int_equal(st.sessions, 2);
	assert_int_equal(st.allowed, 2);
	assert_int_equal(st.decided, 2);
	/* the same records again: nothing to decide */
	pass(e, &st);
	assert_false(st.full);
	assert_int_equal(st.decided, 0);
	assert_int_equal(st.allowed, 2);

	/* bot-c changes: no session's chain names it */
	make(&ch[0], 4, "bot-c", true);
	ch[0].rec.not_after += 1;
	write_records(delta_path, 1, 11, 10, ch, 1, NULL, 0);
	pass(e, &st);
	assert_false(st.full);
	assert_int_equal(st.decided, 0);
	assert_int_equal(st.allowed, 2);

	/* bot-b revoked: only its session is decided, and ended */
	make(&ch[1], 3, "bot-b", true);
	ch[1].rec.status = AGENTID_STATUS_REVOKED;
	write_records(delta_path, 1, 12, 10, ch, 2, NULL, 0);
	pass(e, &st);
	assert_false(st.full);
	assert_int_equal(st.decided, 1);
	assert_int_equal(st.denied, 1);
	assert_true(ended(pb));
	assert_false(ended(pa));

	/* alice deleted: bot-a's chain walked her DN */
	memset(tomb[0], 1, 16);
	write_records(delta_path, 1, 13, 10, ch, 2,
	    (const unsigned char (*)[16])tomb, 1);
	pass(e, &st);
	assert_false(st.full);
	assert_int_equal(st.sessions, 1);
	assert_int_equal(st.decided, 1);
	assert_int_equal(st.denied, 1);
	assert_true(ended(pa));

	/* a new base: every session decided (there is none left) */
	pa = open_session("bot-a", 'c');
	write_records(base_path, 0, 20, 20, v, 4, NULL, 0);
	assert_int_equal(unlink(delta_path), 0);
	pass(e, &st);
	assert_true(st.full);
	assert_int_equal(st.decided, 1);
	assert_int_equal(st.allowed, 1);
	/* the uid of a new entry may make bot-a's lookup ambiguous */
	make(&ch[2], 9, "BOT-A", true);
	write_records(delta_path, 1, 21, 20, &ch[2], 1, NULL, 0);
	pass(e, &st);
	assert_false(st.full);
	assert_int_equal(st.decided, 1);
	kill(pa, SIGKILL);
	assert_int_equal(waitpid(pa, NULL, 0), pa);

	enforcer_free(e);
	for (i = 0; i < 4; i++)
		agentid_stored_clear(&v[i]);
	for (i = 0; i < 3; i++)
		agentid_stored_clear(&ch[i]);
	agentid_config_free(cfg);
	snprintf(text, sizeof(text), "rm -rf '%s'", dir);
	assert_int_equal(system(text), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_select),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
