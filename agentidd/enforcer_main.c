/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enforcer_main.c - agentid-enforcer (libexecdir): the session enforcer as
 * a process of its own (docs/design-notes.md says why), started by
 * agentidd's unit as root with only CAP_KILL, CAP_DAC_READ_SEARCH (the
 * registry is root's) and the logind bus.
 *
 *   agentid-enforcer [--config PATH] [--once]
 *
 * Without --once it runs a pass at start, whenever the registry or the
 * replica's directory changes (inotify), when the deadline the last pass
 * returned has passed, and every heartbeat. --once runs one pass and
 * prints what it did on one line (tests, and the lead's end-to-end hook).
 * Exit 0, or 1 on a configuration or registry error.
 *
 * The source: source_open() below. agentidd's records replica while it is
 * fresh (agentidd confirmed contact within replica_max_age): no network.
 * On a host without the daemon (agentid sync only) it asks the directory
 * through the LDAP plugin, as PAM does; a source that cannot answer never
 * ends a session.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "chain.h"
#include "dir_source.h"
#include "enforce.h"
#include "records.h"
#include "session_registry.h"

static volatile sig_atomic_t stop;

/* SIGTERM/SIGINT: finish the pass, then leave. */
static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* The decision source of one pass. */
struct source {
	struct agentid_records *rec;          /* the replica, when fresh */
	struct agentid_records_lookup_ctx ctx;
	struct agentid_dir dir;               /* else the directory */
	struct agentid_lookup lk;
};

/*
 * Opens the source for one pass, by common/decide.c's rule: the replica
 * while agentidd's contact is fresh, else the directory. Fails when neither
 * can answer: a lookup error never ends a session.
 */
static int
source_open(struct enforcer *e, const struct agentid_config *cfg,
    struct source *src, int64_t now, struct agentid_error *err)
{
	int r;

	memset(src, 0, sizeof(*src));
	if (cfg->source == AGENTID_PREFER_REPLICA &&
	    agentid_records_fresh(cfg->replica, now, cfg->replica_max_age) &&
	    agentid_records_open(cfg->replica, &src->rec) == 0) {
		src->ctx.r = src->rec;
		src->ctx.cfg = cfg;
		agentid_records_lookup(&src->ctx, &src->lk);
		enforcer_set_source(e, AGENTID_SOURCE_REPLICA);
		/* the enforcer keeps them (it compares the next pass's with
		 * them) and closes them */
		enforcer_set_records(e, cfg->replica, src->rec);
		src->rec = NULL;
		return 0;
	}
	enforcer_set_records(e, NULL, NULL);
	if ((r = agentid_dir_open(cfg, &src->dir, err)) != 0)
		return r;
	agentid_dir_lookup(&src->dir, &src->lk);
	enforcer_set_source(e, AGENTID_SOURCE_DIRECTORY);
	return 0;
}

/* Closes what source_open opened. */
static void
source_close(struct source *src)
{
	if (src->rec != NULL)
		agentid_records_close(src->rec);
	src->rec = NULL;
	agentid_dir_close(&src->dir);
}

/* A lookup whose every call fails with code: a pass that ends nothing. */
static int unavailable_code;
static int
lookup_unavailable_agent(void *ctx, const char *user,
    struct agentid_record *rec, bool *found, struct agentid_error *err)
{
	(void)ctx;
	(void)user;
	(void)rec;
	*found = false;
	return agentid_seterr(err, unavailable_code, "source unavailable");
}
static int
lookup_unavailable_entry(void *ctx, const char *dn,
    struct agentid_record *rec, bool *found, struct agentid_error *err)
{
	return lookup_unavailable_agent(ctx, dn, rec, found, err);
}

/* One pass; prints its summary when verbose. 0 or an errno. */
static int
one_pass(struct enforcer *e, const struct agentid_config *cfg, bool verbose,
    int64_t *next)
{
	struct agentid_error err = { "" };
	struct enforce_stats st;
	struct source src;
	int64_t now = (int64_t)time(NULL);
	int r;

	if ((r = source_open(e, cfg, &src, now, &err)) != 0) {
		/* still walk the registry: prune what is gone, end nothing */
		fprintf(stderr, "agentid-enforcer: source unavailable: %s\n",
		    err.msg);
		unavailable_code = r;
		src.lk.agent = lookup_unavailable_agent;
		src.lk.entry = lookup_unavailable_entry;
		src.lk.ctx = NULL;
	}
	r = enforce_pass(e, now, &src.lk, next, &st);
	source_close(&src);
	if (r == ENOENT)
		r = 0; /* no session was ever registered */
	if (r != 0)
		fprintf(stderr, "agentid-enforcer: registry %s: %s\n",
		    sessreg_dir(), strerror(r));
	if (verbose)
		printf("sessions=%zu unreadable=%zu pruned=%zu allowed=%zu "
		    "denied=%zu lookup_errors=%zu signalled=%zu "
		    "next_deadline=%" PRId64 "\n", st.sessions, st.unreadable,
		    st.pruned, st.allowed, st.denied, st.lookup_errors,
		    st.signalled, *next == INT64_MAX ? (int64_t)-1 : *next);
	else if (secure_getenv("AGENTID_ENFORCER_TRACE") != NULL)
		fprintf(stderr, "agentid-enforcer: pass full=%d sessions=%zu "
		    "decided=%zu denied=%zu pruned=%zu\n", st.full ? 1 : 0,
		    st.sessions, st.decided, st.denied, st.pruned);
	return r;
}

/* The directory holding path ("." when none), into buf. */
static void
dir_of(const char *path, char *buf, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		snprintf(buf, len, ".");
	else if (slash == path)
		snprintf(buf, len, "/");
	else
		snprintf(buf, len, "%.*s", (int)(slash - path), path);
}

/* Runs passes until SIGTERM; see the top of this file. */
static int
loop(struct enforcer *e, const struct agentid_config *cfg)
{
	char rdir[PATH_MAX], buf[4096];
	int64_t next = INT64_MAX, now_ms, wait_ms;
	struct timespec ts;
	struct pollfd pfd;
	int fd, r;

	if ((fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) < 0) {
		perror("agentid-enforcer: inotify");
		return 1;
	}
	dir_of(cfg->replica != NULL ? cfg->replica : AGENTID_DEFAULT_REPLICA,
	    rdir, sizeof(rdir));
	/* either may be missing yet: the heartbeat covers that */
	(void)inotify_add_watch(fd, rdir, IN_CLOSE_WRITE | IN_MOVED_TO);
	(void)inotify_add_watch(fd, sessreg_dir(), IN_MOVED_TO | IN_DELETE);
	while (!stop) {
		(void)one_pass(e, cfg, false, &next);
		/* to the deadline's very second, not a whole second from a
		 * now rounded down: a deadline is when the decision changes,
		 * and up to a second late would be a second of a session
		 * that should be gone */
		clock_gettime(CLOCK_REALTIME, &ts);
		now_ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
		wait_ms = (cfg->heartbeat > 0 ? cfg->heartbeat : 5) * 1000;
		if (next != INT64_MAX && next < INT64_MAX / 1000 - 1 &&
		    next * 1000 - now_ms < wait_ms)
			wait_ms = next * 1000 > now_ms ?
			    next * 1000 - now_ms + 1 : 0;
		if (wait_ms > INT_MAX)
			wait_ms = INT_MAX;
		pfd.fd = fd;
		pfd.events = POLLIN;
		r = poll(&pfd, 1, (int)wait_ms);
		if (r > 0)
			while (read(fd, buf, sizeof(buf)) > 0)
				; /* drained: one pass covers every change */
	}
	close(fd);
	return 0;
}

/* Prints the usage and exits 2. */
static void
usage(void)
{
	fprintf(stderr, "usage: agentid-enforcer [--config PATH] [--once]\n");
	exit(2);
}

int
main(int argc, char **argv)
{
	const char *path = AGENTID_CONFIG_PATH;
	struct agentid_config *cfg = NULL;
	struct agentid_error err = { "" };
	struct enforcer *e = NULL;
	struct sigaction sa;
	bool once = false;
	int64_t next;
	int i, r = 1;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			path = argv[++i];
		else if (strcmp(argv[i], "--once") == 0)
			once = true;
		else
			usage();
	}
	/* nothing this process runs may gain privileges */
	(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (agentid_config_load(path, &cfg, &err) != 0) {
		fprintf(stderr, "agentid-enforcer: %s\n", err.msg);
		goto out;
	}
	if (enforcer_new(cfg, &e) != 0)
		goto out;
	enforcer_set_source(e, AGENTID_SOURCE_DIRECTORY);
	if (once)
		r = one_pass(e, cfg, true, &next) == 0 ? 0 : 1;
	else
		r = loop(e, cfg);
out:
	enforcer_free(e);
	agentid_config_free(cfg);
	return r;
}
