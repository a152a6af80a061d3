/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_conn.c - connecting to the directory: each uri in order, TLS with a
 * per-connection context, bind (anonymous, simple, SASL EXTERNAL), every
 * step bounded by cfg->timeout; the next uri on any failure (failover).
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "ldap_internal.h"

/* errno-style code for an LDAP result or API code. */
int
aidl_errno(int rc)
{
	switch (rc) {
	case LDAP_SUCCESS:
		return 0;
	case LDAP_SERVER_DOWN:
	case LDAP_CONNECT_ERROR:
	case LDAP_UNAVAILABLE:
	case LDAP_BUSY:
	case LDAP_UNWILLING_TO_PERFORM:
	case LDAP_OTHER:
		return EHOSTDOWN;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return ETIMEDOUT;
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_AUTH_UNKNOWN:
		return EACCES;
	case LDAP_NO_MEMORY:
		return ENOMEM;
	case LDAP_NO_SUCH_OBJECT:
		return ENOENT;
	case LDAP_FILTER_ERROR:
	case LDAP_PARAM_ERROR:
	case LDAP_INVALID_DN_SYNTAX:
		return EINVAL;
	case LDAP_DECODING_ERROR:
	case LDAP_ENCODING_ERROR:
		return EBADMSG;
	default:
		return EIO;
	}
}

/* True when code means the directory could not be reached in time. */
bool
aidl_unreachable(int code)
{
	return code == EHOSTDOWN || code == ETIMEDOUT;
}

/*
 * What is left of the decision's time against this server: `timeout` bounds
 * connect, TLS, bind and every search together (a server that answers each
 * operation just under the timeout must not stretch a login to several
 * timeouts). Never zero: an exhausted budget gives 1 ms, so the next wait
 * fails at once.
 */
struct timeval
aidl_timeout(const struct agentid_ldap *l)
{
	struct timespec now;
	struct timeval tv;
	int64_t left_us;

	clock_gettime(CLOCK_MONOTONIC, &now);
	left_us = (int64_t)(l->deadline.tv_sec - now.tv_sec) * 1000000 +
	    (l->deadline.tv_nsec - now.tv_nsec) / 1000;
	if (left_us < 1000)
		left_us = 1000;
	tv.tv_sec = (time_t)(left_us / 1000000);
	tv.tv_usec = (suseconds_t)(left_us % 1000000);
	return tv;
}

/* Whole seconds left, rounded up (for socket timeouts and the watchdog). */
static int
secs_left(const struct agentid_ldap *l)
{
	struct timeval tv = aidl_timeout(l);

	return (int)tv.tv_sec + (tv.tv_usec > 0 ? 1 : 0);
}

/* Starts a new time budget of `timeout` seconds (a new server, a new page). */
void
aidl_deadline_restart(struct agentid_ldap *l)
{
	clock_gettime(CLOCK_MONOTONIC, &l->deadline);
	l->deadline.tv_sec += l->cfg->timeout > 0 ? l->cfg->timeout : 3;
}

/* Writes "what: LDAP error (diagnostic)" into err; returns the errno code. */
int
aidl_seterr(struct agentid_ldap *l, int rc, struct agentid_error *err,
    const char *what)
{
	char *diag = NULL;
	int code = aidl_errno(rc);

	if (code == 0)
		code = EIO;
	if (l != NULL && l->ld != NULL)
		ldap_get_option(l->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE, &diag);
	agentid_seterr(err, code, "%s: %s: %s%s%s%s", l && l->uri ? l->uri : "ldap",
	    what, ldap_err2string(rc), diag && *diag ? " (" : "",
	    diag && *diag ? diag : "", diag && *diag ? ")" : "");
	if (diag != NULL)
		ldap_memfree(diag);
	return code;
}

/* Blocks SIGPIPE in this thread, noting whether one was pending already. */
void
aidl_sigpipe_block(struct aidl_sigpipe *g)
{
	sigset_t pipe, pend;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	g->pending = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &pipe, &g->old);
}

