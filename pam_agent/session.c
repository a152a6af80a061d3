/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.c - what a session keeps from open to close, the variables it
 * exports into the session's environment, and the second session line that
 * keeps those (and SSH_AUTH_INFO_0) out of the user's reach: see
 * session_repeat().
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "internal.h"
#include "pam_agent.h"

/* Writes 128 random bits as 32 hex digits; 0 or an errno code. */
int
session_new_id(char *buf, size_t len)
{
	unsigned char raw[16];
	size_t got = 0, i;
	ssize_t n;

	if (len < 2 * sizeof(raw) + 1)
		return ENOSPC;
	while (got < sizeof(raw)) {
		n = getrandom(raw + got, sizeof(raw) - got, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		got += (size_t)n;
	}
	for (i = 0; i < sizeof(raw); i++)
		snprintf(buf + 2 * i, 3, "%02x", raw[i]);
	return 0;
}

/* A zeroed session (NULL on ENOMEM). */
struct pam_session *
session_new(void)
{
	return calloc(1, sizeof(struct pam_session));
}

/* Frees s and what it owns. */
void
session_free(struct pam_session *s)
{
	if (s == NULL)
		return;
	free(s->owner);
	agentid_strv_free(s->chain);
	free(s->key_id);
	free(s->ca);
	free(s->task);
	free(s->on_behalf_of);
	free(s->auth_info);
	free(s);
}

/* pam_set_data cleanup: frees the session when the handle goes. */
void
session_cleanup(pam_handle_t *pamh, void *data, int error_status)
{
	(void)pamh;
	(void)error_status;
	session_free(data);
}

/* The variables session_export sets, in the order export_lines fills. */
static const char *const exported[] = {
	"AGENTID_OWNER", "AGENTID_CHAIN", "AGENTID_TASK", "AGENTID_SESSION"
};
#define N_EXPORTED (sizeof(exported) / sizeof(exported[0]))

/* "NAME=value", control characters of value shown as '?'; NULL on ENOMEM. */
static char *
env_line(const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i;
	char *s;

	if ((s = malloc(nl + 1 + vl + 1)) == NULL)
		return NULL;
	memcpy(s, name, nl);
	s[nl] = '=';
	for (i = 0; i < vl; i++) {
		unsigned char ch = (unsigned char)value[i];

		s[nl + 1 + i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	s[nl + 1 + vl] = '\0';
	return s;
}

/*
 * Fills lines with "NAME=value" for each name of exported[]: AGENTID_OWNER,
 * AGENTID_CHAIN (DNs, agent first, joined by ';', which RFC 4514 escapes
 * inside DNs), AGENTID_TASK ("" when the certificate names none) and
 * AGENTID_SESSION. 0 or ENOMEM (lines then all NULL).
 */
static int
export_lines(const struct pam_session *s, char *lines[N_EXPORTED])
{
	size_t len = 1, i;
	char *chain = NULL;
	int r = ENOMEM;

	memset(lines, 0, N_EXPORTED * sizeof(*lines));
	for (i = 0; i < s->n_chain; i++)
		len += strlen(s->chain[i]) + 1;
	if ((chain = calloc(1, len)) == NULL)
		goto out;
	for (i = 0; i < s->n_chain; i++) {
		if (i > 0)
			strcat(chain, ";");
		strcat(chain, s->chain[i]);
	}
	if ((lines[0] = env_line(exported[0],
	    s->owner != NULL ? s->owner : "")) == NULL ||
	    (lines[1] = env_line(exported[1], chain)) == NULL ||
	    (lines[2] = env_line(exported[2],
	    s->task != NULL ? s->task : "")) == NULL ||
	    (lines[3] = env_line(exported[3], s->id)) == NULL)
		goto out;
	r = 0;
out:
	if (r != 0)
		for (i = 0; i < N_EXPORTED; i++) {
			free(lines[i]);
			lines[i] = NULL;
		}
	free(chain);
	return r;
}

/* Sets the session's variables (see export_lines). Returns a PAM code. */
int
session_export(pam_handle_t *pamh, const struct pam_session *s)
{
	char *lines[N_EXPORTED];
	size_t i;
	int r = PAM_SUCCESS;

	if (export_lines(s, lines) != 0)
		return PAM_BUF_ERR;
	for (i = 0; i < N_EXPORTED && r == PAM_SUCCESS; i++)
		r = pam_putenv(pamh, lines[i]);
	for (i = 0; i < N_EXPORTED; i++)
		free(lines[i]);
	return r;
}

/* Do two optional strings differ? */
static bool
differ(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a != b;
	return strcmp(a, b) != 0;
}

/* Appends name to the list of names in buf (cut when full). */
static void
note(char *buf, size_t len, const char *name)
{
	size_t used = strlen(buf);

	snprintf(buf + used, len - used, "%s%s", used > 0 ? "," : "", name);
}

/*
 * Sets name to value (the raw bytes, as sshd gave them: SSH_AUTH_INFO_0
 * holds newlines), or removes it when value is NULL. Returns a PAM code.
 */
static int
set_raw(pam_handle_t *pamh, const char *name, const char *value)
{
	size_t nl = strlen(name), vl;
	char *line;
	int r;

	if (value == NULL) {
		r = pam_putenv(pamh, name);
		return r == PAM_BAD_ITEM ? PAM_SUCCESS : r; /* was not set */
	}
	vl = strlen(value);
	if ((line = malloc(nl + 1 + vl + 1)) == NULL)
		return PAM_BUF_ERR;
	memcpy(line, name, nl);
	line[nl] = '=';
	memcpy(line + nl + 1, value, vl + 1);
	r = pam_putenv(pamh, line);
	free(line);
	return r;
}

/*
 * Puts the PAM environment back the way the deciding call left it:
 * SSH_AUTH_INFO_0 as the decision read it, AGENTID_* as it exported them
 * (or absent, when it opened no session: only pam_agent names them).
 * Modules between the two lines, pam_env with user_readenv=1 first of all,
 * may have changed them on the user's behalf. Returns a PAM code.
 */
static int
reassert(pam_handle_t *pamh, const struct pam_session *s)
{
	char *lines[N_EXPORTED] = { NULL };
	char changed[128] = "";
	const char *have, *want;
	size_t i;
	int r = PAM_BUF_ERR;

	if (s->opened && export_lines(s, lines) != 0)
		goto out;
	for (i = 0; i < N_EXPORTED; i++) {
		have = pam_getenv(pamh, exported[i]);
		want = s->opened ? lines[i] + strlen(exported[i]) + 1 : NULL;
		if (!differ(have, want))
			continue;
		note(changed, sizeof(changed), exported[i]);
		if ((r = s->opened ? pam_putenv(pamh, lines[i]) :
		    set_raw(pamh, exported[i], NULL)) != PAM_SUCCESS)
			goto out;
	}
	if (differ(pam_getenv(pamh, "SSH_AUTH_INFO_0"), s->auth_info)) {
		note(changed, sizeof(changed), "SSH_AUTH_INFO_0");
		if ((r = set_raw(pamh, "SSH_AUTH_INFO_0", s->auth_info)) !=
		    PAM_SUCCESS)
			goto out;
	}
	/* names only: the values came from the user */
	if (changed[0] != '\0')
		pam_syslog(pamh, LOG_NOTICE,
		    "session environment changed by a module after pam_agent "
		    "decided (pam_env user_readenv?), restored; names=%s "
		    "session=%s", changed, s->opened ? s->id : "-");
	r = PAM_SUCCESS;
out:
	for (i = 0; i < N_EXPORTED; i++)
		free(lines[i]);
	return r;
}

/*
 * The second (or a later) session line of the module in one transaction.
 * The first line, placed before pam_env, read SSH_AUTH_INFO_0, decided,
 * audited and exported; this one, placed after pam_env, must not decide
 * again (the variable may now come from the user's ~/.pam_environment, and
 * a second audit record would be a second, false, story). It puts back what
 * the first saw and set, and answers what the first answered.
 * Returns false (decide now) when no decision was made on this handle
 * since the last close; else true with *pr the PAM code to return.
 */
bool
session_repeat(pam_handle_t *pamh, int *pr)
{
	const void *data = NULL;
	const struct pam_session *s;
	int r;

	if (pam_get_data(pamh, PAM_AGENT_SESSION_DATA, &data) != PAM_SUCCESS ||
	    data == NULL)
		return false;
	s = data;
	if ((r = reassert(pamh, s)) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR,
		    "cannot restore the session variables: %s",
		    pam_strerror(pamh, r));
		*pr = PAM_SESSION_ERR;
		return true;
	}
	*pr = s->outcome;
	return true;
}

/*
 * Ends the deciding call of session open: keeps s (NULL: nothing but the
 * outcome; s is owned by the handle or freed in any case) on the handle
 * with the outcome pr and the SSH_AUTH_INFO_0 the decision read (no module
 * ran since), so that a later session line repeats it (session_repeat) and
 * close finds it. Returns pr, or an error code when pr was PAM_SUCCESS and
 * the data cannot be kept (fail closed: a later line would decide again).
 */
int
session_remember(pam_handle_t *pamh, struct pam_session *s, int pr)
{
	const char *info = pam_getenv(pamh, "SSH_AUTH_INFO_0");
	int fail = pr == PAM_SUCCESS ? PAM_SESSION_ERR : pr;
	int r;

	if (s == NULL && (s = session_new()) == NULL)
		return pr == PAM_SUCCESS ? PAM_BUF_ERR : pr;
	s->outcome = pr;
	s->opened = pr == PAM_SUCCESS;
	free(s->auth_info);
	s->auth_info = NULL;
	if (info != NULL && (s->auth_info = strdup(info)) == NULL) {
		session_free(s);
		return pr == PAM_SUCCESS ? PAM_BUF_ERR : pr;
	}
	if ((r = pam_set_data(pamh, PAM_AGENT_SESSION_DATA, s,
	    session_cleanup)) != PAM_SUCCESS) {
		pam_syslog(pamh, LOG_ERR, "cannot keep the session data: %s",
		    pam_strerror(pamh, r));
		session_free(s);
		return fail;
	}
	return pr;
}

/*
 * The session this module opened on the handle, for close; NULL when it
 * opened none (not an agent, refused, or already closed by an earlier
 * session line). Forgets a refusal, so that a new open on the same handle
 * decides afresh.
 */
const struct pam_session *
session_opened(pam_handle_t *pamh)
{
	const void *data = NULL;
	const struct pam_session *s;

	if (pam_get_data(pamh, PAM_AGENT_SESSION_DATA, &data) != PAM_SUCCESS ||
	    data == NULL)
		return NULL;
	s = data;
	if (s->opened)
		return s;
	(void)pam_set_data(pamh, PAM_AGENT_SESSION_DATA, NULL, NULL);
	return NULL;
}
