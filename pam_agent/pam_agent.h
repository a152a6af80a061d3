/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_agent.h - pieces of pam_agent.so shared between its files; nothing
 * here is exported (pam_agent.sym exports only pam_sm_*). */
#ifndef PAM_AGENT_H
#define PAM_AGENT_H

#include <stdbool.h>
#include <stdint.h>

#include <security/pam_modules.h>

#include "agentid.h"
#include "agentid_sshcert.h"

/* Module arguments, parsed once per call by parse_args(). */
struct pam_args {
	const char *config;       /* config=PATH, default AGENTID_CONFIG_PATH */
	bool debug;               /* debug */
	bool unknown_deny;        /* unknown=deny (default ignore) */
};

/* Everything one call of the module needs; lives on the caller's stack. */
struct pam_call {
	pam_handle_t *pamh;
	struct pam_args args;
	struct agentid_config *cfg;
	const char *user;
	const char *service;
	const char *rhost;
	const char *tty;
	char host[256];
	int64_t now;
};

/* Data kept on the handle from session open to close (pam_set_data). */
struct pam_session {
	char id[33];              /* AGENTID_SESSION: 128 random bits, hex */
	int64_t start;
	char *owner;
	char **chain;             /* DNs, agent first, NULL-terminated */
	size_t n_chain;
	char *key_id;
	bool has_serial;
	uint64_t serial;
	char *ca;
	bool has_valid_before;
	int64_t valid_before;
	char *task;
	char *on_behalf_of;
	enum agentid_reason reason; /* the decision the session opened with */
	enum agentid_source source;
	/* The decision of this transaction, kept so that a second session line
	 * of the module (placed after pam_env) repeats it instead of deciding
	 * again; see session_repeat(). */
	int outcome;              /* the PAM code the deciding call returned */
	bool opened;              /* allowed and exported: close audits it */
	char *auth_info;          /* SSH_AUTH_INFO_0 as the decision read it */
	/* the session's kernel ids (registry.c), audited and registered */
	bool has_audit_session;
	uint32_t audit_session;   /* /proc/self/sessionid after pam_loginuid */
	char login_session[64];   /* XDG_SESSION_ID from pam_systemd, or "" */
	char boot_id[37];         /* "" when unreadable */
	bool registered;          /* in the session registry: close removes */
};

#define PAM_AGENT_SESSION_DATA "agentid_session"

/* args.c */
void parse_args(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_args *a);

/* session.c */
int session_new_id(char *buf, size_t len);
struct pam_session *session_new(void);
void session_free(struct pam_session *s);
void session_cleanup(pam_handle_t *pamh, void *data, int error_status);
int session_export(pam_handle_t *pamh, const struct pam_session *s);
bool session_repeat(pam_handle_t *pamh, int *pr);
int session_remember(pam_handle_t *pamh, struct pam_session *s, int pr);
const struct pam_session *session_opened(pam_handle_t *pamh);

/* registry.c: the session registry (common/session_registry.h) */
struct sessreg_session;
void session_kernel_ids(pam_handle_t *pamh, struct pam_session *s);
int session_register(const struct pam_call *c, struct pam_session *s,
    const struct agentid_sshcert *cert);
void session_unregister(pam_handle_t *pamh, const struct pam_session *s);
int session_find_mine(const char *user, struct sessreg_session *out);

#endif