/* Takes back a SIGPIPE our writes raised, then restores the mask. */
void
aidl_sigpipe_restore(const struct aidl_sigpipe *g)
{
	static const struct timespec zero = { 0, 0 };
	sigset_t pipe, pend;
	int saved = errno;

	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	if (!g->pending && sigpending(&pend) == 0 &&
	    sigismember(&pend, SIGPIPE) == 1)
		while (sigtimedwait(&pipe, NULL, &zero) < 0 && errno == EINTR)
			;
	pthread_sigmask(SIG_SETMASK, &g->old, NULL);
	errno = saved;
}

/* libldap's value for a tls_reqcert setting. */
static int
reqcert_value(enum agentid_reqcert rc)
{
	switch (rc) {
	case AGENTID_REQCERT_NEVER:
		return LDAP_OPT_X_TLS_NEVER;
	case AGENTID_REQCERT_ALLOW:
		return LDAP_OPT_X_TLS_ALLOW;
	case AGENTID_REQCERT_TRY:
		return LDAP_OPT_X_TLS_TRY;
	case AGENTID_REQCERT_HARD:
		return LDAP_OPT_X_TLS_HARD;
	case AGENTID_REQCERT_DEMAND:
	default:
		return LDAP_OPT_X_TLS_DEMAND;
	}
}

/*
 * Sets the TLS options on this handle only and creates its own TLS context
 * (LDAP_OPT_X_TLS_NEWCTX), so that libldap's global context, which the host
 * process (sshd, a PAM application) may use too, is never touched.
 */
static int
setup_tls(struct agentid_ldap *l, struct agentid_error *err)
{
	const struct agentid_config *cfg = l->cfg;
	int v, rc, zero = 0, min = LDAP_OPT_X_TLS_PROTOCOL_TLS1_2;

	v = reqcert_value(cfg->tls_reqcert);
	if ((rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &v)) != 0)
		return aidl_seterr(l, rc, err, "tls_reqcert");
	if ((rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_PROTOCOL_MIN, &min)) != 0)
		return aidl_seterr(l, rc, err, "TLS minimum protocol");
	if (cfg->tls_cacert != NULL &&
	    (rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_CACERTFILE,
	    cfg->tls_cacert)) != 0)
		return aidl_seterr(l, rc, err, "tls_cacert");
	if (cfg->tls_cert != NULL &&
	    (rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_CERTFILE,
	    cfg->tls_cert)) != 0)
		return aidl_seterr(l, rc, err, "tls_cert");
	if (cfg->tls_key != NULL &&
	    (rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_KEYFILE,
	    cfg->tls_key)) != 0)
		return aidl_seterr(l, rc, err, "tls_key");
	if ((rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS_NEWCTX, &zero)) != 0)
		return aidl_seterr(l, rc, err, "TLS context (check tls_cacert, "
		    "tls_cert and tls_key)");
	return 0;
}

/* SASL interaction: EXTERNAL needs no answer (the identity is the peer's). */
static int
sasl_no_interact(LDAP *ld, unsigned flags, void *defaults, void *in)
{
	(void)ld;
	(void)flags;
	(void)defaults;
	(void)in;
	return LDAP_SUCCESS;
}

/*
 * Bounds every later read and write on fd to secs seconds. libldap polls
 * with the timeout before reading a message but then reads the rest of it
 * blocking: a server that sends half a message and stalls would hold us
 * forever. A read that times out is EAGAIN, which libldap treats as "not
 * yet" and then gives up at the operation's timeout.
 */
static void
sock_timeouts(int fd, int secs)
{
	struct timeval tv;

	if (fd < 0)
		return;
	tv.tv_sec = secs;
	tv.tv_usec = 0;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

/* Connect callback: remembers the socket for the watchdog. */
static int
conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *ctx)
{
	struct agentid_ldap *l = ctx->lc_arg;
	ber_socket_t fd = -1;

	(void)ld;
	(void)srv;
	(void)addr;
	ber_sockbuf_ctrl(sb, LBER_SB_OPT_GET_FD, &fd);
	/* a TLS handshake must not see a timed-out read as "would block":
	 * libldap would skip its host name check; the watchdog bounds it */
	if (!l->tls)
		sock_timeouts(fd, secs_left(l));
	pthread_mutex_lock(&l->wd.mu);
	l->wd.fd = fd;
	/* the deadline passed before the socket existed: no handshake may
	 * block on it either */
	if (l->wd.fired && fd >= 0)
		shutdown(fd, SHUT_RD);
	pthread_mutex_unlock(&l->wd.mu);
	return 0;
}

