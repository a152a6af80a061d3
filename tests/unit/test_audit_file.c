/* SPDX-License-Identifier: BSD-2-Clause */
/* test_audit_file.c - agentid_audit_append and agentid_audit_verify on real
 * files in a private temporary directory. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"

/* syslog is wrapped (-Wl,--wrap): the last messages sent, for the tests. */
static int last_pri[4];
static char last_msg[4][2048];
static int n_msgs;

void __wrap_syslog(int pri, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void __wrap___syslog_chk(int pri, int flag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Records one message. */
static void
record_syslog(int pri, const char *fmt, va_list ap)
{
	int i = n_msgs++ % 4;

	last_pri[i] = pri;
	vsnprintf(last_msg[i], sizeof(last_msg[i]), fmt, ap);
}

void
__wrap_syslog(int pri, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	record_syslog(pri, fmt, ap);
	va_end(ap);
}

/* The same, when _FORTIFY_SOURCE turns syslog into __syslog_chk. */
void
__wrap___syslog_chk(int pri, int flag, const char *fmt, ...)
{
	va_list ap;

	(void)flag;
	va_start(ap, fmt);
	record_syslog(pri, fmt, ap);
	va_end(ap);
}

struct ctx {
	char dir[256];
	char log[320];
	struct agentid_config *cfg;
};

static int
setup(void **state)
{
	struct ctx *c = calloc(1, sizeof(*c));
	const char *tmp = getenv("TMPDIR");

	if (c == NULL)
		return -1;
	snprintf(c->dir, sizeof(c->dir), "%s/test_audit.XXXXXX",
	    tmp != NULL && tmp[0] == '/' ? tmp : "/tmp");
	if (mkdtemp(c->dir) == NULL || agentid_config_new(&c->cfg) != 0)
		return -1;
	snprintf(c->log, sizeof(c->log), "%s/log/audit.log", c->dir);
	free(c->cfg->audit_log);
	c->cfg->audit_log = strdup(c->log);
	c->cfg->audit_fsync = false;
	c->cfg->audit_syslog = false;
	*state = c;
	return 0;
}

static int
teardown(void **state)
{
	struct ctx *c = *state;
	char cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", c->dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", c->dir);
	agentid_config_free(c->cfg);
	free(c);
	return 0;
}

/* A simple event for record i. */
static void
event(struct agentid_audit_event *ev, struct agentid_decision *d, int i)
{
	memset(ev, 0, sizeof(*ev));
	memset(d, 0, sizeof(*d));
	d->allow = i % 3 != 2;
	d->reason = d->allow ? AGENTID_OK : AGENTID_EXPIRED;
	d->owner = "uid=alice,dc=example,dc=org";
	ev->ts = 1790000000 + i;
	ev->host = "h";
	ev->event = "account";
	ev->service = "sshd";
	ev->user = "bot";
	ev->decision = d;
	ev->duration = -1;
}

/* Appends n records to c's log, asserting success. */
static void
append_n(struct ctx *c, int n)
{
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int i;

	for (i = 0; i < n; i++) {
		event(&ev, &d, i);
		assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), 0);
	}
}

/* Verifies files; returns the code, filling sum and err. */
static int
verify(const char *const *files, size_t n, struct agentid_audit_summary *sum,
    struct agentid_error *err)
{
	return agentid_audit_verify(files, n, sum, err);
}

