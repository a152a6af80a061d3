/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enforce.c - the session enforcer: one pass over the session registry
 * (common/session_registry.h) deciding every open agent session again, the
 * way pam_agent decided it at session open, and ending those the data now
 * denies.
 *
 * Finding a session's processes: by the kernel audit session id
 * (/proc/PID/sessionid), which pam_loginuid set for the session and which
 * every descendant inherits whatever it does (setsid, double fork, a new
 * process group); never by process group or POSIX session, which any agent
 * leaves with one setsid(). logind's TerminateSession is asked first when
 * the session has a logind id (it ends the session's cgroup); processes of
 * the audit session still there after enforce_grace get SIGKILL either way.
 *
 * Only a decision made from data ends a session: a lookup that fails (the
 * directory or the replica unavailable) ends nothing, whatever it lasts.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "chain.h"
#include "enforce.h"
#include "session_registry.h"

#define SWEEP_ROUNDS 200          /* SIGKILL sweeps after the grace */
#define POLL_MS 20

struct enforcer {
	const struct agentid_config *cfg;
	enum agentid_source source; /* what the caller's lookup reads */
	char **reported;          /* enforce no: session ids already audited */
	size_t n_reported;
	char host[256];
};

/* One session read in this pass, and what the pass decided for it. */
struct item {
	struct sessreg_session s;
	bool end;                 /* denied from data: end it */
	struct agentid_chain chain;
	struct agentid_decision d;
	const char *action;
	uint64_t signalled;
};

/* See enforce.h. */
int
enforcer_new(const struct agentid_config *cfg, struct enforcer **out)
{
	struct enforcer *e;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return ENOMEM;
	e->cfg = cfg;
	e->source = AGENTID_SOURCE_REPLICA;
	*out = e;
	return 0;
}

/* See enforce.h. */
void
enforcer_set_source(struct enforcer *e, enum agentid_source source)
{
	e->source = source;
}

/* See enforce.h. */
void
enforcer_free(struct enforcer *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n_reported; i++)
		free(e->reported[i]);
	free(e->reported);
	free(e);
}

/* Sleeps ms milliseconds. */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Sends sig to every live process (not a zombie, not this one) whose kernel
 * audit session is ses; with sig 0 only counts them. Returns how many.
 * Never called with the unset id, which every process without a login
 * shares.
 */
static uint64_t
audit_session_signal(uint32_t ses, int sig)
{
	struct dirent *de;
	uint64_t n = 0, start;
	uint32_t have;
	pid_t self = getpid();
	char state;
	DIR *d;
	long pid;
	char *end;

	if (ses == SESSREG_AUDIT_UNSET || (d = opendir("/proc")) == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		errno = 0;
		pid = strtol(de->d_name, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 1 || pid == self)
			continue;
		if (sessreg_proc_sessionid((pid_t)pid, &have) != 0 || have != ses)
			continue;
		if (sessreg_proc_stat((pid_t)pid, &state, &start) != 0 ||
		    state == 'Z' || state == 'X')
			continue;
		if (sig == 0 || kill((pid_t)pid, sig) == 0)
			n++;
	}
	closedir(d);
	return n;
}

/* The session's processes: its audit session, or (none) its leader. */
static uint64_t
session_signal(const struct sessreg_session *s, int sig)
{
	if (s->has_audit_session)
		return audit_session_signal(s->audit_session, sig);
	if (!sessreg_leader_alive(s) || s->pid == getpid())
		return 0;
	return sig == 0 || kill(s->pid, sig) == 0 ? 1 : 0;
}

/* Is the session gone: leader exited and no process left in its audit
 * session, or registered in another boot? */
static bool
session_gone(const struct sessreg_session *s, const char *boot)
{
	if (boot[0] != '\0' && strcmp(s->boot_id, boot) != 0)
		return true;
	if (sessreg_leader_alive(s))
		return false;
	return !s->has_audit_session ||
	    audit_session_signal(s->audit_session, 0) == 0;
}

/* The request the session was opened with, at now. */
static void
session_request(const struct enforcer *e, const struct item *it, int64_t now,
    struct agentid_credential *cred, char *principals[2],
    struct agentid_request *req)
{
	const struct sessreg_session *s = &it->s;