/* Connect callback: the socket goes away; the watchdog must not touch it. */
static void
conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	struct agentid_ldap *l = ctx->lc_arg;

	(void)ld;
	(void)sb;
	pthread_mutex_lock(&l->wd.mu);
	l->wd.fd = -1;
	pthread_mutex_unlock(&l->wd.mu);
}

/*
 * Watchdog thread: at the deadline, shuts the socket for reading; a blocked
 * read then returns end of file and the handshake or bind fails.
 */
static void *
watchdog_main(void *arg)
{
	struct aidl_watchdog *wd = arg;

	pthread_mutex_lock(&wd->mu);
	while (!wd->done) {
		if (pthread_cond_timedwait(&wd->cv, &wd->mu, &wd->deadline) ==
		    ETIMEDOUT) {
			if (!wd->done) {
				/* reads only: a later write (unbind) must not
				 * raise SIGPIPE. No socket yet: the connect
				 * callback shuts it as it appears (fired). */
				if (wd->fd >= 0)
					shutdown(wd->fd, SHUT_RD);
				wd->fired = true;
			}
			break;
		}
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

/* Initialises the watchdog's lock and condition (monotonic clock). */
static int
watchdog_init(struct aidl_watchdog *wd)
{
	pthread_condattr_t ca;
	int r;

	wd->fd = -1;
	if ((r = pthread_mutex_init(&wd->mu, NULL)) != 0)
		return r;
	if ((r = pthread_condattr_init(&ca)) != 0)
		goto fail_mu;
	if ((r = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC)) != 0 ||
	    (r = pthread_cond_init(&wd->cv, &ca)) != 0) {
		pthread_condattr_destroy(&ca);
		goto fail_mu;
	}
	pthread_condattr_destroy(&ca);
	return 0;
fail_mu:
	pthread_mutex_destroy(&wd->mu);
	return r;
}

/* Starts the watchdog, to fire at deadline (CLOCK_MONOTONIC): the end of
 * the decision's time budget against this server. */
static int
watchdog_arm(struct aidl_watchdog *wd, const struct timespec *deadline)
{
	pthread_mutex_lock(&wd->mu);
	wd->deadline = *deadline;
	wd->done = false;
	wd->fired = false;
	pthread_mutex_unlock(&wd->mu);
	return pthread_create(&wd->thread, NULL, watchdog_main, wd);
}

/* Stops the watchdog; true if it fired (the connection is then unusable). */
static bool
watchdog_disarm(struct aidl_watchdog *wd)
{
	bool fired;

	pthread_mutex_lock(&wd->mu);
	wd->done = true;
	pthread_cond_signal(&wd->cv);
	pthread_mutex_unlock(&wd->mu);
	pthread_join(wd->thread, NULL);
	fired = wd->fired;
	return fired;
}

/* Binds as the config says; simple binds with a password need TLS or ldapi. */
static int
do_bind(struct agentid_ldap *l, struct agentid_error *err)
{
	const struct agentid_config *cfg = l->cfg;
	struct berval cred = { 0, NULL };
	struct timeval tv = aidl_timeout(l);
	char *pw = NULL;
	int rc, r;

	/* the bind waits at most what is left of the budget */
	(void)ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv);

	if (cfg->sasl_mech != NULL) {
		rc = ldap_sasl_interactive_bind_s(l->ld, NULL, cfg->sasl_mech,
		    NULL, NULL, LDAP_SASL_QUIET, sasl_no_interact, NULL);
		if (rc != LDAP_SUCCESS)
			return aidl_seterr(l, rc, err, "SASL EXTERNAL bind");
		return 0;
	}
	if (cfg->binddn != NULL) {
		if (cfg->bindpw_file == NULL && l->bindpw == NULL)
			return agentid_seterr(err, EINVAL, "%s: binddn is set but "
			    "bindpw_file is not", l->uri);
		if (!l->secure)
			return agentid_seterr(err, EACCES, "%s: refusing a simple "
			    "bind with a password over a connection that is neither "
			    "TLS nor ldapi:// (set ssl start_tls or on)", l->uri);
		if (l->bindpw != NULL)
			pw = strdup(l->bindpw);
		else if ((r = agentid_read_secret(cfg->bindpw_file, &pw, err)) != 0)
			return r;
		if (pw == NULL)
			return ENOMEM;
		cred.bv_val = pw;
		cred.bv_len = strlen(pw);
		rc = ldap_sasl_bind_s(l->ld, cfg->binddn, LDAP_SASL_SIMPLE, &cred,
		    NULL, NULL, NULL);
		explicit_bzero(pw, cred.bv_len);
		free(pw);
		if (rc != LDAP_SUCCESS)
			return aidl_seterr(l, rc, err, "simple bind");
		return 0;
	}
	/* anonymous: still a round trip, so that a dead server is noticed here */
	rc = ldap_sasl_bind_s(l->ld, NULL, LDAP_SASL_SIMPLE, &cred, NULL, NULL,
	    NULL);
	if (rc != LDAP_SUCCESS)
		return aidl_seterr(l, rc, err, "anonymous bind");
	return 0;
}