/* Reads a whole file (test sizes) into a malloc'd NUL-terminated buffer. */
static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	assert_non_null(f);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static void
spew(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Splits buf into lines (pointers into buf, newlines replaced by NUL). */
static size_t
split(char *buf, char **lines, size_t max)
{
	size_t n = 0;
	char *p = buf, *nl;

	while (n < max && (nl = strchr(p, '\n')) != NULL) {
		*nl = '\0';
		lines[n++] = p;
		p = nl + 1;
	}
	return n;
}

/* Writes lines[order[0..n)] back to path, one per line. */
static void
rewrite(const char *path, char **lines, const int *order, size_t n)
{
	FILE *f = fopen(path, "wb");
	size_t i;

	assert_non_null(f);
	for (i = 0; i < n; i++)
		fprintf(f, "%s\n", lines[order[i]]);
	assert_int_equal(fclose(f), 0);
}

static void
test_append_creates_private_files(void **state)
{
	struct ctx *c = *state;
	struct stat st;
	char dir[300], chain[340];

	append_n(c, 1);
	snprintf(dir, sizeof(dir), "%s/log", c->dir);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(stat(c->log, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	if (geteuid() == 0)
		assert_int_equal(st.st_gid, 0);
	snprintf(chain, sizeof(chain), "%s.chain", c->log);
	assert_int_equal(stat(chain, &st), 0);
	assert_int_equal(st.st_nlink, 2); /* the same inode as the log */
}

static void
test_append_chain_and_verify(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	struct audit_hasher *h;
	char *buf, *lines[16], hex[65];
	size_t len, n, i;

	append_n(c, 9);
	buf = slurp(c->log, &len);
	n = split(buf, lines, 16);
	assert_int_equal(n, 9);
	assert_non_null(strstr(lines[0], "\"seq\":1,\"prev\":\"" AUDIT_ZERO_HASH "\"}"));
	assert_int_equal(audit_hasher_new(&h), 0);
	for (i = 1; i < n; i++) {
		assert_int_equal(audit_hash_hex(h, lines[i - 1],
		    strlen(lines[i - 1]), hex), 0);
		assert_non_null(strstr(lines[i], hex));
	}
	assert_int_equal(audit_hash_hex(h, lines[8], strlen(lines[8]), hex), 0);
	audit_hasher_free(h);
	free(buf);
	assert_int_equal(verify(files, 1, &sum, &err), 0);
	assert_int_equal(sum.lines, 9);
	assert_int_equal(sum.first_seq, 1);
	assert_int_equal(sum.last_seq, 9);
	assert_false(sum.continues);
	assert_int_equal(sum.first_ts, 1790000000);
	assert_int_equal(sum.last_ts, 1790000008);
	assert_int_equal(sum.by_reason[AGENTID_OK], 6);
	assert_int_equal(sum.by_reason[AGENTID_EXPIRED], 3);
	assert_int_equal(sum.by_decision[AGENTID_AUDIT_ALLOW], 6);
	assert_int_equal(sum.by_decision[AGENTID_AUDIT_DENY], 3);
	assert_string_equal(sum.head, hex);
}

static void
test_append_missing_directory(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	char path[400];

	snprintf(path, sizeof(path), "%s/no/such/dir/audit.log", c->dir);
	free(c->cfg->audit_log);
	c->cfg->audit_log = strdup(path);
	event(&ev, &d, 0);
	assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), ENOENT);
	assert_non_null(strstr(err.msg, "/no/such/dir"));
	assert_non_null(strstr(err.msg, "audit directory"));
}

static void
test_append_relative_path_refused(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };

	free(c->cfg->audit_log);
	c->cfg->audit_log = strdup("audit.log");
	event(&ev, &d, 0);
	assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), EINVAL);
	assert_non_null(strstr(err.msg, "absolute"));
}

static void
test_append_not_a_regular_file(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };

	free(c->cfg->audit_log);
	c->cfg->audit_log = strdup(c->dir); /* a directory */
	event(&ev, &d, 0);
	assert_int_not_equal(agentid_audit_append(c->cfg, &ev, &err), 0);
	assert_non_null(strstr(err.msg, c->dir));
}

/* The directory is not writable for the writer: as root, a child drops to
 * nobody (root would bypass the mode); otherwise the mode is enough. */
