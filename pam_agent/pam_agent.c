/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_agent.c - pam_agent.so: account, session and session-bound auth for
 * AI agents. A thin front: it gathers the request from PAM, lets libagentid
 * resolve the chain and decide, audits the decision, and translates it into
 * a PAM code.
 *
 *   account  required pam_agent.so [config=PATH] [debug] [unknown=ignore|deny]
 *   session  required pam_agent.so [config=PATH] [debug] [unknown=ignore|deny]
 *   auth     sufficient pam_agent.so [config=PATH] [debug]   (sudo)
 *
 * No rule lives here: everything the module knows (the user, the service,
 * the remote host, every key sshd reported) goes into the request, and the
 * engine's reason is mapped to a PAM code, a syslog line and an audit record.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_ldap.h"
#include "agentid_sshcert.h"
#include "internal.h"
#include "pam_agent.h"
#include "session_registry.h"

/* A string for logs: "-" for NULL or empty. */
static const char *
str(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "-";
}

/* Reads a PAM item that holds a string (NULL when unset). */
static const char *
item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/*
 * Starts a call: arguments, user, items, config and host name. Returns
 * PAM_SUCCESS, PAM_USER_UNKNOWN (no user) or PAM_AUTHINFO_UNAVAIL (config
 * unusable: fail closed). c->cfg must be freed by the caller in any case.
 */
static int
call_open(pam_handle_t *pamh, int argc, const char **argv, struct pam_call *c)
{
	struct agentid_error err = { "" };
	int r;

	memset(c, 0, sizeof(*c));
	c->pamh = pamh;
	parse_args(pamh, argc, argv, &c->args);
	if ((r = pam_get_user(pamh, &c->user, NULL)) != PAM_SUCCESS ||
	    c->user == NULL || c->user[0] == '\0') {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
		return r == PAM_SUCCESS ? PAM_USER_UNKNOWN : r;
	}
	c->service = item(pamh, PAM_SERVICE);
	c->rhost = item(pamh, PAM_RHOST);
	c->tty = item(pamh, PAM_TTY);
	c->now = (int64_t)time(NULL);
	if ((r = agentid_config_load(c->args.config, &c->cfg, &err)) != 0) {
		pam_syslog(pamh, LOG_ERR, "configuration unusable: %s; config=%s",
		    err.msg, c->args.config);
		return PAM_AUTHINFO_UNAVAIL;
	}
	if ((r = agentid_host_name(c->cfg, c->host, sizeof(c->host))) != 0) {
		pam_syslog(pamh, LOG_ERR, "cannot determine this host's name: %s",
		    strerror(r));
		return PAM_AUTHINFO_UNAVAIL;
	}
	return PAM_SUCCESS;
}

/* The request of this call (cert NULL). */
static void
call_request(const struct pam_call *c, struct agentid_request *req)
{
	memset(req, 0, sizeof(*req));
	req->user = c->user;
	req->service = c->service != NULL ? c->service : "";
	req->host = c->host;
	req->rhost = c->rhost;
	req->now = c->now;
}

/* Is this the answer for someone who is not an agent (invalid name too)? */
static bool
not_an_agent(int rc, const struct agentid_decision *d)
{
	return d->reason == AGENTID_NOT_AN_AGENT && (rc == 0 || rc == EINVAL);
}

/* Translates the library's answer into the PAM code of DESIGN.md. */
static int
pam_code(const struct pam_call *c, int rc, const struct agentid_decision *d)
{
	if (not_an_agent(rc, d))
		return c->args.unknown_deny ? PAM_USER_UNKNOWN : PAM_IGNORE;
	if (rc != 0 || d->reason == AGENTID_LDAP_UNAVAILABLE)
		return PAM_AUTHINFO_UNAVAIL;
	if (d->allow)
		return PAM_SUCCESS;
	if (d->reason == AGENTID_EXPIRED)
		return PAM_ACCT_EXPIRED;
	return PAM_PERM_DENIED;
}