/* Connects and binds to one uri; fills l (ld, uri, secure). */
static int
open_one(struct agentid_ldap *l, const char *uri, struct agentid_error *err)
{
	const struct agentid_config *cfg = l->cfg;
	struct timeval tv;
	int rc, r, v3 = LDAP_VERSION3, hard = LDAP_OPT_X_TLS_HARD;
	bool ldaps = strncasecmp(uri, "ldaps://", 8) == 0;
	bool ldapi = strncasecmp(uri, "ldapi://", 8) == 0;
	enum agentid_ssl ssl = cfg->ssl; /* default start_tls: DESIGN.md */

	aidl_deadline_restart(l);
	tv = aidl_timeout(l);

	if ((l->uri = strdup(uri)) == NULL)
		return ENOMEM;
	if ((rc = ldap_initialize(&l->ld, uri)) != LDAP_SUCCESS)
		return aidl_seterr(l, rc, err, "bad uri");
	if ((rc = ldap_set_option(l->ld, LDAP_OPT_PROTOCOL_VERSION, &v3)) != 0 ||
	    (rc = ldap_set_option(l->ld, LDAP_OPT_NETWORK_TIMEOUT, &tv)) != 0 ||
	    (rc = ldap_set_option(l->ld, LDAP_OPT_TIMEOUT, &tv)) != 0 ||
	    (rc = ldap_set_option(l->ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF)) != 0 ||
	    (rc = ldap_set_option(l->ld, LDAP_OPT_RESTART, LDAP_OPT_ON)) != 0)
		return aidl_seterr(l, rc, err, "setting options");
	l->conncb.lc_add = conn_add;
	l->conncb.lc_del = conn_del;
	l->conncb.lc_arg = l;
	if ((rc = ldap_set_option(l->ld, LDAP_OPT_CONNECT_CB, &l->conncb)) != 0)
		return aidl_seterr(l, rc, err, "setting options");
	if (ldapi || (!ldaps && ssl == AGENTID_SSL_OFF)) {
		/* no TLS: LDAP_OPT_TIMEOUT bounds every wait */
		l->secure = ldapi;
		return do_bind(l, err);
	}
	l->tls = true;
	if ((r = setup_tls(l, err)) != 0)
		return r;
	if (!ldaps && ssl == AGENTID_SSL_ON &&
	    (rc = ldap_set_option(l->ld, LDAP_OPT_X_TLS, &hard)) != 0)
		return aidl_seterr(l, rc, err, "ssl on");
	l->secure = true;
	/* connect, TLS handshake and bind, all within the timeout */
	if ((r = watchdog_arm(&l->wd, &l->deadline)) != 0)
		return agentid_seterr(err, r, "%s: cannot start a thread: %s",
		    uri, strerror(r));
	r = 0;
	if (!ldaps && ssl == AGENTID_SSL_START_TLS &&
	    (rc = ldap_start_tls_s(l->ld, NULL, NULL)) != LDAP_SUCCESS)
		r = aidl_seterr(l, rc, err, "StartTLS");
	if (r == 0)
		r = do_bind(l, err);
	if (watchdog_disarm(&l->wd)) {
		r = agentid_seterr(err, ETIMEDOUT, "%s: no answer within %d s "
		    "(TLS handshake or bind)", uri, cfg->timeout);
	}
	if (r == 0) {
		/* handshake done: the searches are bounded like on plain ldap:// */
		ber_socket_t fd = -1;

		if (ldap_get_option(l->ld, LDAP_OPT_DESC, &fd) == LDAP_OPT_SUCCESS)
			sock_timeouts(fd, secs_left(l));
	}
	return r;
}