static void
test_append_unwritable_directory(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	char dir[300];
	pid_t pid;
	int status, r;

	append_n(c, 1);
	snprintf(dir, sizeof(dir), "%s/log", c->dir);
	event(&ev, &d, 0);
	if (geteuid() != 0) {
		assert_int_equal(chmod(c->log, 0400), 0);
		r = agentid_audit_append(c->cfg, &ev, &err);
		assert_int_equal(chmod(c->log, 0600), 0);
		assert_int_equal(r, EACCES);
		assert_non_null(strstr(err.msg, c->log));
		return;
	}
	/* the test dir itself must be traversable by nobody */
	assert_int_equal(chmod(c->dir, 0755), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct passwd *pw = getpwnam("nobody");
		uid_t uid = pw != NULL ? pw->pw_uid : 65534;

		if (setgroups(0, NULL) != 0 || setgid(uid) != 0 || setuid(uid) != 0)
			_exit(3);
		r = agentid_audit_append(c->cfg, &ev, &err);
		_exit(r == EACCES && strstr(err.msg, "Permission denied") != NULL ?
		    0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_append_oversized_record(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	struct agentid_audit_summary sum;
	char *big = malloc(AUDIT_MAX_LINE);

	assert_non_null(big);
	memset(big, 'k', AUDIT_MAX_LINE - 1);
	big[AUDIT_MAX_LINE - 1] = '\0';
	append_n(c, 2);
	event(&ev, &d, 0);
	ev.cert_key_id = big;
	assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), EMSGSIZE);
	free(big);
	/* nothing was written: the trail is intact */
	assert_int_equal(verify(files, 1, &sum, &err), 0);
	assert_int_equal(sum.lines, 2);
}

static void
test_append_repairs_torn_line(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	char *buf, *lines[8];
	size_t len;
	int fd;

	append_n(c, 3);
	/* a crash in the middle of a write leaves a fragment */
	fd = open(c->log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"ts\":\"2026-", 12), 12);
	close(fd);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 4);
	assert_non_null(strstr(err.msg, "truncated"));
	append_n(c, 2);
	buf = slurp(c->log, &len);
	assert_int_equal(buf[len - 1], '\n');
	assert_int_equal(split(buf, lines, 8), 6);
	assert_string_equal(lines[3], "{\"ts\":\"2026-");
	assert_non_null(strstr(lines[4], "\"seq\":5,"));
	assert_non_null(strstr(lines[5], "\"seq\":6,"));
	free(buf);
	/* the fragment is now a complete, but still invalid, line */
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 4);
	assert_non_null(strstr(err.msg, "not a valid audit record"));
}

/* Appends one record whose key id is len bytes long. */
static void
append_big(struct ctx *c, size_t len)
{
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	char *big = malloc(len + 1);

	assert_non_null(big);
	memset(big, 'k', len);
	big[len] = '\0';
	event(&ev, &d, 0);
	ev.cert_key_id = big;
	assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), 0);
	free(big);
}

static void
test_append_after_long_line(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };

	/* lines longer than the tail chunk: the writer seeks back further */
	append_n(c, 2);
	append_big(c, 20000);
	append_n(c, 1);
	append_big(c, 30000);
	append_big(c, 9000);
	append_n(c, 2);
	assert_int_equal(verify(files, 1, &sum, &err), 0);
	assert_int_equal(sum.lines, 8);
	assert_int_equal(sum.last_seq, 8);
}

static void
test_append_torn_after_long_line(void **state)
{
	struct ctx *c = *state;
	char *buf, *lines[8];
	size_t len;
	int fd;

	append_n(c, 1);
	append_big(c, 20000);
	fd = open(c->log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"ts\"", 5), 5);
	close(fd);
	append_n(c, 1);
	buf = slurp(c->log, &len);
	assert_int_equal(split(buf, lines, 8), 4);
	assert_string_equal(lines[2], "{\"ts\"");
	/* seq 3 was the torn record; the next one is 4 */
	assert_non_null(strstr(lines[3], "\"seq\":4,"));
	free(buf);
}

