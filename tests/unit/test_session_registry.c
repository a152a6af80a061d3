/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_session_registry.c - the session registry's format and files
 * (common/session_registry.c): a round trip, every kind of garbage the
 * parser must refuse (and random bytes it must survive), the checks on
 * files and directories, and the /proc readers on this process.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "session_registry.h"

#define ID "0123456789abcdef0123456789abcdef"
#define BOOT "6f0c1d2e-3a4b-4c5d-8e9f-0a1b2c3d4e5f"

static const char good[] =
    "agentid-session 1\n"
    "id " ID "\n"
    "user bot-ok\n"
    "service sshd\n"
    "rhost 10.0.0.7\n"
    "tty ssh\n"
    "pid 4242\n"
    "pid_start 123456\n"
    "audit_session 17\n"
    "login_session c5\n"
    "boot_id " BOOT "\n"
    "start 1763960000\n"
    "cert_ca SHA256:ca\n"
    "cert_key SHA256:key\n"
    "cert_principal bot-ok\n"
    "cert_valid_after 0\n"
    "cert_valid_before 18446744073709551615\n";

/* Parses text (a C string) into a fresh record; returns the code. */
static int
parse(const char *text, struct sessreg_session *s)
{
	return sessreg_parse(text, strlen(text), s);
}

/* good with line "from" (a whole line, newline included) replaced by to. */
static char *
edit(const char *from, const char *to)
{
	const char *at = strstr(good, from);
	size_t len = strlen(good) - strlen(from) + strlen(to) + 1;
	char *out = malloc(len);

	assert_non_null(at);
	assert_non_null(out);
	snprintf(out, len, "%.*s%s%s", (int)(at - good), good, to,
	    at + strlen(from));
	return out;
}

static void
test_parse_good(void **state)
{
	struct sessreg_session s;

	(void)state;
	assert_int_equal(parse(good, &s), 0);
	assert_string_equal(s.id, ID);
	assert_string_equal(s.user, "bot-ok");
	assert_string_equal(s.service, "sshd");
	assert_string_equal(s.rhost, "10.0.0.7");
	assert_string_equal(s.tty, "ssh");
	assert_int_equal(s.pid, 4242);
	assert_int_equal(s.pid_start, 123456);
	assert_true(s.has_audit_session);
	assert_int_equal(s.audit_session, 17);
	assert_string_equal(s.login_session, "c5");
	assert_string_equal(s.boot_id, BOOT);
	assert_int_equal(s.start, 1763960000);
	assert_true(s.has_cert);
	assert_string_equal(s.ca_fp, "SHA256:ca");
	assert_string_equal(s.key_fp, "SHA256:key");
	assert_int_equal(s.n_principals, 1);
	assert_string_equal(s.principals[0], "bot-ok");
	assert_int_equal(s.valid_after, 0);
	assert_true(s.valid_before == UINT64_MAX);
}

