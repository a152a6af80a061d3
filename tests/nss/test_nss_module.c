/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nss_module.c - calls the _nss_agent_* functions of the built
 * libnss_agent.so.2 directly (dlopen): the buffer contract at every size,
 * enumeration, initgroups, nologin, min_uid, file descriptors, fork, and
 * missing, truncated and corrupted replicas, a replica truncated in place
 * under the mapping (no SIGBUS), replicas someone else could have written
 * (owner, modes, symbolic link, FIFO). Also the replica writer's refusals,
 * and a base with its delta: lookups, tombstones, renames, an id taken
 * over, enumeration once per entry, pairing by generation, a delta
 * refused (corrupt, untrusted, cut in place). The descriptors the module
 * keeps: above 2, close-on-exec, never leaked, and never closed for the
 * process once it closed them itself and reused their numbers.
 * The fixture replica is written by tests/nss/gen_replica. Runs as root
 * (the module accepts only replicas owned by root or agentid): SKIP
 * otherwise.
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <grp.h>
#include <nss.h>
#include <pthread.h>
#include <pwd.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "agentid.h"
#include "agentid_replica_writer.h"
#include "nss_agent.h" /* NSS_AGENT_RECHECK_MS */
#include "replica_format.h"

#define DAY 86400

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *,
    size_t, int *);
typedef enum nss_status (*pwuid_fn)(uid_t, struct passwd *, char *, size_t,
    int *);
typedef enum nss_status (*pwent_fn)(struct passwd *, char *, size_t, int *);
typedef enum nss_status (*grnam_fn)(const char *, struct group *, char *,
    size_t, int *);
typedef enum nss_status (*grgid_fn)(gid_t, struct group *, char *, size_t,
    int *);
typedef enum nss_status (*grent_fn)(struct group *, char *, size_t, int *);
typedef enum nss_status (*set_fn)(void);
typedef enum nss_status (*initgroups_fn)(const char *, gid_t, long int *,
    long int *, gid_t **, long int, int *);

static struct {
	void *dl;
	pwnam_fn getpwnam_r;
	pwuid_fn getpwuid_r;
	pwent_fn getpwent_r;
	set_fn setpwent, endpwent;
	grnam_fn getgrnam_r;
	grgid_fn getgrgid_r;
	grent_fn getgrent_r;
	set_fn setgrent, endgrent;
	initgroups_fn initgroups_dyn;
} m;

static char dir[] = "/tmp/agentid-nss-test.XXXXXX";
static char fixture[300];
static char gecos_long[1001], home_long[301];
static char *big[200];
static int64_t now;

/* Writes the fixture replica to path with tests/nss/gen_replica. */
static void
write_fixture(const char *path)
{
	const char *top = getenv("top_builddir");
	char cmd[8192];

	snprintf(cmd, sizeof(cmd), "'%s/tests/nss/gen_replica' --fixture '%s'",
	    top != NULL ? top : ".", path);
	assert_int_equal(system(cmd), 0);
}

/* Points the module at path (a new path is looked at on the next call). */
static void
use_replica(const char *path)
{
	assert_int_equal(setenv("AGENTID_REPLICA", path, 1), 0);
}

/* Waits until the module's next lookup stats the replica's paths again (it
 * does every NSS_AGENT_RECHECK_MS on the coarse clock, which lags by a tick
 * of at most 10 ms): what fstat of the files mapped cannot see, a delta
 * that appeared where there was none, is seen then. A bound from the
 * clock, not from how fast anything runs. */