static void
test_append_syslog_line(void **state)
{
	struct ctx *c = *state;
	struct audit_hasher *h;
	char *buf, hex[65], want[512];
	size_t len;

	n_msgs = 0;
	append_n(c, 1);
	assert_int_equal(n_msgs, 0); /* audit_syslog no */
	c->cfg->audit_syslog = true;
	assert_int_equal(truncate(c->log, 0), 0);
	append_n(c, 1);
	assert_int_equal(n_msgs, 1);
	buf = slurp(c->log, &len);
	assert_int_equal(audit_hasher_new(&h), 0);
	assert_int_equal(audit_hash_hex(h, buf, len - 1, hex), 0);
	audit_hasher_free(h);
	free(buf);
	assert_int_equal(last_pri[0], LOG_AUTHPRIV | LOG_INFO);
	snprintf(want, sizeof(want), "agentid audit: event=\"account\" "
	    "user=\"bot\" decision=\"allow\" reason=\"ok\" "
	    "owner=\"uid=alice,dc=example,dc=org\" session=\"-\" seq=\"1\" "
	    "hash=\"%s\"", hex);
	assert_string_equal(last_msg[0], want);
}

static void
test_append_torn_line_warns(void **state)
{
	struct ctx *c = *state;
	int fd;

	n_msgs = 0;
	append_n(c, 1);
	fd = open(c->log, O_WRONLY | O_APPEND);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{", 1), 1);
	close(fd);
	append_n(c, 1);
	assert_int_equal(n_msgs, 1);
	assert_int_equal(last_pri[0], LOG_AUTHPRIV | LOG_WARNING);
	assert_non_null(strstr(last_msg[0], "partial line"));
	assert_non_null(strstr(last_msg[0], c->log));
}

static void
test_rotation_continues_chain(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	char old[400], *buf;
	const char *both[2], *newest[1], *wrong[2];
	size_t len;
	int fd;

	append_n(c, 5);
	snprintf(old, sizeof(old), "%s.1", c->log);
	assert_int_equal(rename(c->log, old), 0);
	/* logrotate "create": an empty new file */
	fd = open(c->log, O_WRONLY | O_CREAT | O_EXCL, 0600);
	assert_true(fd >= 0);
	close(fd);
	append_n(c, 4);
	buf = slurp(c->log, &len);
	assert_non_null(strstr(buf, "\"seq\":6,"));
	assert_null(strstr(buf, AUDIT_ZERO_HASH));
	free(buf);
	both[0] = old;
	both[1] = c->log;
	assert_int_equal(verify(both, 2, &sum, &err), 0);
	assert_int_equal(sum.lines, 9);
	assert_false(sum.continues);
	newest[0] = c->log;
	assert_int_equal(verify(newest, 1, &sum, &err), 0);
	assert_int_equal(sum.lines, 4);
	assert_true(sum.continues);
	assert_int_equal(sum.first_seq, 6);
	wrong[0] = c->log;
	wrong[1] = old;
	assert_int_equal(verify(wrong, 2, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_file, 1);
	assert_int_equal(sum.bad_line, 1);
}

static void
test_rotation_without_create(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	char old[400], older[400];
	const char *files[3];

	append_n(c, 3);
	snprintf(old, sizeof(old), "%s.1", c->log);
	snprintf(older, sizeof(older), "%s.2", c->log);
	assert_int_equal(rename(c->log, old), 0);
	append_n(c, 3); /* the writer creates the new file itself */
	assert_int_equal(rename(old, older), 0);
	assert_int_equal(rename(c->log, old), 0);
	append_n(c, 3);
	files[0] = older;
	files[1] = old;
	files[2] = c->log;
	assert_int_equal(verify(files, 3, &sum, &err), 0);
	assert_int_equal(sum.lines, 9);
	assert_int_equal(sum.last_seq, 9);
}

/* Tampers with a 10-line trail through fn and checks the bad line. */
static void
tamper(struct ctx *c, const int *order, size_t n, uint64_t want_line,
    const char *want_msg)
{
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	char *buf, *lines[16];
	size_t len;

	append_n(c, 10);
	buf = slurp(c->log, &len);
	assert_int_equal(split(buf, lines, 16), 10);
	rewrite(c->log, lines, order, n);
	free(buf);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, want_line);
	assert_int_equal(sum.bad_file, 0);
	assert_non_null(strstr(err.msg, want_msg));
}

static void
test_tamper_removed_line(void **state)
{
	static const int order[] = { 0, 1, 2, 3, 5, 6, 7, 8, 9 };

	tamper(*state, order, 9, 5, "removed");
}

static void
test_tamper_reordered_lines(void **state)
{
	static const int order[] = { 0, 1, 2, 3, 4, 6, 5, 7, 8, 9 };

	tamper(*state, order, 10, 6, "reordered");
}

static void
test_tamper_duplicated_line(void **state)
{
	static const int order[] = { 0, 1, 2, 3, 4, 5, 6, 6, 7, 8, 9 };

	tamper(*state, order, 11, 8, "duplicated");
}

static void
test_tamper_removed_first_line(void **state)
{
	struct ctx *c = *state;
	static const int order[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	char *buf, *lines[16];
	size_t len;

	/* a trail whose head was cut looks like a rotated file: accepted,
	 * but reported as continuing an earlier one */
	append_n(c, 10);
	buf = slurp(c->log, &len);
	split(buf, lines, 16);
	rewrite(c->log, lines, order, 9);
	free(buf);
	assert_int_equal(verify(files, 1, &sum, &err), 0);
	assert_true(sum.continues);
	assert_int_equal(sum.first_seq, 2);
}

/* Edits line `line` (1-based) of a 10-line trail: "allow" -> "deny". */
static void
edit_and_check(struct ctx *c, int line, uint64_t want)
{
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	char *buf, *p;
	size_t len;
	int i;

	append_n(c, 10);
	buf = slurp(c->log, &len);
	p = buf;
	for (i = 1; i < line; i++)
		p = strchr(p, '\n') + 1;
	p = strstr(p, "\"decision\":\"");
	assert_non_null(p);
	memcpy(p + 12, "xxxxx", 4); /* keeps the length and the JSON valid */
	spew(c->log, buf, len);
	free(buf);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, want);
	assert_non_null(strstr(err.msg, "edited"));
}

static void
test_tamper_edited_line(void **state)
{
	edit_and_check(*state, 4, 4);
}

static void
test_tamper_edited_first_line(void **state)
{
	edit_and_check(*state, 1, 1);
}

static void
test_tamper_edited_prev_field(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	char *buf, *p;
	size_t len;
	int i;

	append_n(c, 10);
	buf = slurp(c->log, &len);
	p = buf;
	for (i = 1; i < 6; i++)
		p = strchr(p, '\n') + 1;
	p = strstr(p, "\"prev\":\"") + 8;
	*p = *p == 'a' ? 'b' : 'a';
	spew(c->log, buf, len);
	free(buf);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 6);
}