static void
test_round_trip(void **state)
{
	struct sessreg_session s, t;
	char *text;
	size_t len;

	(void)state;
	assert_int_equal(parse(good, &s), 0);
	assert_int_equal(sessreg_format(&s, &text, &len), 0);
	assert_int_equal(len, strlen(good));
	assert_memory_equal(text, good, len);
	assert_int_equal(sessreg_parse(text, len, &t), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	free(text);
	/* the optional lines may all be absent */
	memset(&s, 0, sizeof(s));
	memcpy(s.id, ID, sizeof(s.id));
	strcpy(s.user, "u");
	strcpy(s.service, "sudo");
	strcpy(s.boot_id, BOOT);
	s.pid = 1;
	assert_int_equal(sessreg_format(&s, &text, &len), 0);
	assert_int_equal(sessreg_parse(text, len, &t), 0);
	assert_false(t.has_cert);
	assert_false(t.has_audit_session);
	assert_string_equal(t.rhost, "");
	free(text);
}

static void
test_format_refuses(void **state)
{
	struct sessreg_session s;
	char *text = (char *)1;
	size_t len;

	(void)state;
	assert_int_equal(parse(good, &s), 0);
	strcpy(s.rhost, "evil\nuser root");
	assert_int_equal(sessreg_format(&s, &text, &len), EINVAL);
	assert_null(text);
	assert_int_equal(parse(good, &s), 0);
	strcpy(s.id, "../../etc/passwd");
	assert_int_equal(sessreg_format(&s, &text, &len), EINVAL);
	assert_int_equal(parse(good, &s), 0);
	s.pid = 0;
	assert_int_equal(sessreg_format(&s, &text, &len), EINVAL);
}

/* Each of these replacements of one line makes the file unacceptable. */
static void
test_parse_garbage_lines(void **state)
{
	static const struct { const char *from, *to; } cases[] = {
		{ "agentid-session 1\n", "agentid-session 2\n" },
		{ "agentid-session 1\n", "" },
		{ "user bot-ok\n", "user bot-ok\nuser root\n" },     /* twice */
		{ "user bot-ok\n", "" },                            /* missing */
		{ "user bot-ok\n", "user \n" },                     /* empty */
		{ "user bot-ok\n", "user\n" },
		{ "user bot-ok\n", "user a/b\n" },                  /* bad name */
		{ "user bot-ok\n", "user bot\tok\n" },              /* control */
		{ "user bot-ok\n", "user bot\x7fok\n" },
		{ "user bot-ok\n", " user bot-ok\n" },
		{ "tty ssh\n", "color blue\n" },                    /* unknown */
		{ "pid 4242\n", "pid 0\n" },
		{ "pid 4242\n", "pid -1\n" },
		{ "pid 4242\n", "pid 99999999\n" },
		{ "pid 4242\n", "pid 42x\n" },
		{ "pid 4242\n", "pid  42\n" },
		{ "pid 4242\n", "pid 18446744073709551616\n" },
		{ "audit_session 17\n", "audit_session 4294967295\n" },
		{ "audit_session 17\n", "audit_session 4294967296\n" },
		{ "start 1763960000\n", "start 9223372036854775808\n" },
		{ "boot_id " BOOT "\n", "boot_id short\n" },
		{ "id " ID "\n", "id 0123456789ABCDEF0123456789ABCDEF\n" },
		{ "id " ID "\n", "id ../x\n" },
		{ "cert_key SHA256:key\n", "" },                   /* half a cert */
		{ "cert_valid_before 18446744073709551615\n", "" },
		{ "cert_valid_before 18446744073709551615\n",
		  "cert_valid_before 18446744073709551615" },     /* torn */
		{ "tty ssh\n", "tty ssh\r\n" },
	};
	struct sessreg_session s;
	size_t i;
	char *text;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		text = edit(cases[i].from, cases[i].to);
		if (parse(text, &s) != EBADMSG)
			fail_msg("case %zu (%s) was accepted", i, cases[i].to);
		free(text);
	}
}

static void
test_parse_garbage_shapes(void **state)
{
	struct sessreg_session s;
	char *text, *p;
	size_t i, len;

	(void)state;
	assert_int_equal(parse("", &s), EBADMSG);
	assert_int_equal(parse("\n", &s), EBADMSG);
	assert_int_equal(parse("agentid-session 1\n", &s), EBADMSG);
	/* a NUL inside the text */
	len = strlen(good);
	text = strdup(good);
	assert_non_null(text);
	text[30] = '\0';
	assert_int_equal(sessreg_parse(text, len, &s), EBADMSG);
	free(text);
	/* too many principals */
	len = strlen(good) + 40 * 40;
	text = malloc(len);
	assert_non_null(text);
	strcpy(text, good);
	for (i = 0; i < 40; i++)
		strcat(text, "cert_principal p\n");
	assert_int_equal(parse(text, &s), EBADMSG);
	free(text);
	/* a line longer than any value may be */
	text = malloc(4096);
	assert_non_null(text);
	p = text + sprintf(text, "agentid-session 1\nrhost ");
	memset(p, 'a', 3000);
	strcpy(p + 3000, "\n");
	assert_int_equal(parse(text, &s), EBADMSG);
	free(text);
	/* larger than a registry file may be */
	text = malloc(SESSREG_MAX_FILE + 2);
	assert_non_null(text);
	memset(text, '\n', SESSREG_MAX_FILE + 1);
	assert_int_equal(sessreg_parse(text, SESSREG_MAX_FILE + 1, &s), EBADMSG);
	free(text);
}