/* One syslog line for the decision, key=value style. */
static void
log_decision(const struct pam_call *c, const char *event, int rc,
    const struct agentid_decision *d, const struct agentid_chain *chain,
    const char *detail, const struct agentid_error *err)
{
	char why[512];

	if (not_an_agent(rc, d)) {
		if (c->args.debug)
			pam_syslog(c->pamh, LOG_DEBUG, "not an agent; event=%s user=%s",
			    event, c->user);
		return;
	}
	if (rc != 0) {
		pam_syslog(c->pamh, LOG_ERR,
		    "directory unavailable: %s; event=%s user=%s service=%s",
		    err->msg, event, c->user, str(c->service));
		return;
	}
	if (d->allow) {
		pam_syslog(c->pamh, LOG_INFO,
		    "allowed; event=%s user=%s service=%s rhost=%s owner=%s",
		    event, c->user, str(c->service), str(c->rhost), str(d->owner));
		return;
	}
	agentid_explain(chain, d, why, sizeof(why));
	pam_syslog(c->pamh, LOG_NOTICE,
	    "denied; event=%s user=%s service=%s rhost=%s reason=%s why=\"%s%s%s\"",
	    event, c->user, str(c->service), str(c->rhost),
	    agentid_reason_name(d->reason), why, detail != NULL ? ": " : "",
	    detail != NULL ? detail : "");
}

/*
 * Writes the audit record of a decision (s: session fields, or NULL;
 * reason: a reason written instead of the decision's, or NULL) and returns
 * the PAM code to give: pr, or PAM_AUTHINFO_UNAVAIL when the trail cannot
 * be written and audit_required is set (no audit, no access; users
 * that are not agents are not locked out by a broken trail).
 */
static int
audit_as(const struct pam_call *c, const char *event, int pr, int rc,
    const struct agentid_decision *d, const struct agentid_chain *chain,
    const struct pam_session *s, int64_t duration, const char *reason)
{
	struct agentid_audit_event ev;
	struct agentid_request req;
	struct agentid_error err = { "" };
	bool unavailable = rc != 0 && !not_an_agent(rc, d);
	int r;

	call_request(c, &req);
	/* an error that is not "directory down" has no decision to show */
	agentid_audit_event_init(&ev, event, &req, chain,
	    unavailable && d->reason != AGENTID_LDAP_UNAVAILABLE ? NULL : d);
	ev.service = c->service;
	ev.tty = c->tty;
	ev.duration = duration;
	ev.reason = reason;
	/* a human PAM lets through is audited "ignore", not "deny" */
	ev.passed_through = pr == PAM_IGNORE && not_an_agent(rc, d);
	if (s != NULL) {
		ev.cert_key_id = s->key_id;
		ev.has_cert_serial = s->has_serial;
		ev.cert_serial = s->serial;
		ev.cert_ca = s->ca;
		ev.has_cert_valid_before = s->has_valid_before;
		ev.cert_valid_before = s->valid_before;
		ev.task = s->task;
		ev.on_behalf_of = s->on_behalf_of;
		ev.session = s->id[0] != '\0' ? s->id : NULL;
		ev.boot_id = s->boot_id[0] != '\0' ? s->boot_id : NULL;
		ev.has_audit_session = s->has_audit_session;
		ev.audit_session = s->audit_session;
		ev.login_session = s->login_session[0] != '\0' ?
		    s->login_session : NULL;
	}
	if ((r = agentid_audit_append(c->cfg, &ev, &err)) == 0)
		return pr;
	pam_syslog(c->pamh, LOG_ERR,
	    "audit trail not written: %s; event=%s user=%s audit_required=%s",
	    err.msg[0] != '\0' ? err.msg : strerror(r), event, c->user,
	    c->cfg->audit_required ? "yes" : "no");
	if (c->cfg->audit_required && !not_an_agent(rc, d))
		return PAM_AUTHINFO_UNAVAIL;
	return pr;
}

/* audit_as with the decision's own reason. */
static int
audit(const struct pam_call *c, const char *event, int pr, int rc,
    const struct agentid_decision *d, const struct agentid_chain *chain,
    const struct pam_session *s, int64_t duration)
{
	return audit_as(c, event, pr, rc, d, chain, s, duration, NULL);
}

/* Account management: may this agent log in here, now, for this service? */
PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	struct agentid_request req;
	struct agentid_error err = { "" };
	struct pam_call c;
	int pr, rc;

	(void)flags;
	if ((pr = call_open(pamh, argc, argv, &c)) != PAM_SUCCESS)
		goto out;
	call_request(&c, &req);
	rc = agentid_decide_user(c.cfg, &req, &chain, &d, &err);
	pr = pam_code(&c, rc, &d);
	log_decision(&c, "account", rc, &d, &chain, NULL, &err);
	pr = audit(&c, "account", pr, rc, &d, &chain, NULL, -1);
out:
	agentid_chain_clear(&chain);
	agentid_config_free(c.cfg);
	return pr;
}