	memset(req, 0, sizeof(*req));
	req->user = s->user;
	req->service = s->service;
	req->host = e->host;
	req->rhost = s->rhost[0] != '\0' ? s->rhost : NULL;
	req->now = now;
	req->creds_known = true;
	/* it was an agent when it opened: gone from the data is "deleted" */
	req->known_agent = true;
	if (!s->has_cert)
		return;
	memset(cred, 0, sizeof(*cred));
	principals[0] = s->n_principals > 0 ? (char *)s->principals[0] : NULL;
	principals[1] = NULL;
	cred->kind = AGENTID_CRED_CERT;
	cred->ca_fp = s->ca_fp;
	cred->key_fp = s->key_fp;
	cred->principals = principals;
	/* enforce_cert_expiry no: the certificate's end does not end it */
	cred->has_validity = e->cfg->enforce_cert_expiry;
	cred->valid_after = s->valid_after;
	cred->valid_before = s->valid_before;
	req->creds = cred;
	req->n_creds = 1;
}

/* Lowers *dl to t. */
static void
deadline(int64_t *dl, int64_t t)
{
	if (t < *dl)
		*dl = t;
}

/* The earliest time at which the allowed session's decision changes
 * without the data changing. */
static void
session_deadline(const struct enforcer *e, const struct item *it, int64_t *dl)
{
	int64_t skew = e->cfg->clock_skew;

	/* the engine says expired once now - skew > not_after */
	if (it->d.has_window && it->d.not_after < INT64_MAX - skew - 1)
		deadline(dl, it->d.not_after + skew + 1);
	/* and cert_expired once now - skew >= valid_before */
	if (e->cfg->enforce_cert_expiry && it->s.has_cert &&
	    it->s.valid_before < (uint64_t)(INT64_MAX - skew))
		deadline(dl, (int64_t)it->s.valid_before + skew);
}

/* Was this session's dry-run end audited already (enforce no)? Marks it. */
static bool
reported(struct enforcer *e, const char *id)
{
	char **v;
	size_t i;

	for (i = 0; i < e->n_reported; i++)
		if (strcmp(e->reported[i], id) == 0)
			return true;
	if ((v = realloc(e->reported, (e->n_reported + 1) * sizeof(*v))) == NULL)
		return false; /* audited again next pass: better than never */
	e->reported = v;
	if ((v[e->n_reported] = strdup(id)) != NULL)
		e->n_reported++;
	return false;
}

/* Writes the session_terminate record of it. */
static void
audit_end(const struct enforcer *e, const struct item *it, int64_t now)
{
	const struct sessreg_session *s = &it->s;
	struct agentid_audit_event ev;
	struct agentid_request req;
	struct agentid_error err = { "" };
	int r;

	memset(&req, 0, sizeof(req));
	req.user = s->user;
	req.service = s->service;
	req.host = e->host;
	req.rhost = s->rhost[0] != '\0' ? s->rhost : NULL;
	req.now = now;
	agentid_audit_event_init(&ev, "session_terminate", &req, &it->chain,
	    &it->d);
	ev.tty = s->tty[0] != '\0' ? s->tty : NULL;
	ev.pid = s->pid; /* the session's leader, as session_open wrote it */
	ev.session = s->id;
	ev.boot_id = s->boot_id;
	ev.has_audit_session = s->has_audit_session;
	ev.audit_session = s->audit_session;
	ev.login_session = s->login_session[0] != '\0' ? s->login_session : NULL;
	ev.has_cert_valid_before = s->has_cert &&
	    s->valid_before <= (uint64_t)INT64_MAX;
	ev.cert_valid_before = (int64_t)s->valid_before;
	ev.duration = now > s->start ? now - s->start : 0;
	if (it->d.culprit < it->chain.n)
		ev.culprit = it->chain.rec[it->d.culprit].dn;
	ev.action = it->action;
	ev.has_signalled = true;
	ev.signalled = it->signalled;
	if ((r = agentid_audit_append(e->cfg, &ev, &err)) != 0)
		fprintf(stderr, "agentid-enforcer: audit trail not written: %s; "
		    "event=session_terminate session=%s\n",
		    err.msg[0] != '\0' ? err.msg : strerror(r), s->id);
}

/* Starts ending it: logind, else SIGTERM. */
static void
end_start(const struct enforcer *e, struct item *it)
{
	struct agentid_error err = { "" };
	int r;

	(void)e;
	if (it->s.login_session[0] != '\0') {
		if ((r = logind_terminate(it->s.login_session, &err)) == 0) {
			it->action = "logind";
			/* logind signals the scope; these are what it ends */
			it->signalled = session_signal(&it->s, 0);
			return;
		}
		fprintf(stderr, "agentid-enforcer: %s; ending session %s by "
		    "signals\n", err.msg, it->s.id);
	}
	it->action = "signal";
	it->signalled = session_signal(&it->s, SIGTERM);
}

/* Waits up to the grace for the ended sessions' processes to exit, then
 * sends SIGKILL to the rest until none is left (bounded). */
