/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * registry.c - pam_agent's side of the session registry
 * (common/session_registry.h): the kernel ids of the session being opened,
 * its registration for the enforcer and for `auth` (sudo), its removal at
 * close, and the lookup `auth` makes: the registered session whose kernel
 * audit session is the caller's.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_agent.h"
#include "session_registry.h"

/* Is v a plausible logind session id ("5", "c12")? */
static bool
login_id_ok(const char *v)
{
	size_t i;

	for (i = 0; v[i] != '\0'; i++)
		if (i >= 63 || !((v[i] >= '0' && v[i] <= '9') ||
		    (v[i] >= 'a' && v[i] <= 'z') || (v[i] >= 'A' && v[i] <= 'Z') ||
		    v[i] == '-' || v[i] == '_'))
			return false;
	return i > 0;
}

/*
 * Fills the kernel audit session (pam_loginuid, earlier in the session
 * stack, gave this process a new one; 4294967295 means it did not run),
 * logind's session id (pam_systemd, earlier in the stack, put
 * XDG_SESSION_ID into the PAM environment) and the boot id.
 */
void
session_kernel_ids(pam_handle_t *pamh, struct pam_session *s)
{
	const char *xdg = pam_getenv(pamh, "XDG_SESSION_ID");
	uint32_t ses;

	s->has_audit_session = sessreg_proc_sessionid(0, &ses) == 0 &&
	    ses != SESSREG_AUDIT_UNSET;
	s->audit_session = s->has_audit_session ? ses : 0;
	if (xdg != NULL && login_id_ok(xdg))
		snprintf(s->login_session, sizeof(s->login_session), "%s", xdg);
	if (sessreg_boot_id(s->boot_id, sizeof(s->boot_id)) != 0)
		s->boot_id[0] = '\0';
}

/* Copies src into dst[cap] when it fits and is not empty; else leaves "". */
static void
set(char *dst, size_t cap, const char *src)
{
	if (src != NULL && strlen(src) < cap)
		memcpy(dst, src, strlen(src) + 1);
}

/*
 * Registers the opened session (call c, session s, the certificate the
 * decision saw or NULL). Only the principal naming the user is kept: the
 * engine asks nothing else of the principals. Returns a PAM code: an agent
 * session the enforcer cannot see would outlive a revocation, so a failure
 * refuses the session.
 */
int
session_register(const struct pam_call *c, struct pam_session *s,
    const struct agentid_sshcert *cert)
{
	struct agentid_error err = { "" };
	struct sessreg_session *r;
	uint64_t start = 0;
	char state;
	size_t i;
	int rc, pr = PAM_SESSION_ERR;

	if ((r = calloc(1, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	set(r->id, sizeof(r->id), s->id);
	set(r->user, sizeof(r->user), c->user);
	set(r->service, sizeof(r->service), c->service);
	set(r->rhost, sizeof(r->rhost), c->rhost);
	set(r->tty, sizeof(r->tty), c->tty);
	r->pid = getpid();
	if (sessreg_proc_stat(0, &state, &start) == 0)
		r->pid_start = start;
	r->has_audit_session = s->has_audit_session;
	r->audit_session = s->audit_session;
	set(r->login_session, sizeof(r->login_session), s->login_session);
	set(r->boot_id, sizeof(r->boot_id), s->boot_id);
	r->start = s->start;
	if (cert != NULL) {
		r->has_cert = true;
		set(r->ca_fp, sizeof(r->ca_fp), cert->ca_fp);
		set(r->key_fp, sizeof(r->key_fp), cert->key_fp);
		for (i = 0; i < cert->n_principals; i++)
			if (strcmp(cert->principals[i], c->user) == 0) {
				set(r->principals[0], sizeof(r->principals[0]),
				    c->user);
				r->n_principals = 1;
				break;
			}
		r->valid_after = cert->valid_after;
		r->valid_before = cert->valid_before;
	}
	if ((rc = sessreg_write(sessreg_dir(), r, &err)) != 0) {
		pam_syslog(c->pamh, LOG_ERR, "cannot register the session for "
		    "enforcement: %s; user=%s session=%s", err.msg[0] != '\0' ?
		    err.msg : strerror(rc), c->user, s->id);
		goto out;
	}
	s->registered = true;
	pr = PAM_SUCCESS;
out:
	free(r);
	return pr;
}

/* Removes s from the registry (close, or an open that failed late). */
void
session_unregister(pam_handle_t *pamh, const struct pam_session *s)
{
	int r;

	if (!s->registered)
		return;
	if ((r = sessreg_remove(sessreg_dir(), s->id)) != 0)
		pam_syslog(pamh, LOG_ERR, "cannot unregister the session: %s; "
		    "session=%s", strerror(r), s->id);
}

struct find {
	const char *user;
	uint32_t ses;
	const char *boot;
	struct sessreg_session *out;
};

/* sessreg_each callback: stops (1) at the first match. */
static int
find_cb(const char *name, const struct sessreg_session *s, int code,
    void *arg)
{
	struct find *f = arg;

	(void)name;
	if (code != 0 || s == NULL)
		return 0;
	/* audit session ids start again at every boot */
	if (!s->has_audit_session || s->audit_session != f->ses ||
	    strcmp(s->user, f->user) != 0 || strcmp(s->boot_id, f->boot) != 0)
		return 0;
	*f->out = *s;
	return 1;
}

/*
 * The registered session of user this process belongs to, by the kernel
 * audit session id (which the agent cannot change). 0 (found), ENOENT (none:
 * also when this process has no audit session), or an errno.
 */
int
session_find_mine(const char *user, struct sessreg_session *out)
{
	char boot[37];
	struct find f;
	uint32_t ses;
	int r;

	if ((r = sessreg_proc_sessionid(0, &ses)) != 0)
		return r;
	if (ses == SESSREG_AUDIT_UNSET)
		return ENOENT;
	if ((r = sessreg_boot_id(boot, sizeof(boot))) != 0)
		return r;
	f.user = user;
	f.ses = ses;
	f.boot = boot;
	f.out = out;
	r = sessreg_each(sessreg_dir(), find_cb, &f);
	return r == 1 ? 0 : r == 0 ? ENOENT : r;
}