/* Copies s (may be NULL) into *dst; 0 or ENOMEM. */
static int
dup_opt(char **dst, const char *s)
{
	if (s == NULL)
		return 0;
	return (*dst = strdup(s)) == NULL ? ENOMEM : 0;
}

/* Fills the session record from the decision and the first certificate. */
static int
session_fill(struct pam_session *s, const struct agentid_decision *d,
    const struct agentid_chain *chain, const struct agentid_ssh_authinfo *ai)
{
	const struct agentid_sshcert *cert = ai->n_certs > 0 ? ai->certs[0] : NULL;
	size_t i;
	int r;

	s->reason = d->reason;
	s->source = d->source;
	if ((r = dup_opt(&s->owner, d->owner)) != 0)
		return r;
	for (i = 0; i < chain->n; i++)
		if (chain->rec[i].dn != NULL &&
		    (r = agentid_strv_add(&s->chain, &s->n_chain, chain->rec[i].dn)) != 0)
			return r;
	if (cert == NULL)
		return 0;
	s->has_serial = true;
	s->serial = cert->serial;
	s->has_valid_before = cert->valid_before <= (uint64_t)INT64_MAX;
	s->valid_before = (int64_t)cert->valid_before;
	if ((r = dup_opt(&s->key_id, cert->key_id)) != 0 ||
	    (r = dup_opt(&s->ca, cert->ca_fp)) != 0 ||
	    (r = dup_opt(&s->task, cert->task)) != 0 ||
	    (r = dup_opt(&s->on_behalf_of, cert->on_behalf_of)) != 0)
		return r;
	return 0;
}

/*
 * Reads SSH_AUTH_INFO_0 into ai and the engine's view of it into creds: one
 * credential per certificate and per plain key sshd reported, or a single
 * unreadable one when the text does not parse or a signature does not
 * verify. The engine decides what each is worth; this only describes them.
 */
static void
read_auth_info(const struct pam_call *c, struct agentid_ssh_authinfo *ai,
    struct agentid_credential *creds, size_t *n, struct agentid_error *err)
{
	const char *info = pam_getenv(c->pamh, "SSH_AUTH_INFO_0");
	size_t i;

	*n = 0;
	if (agentid_ssh_authinfo_parse(info, ai, err) != 0) {
		memset(&creds[0], 0, sizeof(creds[0]));
		creds[0].kind = AGENTID_CRED_UNREADABLE;
		*n = 1;
		return;
	}
	for (i = 0; i < ai->n_certs && *n < AGENTID_SSHCERT_MAX_AUTHINFO; i++) {
		const struct agentid_sshcert *cert = ai->certs[i];
		struct agentid_credential *cr = &creds[(*n)++];

		memset(cr, 0, sizeof(*cr));
		cr->kind = AGENTID_CRED_CERT;
		cr->ca_fp = cert->ca_fp;
		cr->key_fp = cert->key_fp;
		cr->principals = cert->principals;
		cr->host_cert = cert->cert_type != AGENTID_SSHCERT_USER;
		cr->has_validity = true;
		cr->valid_after = cert->valid_after;
		cr->valid_before = cert->valid_before;
	}
	for (i = 0; i < ai->n_keys && *n < AGENTID_SSHCERT_MAX_AUTHINFO; i++) {
		struct agentid_credential *cr = &creds[(*n)++];

		memset(cr, 0, sizeof(*cr));
		cr->kind = AGENTID_CRED_KEY;
		cr->key_fp = ai->key_fps[i];
	}
	if (c->args.debug)
		pam_syslog(c->pamh, LOG_DEBUG,
		    "SSH_AUTH_INFO_0: certificates=%zu keys=%zu; user=%s",
		    ai->n_certs, ai->n_keys, c->user);
}

/*
 * Session open: decide again, this time with the certificate sshd verified
 * (SSH_AUTH_INFO_0 is only filled now), then export the session variables
 * and keep what close needs.
 */
PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct agentid_credential creds[AGENTID_SSHCERT_MAX_AUTHINFO];
	struct agentid_ssh_authinfo ai = { NULL, 0, NULL, 0 };
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" }, aerr = { "" };
	struct agentid_decision d;
	struct agentid_request req;
	struct pam_session *s = NULL;
	struct pam_call c;
	size_t n_creds = 0;
	int pr, rc;

	(void)flags;
	if (session_repeat(pamh, &pr))
		return pr; /* the line after pam_env: decided already */
	if ((pr = call_open(pamh, argc, argv, &c)) != PAM_SUCCESS)
		goto out;
	if ((s = session_new()) == NULL) {
		pr = PAM_BUF_ERR;
		goto out;
	}
	s->start = c.now;
	if ((rc = session_new_id(s->id, sizeof(s->id))) != 0) {
		pam_syslog(pamh, LOG_ERR, "no random session id: %s", strerror(rc));
		pr = PAM_SESSION_ERR;
		goto out;
	}
	read_auth_info(&c, &ai, creds, &n_creds, &aerr);
	call_request(&c, &req);
	req.creds = creds;
	req.n_creds = n_creds;
	req.creds_known = true;
	rc = agentid_decide_user(c.cfg, &req, &chain, &d, &err);
	pr = pam_code(&c, rc, &d);
	if (session_fill(s, &d, &chain, &ai) != 0) {
		pr = PAM_BUF_ERR;
		goto out;
	}
	session_kernel_ids(pamh, s);
	log_decision(&c, "session_open", rc, &d, &chain,
	    aerr.msg[0] != '\0' ? aerr.msg : NULL, &err);
	pr = audit(&c, "session_open", pr, rc, &d, &chain, s, -1);
	if (pr != PAM_SUCCESS)
		goto out;
	/* for the enforcer and for auth (sudo); refused when it cannot be */
	if ((pr = session_register(&c, s, ai.n_certs > 0 ? ai.certs[0] : NULL)) !=
	    PAM_SUCCESS)
		goto out;
	if ((pr = session_export(pamh, s)) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot export the session variables: %s",
		    pam_strerror(pamh, pr));
		pr = PAM_SESSION_ERR;
		goto out;
	}
out:
	if (s != NULL && pr != PAM_SUCCESS) {
		session_unregister(pamh, s);
		s->registered = false;
	}
	pr = session_remember(pamh, s, pr); /* the handle owns s now */
	agentid_ssh_authinfo_clear(&ai);
	agentid_chain_clear(&chain);
	agentid_config_free(c.cfg);
	return pr;
}

/* Session close: audit the end of a session this module opened. */
PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct agentid_decision d;
	struct agentid_chain chain = { NULL, 0 };
	const struct pam_session *s;
	struct pam_call c;
	int64_t duration;
	size_t i;
	int pr;

	(void)flags;
	if ((s = session_opened(pamh)) == NULL) {
		/* not a session we opened (not an agent, denied, or closed by
		 * the module's other session line) */
		return PAM_IGNORE;
	}
	session_unregister(pamh, s);
	if ((pr = call_open(pamh, argc, argv, &c)) != PAM_SUCCESS)
		goto out;
	/* the decision this session was opened with, as the engine made it */
	memset(&d, 0, sizeof(d));
	d.allow = s->reason == AGENTID_OK;
	d.reason = s->reason;
	d.source = s->source;
	d.owner = s->owner;
	if (s->n_chain > 0) {
		if ((chain.rec = calloc(s->n_chain, sizeof(*chain.rec))) == NULL) {
			pr = PAM_BUF_ERR;
			goto out;
		}
		chain.n = s->n_chain;
		for (i = 0; i < s->n_chain; i++) {
			chain.rec[i].dn = s->chain[i];  /* borrowed */
			chain.rec[i].is_agent = i + 1 < s->n_chain;
		}
	}
	duration = c.now > s->start ? c.now - s->start : 0;
	pam_syslog(pamh, LOG_INFO,
	    "session closed; user=%s service=%s session=%s duration=%lld",
	    c.user, str(c.service), s->id, (long long)duration);
	pr = audit(&c, "session_close", PAM_SUCCESS, 0, &d, &chain, s, duration);
out:
	free(chain.rec); /* the DNs belong to s */
	agentid_config_free(c.cfg);
	(void)pam_set_data(pamh, PAM_AGENT_SESSION_DATA, NULL, NULL);
	return pr;
}

/* pam_set_data name: this transaction's auth succeeded (for setcred). */
#define PAM_AGENT_AUTH_DATA "agentid_auth"

/* The request of auth with the registered session's certificate (validity
 * kept: auth needs a certificate still valid now). */
static void
auth_request(const struct pam_call *c, const struct sessreg_session *reg,
    struct agentid_credential *cred, struct agentid_request *req,
    char *principals[2])
{
	call_request(c, req);
	req->creds_known = true;
	if (reg == NULL || !reg->has_cert)
		return;
	memset(cred, 0, sizeof(*cred));
	principals[0] = reg->n_principals > 0 ? (char *)reg->principals[0] : NULL;
	principals[1] = NULL;
	cred->kind = AGENTID_CRED_CERT;
	cred->ca_fp = reg->ca_fp;
	cred->key_fp = reg->key_fp;
	cred->principals = principals;
	cred->has_validity = true;
	cred->valid_after = reg->valid_after;
	cred->valid_before = reg->valid_before;
	req->creds = cred;
	req->n_creds = 1;
}