static void
end_finish(const struct enforcer *e, struct item *items, size_t n)
{
	int64_t waited = 0, grace = e->cfg->enforce_grace * 1000;
	uint64_t left;
	size_t i;
	int round;

	for (;;) {
		left = 0;
		for (i = 0; i < n; i++)
			if (items[i].end && items[i].action != NULL)
				left += session_signal(&items[i].s, 0);
		if (left == 0 || waited >= grace)
			break;
		sleep_ms(POLL_MS);
		waited += POLL_MS;
	}
	/* a process forking while we sweep may leave a child: sweep again */
	for (round = 0; left > 0 && round < SWEEP_ROUNDS; round++) {
		left = 0;
		for (i = 0; i < n; i++)
			if (items[i].end && items[i].action != NULL)
				left += session_signal(&items[i].s, SIGKILL);
		if (left > 0)
			sleep_ms(5);
	}
}

struct collect {
	struct item *items;
	size_t n, cap;
	size_t unreadable;
};

/* sessreg_each callback: keeps a copy of each readable session. */
static int
collect_cb(const char *name, const struct sessreg_session *s, int code,
    void *arg)
{
	struct collect *c = arg;
	struct item *v;

	if (s == NULL) {
		c->unreadable++;
		fprintf(stderr, "agentid-enforcer: registry entry %s unreadable: "
		    "%s\n", name, strerror(code));
		return 0;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 16 : c->cap * 2;

		if ((v = realloc(c->items, cap * sizeof(*v))) == NULL)
			return ENOMEM;
		c->items = v;
		c->cap = cap;
	}
	memset(&c->items[c->n], 0, sizeof(c->items[0]));
	c->items[c->n++].s = *s;
	return 0;
}

/* See enforce.h. */
int
enforce_pass(struct enforcer *e, int64_t now, const struct agentid_lookup *lk,
    int64_t *next_deadline, struct enforce_stats *st)
{
	const struct agentid_config *cfg = e->cfg;
	const char *dir = sessreg_dir();
	struct collect c = { NULL, 0, 0, 0 };
	struct agentid_credential cred;
	struct agentid_request req;
	struct agentid_policy pol;
	struct agentid_error err;
	char boot[37] = "", *principals[2];
	bool ending = false;
	size_t i;
	int r;

	memset(st, 0, sizeof(*st));
	*next_deadline = INT64_MAX;
	if (e->host[0] == '\0' &&
	    (r = agentid_host_name(cfg, e->host, sizeof(e->host))) != 0)
		return r;
	if (sessreg_boot_id(boot, sizeof(boot)) != 0)
		boot[0] = '\0';
	if ((r = sessreg_each(dir, collect_cb, &c)) != 0)
		goto out;
	st->sessions = c.n;
	st->unreadable = c.unreadable;
	agentid_policy_from_config(&pol, cfg);
	for (i = 0; i < c.n; i++) {
		struct item *it = &c.items[i];

		if (session_gone(&it->s, boot)) {
			(void)sessreg_remove(dir, it->s.id);
			st->pruned++;
			continue;
		}
		err.msg[0] = '\0';
		if ((r = agentid_chain_build(lk, cfg->max_delegation_depth,
		    it->s.user, &it->chain, &err)) != 0) {
			/* no data, no decision: the session goes on */
			st->lookup_errors++;
			fprintf(stderr, "agentid-enforcer: cannot decide session "
			    "%s again: %s\n", it->s.id,
			    err.msg[0] != '\0' ? err.msg : strerror(r));
			deadline(next_deadline, now + (cfg->heartbeat > 0 ?
			    cfg->heartbeat : 5));
			continue;
		}
		session_request(e, it, now, &cred, principals, &req);
		agentid_decide(&it->chain, &req, &pol, &it->d);
		it->d.source = e->source;
		if (it->d.allow) {
			st->allowed++;
			session_deadline(e, it, next_deadline);
			continue;
		}
		st->denied++;
		it->end = true;
		if (!cfg->enforce) {
			/* enforce no: say once what would have been done */
			if (!reported(e, it->s.id)) {
				it->action = "none";
				it->signalled = session_signal(&it->s, 0);
				audit_end(e, it, now);
			}
			it->end = false;
			continue;
		}
		end_start(e, it);
		st->signalled += it->signalled;
		/* audited as the signals go out, not a grace later: the
		 * record dates the decision, and a trail read at once
		 * already says why the session is going */
		audit_end(e, it, now);
		ending = true;
	}
	if (ending)
		end_finish(e, c.items, c.n);
	for (i = 0; i < c.n; i++)
		if (c.items[i].end)
			(void)sessreg_remove(dir, c.items[i].s.id);
	r = 0;
out:
	for (i = 0; i < c.n; i++)
		agentid_chain_clear(&c.items[i].chain);
	free(c.items);
	return r;
}
