/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentidd.c - the host daemon: keeps the records replica and the NSS
 * replica in step with the directory over one RFC 4533 refreshAndPersist
 * search, confirms contact every `heartbeat`, reconnects with backoff
 * (failover over `uri` is agentid_ldap_open's), and drops to the `agentid`
 * user once what needs root is done.
 *
 *   agentidd [--config PATH] [--foreground] [--user NAME]
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "agentidd.h"
#include "ldap_internal.h"
#include "records.h"

#define COALESCE_MS 50     /* changes arriving this close are one batch */
/* Between reconnects: 250 ms doubling to 1 s, each wait drawn from its upper
 * half. A change made while the directory was away must reach the host
 * within a second of its return (issue 15); a refused connect costs the
 * server nothing, and the jitter spreads a fleet's reconnects over the
 * second after a restart instead of one instant. */
#define BACKOFF_MIN_MS 250
#define BACKOFF_MAX_MS 1000
/* A refused bind (EACCES: wrong password, no access) is not an outage:
 * retried every second by a fleet it would trip the directory's password
 * lockout; 5 s doubling to a minute, as before. */
#define BACKOFF_AUTH_MIN_MS 5000
#define BACKOFF_AUTH_MAX_MS 60000

static volatile sig_atomic_t stop_requested;

static void
on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleeps ms milliseconds unless a signal asks us to stop. */
static void
nap_ms(int64_t ms)
{
	int64_t end = now_ms() + ms;

	while (!stop_requested && now_ms() < end) {
		int64_t left = end - now_ms();
		struct timespec ts = { 0, (left > 100 ? 100 : left) * 1000000L };

		nanosleep(&ts, NULL);
	}
}

static void
nap(int secs)
{
	nap_ms((int64_t)secs * 1000);
}

/* Base-scope read of the root DSE: does the connection answer? */
static int
heartbeat(LDAP *ld, const struct agentid_config *cfg)
{
	struct timeval tv = { cfg->timeout > 0 ? cfg->timeout : 3, 0 };
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL;
	int rc;

	rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
	    0, NULL, NULL, &tv, 1, &res);
	if (res != NULL)
		ldap_msgfree(res);
	return rc == LDAP_SUCCESS ? 0 : EHOSTDOWN;
}

/* The contact file: agentidd has confirmed the directory answers. */
static void
contact(const char *replica, const struct store *st, const char *uri)
{
	struct agentid_contact c;
	struct agentid_error err = { "" };

	memset(&c, 0, sizeof(c));
	snprintf(c.uri, sizeof(c.uri), "%s", uri != NULL ? uri : "");
	c.generation = st->gen;
	c.entries = st->n_live;
	c.changes = st->changes;
	c.last_change = st->last_change;
	if (agentid_records_contact_write(replica, &c, &err) != 0)
		agentidd_log(LOG_ERR, "%s", err.msg);
}

struct daemon {
	struct agentid_config *cfg;
	const char *replica;
	struct store st;
	struct berval cookie;     /* of the last batch written */
	bool ready;
	int backoff;              /* ms before the next reconnect */
	unsigned failures;        /* in a row: the log says the first ones */
	uint64_t received_total; /* sync messages about entries, all runs */
};

/* This process's CPU time (user + system), ms: the log says what a write
 * cost apart from the time it waited for the CPU on a busy machine. */
static int64_t
cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) != 0)
		return 0;
	return ((int64_t)ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1000 +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1000;
}

/* Writes what the store holds, then the cookie that covers it. */
static int
flush(struct daemon *d, struct syncrepl *sr, const char *uri)
{
	struct agentid_error err = { "" };
	int64_t t0 = now_ms(), c0 = cpu_ms();
	int rc;

	if ((rc = syncrepl_eval(sr, &err)) != 0)
		goto fail;
	if (d->st.changed || d->st.force_base || d->st.base_gen == 0 ||
	    store_compact_done(&d->st)) {
		if ((rc = store_flush(&d->st, (int64_t)time(NULL), &err)) != 0)
			goto fail;
		d->st.last_change = (int64_t)time(NULL);
		agentidd_log(LOG_INFO, "replica generation %llu written: %zu "
		    "entries, %zu agents, in %lld ms (CPU %lld ms)",
		    (unsigned long long)d->st.gen, d->st.n_live, d->st.n_agents,
		    (long long)(now_ms() - t0), (long long)(cpu_ms() - c0));
	}
	/* a held-back mass delete keeps no cookie: the next run starts from
	 * nothing and confirms it or not */
	if (!sr->held_back && sr->cookie.bv_val != NULL &&
	    (d->cookie.bv_val == NULL || d->cookie.bv_len != sr->cookie.bv_len ||
	    memcmp(d->cookie.bv_val, sr->cookie.bv_val, sr->cookie.bv_len) != 0)) {
		if ((rc = cookie_save(d->replica, &sr->cookie)) != 0) {
			agentid_seterr(&err, rc, "saving the cookie: %s",
			    strerror(rc));
			goto fail;
		}
		ber_bvreplace(&d->cookie, &sr->cookie);
	}
	/* nor a contact: the replica still serves what the directory just
	 * deleted, so decisions must not take it as caught up (they go to
	 * the directory until the second refresh confirms or not) */
	if (!sr->held_back)
		contact(d->replica, &d->st, uri);
	return 0;
fail:
	agentidd_log(LOG_ERR, "%s", err.msg);
	return rc;
}