static void
recheck_wait(void)
{
	struct timespec ts = { 0, (2 * NSS_AGENT_RECHECK_MS + 20) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static int
setup(void **state)
{
	const char *top = getenv("top_builddir");
	char so[4096];
	size_t i;

	(void)state;
	now = (int64_t)time(NULL);
	snprintf(so, sizeof(so), "%s/nss_agent/.libs/libnss_agent.so.2",
	    top != NULL ? top : ".");
	if ((m.dl = dlopen(so, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		fprintf(stderr, "dlopen %s: %s\n", so, dlerror());
		return -1;
	}
#define SYM(f) (*(void **)&m.f = dlsym(m.dl, "_nss_agent_" #f)) == NULL
	if (SYM(getpwnam_r) || SYM(getpwuid_r) || SYM(getpwent_r) ||
	    SYM(setpwent) || SYM(endpwent) || SYM(getgrnam_r) ||
	    SYM(getgrgid_r) || SYM(getgrent_r) || SYM(setgrent) ||
	    SYM(endgrent) || SYM(initgroups_dyn))
		return -1;
#undef SYM
	if (mkdtemp(dir) == NULL)
		return -1;
	/* what gen_replica --fixture writes */
	memset(gecos_long, 'g', sizeof(gecos_long) - 1);
	memcpy(gecos_long, "Long Bot ", 9);
	memset(home_long, 'h', sizeof(home_long) - 1);
	memcpy(home_long, "/home/", 6);
	for (i = 0; i < 200; i++)
		if (asprintf(&big[i], i == 7 ? "long-bot" : "member-%03zu", i) < 0)
			return -1;
	snprintf(fixture, sizeof(fixture), "%s/fixture.cdb", dir);
	write_fixture(fixture);
	return 0;
}

static int
teardown(void **state)
{
	char cmd[400];
	size_t i;

	(void)state;
	for (i = 0; i < 200; i++)
		free(big[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A path under the test directory. */
static const char *
tmp_path(const char *name)
{
	static char p[2][400];
	static int which;

	which ^= 1;
	snprintf(p[which], sizeof(p[which]), "%s/%s", dir, name);
	return p[which];
}

/* Copies the fixture to path, cut to len bytes (SIZE_MAX: whole). */
static void
copy_fixture(const char *path, size_t len)
{
	FILE *in = fopen(fixture, "rb"), *out = fopen(path, "wb");
	int c;

	assert_non_null(in);
	assert_non_null(out);
	while (len-- > 0 && (c = getc(in)) != EOF)
		putc(c, out);
	fclose(in);
	assert_int_equal(fclose(out), 0);
}

/* The whole fixture in memory. */
static unsigned char *
read_fixture(size_t *len)
{
	FILE *f = fopen(fixture, "rb");
	unsigned char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Writes len bytes to path, by rename as sync does: the module may still
 * map the file that was there. */
static void
write_file(const char *path, const unsigned char *buf, size_t len)
{
	char tmp[512];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", path);
	assert_non_null(f = fopen(tmp, "wb"));
	assert_int_equal(fwrite(buf, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(rename(tmp, path), 0);
}

/* Every buffer size from none up: ERANGE until the entry fits, then it. */
static void
test_passwd_every_buffer_size(void **state)
{
	size_t need = sizeof("long-bot") + 2 + sizeof(gecos_long) +
	    sizeof(home_long) + sizeof("/bin/zsh"), size;
	struct passwd pw;
	int err;

	(void)state;
	use_replica(fixture);
	for (size = 0; size <= need + 8; size++) {
		char *buf = size > 0 ? malloc(size) : NULL;
		enum nss_status st;

		err = 0;
		st = m.getpwnam_r("long-bot", &pw, buf, size, &err);
		if (size < need) {
			assert_int_equal(st, NSS_STATUS_TRYAGAIN);
			assert_int_equal(err, ERANGE);
		} else {
			assert_int_equal(st, NSS_STATUS_SUCCESS);
			assert_string_equal(pw.pw_name, "long-bot");
			assert_string_equal(pw.pw_passwd, "*");
			assert_int_equal(pw.pw_uid, 20007);
			assert_int_equal(pw.pw_gid, 20007);
			assert_string_equal(pw.pw_gecos, gecos_long);
			assert_string_equal(pw.pw_dir, home_long);
			assert_string_equal(pw.pw_shell, "/bin/zsh");
		}
		err = 0;
		st = m.getpwuid_r(20007, &pw, buf, size, &err);
		assert_int_equal(st, size < need ? NSS_STATUS_TRYAGAIN :
		    NSS_STATUS_SUCCESS);
		if (size < need)
			assert_int_equal(err, ERANGE);
		else
			assert_string_equal(pw.pw_dir, home_long);
		free(buf);
	}
}

/* Same for a 200-member group, at every alignment of the buffer. */
static void
test_group_every_buffer_size(void **state)
{
	size_t strings = sizeof("big-team") + 2, off, size, i;

	(void)state;
	use_replica(fixture);
	for (i = 0; i < 200; i++)
		strings += strlen(big[i]) + 1;
	for (off = 0; off < sizeof(char *); off++) {
		size_t pad = (sizeof(char *) - off % sizeof(char *)) %
		    sizeof(char *);
		size_t need = pad + 201 * sizeof(char *) + strings;

		for (size = 0; size <= need + 4; size++) {
			char *raw = malloc(size + off + 1), *buf = raw + off;
			struct group gr;
			enum nss_status st;
			int err = 0;

			st = m.getgrgid_r(30002, &gr, size > 0 ? buf : NULL, size, &err);
			if (size < need) {
				assert_int_equal(st, NSS_STATUS_TRYAGAIN);
				assert_int_equal(err, ERANGE);
			} else {
				assert_int_equal(st, NSS_STATUS_SUCCESS);
				assert_int_equal((uintptr_t)gr.gr_mem % sizeof(char *), 0);
				assert_string_equal(gr.gr_name, "big-team");
				assert_int_equal(gr.gr_gid, 30002);
				for (i = 0; i < 200; i++)
					assert_string_equal(gr.gr_mem[i], big[i]);
				assert_null(gr.gr_mem[200]);
			}
			free(raw);
		}
	}
}

/* Looks up name and returns its shell ("" when not found). */
static const char *
shell_of(const char *name)
{
	static char buf[4096];
	struct passwd pw;
	int err;

	if (m.getpwnam_r(name, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
		return "";
	return pw.pw_shell;
}

/* Chains that are not valid now resolve with the nologin shell. */
static void
test_nologin(void **state)
{
	(void)state;
	use_replica(fixture);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_string_equal(shell_of("expired-bot"), "/usr/sbin/nologin");
	assert_string_equal(shell_of("suspended-bot"), "/usr/sbin/nologin");
	assert_string_equal(shell_of("revoked-bot"), "/usr/sbin/nologin");
	assert_string_equal(shell_of("orphan-bot"), "/usr/sbin/nologin");
	assert_string_equal(shell_of("future-bot"), "/usr/sbin/nologin");
	assert_string_equal(shell_of("skew-bot"), "/bin/sh");
	assert_string_equal(shell_of("no-such-bot"), "");
}

/* Not found, below min_uid, and names no record can have. */
static void
test_not_found(void **state)
{
	char buf[1024], longname[400];
	struct passwd pw;
	struct group gr;
	int err = 0;

	(void)state;
	use_replica(fixture);
	assert_int_equal(m.getpwuid_r(0, &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(err, ENOENT);
	assert_int_equal(m.getpwuid_r(999, &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getgrgid_r(0, &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getpwnam_r("", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(m.getpwnam_r(longname, &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getgrnam_r("alice-bot", &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
}

/* Enumeration in order; ERANGE leaves the cursor on the same entry. */
static void
test_enumeration(void **state)
{
	static const char *want[] = { "alice-bot", "expired-bot",
	    "suspended-bot", "revoked-bot", "orphan-bot", "future-bot",
	    "skew-bot", "long-bot" };
	char buf[4096], tiny[16];
	struct passwd pw;
	struct group gr;
	size_t i;
	int err;

	(void)state;
	use_replica(fixture);
	m.setpwent();
	for (i = 0; i < 8; i++) {
		/* every entry needs more than 16 bytes */
		assert_int_equal(m.getpwent_r(&pw, tiny, sizeof(tiny), &err),
		    NSS_STATUS_TRYAGAIN);
		assert_int_equal(err, ERANGE);
		assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &err),
		    NSS_STATUS_SUCCESS);
		assert_string_equal(pw.pw_name, want[i]);
	}
	assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	m.endpwent();
	m.setpwent();
	assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(pw.pw_name, "alice-bot");
	m.endpwent();

	m.setgrent();
	assert_int_equal(m.getgrent_r(&gr, buf, 50, &err), NSS_STATUS_TRYAGAIN);
	assert_int_equal(err, ERANGE);
	assert_int_equal(m.getgrent_r(&gr, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, "agents");
	assert_int_equal(m.getgrent_r(&gr, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, "big-team");
	assert_int_equal(m.getgrent_r(&gr, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_name, "empty");
	assert_null(gr.gr_mem[0]);
	assert_int_equal(m.getgrent_r(&gr, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	m.endgrent();
}

/* initgroups_dyn: groups of an agent, primary gid skipped, limit kept. */
static void
test_initgroups(void **state)
{
	long int start, size;
	gid_t *groups;
	int err;

	(void)state;
	use_replica(fixture);
	start = 1;
	size = 1;
	groups = malloc(sizeof(*groups));
	assert_non_null(groups);
	groups[0] = 20007;
	assert_int_equal(m.initgroups_dyn("long-bot", 20007, &start, &size,
	    &groups, -1, &err), NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);
	assert_true(size >= 3);
	assert_int_equal(groups[0], 20007);
	assert_int_equal(groups[1], 30001);
	assert_int_equal(groups[2], 30002);
	/* again: nothing added twice */
	assert_int_equal(m.initgroups_dyn("long-bot", 20007, &start, &size,
	    &groups, -1, &err), NSS_STATUS_SUCCESS);
	assert_int_equal(start, 3);
	free(groups);

	start = 1;
	size = 1;
	groups = malloc(sizeof(*groups));
	assert_non_null(groups);
	groups[0] = 30001; /* primary group is one of them */
	assert_int_equal(m.initgroups_dyn("long-bot", 30001, &start, &size,
	    &groups, 2, &err), NSS_STATUS_SUCCESS);
	assert_int_equal(start, 2);
	assert_int_equal(size, 2);
	assert_int_equal(groups[1], 30002);
	free(groups);

	/* root is listed in "agents" but is not an agent of the replica */
	start = 0;
	size = 0;
	groups = NULL;
	assert_int_equal(m.initgroups_dyn("root", 0, &start, &size, &groups, -1,
	    &err), NSS_STATUS_NOTFOUND);
	assert_int_equal(start, 0);
	free(groups);
}

/* Number of open file descriptors. */
static int
count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		n++;
	closedir(d);
	return n;
}

/* The descriptors of this process open on path (at most max, in fds). */
static int
fds_on(const char *path, int *fds, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	char target[4096];
	ssize_t n;
	int count = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		n = readlinkat(dirfd(d), e->d_name, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, path) == 0 && count < max)
			fds[count++] = atoi(e->d_name);
	}
	closedir(d);
	return count;
}

/* 100k lookups, with the replica replaced meanwhile: no fd left open but
 * the one the module keeps on the file it maps (above 2, close-on-exec),
 * none once there is no replica. */
static void
test_no_fd_leak(void **state)
{
	const char *other = tmp_path("other.cdb");
	char buf[4096];
	struct passwd pw;
	struct group gr;
	long int start, size;
	gid_t *groups = NULL;
	unsigned char *img;
	size_t len;
	int none, err, i, fd;

	(void)state;
	img = read_fixture(&len);
	copy_fixture(other, SIZE_MAX);
	use_replica("/nonexistent/agents.cdb");
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	none = count_fds();
	use_replica(fixture);
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	/* one descriptor, on the file mapped (the fixture has no delta) */
	assert_int_equal(count_fds(), none + 1);
	assert_int_equal(fds_on(fixture, &fd, 1), 1);
	assert_true(fd > 2);
	assert_true((fcntl(fd, F_GETFD) & FD_CLOEXEC) != 0);
	for (i = 0; i < 100000; i++) {
		if (i % 10000 == 0)
			use_replica(i % 20000 == 0 ? other : fixture);
		switch (i % 4) {
		case 0:
			assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf,
			    sizeof(buf), &err), NSS_STATUS_SUCCESS);
			break;
		case 1:
			assert_int_equal(m.getpwuid_r(20002, &pw, buf, sizeof(buf),
			    &err), NSS_STATUS_SUCCESS);
			break;
		case 2:
			assert_int_equal(m.getgrgid_r(30001, &gr, buf, sizeof(buf),
			    &err), NSS_STATUS_SUCCESS);
			break;
		default:
			start = 0;
			size = 0;
			assert_int_equal(m.initgroups_dyn("alice-bot", 20001, &start,
			    &size, &groups, -1, &err), NSS_STATUS_SUCCESS);
			break;
		}
		/* replaced by rename (as sync does) now and then */
		if (i % 25000 == 12345)
			write_file(other, img, len);
	}
	free(groups);
	free(img);
	assert_int_equal(count_fds(), none + 1);
	use_replica("/nonexistent/agents.cdb");
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	assert_int_equal(count_fds(), none);
}

/* A process that closes every descriptor (a daemon after fork) and gets
 * the module's number back for a file of its own: the module sees the
 * number names another file, maps the replica again and never closes the
 * process's file. With the standard descriptors closed, the module's is
 * not one of them. */
static void
test_closed_descriptors(void **state)
{
	const char *p = tmp_path("closed.cdb");
	struct stat st, nul;
	int fd, mine, fds[4], saved;

	(void)state;
	copy_fixture(p, SIZE_MAX);
	use_replica(p);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_int_equal(fds_on(p, &fd, 1), 1);
	/* closed, and the number reused for /dev/null */
	assert_true((saved = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0);
	assert_int_equal(close(fd), 0);
	mine = fcntl(saved, F_DUPFD_CLOEXEC, fd);
	assert_int_equal(mine, fd);
	assert_int_equal(close(saved), 0);
	assert_int_equal(fstat(mine, &nul), 0);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_int_equal(fds_on(p, fds, 4), 1);
	assert_true(fds[0] != mine);
	/* the replica goes: the module drops its map, and closes its own
	 * descriptor only */
	use_replica("/nonexistent/agents.cdb");
	assert_string_equal(shell_of("alice-bot"), "");
	assert_int_equal(fds_on(p, fds, 4), 0);
	assert_int_equal(fstat(mine, &st), 0);
	assert_true(st.st_dev == nul.st_dev && st.st_ino == nul.st_ino);
	/* closed, and the number left closed */
	use_replica(p);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_int_equal(fds_on(p, &fd, 1), 1);
	assert_int_equal(close(fd), 0);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_int_equal(fds_on(p, fds, 4), 1);
	assert_int_equal(close(mine), 0);
	/* standard input closed when the module opens: not fd 0 */
	use_replica("/nonexistent/agents.cdb");
	assert_string_equal(shell_of("alice-bot"), "");
	saved = dup(0);
	assert_true(saved > 2);
	assert_int_equal(close(0), 0);
	use_replica(p);
	assert_string_equal(shell_of("alice-bot"), "/bin/bash");
	assert_int_equal(fds_on(p, fds, 4), 1);
	assert_true(fds[0] > 2);
	assert_int_equal(fcntl(0, F_GETFD), -1);
	assert_int_equal(dup2(saved, 0), 0);
	assert_int_equal(close(saved), 0);
}

/* The statuses every function gives for the replica at path. */
static void
expect_unavail(const char *path)
{
	char buf[4096];
	struct passwd pw;
	struct group gr;
	long int start = 0, size = 0;
	gid_t *groups = NULL;
	int err;

	use_replica(path);
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	assert_int_equal(m.getpwuid_r(20001, &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	assert_int_equal(m.getgrnam_r("agents", &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	assert_int_equal(m.getgrgid_r(30001, &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	m.setpwent();
	assert_int_equal(m.getpwent_r(&pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	m.setgrent();
	assert_int_equal(m.getgrent_r(&gr, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);
	assert_int_equal(m.initgroups_dyn("alice-bot", 20001, &start, &size,
	    &groups, -1, &err), NSS_STATUS_UNAVAIL);
	free(groups);
}

/* Missing, truncated, foreign and tampered-with files: UNAVAIL. */
static void
test_missing_and_corrupt(void **state)
{
	unsigned char *img, *bad;
	size_t len, cut;
	uint32_t crc;

	(void)state;
	expect_unavail(tmp_path("missing.cdb"));
	expect_unavail(dir); /* a directory */
	img = read_fixture(&len);
	for (cut = 0; cut < len; cut += cut < 2100 ? 211 : 97) {
		const char *p = tmp_path(cut % 2 ? "cut-a.cdb" : "cut-b.cdb");

		write_file(p, img, cut);
		expect_unavail(p);
	}
	bad = malloc(len);
	assert_non_null(bad);
	/* header fields with a correct header CRC: magic, version, size */
	for (cut = 0; cut < 3; cut++) {
		const char *p = tmp_path(cut % 2 ? "hdr-a.cdb" : "hdr-b.cdb");
		unsigned char *h = bad + AGENTID_REPLICA_HEADER_VAL;

		memcpy(bad, img, len);
		h[cut == 0 ? 0 : cut == 1 ? 8 : 24] ^= 0x41;
		memset(h + 12, 0, 4);
		crc = agentid_replica_crc32c(0, h,
		    AGENTID_REPLICA_HEADER_FIXED + strlen("/usr/sbin/nologin"));
		h[12] = (unsigned char)crc;
		h[13] = (unsigned char)(crc >> 8);
		h[14] = (unsigned char)(crc >> 16);
		h[15] = (unsigned char)(crc >> 24);
		write_file(p, bad, len);
		expect_unavail(p);
	}
	/* the TOC pointing outside the file */
	memcpy(bad, img, len);
	memset(bad, 0xff, 2048);
	write_file(tmp_path("toc.cdb"), bad, len);
	expect_unavail(tmp_path("toc.cdb"));
	free(bad);
	free(img);
}

/* What one successful lookup must return, or it must fail. */
static void
check_lookups(void)
{
	char buf[8192];
	struct passwd pw;
	struct group gr;
	long int start = 0, size = 0;
	gid_t *groups = NULL;
	enum nss_status st;
	int err, i;

	st = m.getpwnam_r("long-bot", &pw, buf, sizeof(buf), &err);
	assert_true(st == NSS_STATUS_SUCCESS || st == NSS_STATUS_NOTFOUND ||
	    st == NSS_STATUS_UNAVAIL);
	if (st == NSS_STATUS_SUCCESS) {
		assert_string_equal(pw.pw_gecos, gecos_long);
		assert_string_equal(pw.pw_dir, home_long);
		assert_int_equal(pw.pw_uid, 20007);
	}
	st = m.getpwuid_r(20001, &pw, buf, sizeof(buf), &err);
	if (st == NSS_STATUS_SUCCESS) {
		assert_string_equal(pw.pw_name, "alice-bot");
		assert_string_equal(pw.pw_gecos, "Alice's build bot");
		assert_string_equal(pw.pw_shell, "/bin/bash");
	}
	st = m.getgrgid_r(30002, &gr, buf, sizeof(buf), &err);
	if (st == NSS_STATUS_SUCCESS) {
		for (i = 0; i < 200; i++)
			assert_string_equal(gr.gr_mem[i], big[i]);
		assert_null(gr.gr_mem[200]);
	}
	st = m.getgrnam_r("agents", &gr, buf, sizeof(buf), &err);
	if (st == NSS_STATUS_SUCCESS)
		assert_string_equal(gr.gr_mem[3], "long-bot");
	st = m.initgroups_dyn("long-bot", 20007, &start, &size, &groups, -1, &err);
	if (st == NSS_STATUS_SUCCESS) {
		assert_true(start <= 2);
		for (i = 0; i < start; i++)
			assert_true(groups[i] == 30001 || groups[i] == 30002);
	}
	free(groups);
	m.setpwent();
	for (i = 0; i < 12; i++) {
		st = m.getpwent_r(&pw, buf, sizeof(buf), &err);
		if (st != NSS_STATUS_SUCCESS)
			break;
		assert_true(pw.pw_uid >= 20001 && pw.pw_uid <= 20008);
	}
	m.setgrent();
	for (i = 0; i < 5; i++)
		if (m.getgrent_r(&gr, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
			break;
}

/* Random byte flips all over the file: never a crash, never wrong data. */
static void
test_random_corruption(void **state)
{
	unsigned char *img, *bad;
	size_t len;
	unsigned seed = 12345;
	int i, j;

	(void)state;
	img = read_fixture(&len);
	bad = malloc(len);
	assert_non_null(bad);
	for (i = 0; i < 3000; i++) {
		const char *p = tmp_path(i % 2 ? "flip-a.cdb" : "flip-b.cdb");
		int flips = 1 + (int)(rand_r(&seed) % 4);

		memcpy(bad, img, len);
		for (j = 0; j < flips; j++) {
			size_t at = (size_t)rand_r(&seed) % len;

			bad[at] ^= (unsigned char)(1 + rand_r(&seed) % 255);
		}
		write_file(p, bad, len);
		use_replica(p);
		check_lookups();
	}
	free(bad);
	free(img);
}

/* The reader's full check finds a flipped byte anywhere. */
static void
test_verify(void **state)
{
	struct agentid_replica *r = NULL;
	unsigned char *img;
	size_t len, at;
	int bad = 0, total = 0;

	(void)state;
	/* the standard check value of CRC-32C */
	assert_int_equal(agentid_replica_crc32c(0, "123456789", 9), 0xe3069283u);
	assert_int_equal(agentid_replica_crc32c(agentid_replica_crc32c(0, "1234",
	    4), "56789", 5), 0xe3069283u);
	assert_int_equal(agentid_replica_open(fixture, &r), 0);
	assert_int_equal(agentid_replica_verify(r), 0);
	assert_int_equal(agentid_replica_info(r)->n_users, 8);
	assert_int_equal(agentid_replica_info(r)->n_groups, 3);
	/* every listed name has its list (a delta replaces only the lists
	 * of the members of the groups it changes): alice-bot, expired-bot,
	 * root, long-bot and big-team's 199 others; initgroups serves only
	 * users (test_initgroups: root gets nothing) */
	assert_int_equal(agentid_replica_info(r)->n_members, 203);
	agentid_replica_close(r);
	img = read_fixture(&len);
	for (at = 0; at < len; at += 13) {
		const char *p = tmp_path("verify.cdb");

		img[at] ^= 0x10;
		write_file(p, img, len);
		img[at] ^= 0x10;
		total++;
		if (agentid_replica_open(p, &r) != 0) {
			bad++;
			continue;
		}
		if (agentid_replica_verify(r) != 0)
			bad++;
		agentid_replica_close(r);
	}
	assert_int_equal(bad, total);
	free(img);
}

/* The writer refuses what NSS must never serve, and keeps going. */
static void
test_writer_refusals(void **state)
{
	struct agentid_replica_meta meta = { now, 1000, 60, "/usr/sbin/nologin",
	    0 };
	struct agentid_replica_entry e = { "ok-bot", 5000, 5000, "x", "/h",
	    "/bin/sh", AGENTID_REPLICA_OK, false, 0, now + DAY };
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	struct agentid_replica *r = NULL;
	struct agentid_replica_user u;
	char *bad_members[] = { "ok-bot", "bad:member" };
	const char *p = tmp_path("refusals.cdb");

	(void)state;
	assert_int_equal(agentid_replica_writer_new(p, &meta, &w, &err), 0);
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EEXIST);
	e.name = "other-bot";
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EEXIST);
	e.uid = 999;
	assert_int_equal(agentid_replica_write_user(w, &e, &err), ERANGE);
	assert_non_null(strstr(err.msg, "min_uid"));
	e.uid = 5001;
	e.gid = 10;
	assert_int_equal(agentid_replica_write_user(w, &e, &err), ERANGE);
	e.gid = 5001;
	e.gecos = "a:b";
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EINVAL);
	e.gecos = "line\nbreak";
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EINVAL);
	e.gecos = "fine";
	e.name = "bad:name";
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EINVAL);
	e.name = "other-bot";
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	assert_int_equal(agentid_replica_write_group(w, "low", 999, NULL, 0, &err),
	    ERANGE);
	assert_int_equal(agentid_replica_write_group(w, "g", 6000, bad_members,
	    2, &err), EINVAL);
	assert_int_equal(agentid_replica_write_group(w, "g", 6000, bad_members,
	    1, &err), 0);
	assert_int_equal(agentid_replica_write_group(w, "g", 6001, NULL, 0, &err),
	    EEXIST);
	assert_int_equal(agentid_replica_write_group(w, "h", 6000, NULL, 0, &err),
	    EEXIST);
	assert_int_equal(agentid_replica_commit(w, &err), 0);
	agentid_replica_writer_free(w);
	assert_int_equal(agentid_replica_open(p, &r), 0);
	assert_int_equal(agentid_replica_verify(r), 0);
	assert_int_equal(agentid_replica_info(r)->n_users, 2);
	assert_int_equal(agentid_replica_info(r)->n_groups, 1);
	assert_int_equal(agentid_replica_user_by_uid(r, 999, &u), ENOENT);
	assert_int_equal(agentid_replica_user_by_uid(r, 5001, &u), 0);
	assert_int_equal(u.name.len, strlen("other-bot"));
	agentid_replica_close(r);
	/* a writer that is never committed leaves nothing behind */
	assert_int_equal(agentid_replica_writer_new(tmp_path("gone.cdb"), &meta,
	    &w, &err), 0);
	agentid_replica_writer_free(w);
	assert_int_equal(access(tmp_path("gone.cdb"), F_OK), -1);
}

/* Rewrites path in place as cp does (O_TRUNC, then the bytes), keeping
 * only len bytes of buf. */
static void
rewrite_in_place(const char *path, const unsigned char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, buf, len), (ssize_t)len);
	assert_int_equal(close(fd), 0);
}

/* One of each lookup against a replica that may be cut: never a crash;
 * right data, NOTFOUND or UNAVAIL. Returns how many succeeded. */
static int
lookups_on_cut_file(void)
{
	char buf[8192];
	struct passwd pw;
	struct group gr;
	long int start = 0, size = 0;
	gid_t *groups = NULL;
	enum nss_status st;
	int err, n = 0;

#define OUTCOME(st) \
	assert_true((st) == NSS_STATUS_SUCCESS || (st) == NSS_STATUS_NOTFOUND || \
	    (st) == NSS_STATUS_UNAVAIL)
	st = m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err);
	OUTCOME(st);
	if (st == NSS_STATUS_SUCCESS) {
		assert_int_equal(pw.pw_uid, 20001);
		n++;
	}
	st = m.getpwuid_r(20007, &pw, buf, sizeof(buf), &err);
	OUTCOME(st);
	if (st == NSS_STATUS_SUCCESS) {
		assert_string_equal(pw.pw_dir, home_long);
		n++;
	}
	st = m.getgrnam_r("agents", &gr, buf, sizeof(buf), &err);
	OUTCOME(st);
	n += st == NSS_STATUS_SUCCESS;
	st = m.getgrgid_r(30002, &gr, buf, sizeof(buf), &err);
	OUTCOME(st);
	n += st == NSS_STATUS_SUCCESS;
	st = m.initgroups_dyn("long-bot", 20007, &start, &size, &groups, -1, &err);
	OUTCOME(st);
	n += st == NSS_STATUS_SUCCESS;
	free(groups);
	m.setpwent();
	st = m.getpwent_r(&pw, buf, sizeof(buf), &err);
	OUTCOME(st);
	n += st == NSS_STATUS_SUCCESS;
	m.setgrent();
	st = m.getgrent_r(&gr, buf, sizeof(buf), &err);
	OUTCOME(st);
	n += st == NSS_STATUS_SUCCESS;
#undef OUTCOME
	return n;
}

/* The lengths the replica is cut to in place. */
static size_t
cut_length(size_t i, size_t len)
{
	static const size_t fixed[] = { 0, 1, 2047, 2048, 2100, 4096 };

	if (i < sizeof(fixed) / sizeof(fixed[0]))
		return fixed[i] < len ? fixed[i] : len - 1;
	i -= sizeof(fixed) / sizeof(fixed[0]);
	return i == 0 ? len - 1 : i == 1 ? len / 2 : len - 4096;
}
#define N_CUTS 9

/* An administrator's cp over the mapped replica (truncation in place), in
 * the same process between lookups: no SIGBUS, NOTFOUND or UNAVAIL while
 * it is cut, the right answers again once it is whole. */
static void
test_truncate_in_place_same_process(void **state)
{
	const char *p = tmp_path("inplace.cdb");
	unsigned char *img;
	size_t len, i;

	(void)state;
	img = read_fixture(&len);
	assert_true(len > 4200); /* a cut leaves whole pages behind */
	write_file(p, img, len);
	use_replica(p);
	assert_int_equal(lookups_on_cut_file(), 7);
	for (i = 0; i < N_CUTS; i++) {
		size_t cut = cut_length(i, len);

		assert_int_equal(truncate(p, (off_t)cut), 0);
		assert_int_equal(lookups_on_cut_file(), 0);
		/* cp's first step: empty, then the bytes in pieces */
		rewrite_in_place(p, img, cut);
		assert_int_equal(lookups_on_cut_file(), 0);
		rewrite_in_place(p, img, len);
		assert_int_equal(lookups_on_cut_file(), 7);
	}
	free(img);
}

/* The same with the lookups in another process, looking up in a loop; the
 * file is cut while that process is between two lookups (a pipe says when:
 * no timing). It must never die of SIGBUS, and must see each state. */
static void
test_truncate_in_place_other_process(void **state)
{
	const char *p = tmp_path("inplace2.cdb");
	int to_child[2], to_parent[2], status;
	unsigned char *img;
	size_t len, i;
	pid_t pid;
	char c;

	(void)state;
	img = read_fixture(&len);
	write_file(p, img, len);
	use_replica(p);
	assert_int_equal(pipe(to_child), 0);
	assert_int_equal(pipe(to_parent), 0);
	signal(SIGPIPE, SIG_IGN); /* a dead child: write fails with EPIPE */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* round r: the file is whole when r is even, cut when odd */
		int r, bad = 0;

		close(to_child[1]);
		close(to_parent[0]);
		for (r = 0; r <= 2 * N_CUTS; r++) {
			int n = lookups_on_cut_file();

			if (n != (r % 2 == 0 ? 7 : 0))
				bad++;
			if (write(to_parent[1], "x", 1) != 1 ||
			    read(to_child[0], &c, 1) != 1)
				_exit(3);
		}
		_exit(bad == 0 ? 0 : 1);
	}
	/* only the child holds these ends: a dead child is EOF, not a hang */
	close(to_child[0]);
	close(to_parent[1]);
	for (i = 0; i <= 2 * N_CUTS; i++) {
		if (read(to_parent[0], &c, 1) != 1)
			break;
		if (i % 2 == 0)
			assert_int_equal(truncate(p, (off_t)cut_length(i / 2, len)), 0);
		else
			rewrite_in_place(p, img, len);
		if (write(to_child[1], "x", 1) != 1)
			break;
	}
	close(to_child[1]);
	close(to_parent[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status))
		fail_msg("the looking-up process died of signal %d",
		    WTERMSIG(status));
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	free(img);
}

/* A copy of the fixture at path with mode and owner. */
static void
fixture_as(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	unlink(path);
	copy_fixture(path, SIZE_MAX);
	assert_int_equal(chmod(path, mode), 0);
	assert_int_equal(chown(path, uid, gid), 0);
}

/* open_why's answer for path: the code, and the reason containing want. */
static void
expect_refused(const char *path, int code, const char *want)
{
	struct agentid_replica *r = NULL;
	char why[512];

	assert_int_equal(agentid_replica_open_why(path, &r, why, sizeof(why)),
	    code);
	assert_null(r);
	if (strstr(why, want) == NULL || strstr(why, path) == NULL)
		fail_msg("reason for %s: \"%s\", wanted \"%s\"", path, why, want);
	expect_unavail(path);
}

/* Only a replica that root (or agentid) alone could have written is
 * served: owner, file and directory modes, symbolic link, FIFO. */
static void
test_untrusted(void **state)
{
	const char *sub = tmp_path("sub"), *p;
	struct agentid_replica *r = NULL;
	char buf[4096], target[400];
	struct passwd pw;
	int err;

	(void)state;
	p = tmp_path("trusted.cdb");
	fixture_as(p, 0644, 0, 0);
	use_replica(p);
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	fixture_as(p, 0600, 0, 12345); /* group and mode 0600: fine */
	assert_int_equal(agentid_replica_open(p, &r), 0);
	agentid_replica_close(r);

	fixture_as(p, 0664, 0, 0);
	expect_refused(p, EPERM, "file is writable by group or others (mode 0664)");
	fixture_as(p, 0646, 0, 0);
	expect_refused(p, EPERM, "file is writable by group or others (mode 0646)");
	fixture_as(p, 0644, 12345, 0);
	expect_refused(p, EPERM, "file is owned by uid 12345, not root or agentid");
	/* a replica that was served stops being served once untrusted */
	fixture_as(p, 0644, 0, 0);
	use_replica(p);
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_int_equal(chmod(p, 0666), 0);
	assert_int_equal(m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err),
	    NSS_STATUS_UNAVAIL);

	/* its directory */
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(target, sizeof(target), "%s/agents.cdb", sub);
	fixture_as(target, 0644, 0, 0);
	assert_int_equal(agentid_replica_open(target, &r), 0);
	agentid_replica_close(r);
	assert_int_equal(chmod(sub, 0775), 0);
	expect_refused(target, EPERM, "directory is writable by group or others");
	assert_int_equal(chmod(sub, 01777), 0);
	expect_refused(target, EPERM, "directory is writable by group or others");
	assert_int_equal(chmod(sub, 0755), 0);
	assert_int_equal(chown(sub, 12345, 0), 0);
	expect_refused(target, EPERM, "directory is owned by uid 12345");
	assert_int_equal(chown(sub, 0, 0), 0);

	/* a symbolic link, even to a trusted replica */
	p = tmp_path("link.cdb");
	unlink(p);
	assert_int_equal(symlink(target, p), 0);
	expect_refused(p, EPERM, "symbolic link");
	/* a FIFO: refused at once, never waited on */
	p = tmp_path("fifo.cdb");
	unlink(p);
	assert_int_equal(mkfifo(p, 0644), 0);
	expect_refused(p, EBADMSG, "not a regular file");
	unlink(p);
	unlink(target);
	rmdir(sub);
}

static volatile int spin;

/* Looks users up until told to stop. */
static void *
looker(void *arg)
{
	char buf[4096];
	struct passwd pw;
	int err;

	(void)arg;
	while (!spin)
		m.getpwnam_r("alice-bot", &pw, buf, sizeof(buf), &err);
	return NULL;
}

/* fork while another thread looks up: the child's lookups work. */
static void
test_fork(void **state)
{
	pthread_t t;
	int i, status;

	(void)state;
	use_replica(fixture);
	spin = 0;
	assert_int_equal(pthread_create(&t, NULL, looker, NULL), 0);
	for (i = 0; i < 20; i++) {
		pid_t pid = fork();

		assert_true(pid >= 0);
		if (pid == 0) {
			const char *s1 = shell_of("alice-bot");
			int ok = strcmp(s1, "/bin/bash") == 0;

			use_replica(tmp_path("missing.cdb"));
			ok = ok && strcmp(shell_of("alice-bot"), "") == 0;
			use_replica(fixture);
			ok = ok && strcmp(shell_of("expired-bot"),
			    "/usr/sbin/nologin") == 0;
			_exit(ok ? 0 : 1);
		}
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFEXITED(status));
		assert_int_equal(WEXITSTATUS(status), 0);
	}
	spin = 1;
	pthread_join(t, NULL);
}

/* ---- base + delta ------------------------------------------------ */

static const struct agentid_replica_meta dmeta = { 0, 1000, 60,
    "/usr/sbin/nologin", 0 };

/* A user entry with its uid as gid. */
static struct agentid_replica_entry
ent(const char *name, uint32_t uid, const char *shell)
{
	struct agentid_replica_entry e = { name, uid, uid, name, "/home/x",
	    shell, AGENTID_REPLICA_OK, false, 0, 0 };

	e.not_after = now + DAY;
	return e;
}

/* The base of the delta tests at path, generation gen (0: chosen). */
static uint64_t
write_dbase(const char *path, uint64_t gen, const char *tag)
{
	struct agentid_replica_meta meta = dmeta;
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	struct agentid_replica_entry e;
	char *g1[] = { "a", "b" }, *g2[] = { "c" }, *g3[] = { "f" };
	const char *names[] = { "a", "b", "c", "d", "f" };
	uint64_t out;
	size_t i;

	meta.generation = gen;
	assert_int_equal(agentid_replica_writer_new(path, &meta, &w, &err), 0);
	for (i = 0; i < 5; i++) {
		e = ent(names[i], 5001 + (uint32_t)i, tag);
		assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	}
	assert_int_equal(agentid_replica_write_group(w, "g1", 5101, g1, 2, &err), 0);
	assert_int_equal(agentid_replica_write_group(w, "g2", 5102, g2, 1, &err), 0);
	assert_int_equal(agentid_replica_write_group(w, "g3", 5103, g3, 1, &err), 0);
	assert_int_equal(agentid_replica_commit(w, &err), 0);
	out = agentid_replica_writer_generation(w);
	agentid_replica_writer_free(w);
	return out;
}

/* The delta of the tests for the base of generation bgen: a's shell
 * changed, b renamed b2, c deleted, e takes d's uid, g1 lists b2 instead
 * of b, g2 deleted. */
static void
write_ddelta(const char *path, uint64_t bgen)
{
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	struct agentid_replica_entry e;
	char *g1[] = { "a", "b2" };
	uint32_t gids[] = { 5101 };

	assert_int_equal(agentid_replica_writer_new_delta(path, &dmeta, bgen, &w,
	    &err), 0);
	e = ent("a", 5001, "/bin/zsh");
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	e = ent("b2", 5002, "/bin/sh");
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	assert_int_equal(agentid_replica_write_tombstone(w, false, "b", &err), 0);
	assert_int_equal(agentid_replica_write_tombstone(w, false, "c", &err), 0);
	/* a live entry of a tombstoned name in the same delta: refused */
	e = ent("c", 5090, "/bin/sh");
	assert_int_equal(agentid_replica_write_user(w, &e, &err), EEXIST);
	e = ent("e", 5004, "/bin/sh");
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	assert_int_equal(agentid_replica_write_group(w, "g1", 5101, g1, 2, &err), 0);
	assert_int_equal(agentid_replica_write_tombstone(w, true, "g2", &err), 0);
	assert_int_equal(agentid_replica_write_members(w, "b2", gids, 1, &err), 0);
	assert_int_equal(agentid_replica_write_members(w, "b", NULL, 0, &err), 0);
	assert_int_equal(agentid_replica_write_members(w, "c", NULL, 0, &err), 0);
	/* a base writer takes no tombstone */
	assert_int_equal(agentid_replica_commit(w, &err), 0);
	agentid_replica_writer_free(w);
}

/* A delta for the base of generation bgen that changes a's shell only. */
static void
write_small_delta(const char *path, uint64_t bgen, const char *shell)
{
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	struct agentid_replica_entry e;

	assert_int_equal(agentid_replica_writer_new_delta(path, &dmeta, bgen, &w,
	    &err), 0);
	e = ent("a", 5001, shell);
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	assert_int_equal(agentid_replica_commit(w, &err), 0);
	agentid_replica_writer_free(w);
}

/* getpwnam's shell of name ("" when not found, "!" when unavailable). */
static const char *
dshell(const char *name)
{
	static char buf[4096];
	struct passwd pw;
	enum nss_status st;
	int err;

	st = m.getpwnam_r(name, &pw, buf, sizeof(buf), &err);
	if (st == NSS_STATUS_UNAVAIL)
		return "!";
	return st == NSS_STATUS_SUCCESS ? pw.pw_shell : "";
}

/* The name getpwuid gives uid ("" when not found). */
static const char *
dname(uid_t uid)
{
	static char buf[4096];
	struct passwd pw;
	int err;

	if (m.getpwuid_r(uid, &pw, buf, sizeof(buf), &err) != NSS_STATUS_SUCCESS)
		return "";
	return pw.pw_name;
}

/* Every name getpwent gives, space-separated, in order. */
static const char *
enum_users(void)
{
	static char names[512];
	char buf[4096];
	struct passwd pw;
	int err;

	names[0] = '\0';
	m.setpwent();
	while (m.getpwent_r(&pw, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS) {
		strcat(names, pw.pw_name);
		strcat(names, " ");
	}
	m.endpwent();
	return names;
}

/* Every group getgrent gives. */
static const char *
enum_groups(void)
{
	static char names[512];
	char buf[4096];
	struct group gr;
	int err;

	names[0] = '\0';
	m.setgrent();
	while (m.getgrent_r(&gr, buf, sizeof(buf), &err) == NSS_STATUS_SUCCESS) {
		strcat(names, gr.gr_name);
		strcat(names, " ");
	}
	m.endgrent();
	return names;
}

/* initgroups' gids for user after its primary one, or -1 (NOTFOUND). */
static long
dgroups(const char *user, gid_t *first)
{
	long int start = 0, size = 0;
	gid_t *groups = NULL;
	int err;
	enum nss_status st;

	st = m.initgroups_dyn(user, 1, &start, &size, &groups, -1, &err);
	if (start > 0)
		*first = groups[0];
	free(groups);
	return st == NSS_STATUS_SUCCESS ? start : -1;
}

/* Lookups through base + delta: the delta first, a base entry hidden when
 * the delta has its name or its id, each entry once in enumeration. */
static void
test_delta_lookups(void **state)
{
	const char *p = tmp_path("d1.cdb");
	char dp[400], buf[4096];
	struct agentid_replica *r = NULL;
	struct group gr;
	uint64_t g;
	gid_t first = 0;
	int err, fds[2];

	(void)state;
	snprintf(dp, sizeof(dp), "%s.delta", p);
	g = write_dbase(p, 0, "/bin/bash");
	use_replica(p);
	assert_string_equal(dshell("b"), "/bin/bash");
	write_ddelta(p, g);
	/* the module mapped the base alone; a delta that appears where there
	 * was none is seen at the next check of the paths */
	recheck_wait();
	assert_string_equal(dshell("a"), "/bin/zsh");
	/* the module keeps a descriptor on the base, none on the delta (read
	 * into memory) */
	assert_int_equal(fds_on(p, fds, 2), 1);
	assert_int_equal(fds_on(dp, fds, 2), 0);
	assert_string_equal(dshell("b"), "");       /* renamed */
	assert_string_equal(dshell("b2"), "/bin/sh");
	assert_string_equal(dname(5002), "b2");
	assert_string_equal(dshell("c"), "");       /* deleted */
	assert_string_equal(dname(5003), "");
	/* e took d's uid: d (still in the base) is not served */
	assert_string_equal(dname(5004), "e");
	assert_string_equal(dshell("d"), "");
	assert_string_equal(dshell("f"), "/bin/bash");
	assert_string_equal(dname(5005), "f");
	assert_string_equal(enum_users(), "a b2 e f ");
	assert_string_equal(enum_groups(), "g1 g3 ");
	assert_int_equal(m.getgrnam_r("g2", &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getgrgid_r(5102, &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_NOTFOUND);
	assert_int_equal(m.getgrgid_r(5101, &gr, buf, sizeof(buf), &err),
	    NSS_STATUS_SUCCESS);
	assert_string_equal(gr.gr_mem[1], "b2");
	assert_int_equal(dgroups("b2", &first), 1);
	assert_int_equal(first, 5101);
	assert_int_equal(dgroups("b", &first), -1);  /* not a user any more */
	assert_int_equal(dgroups("c", &first), -1);
	assert_int_equal(dgroups("f", &first), 1);   /* the base's list */
	assert_int_equal(first, 5103);
	/* the library's view: the delta's generation, both files verify */
	assert_int_equal(agentid_replica_open(p, &r), 0);
	assert_true(agentid_replica_info(r)->has_delta);
	assert_true(agentid_replica_info(r)->generation > g);
	assert_int_equal(agentid_replica_info(r)->base_generation, g);
	assert_int_equal(agentid_replica_info(r)->tombstones, 3);
	assert_int_equal(agentid_replica_verify(r), 0);
	agentid_replica_close(r);
	/* a delta renamed over the last one (as agentidd writes each): the
	 * module read the last one into memory, and sees the new one at the
	 * next check of the paths */
	write_small_delta(p, g, "/bin/dash");
	recheck_wait();
	assert_string_equal(dshell("a"), "/bin/dash");
	assert_string_equal(dshell("b"), "/bin/bash"); /* no tombstone now */
	/* a new base retires the delta: it is removed */
	write_dbase(p, 0, "/bin/ksh");
	assert_int_equal(access(dp, F_OK), -1);
	assert_string_equal(dshell("b"), "/bin/ksh");
	assert_string_equal(dshell("b2"), "");
	assert_string_equal(enum_users(), "a b c d f ");
}

/* Pairing by generation: a delta for an older base is ignored; one for a
 * newer base is refused until that base is there, then served. */
static void
test_delta_generations(void **state)
{
	const char *p = tmp_path("d2.cdb");
	char dp[400], saved_delta[400], saved_base[400], cmd[1300];
	uint64_t g;

	(void)state;
	snprintf(dp, sizeof(dp), "%s.delta", p);
	snprintf(saved_delta, sizeof(saved_delta), "%s.saved-delta", p);
	snprintf(saved_base, sizeof(saved_base), "%s.saved-base", p);
	g = write_dbase(p, 0, "/bin/bash");
	write_ddelta(p, g);
	use_replica(p);
	assert_string_equal(dshell("b2"), "/bin/sh");
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", dp, saved_delta);
	assert_int_equal(system(cmd), 0);
	/* a newer base (agentid sync's), then the old delta put back: it
	 * belongs to an older base and is ignored */
	write_dbase(p, 0, "/bin/ksh");
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", saved_delta, dp);
	assert_int_equal(system(cmd), 0);
	assert_string_equal(dshell("b2"), "");
	assert_string_equal(dshell("b"), "/bin/ksh");
	assert_string_equal(enum_users(), "a b c d f ");

	/* base 100 served; a delta for base 200 appears: not served (the base
	 * it belongs to is not there: UNAVAIL, not a mix); base 200 arrives:
	 * the pair is served */
	unlink(dp);
	write_dbase(p, 200, "/bin/bash");
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s'", p, saved_base);
	assert_int_equal(system(cmd), 0);
	write_dbase(p, 100, "/bin/dash");
	assert_string_equal(dshell("a"), "/bin/dash");
	write_ddelta(p, 200);
	recheck_wait(); /* a delta where there was none */
	assert_string_equal(dshell("a"), "!");
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s.new' && mv '%s.new' '%s'",
	    saved_base, p, p, p);
	assert_int_equal(system(cmd), 0);
	assert_string_equal(dshell("a"), "/bin/zsh");
	assert_string_equal(dshell("b2"), "/bin/sh");
	assert_string_equal(dshell("f"), "/bin/bash");
	unlink(saved_base);
	unlink(saved_delta);
}

/* A delta that is corrupt, untrusted or cut refuses the whole replica
 * (UNAVAIL): the base alone would bring back what the delta removed. */
static void
test_delta_refused(void **state)
{
	const char *p = tmp_path("d3.cdb");
	char dp[400], target[420];
	unsigned char *img;
	size_t len, at;
	uint64_t g;
	FILE *f;
	long n;

	(void)state;
	snprintf(dp, sizeof(dp), "%s.delta", p);
	g = write_dbase(p, 0, "/bin/bash");
	write_ddelta(p, g);
	use_replica(p);
	assert_string_equal(dshell("a"), "/bin/zsh");
	assert_non_null(f = fopen(dp, "rb"));
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	len = (size_t)n;
	assert_non_null(img = malloc(len));
	assert_int_equal(fread(img, 1, len, f), len);
	fclose(f);
	/* a flipped byte in the header or in a record: never the base alone */
	for (at = AGENTID_REPLICA_HEADER_VAL; at < len; at += 7) {
		const char *s;

		img[at] ^= 0x04;
		write_file(dp, img, len);
		img[at] ^= 0x04;
		s = dshell("b");
		assert_true(strcmp(s, "") == 0 || strcmp(s, "!") == 0);
		s = dshell("a");
		assert_true(strcmp(s, "/bin/zsh") == 0 || strcmp(s, "!") == 0 ||
		    strcmp(s, "") == 0);
	}
	/* the delta (small) is read into memory: what happens to the file is
	 * seen at the next check of the paths (recheck_wait); while the module
	 * serves no replica it opens again at each lookup */
	write_file(dp, img, len);
	recheck_wait();
	assert_string_equal(dshell("a"), "/bin/zsh");
	/* owner, mode, symbolic link */
	assert_int_equal(chmod(dp, 0666), 0);
	recheck_wait();
	assert_string_equal(dshell("a"), "!");
	assert_int_equal(chmod(dp, 0644), 0);
	assert_string_equal(dshell("a"), "/bin/zsh");
	assert_int_equal(chown(dp, 12345, 0), 0);
	recheck_wait();
	assert_string_equal(dshell("a"), "!");
	assert_int_equal(chown(dp, 0, 0), 0);
	assert_string_equal(dshell("a"), "/bin/zsh");
	snprintf(target, sizeof(target), "%s.target", dp);
	assert_int_equal(rename(dp, target), 0);
	assert_int_equal(symlink(target, dp), 0);
	recheck_wait(); /* the delta mapped was moved, not changed */
	assert_string_equal(dshell("a"), "!");
	unlink(dp);
	/* no delta at all: the base */
	assert_string_equal(dshell("a"), "/bin/bash");
	assert_int_equal(rename(target, dp), 0);
	recheck_wait(); /* a delta where there was none */
	assert_string_equal(dshell("a"), "/bin/zsh");
	/* the delta cut in place: the copy is served until the paths are
	 * checked (no mapping to fault on), then nothing */
	assert_int_equal(truncate(dp, (off_t)len / 2), 0);
	recheck_wait();
	assert_string_equal(dshell("a"), "!");
	rewrite_in_place(dp, img, len);
	assert_string_equal(dshell("a"), "/bin/zsh");
	/* a delta where the base belongs, a base where the delta belongs */
	write_file(p, img, len);
	assert_string_equal(dshell("a"), "!");
	free(img);
}

/* A delta too big to be read into memory is mapped, and checked before
 * each lookup as the base is: cut in place, or replaced, it is seen at
 * once (no SIGBUS), whatever the interval of the path checks. */
static void
test_delta_mapped(void **state)
{
	const char *p = tmp_path("d4.cdb");
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	struct agentid_replica_entry e;
	char dp[400], name[32], gecos[1001], cmd[1000];
	struct stat st;
	uint64_t g;
	uint32_t i;
	int fds[2];

	(void)state;
	snprintf(dp, sizeof(dp), "%s.delta", p);
	g = write_dbase(p, 0, "/bin/bash");
	assert_int_equal(agentid_replica_writer_new_delta(p, &dmeta, g, &w,
	    &err), 0);
	e = ent("a", 5001, "/bin/zsh");
	assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	memset(gecos, 'x', sizeof(gecos) - 1);
	gecos[sizeof(gecos) - 1] = '\0';
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "filler-%03u", i);
		e = ent(name, 6000 + i, "/bin/sh");
		e.gecos = gecos;
		assert_int_equal(agentid_replica_write_user(w, &e, &err), 0);
	}
	assert_int_equal(agentid_replica_commit(w, &err), 0);
	agentid_replica_writer_free(w);
	assert_int_equal(stat(dp, &st), 0);
	assert_true(st.st_size > (off_t)AGENTID_REPLICA_DELTA_COPY_MAX);
	use_replica(p);
	assert_string_equal(dshell("a"), "/bin/zsh");
	assert_string_equal(dshell("filler-299"), "/bin/sh");
	assert_int_equal(fds_on(dp, fds, 2), 1); /* mapped, not read */
	/* cut in place under the mapping: no SIGBUS, at once */
	snprintf(cmd, sizeof(cmd), "cp -p '%s' '%s.saved'", dp, dp);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(truncate(dp, st.st_size / 2), 0);
	assert_string_equal(dshell("filler-299"), "!");
	assert_string_equal(dshell("a"), "!");
	snprintf(cmd, sizeof(cmd), "cp '%s.saved' '%s'", dp, dp);
	assert_int_equal(system(cmd), 0);
	assert_string_equal(dshell("filler-299"), "/bin/sh");
	/* a small delta renamed over the mapped one: seen at once (the mapped
	 * one lost its link) */
	write_small_delta(p, g, "/bin/dash");
	assert_string_equal(dshell("a"), "/bin/dash");
	assert_string_equal(dshell("filler-299"), "");
	snprintf(cmd, sizeof(cmd), "%s.saved", dp);
	unlink(cmd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_passwd_every_buffer_size),
		cmocka_unit_test(test_group_every_buffer_size),
		cmocka_unit_test(test_nologin),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_enumeration),
		cmocka_unit_test(test_initgroups),
		cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_closed_descriptors),
		cmocka_unit_test(test_missing_and_corrupt),
		cmocka_unit_test(test_random_corruption),
		cmocka_unit_test(test_verify),
		cmocka_unit_test(test_writer_refusals),
		cmocka_unit_test(test_fork),
		cmocka_unit_test(test_truncate_in_place_same_process),
		cmocka_unit_test(test_truncate_in_place_other_process),
		cmocka_unit_test(test_untrusted),
		cmocka_unit_test(test_delta_lookups),
		cmocka_unit_test(test_delta_generations),
		cmocka_unit_test(test_delta_refused),
		cmocka_unit_test(test_delta_mapped),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "*** SKIP: the module serves only replicas owned by "
		    "root or agentid: run as root ***\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, teardown);
}