static void
test_tamper_truncated_last_line(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[] = { c->log };
	struct stat st;

	append_n(c, 10);
	assert_int_equal(stat(c->log, &st), 0);
	assert_int_equal(truncate(c->log, st.st_size - 20), 0);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 10);
	assert_non_null(strstr(err.msg, "truncated"));
}

static void
test_verify_unreadable(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *missing[] = { "/nonexistent/agentid/audit.log" };
	const char *dir[] = { c->dir };

	assert_int_equal(verify(missing, 1, &sum, &err), ENOENT);
	assert_non_null(strstr(err.msg, "/nonexistent/agentid/audit.log"));
	assert_int_equal(verify(dir, 1, &sum, &err), EISDIR);
}

static void
test_verify_empty_file(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[1];
	char path[400];

	snprintf(path, sizeof(path), "%s/empty", c->dir);
	spew(path, "", 0);
	files[0] = path;
	assert_int_equal(verify(files, 1, &sum, &err), 0);
	assert_int_equal(sum.lines, 0);
}

static void
test_verify_garbage(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *files[1];
	char path[400];

	snprintf(path, sizeof(path), "%s/garbage", c->dir);
	spew(path, "hello\nworld\n", 12);
	files[0] = path;
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 1);
	spew(path, "\n", 1);
	assert_int_equal(verify(files, 1, &sum, &err), EBADMSG);
	assert_int_equal(sum.bad_line, 1);
}