/* Whether to log this reconnect: the first failures, then one in 64 (about
 * a minute apart at the longest wait), so an outage does not fill the log. */
static bool
say_failure(const struct daemon *d)
{
	unsigned n = d->failures;

	return n < 64 ? (n & (n - 1)) == 0 : n % 64 == 0;
}

/* One connection: refresh, then persist until it fails or we stop. */
static void
session(struct daemon *d)
{
	struct agentid_error err = { "" };
	struct agentid_ldap *l = NULL;
	struct syncrepl sr;
	const char *uri;
	int64_t last_hb, first_change = 0, t_search;
	uint64_t seen = 0;
	bool started = false, auth_refused = false;
	int rc;

	memset(&sr, 0, sizeof(sr));
	if ((rc = agentid_ldap_open(d->cfg, &l, &err)) != 0) {
		if (say_failure(d))
			agentidd_log(LOG_ERR, "directory unreachable: %s%s",
			    err.msg, d->failures > 1 ? " (still)" : "");
		auth_refused = rc == EACCES;
		goto backoff;
	}
	uri = agentid_ldap_uri(l);
	if ((rc = syncrepl_start(&sr, &d->st, d->cfg, l->ld, &d->cookie,
	    &err)) != 0) {
		if (say_failure(d))
			agentidd_log(LOG_ERR, "%s: %s", uri, err.msg);
		goto backoff;
	}
	started = true;
	t_search = now_ms();
	agentidd_log(LOG_INFO, "%s: %s refresh started", uri,
	    sr.full ? "full" : "incremental");
	last_hb = now_ms();
	while (!stop_requested) {
		int64_t t = now_ms(), wait;

		wait = last_hb + d->cfg->heartbeat * 1000 - t;
		if (first_change != 0 && sr.refresh_done)
			wait = first_change + COALESCE_MS - t;
		if (wait < 0)
			wait = 0;
		if (wait > 1000)
			wait = 1000; /* see a signal within a second */
		if ((rc = syncrepl_read(&sr, (int)wait, &err)) != 0) {
			if (say_failure(d))
				agentidd_log(LOG_ERR, "%s: %s", uri, err.msg);
			goto backoff;
		}
		if (sr.refresh_required) {
			/* start again from nothing; deletes follow from what
			 * the new refresh does not present */
			ber_memfree(d->cookie.bv_val);
			d->cookie.bv_val = NULL;
			d->cookie.bv_len = 0;
			(void)cookie_save(d->replica, NULL);
			goto out;
		}
		if (sr.received != seen)
			d->received_total += sr.received - seen;
		if (sr.received != seen && first_change == 0)
			first_change = now_ms();
		seen = sr.received;
		t = now_ms();
		if (sr.refresh_done && (first_change != 0 || !d->ready) &&
		    (t - first_change >= COALESCE_MS || !d->ready)) {
			if (flush(d, &sr, uri) != 0)
				goto backoff;
			first_change = 0;
			last_hb = t;
			d->st.changes += sr.received;
			sr.received = 0;
			seen = 0;
			if (!d->ready) {
				agentidd_notify("READY=1");
				d->ready = true;
				agentidd_log(LOG_INFO, "%s: replica caught up "
				    "(%llu entries received; %lld ms since the "
				    "search, CPU %lld ms since start)", uri,
				    (unsigned long long)d->received_total,
				    (long long)(now_ms() - t_search),
				    (long long)cpu_ms());
			}
			if (sr.held_back) {
				ber_memfree(d->cookie.bv_val);
				d->cookie.bv_val = NULL;
				d->cookie.bv_len = 0;
				(void)cookie_save(d->replica, NULL);
				nap((int)d->cfg->heartbeat);
				goto out;
			}
		}
		/* a background compaction that ended is put in place between
		 * batches too (what changed meanwhile is visible already) */
		if (sr.refresh_done && d->ready && first_change == 0 &&
		    store_compact_done(&d->st) && flush(d, &sr, uri) != 0)
			goto backoff;
		if (sr.ended)
			goto backoff;
		if (now_ms() - last_hb >= d->cfg->heartbeat * 1000) {
			if (heartbeat(l->ld, d->cfg) != 0) {
				agentidd_log(LOG_ERR, "%s: heartbeat unanswered", uri);
				goto backoff;
			}
			last_hb = now_ms();
			/* a local account added since the NSS base may hold
			 * the name or id of a served agent: rewritten now, not
			 * at the directory's next change (glibc's initgroups
			 * asks this module for a local user too) */
			if (sr.refresh_done && d->ready &&
			    store_local_changed(&d->st)) {
				d->st.changed = true;
				if (flush(d, &sr, uri) != 0)
					goto backoff;
			}
			if (sr.refresh_done)
				contact(d->replica, &d->st, uri);
		}
		/* a connection that refreshed is a working one: a server
		 * that accepts and drops before that keeps the backoff */
		if (sr.refresh_done) {
			d->backoff = BACKOFF_MIN_MS;
			d->failures = 0;
		}
	}
	goto out;
backoff:
	if (started)
		syncrepl_free(&sr);
	started = false;
	agentid_ldap_close(l);
	l = NULL;
	{
		int64_t wait = d->backoff / 2 + random() % (d->backoff / 2 + 1);

		if (say_failure(d))
			agentidd_log(LOG_NOTICE, "reconnecting in %lld ms "
			    "(attempt %u)", (long long)wait, d->failures);
		nap_ms(wait);
	}
	d->failures++;
	if (auth_refused) {
		d->backoff = d->backoff < BACKOFF_AUTH_MIN_MS ? BACKOFF_AUTH_MIN_MS :
		    d->backoff * 2 > BACKOFF_AUTH_MAX_MS ? BACKOFF_AUTH_MAX_MS :
		    d->backoff * 2;
	} else {
		d->backoff = d->backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS :
		    d->backoff * 2;
	}
out:
	if (started)
		syncrepl_free(&sr);
	agentid_ldap_close(l);
}