/* Releases what open_one built, keeping cfg. */
static void
reset(struct agentid_ldap *l)
{
	if (l->ld != NULL)
		ldap_unbind_ext_s(l->ld, NULL, NULL);
	l->ld = NULL;
	free(l->uri);
	l->uri = NULL;
	l->secure = false;
	l->tls = false;
	/* the next server starts unfired (its own watchdog, if any) */
	pthread_mutex_lock(&l->wd.mu);
	l->wd.fired = false;
	pthread_mutex_unlock(&l->wd.mu);
}

/* Frees l and its watchdog's lock (after reset). */
static void
destroy(struct agentid_ldap *l)
{
	pthread_cond_destroy(&l->wd.cv);
	pthread_mutex_destroy(&l->wd.mu);
	free(l);
}

/* Tries each uri in order, binding with bindpw when given; EHOSTDOWN when
 * none could be reached and bound. */
static int
open_any(const struct agentid_config *cfg, const char *bindpw,
    struct agentid_ldap **out, struct agentid_error *err)
{
	struct agentid_ldap *l = NULL;
	struct agentid_error one;
	char msgs[sizeof(err->msg)] = "";
	size_t i, used = 0;
	int r = EHOSTDOWN, last = 0;
	bool network = false;

	*out = NULL;
	if (cfg == NULL || cfg->n_uri == 0 || cfg->uri == NULL)
		return agentid_seterr(err, EINVAL, "%s: no uri configured",
		    cfg && cfg->path ? cfg->path : "config");
	if (cfg->base == NULL)
		return agentid_seterr(err, EINVAL, "%s: no base configured",
		    cfg->path ? cfg->path : "config");
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return ENOMEM;
	if ((r = watchdog_init(&l->wd)) != 0) {
		free(l);
		return agentid_seterr(err, r, "cannot initialise a lock: %s",
		    strerror(r));
	}
	l->cfg = cfg;
	l->bindpw = bindpw;
	for (i = 0; i < cfg->n_uri; i++) {
		one.msg[0] = '\0';
		r = open_one(l, cfg->uri[i], &one);
		if (r == 0) {
			*out = l;
			l = NULL;
			goto out;
		}
		if (r == ENOMEM)
			goto out;
		last = r;
		if (aidl_unreachable(r))
			network = true;
		if (used < sizeof(msgs) - 1) {
			int n = snprintf(msgs + used, sizeof(msgs) - used, "%s%s",
			    used ? "; " : "", one.msg[0] ? one.msg : cfg->uri[i]);
			used = n < 0 ? sizeof(msgs) - 1 : used + (size_t)n;
		}
		reset(l);
	}
	/* an unreachable server wins: the fronts fail closed as ldap_unavailable */
	r = network || last == 0 ? EHOSTDOWN : last;
	agentid_seterr(err, r, "no directory server could be used: %s", msgs);
out:
	if (l != NULL) {
		reset(l);
		destroy(l);
	}
	return r;
}

/* Tries each uri in order; EHOSTDOWN when none could be reached and bound. */
int
agentid_ldap_open(const struct agentid_config *cfg, struct agentid_ldap **out,
    struct agentid_error *err)
{
	return open_any(cfg, NULL, out, err);
}

/* The same, with the operator's password in memory (ldap_internal.h). */
int
aidl_open_password(const struct agentid_config *cfg, const char *bindpw,
    struct agentid_ldap **out, struct agentid_error *err)
{
	return open_any(cfg, bindpw, out, err);
}

/* Unbinds and frees. */
void
agentid_ldap_close(struct agentid_ldap *l)
{
	if (l == NULL)
		return;
	reset(l);
	destroy(l);
}

/* The uri this connection uses. */
const char *
agentid_ldap_uri(const struct agentid_ldap *l)
{
	return l != NULL ? l->uri : NULL;
}