/* Random bytes and random cuts of a good file: refused or parsed, never a
 * crash or a read past the end (ASan). */
static void
test_parse_random(void **state)
{
	struct sessreg_session s;
	unsigned seed = 12345;
	size_t i, j, len;
	char *buf;

	(void)state;
	for (i = 0; i < 20000; i++) {
		len = (size_t)(rand_r(&seed) % 600);
		/* an exact-size heap copy: ASan sees any overread */
		buf = malloc(len + 1);
		assert_non_null(buf);
		if (i % 2 == 0) {
			for (j = 0; j < len; j++)
				buf[j] = (char)(rand_r(&seed) & 0xff);
		} else {
			len = len % (strlen(good) + 1);
			memcpy(buf, good, len);
			if (len > 0)
				buf[rand_r(&seed) % len] = (char)(rand_r(&seed) & 0xff);
		}
		(void)sessreg_parse(buf, len, &s);
		free(buf);
	}
}

static char tmpdir[256];

static int
setup_dir(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sessreg-test.XXXXXX");
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

struct walk {
	int good, bad;
};

static int
walk_cb(const char *name, const struct sessreg_session *s, int code,
    void *arg)
{
	struct walk *w = arg;

	(void)name;
	if (s != NULL && code == 0)
		w->good++;
	else
		w->bad++;
	return 0;
}

/* Writes text as dir/name with mode. */
static void
put_file(const char *dir, const char *name, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	assert_non_null(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

static void
test_files(void **state)
{
	struct agentid_error err = { "" };
	struct sessreg_session s, t;
	char dir[PATH_MAX + 8], path[PATH_MAX + 64];
	struct walk w = { 0, 0 };
	struct stat st;
	char *text;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/sessions", tmpdir);
	assert_int_equal(parse(good, &s), 0);
	assert_int_equal(sessreg_write(dir, &s, &err), 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	snprintf(path, sizeof(path), "%s/%s", dir, ID);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sessreg_read(dir, ID, &t), 0);
	assert_memory_equal(&s, &t, sizeof(s));
	/* a name that is not an id is never read */
	assert_int_equal(sessreg_read(dir, "../sessions/" ID, &t), EINVAL);
	/* the id inside must be the file's name */
	text = edit("id " ID "\n", "id ffffffffffffffffffffffffffffffff\n");
	put_file(dir, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee", text, 0600);
	free(text);
	assert_int_equal(sessreg_read(dir, "eeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
	    &t), EBADMSG);
	/* a file others may write is refused */
	put_file(dir, "dddddddddddddddddddddddddddddddd", good, 0622);
	assert_int_equal(sessreg_read(dir, "dddddddddddddddddddddddddddddddd",
	    &t), EACCES);
	/* a symlink is refused */
	snprintf(path, sizeof(path), "%s/cccccccccccccccccccccccccccccccc", dir);
	assert_int_equal(symlink(ID, path), 0);
	assert_int_equal(sessreg_read(dir, "cccccccccccccccccccccccccccccccc",
	    &t), EACCES);
	/* temp files and other names are skipped by the walk */
	put_file(dir, "." ID ".tmp", "junk", 0600);
	put_file(dir, "README", "junk", 0600);
	assert_int_equal(sessreg_each(dir, walk_cb, &w), 0);
	assert_int_equal(w.good, 1);
	assert_int_equal(w.bad, 3);
	assert_int_equal(sessreg_remove(dir, ID), 0);
	assert_int_equal(sessreg_remove(dir, ID), 0); /* gone: fine */
	assert_int_equal(sessreg_read(dir, ID, &t), ENOENT);
	/* a directory others may write is refused, for writing and reading */
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(sessreg_write(dir, &s, &err), EACCES);
	assert_int_equal(sessreg_each(dir, walk_cb, &w), EACCES);
	assert_int_equal(chmod(dir, 0700), 0);
	/* no registry at all */
	snprintf(path, sizeof(path), "%s/none", tmpdir);
	assert_int_equal(sessreg_each(path, walk_cb, &w), ENOENT);
}

/* sessreg_each_changed: a version the caller holds is not read again. */
struct known {
	struct sessreg_ident id;
	bool have;
	int known, read, unreadable;
};

static bool
known_cb(const char *name, const struct sessreg_ident *id, void *arg)
{
	struct known *k = arg;

	(void)name;
	if (k->have && memcmp(&k->id, id, sizeof(*id)) == 0) {
		k->known++;
		return true;
	}
	return false;
}

static int
read_cb(const char *name, const struct sessreg_ident *id,
    const struct sessreg_session *s, int code, void *arg)
{
	struct known *k = arg;

	(void)name;
	(void)code;
	if (s == NULL) {
		assert_null(id);
		k->unreadable++;
		return 0;
	}
	k->read++;
	k->id = *id;
	k->have = true;
	return 0;
}

static void
test_each_changed(void **state)
{
	struct agentid_error err = { "" };
	struct sessreg_ident d0, d1;
	struct sessreg_session s;
	struct known k;
	char dir[PATH_MAX + 8];

	(void)state;
	memset(&k, 0, sizeof(k));
	snprintf(dir, sizeof(dir), "%s/sessions", tmpdir);
	assert_int_equal(parse(good, &s), 0);
	assert_int_equal(sessreg_write(dir, &s, &err), 0);
	assert_int_equal(sessreg_dir_ident(dir, &d0), 0);
	/* first walk: read; second: the same version, only a stat */
	assert_int_equal(sessreg_each_changed(dir, known_cb, read_cb, &k), 0);
	assert_int_equal(k.read, 1);
	assert_int_equal(k.known, 0);
	assert_int_equal(sessreg_each_changed(dir, known_cb, read_cb, &k), 0);
	assert_int_equal(k.read, 1);
	assert_int_equal(k.known, 1);
	/* written again (rename: a new inode): read again */
	snprintf(s.tty, sizeof(s.tty), "pts/9");
	assert_int_equal(sessreg_write(dir, &s, &err), 0);
	assert_int_equal(sessreg_each_changed(dir, known_cb, read_cb, &k), 0);
	assert_int_equal(k.read, 2);
	assert_int_equal(k.known, 1);
	/* a file others may write: reported unreadable */
	put_file(dir, "dddddddddddddddddddddddddddddddd", good, 0622);
	assert_int_equal(sessreg_each_changed(dir, known_cb, read_cb, &k), 0);
	assert_int_equal(k.unreadable, 1);
	/* the directory's ident: the same directory (its times move with
	 * the clock's tick, which a test cannot wait for without timing) */
	assert_int_equal(sessreg_dir_ident(dir, &d1), 0);
	assert_true(d0.dev == d1.dev && d0.ino == d1.ino);
	assert_int_equal(sessreg_dir_ident("/nonexistent-agentid", &d0), ENOENT);
}

static void
test_proc(void **state)
{
	struct sessreg_session s;
	char boot[37], state_c = 0;
	uint64_t start = 0;
	uint32_t ses;

	(void)state;
	assert_int_equal(sessreg_proc_sessionid(0, &ses), 0);
	assert_int_equal(sessreg_proc_sessionid(getpid(), &ses), 0);
	assert_int_equal(sessreg_proc_stat(0, &state_c, &start), 0);
	assert_true(state_c == 'R');
	assert_true(start > 0);
	assert_int_equal(sessreg_boot_id(boot, sizeof(boot)), 0);
	assert_int_equal(strlen(boot), 36);
	/* pid_max is at most 2^22: this pid never exists */
	assert_int_equal(sessreg_proc_sessionid(4194305, &ses), ENOENT);
	memset(&s, 0, sizeof(s));
	s.pid = getpid();
	s.pid_start = start;
	assert_true(sessreg_leader_alive(&s));
	s.pid_start = start + 1; /* a reused pid is not the leader */
	assert_false(sessreg_leader_alive(&s));
	s.pid = 4194305;
	s.pid_start = 0;
	assert_false(sessreg_leader_alive(&s));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_format_refuses),
		cmocka_unit_test(test_parse_garbage_lines),
		cmocka_unit_test(test_parse_garbage_shapes),
		cmocka_unit_test(test_parse_random),
		cmocka_unit_test_setup_teardown(test_files, setup_dir,
		    teardown_dir),
		cmocka_unit_test_setup_teardown(test_each_changed, setup_dir,
		    teardown_dir),
		cmocka_unit_test(test_proc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