static void
usage(FILE *f)
{
	fprintf(f, "usage: agentidd [--config PATH] [--foreground] "
	    "[--user NAME]\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct agentid_error err = { "" };
	struct sigaction sa;
	struct daemon d;
	const char *config = AGENTID_CONFIG_PATH, *user = "agentid";
	int c, rc = 1;

	memset(&d, 0, sizeof(d));
	while ((c = getopt_long(argc, argv, "c:fu:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c': config = optarg; break;
		case 'f': agentidd_foreground = true; break;
		case 'u': user = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!agentidd_foreground)
		openlog("agentidd", LOG_PID, LOG_DAEMON);
	if (agentid_config_load(config, &d.cfg, &err) != 0) {
		agentidd_log(LOG_ERR, "%s", err.msg);
		return 1;
	}
	if (d.cfg->n_uri == 0 || d.cfg->base == NULL) {
		agentidd_log(LOG_ERR, "%s: uri and base are required", config);
		goto out;
	}
	if (d.cfg->heartbeat <= 0)
		d.cfg->heartbeat = 5;
	d.replica = d.cfg->replica != NULL ? d.cfg->replica :
	    AGENTID_DEFAULT_REPLICA;
	if (agentidd_drop(user, d.cfg, d.replica, &err) != 0) {
		agentidd_log(LOG_ERR, "%s", err.msg);
		goto out;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL); /* reload: not yet; restart instead */
	if (store_init(&d.st, d.cfg, d.replica) != 0) {
		agentidd_log(LOG_ERR, "out of memory");
		goto out;
	}
	/* the records and the cookie go together: without records, the
	 * cookie would skip what they lack */
	if ((rc = store_load(&d.st)) == 0 &&
	    cookie_load(d.replica, &d.cookie) == 0)
		agentidd_log(LOG_INFO, "resuming: %zu entries, generation %llu",
		    d.st.n_live, (unsigned long long)d.st.gen);
	else if (rc != ENOENT && rc != 0)
		agentidd_log(LOG_WARNING, "records replica unreadable (%s): "
		    "full refresh", strerror(rc));
	rc = 1;
	d.backoff = BACKOFF_MIN_MS;
	srandom((unsigned)getpid() ^ (unsigned)now_ms());
	while (!stop_requested)
		session(&d);
	agentidd_notify("STOPPING=1");
	agentidd_log(LOG_INFO, "stopping");
	rc = 0;
out:
	agentidd_cleanup_secret();
	store_free(&d.st);
	ber_memfree(d.cookie.bv_val);
	agentid_config_free(d.cfg);
	return rc;
}
