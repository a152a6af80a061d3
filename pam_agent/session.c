/* session.c - what a session keeps from open to close, and the variables
 * it exports into the session's environment. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

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

/* pam_putenv of NAME=value, control characters shown as '?'; PAM code. */
static int
put(pam_handle_t *pamh, const char *name, const char *value)
{
	size_t nl = strlen(name), vl = strlen(value), i;
	char *s;
	int r;

	if ((s = malloc(nl + 1 + vl + 1)) == NULL)
		return PAM_BUF_ERR;
	memcpy(s, name, nl);
	s[nl] = '=';
	for (i = 0; i < vl; i++) {
		unsigned char ch = (unsigned char)value[i];

		s[nl + 1 + i] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
	}
	s[nl + 1 + vl] = '\0';
	r = pam_putenv(pamh, s);
	free(s);
	return r;
}

/*
 * Exports AGENTID_OWNER, AGENTID_CHAIN (DNs, agent first, joined by ';',
 * which RFC 4514 escapes inside DNs), AGENTID_TASK ("" when the certificate
 * names none) and AGENTID_SESSION. Returns a PAM code.
 */
int
session_export(pam_handle_t *pamh, const struct pam_session *s)
{
	size_t len = 1, i;
	char *chain;
	int r;

	for (i = 0; i < s->n_chain; i++)
		len += strlen(s->chain[i]) + 1;
	if ((chain = calloc(1, len)) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < s->n_chain; i++) {
		if (i > 0)
			strcat(chain, ";");
		strcat(chain, s->chain[i]);
	}
	if ((r = put(pamh, "AGENTID_OWNER", s->owner != NULL ? s->owner : "")) ==
	    PAM_SUCCESS &&
	    (r = put(pamh, "AGENTID_CHAIN", chain)) == PAM_SUCCESS &&
	    (r = put(pamh, "AGENTID_TASK", s->task != NULL ? s->task : "")) ==
	    PAM_SUCCESS)
		r = put(pamh, "AGENTID_SESSION", s->id);
	free(chain);
	return r;
}