static void
test_append_waits_for_lock(void **state)
{
	struct ctx *c = *state;
	int fd, status;
	pid_t pid;
	char *buf;
	size_t len;

	append_n(c, 1);
	fd = open(c->log, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct agentid_audit_event ev;
		struct agentid_decision d;
		struct agentid_error err = { "" };

		event(&ev, &d, 1);
		_exit(agentid_audit_append(c->cfg, &ev, &err) == 0 ? 0 : 1);
	}
	usleep(100000);
	/* the child is still blocked: nothing was appended */
	buf = slurp(c->log, &len);
	assert_null(strstr(buf, "\"seq\":2"));
	free(buf);
	assert_int_equal(flock(fd, LOCK_UN), 0);
	close(fd);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	buf = slurp(c->log, &len);
	assert_non_null(strstr(buf, "\"seq\":2"));
	free(buf);
}

/*
 * The kernel's boot id, read once per process since pam_agent.so stays
 * loaded: a first read that fails (the process out of descriptors, as an
 * agent can leave a program it starts) must not leave every later record
 * of the process without "boot_id". Must run before any other append of
 * this process (first in main's list): later ones reuse what was read.
 */
static void
test_append_boot_id_after_failed_read(void **state)
{
	struct ctx *c = *state;
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	struct rlimit old, low;
	char *buf;
	size_t len;
	int fd;

	if ((fd = open("/proc/sys/kernel/random/boot_id", O_RDONLY)) < 0)
		skip(); /* no boot id to read */
	close(fd);
	/* the limit at the lowest free descriptor: nothing more opens, the
	 * boot id no more than the trail (that record is lost; the next one
	 * must be whole) */
	assert_true((fd = dup(0)) > 0);
	close(fd);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)fd;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	assert_true(open("/dev/null", O_RDONLY) < 0);
	event(&ev, &d, 0);
	assert_int_not_equal(agentid_audit_append(c->cfg, &ev, &err), 0);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	event(&ev, &d, 1);
	assert_int_equal(agentid_audit_append(c->cfg, &ev, &err), 0);
	buf = slurp(c->log, &len);
	if (strstr(buf, "\"boot_id\":\"") == NULL)
		fail_msg("a record without boot_id after one failed read: %s",
		    buf);
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		/* first: the process's first boot id read (see the test) */
		T(test_append_boot_id_after_failed_read),
		T(test_append_creates_private_files),
		T(test_append_chain_and_verify),
		T(test_append_missing_directory),
		T(test_append_relative_path_refused),
		T(test_append_not_a_regular_file),
		T(test_append_unwritable_directory),
		T(test_append_oversized_record),
		T(test_append_repairs_torn_line),
		T(test_append_waits_for_lock),
		T(test_append_syslog_line),
		T(test_append_torn_line_warns),
		T(test_append_after_long_line),
		T(test_append_torn_after_long_line),
		T(test_rotation_continues_chain),
		T(test_rotation_without_create),
		T(test_tamper_removed_line),
		T(test_tamper_reordered_lines),
		T(test_tamper_duplicated_line),
		T(test_tamper_removed_first_line),
		T(test_tamper_edited_line),
		T(test_tamper_edited_first_line),
		T(test_tamper_edited_prev_field),
		T(test_tamper_truncated_last_line),
		T(test_verify_unreadable),
		T(test_verify_empty_file),
		T(test_verify_garbage),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