/*
 * auth (sudo inside an agent's session): succeeds only for a process of a
 * registered agent session of this user (the kernel audit session id
 * matches), whose certificate is still valid and whose chain the engine
 * allows for this service now. No password is asked, no ssh-agent used.
 */
PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_credential cred;
	struct agentid_decision d;
	struct agentid_request req;
	struct agentid_error err = { "" };
	struct pam_session *s = NULL;
	struct sessreg_session *reg = NULL;
	char *principals[2] = { NULL, NULL };
	struct pam_call c;
	int pr, rc, found;

	(void)flags;
	(void)pam_set_data(pamh, PAM_AGENT_AUTH_DATA, NULL, NULL);
	if ((pr = call_open(pamh, argc, argv, &c)) != PAM_SUCCESS) {
		if (pr == PAM_AUTHINFO_UNAVAIL)
			pr = PAM_AUTH_ERR;
		goto out;
	}
	if ((reg = calloc(1, sizeof(*reg))) == NULL ||
	    (s = session_new()) == NULL) {
		pr = PAM_BUF_ERR;
		goto out;
	}
	found = session_find_mine(c.user, reg);
	if (found != 0 && found != ENOENT)
		pam_syslog(pamh, LOG_ERR, "session registry unreadable: %s; "
		    "user=%s", strerror(found), c.user);
	/* sudo has no remote host: the session's is where the agent is */
	if (found == 0 && reg->rhost[0] != '\0')
		c.rhost = reg->rhost;
	auth_request(&c, found == 0 ? reg : NULL, &cred, &req, principals);
	rc = agentid_decide_user(c.cfg, &req, &chain, &d, &err);
	pr = pam_code(&c, rc, &d);
	if (found == 0) {
		/* audit what the session was: its id and kernel ids */
		snprintf(s->id, sizeof(s->id), "%s", reg->id);
		s->has_audit_session = reg->has_audit_session;
		s->audit_session = reg->audit_session;
		snprintf(s->login_session, sizeof(s->login_session), "%s",
		    reg->login_session);
		snprintf(s->boot_id, sizeof(s->boot_id), "%s", reg->boot_id);
		s->has_valid_before = reg->has_cert &&
		    reg->valid_before <= (uint64_t)INT64_MAX;
		s->valid_before = (int64_t)reg->valid_before;
	}
	if (pr == PAM_IGNORE || pr == PAM_USER_UNKNOWN) {
		log_decision(&c, "auth", rc, &d, &chain, NULL, &err);
		pr = audit(&c, "auth", pr, rc, &d, &chain, s, -1);
		goto out;
	}
	if (found != 0 && pr == PAM_SUCCESS) {
		/* an agent, but not from inside one of its registered
		 * sessions (another login, a cron job, a forwarded agent) */
		d.allow = false;
		pam_syslog(pamh, LOG_NOTICE, "denied; event=auth user=%s "
		    "service=%s reason=not_in_session", c.user, str(c.service));
		(void)audit_as(&c, "auth", PAM_AUTH_ERR, rc, &d, &chain, s, -1,
		    "not_in_session");
		pr = PAM_AUTH_ERR;
		goto out;
	}
	log_decision(&c, "auth", rc, &d, &chain, NULL, &err);
	pr = audit(&c, "auth", pr == PAM_SUCCESS ? pr : PAM_AUTH_ERR, rc, &d,
	    &chain, s, -1);
	if (pr != PAM_SUCCESS)
		pr = PAM_AUTH_ERR;
	else if (pam_set_data(pamh, PAM_AGENT_AUTH_DATA, (void *)1, NULL) !=
	    PAM_SUCCESS)
		pr = PAM_AUTH_ERR;
out:
	agentid_chain_clear(&chain);
	agentid_config_free(c.cfg);
	session_free(s);
	free(reg);
	return pr;
}

/* Credentials: none to set; PAM_SUCCESS after our own auth succeeded. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;

	(void)flags;
	(void)argc;
	(void)argv;
	if (pam_get_data(pamh, PAM_AGENT_AUTH_DATA, &data) == PAM_SUCCESS &&
	    data != NULL)
		return PAM_SUCCESS;
	return PAM_IGNORE;
}
