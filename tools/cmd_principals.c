/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_principals.c - agentid principals USER, for sshd's
 * AuthorizedPrincipalsCommand: prints USER when the policy engine allows
 * USER on this host for service sshd right now, nothing otherwise, so that
 * sshd refuses the certificate of a revoked, expired or out-of-scope agent
 * before PAM runs. pam_agent.so's account and session checks stay the
 * authority; this is the early, certificate-level gate.
 *
 *   AuthorizedPrincipalsCommand /usr/bin/agentid principals \
 *       --ca-fingerprint %F --key-fingerprint %f --key-id %i --serial %s -- %u
 *
 * sshd expands each %-token inside one argument (a key ID with spaces stays
 * one argument); "--" keeps a user name that starts with '-' an operand.
 * Every decision goes to the audit trail as event "check" (with the key ID
 * and serial when given); when audit_required is set and the trail cannot be
 * written, nothing is printed (no audit, no access).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_ldap.h"
#include "cli_util.h"
#include "commands.h"

enum { OPT_KEY_ID = 1, OPT_SERIAL };

/* What sshd tells about the certificate, for the audit record. */
struct cert_info {
	const char *key_id;
	bool has_serial;
	uint64_t serial;
};

/* The options, parsed. */
struct opts {
	struct agentid_credential cert;
	struct cert_info ci;
	const char *service;
};

static const struct option principals_longopts[] = {
	{ "key-id", required_argument, NULL, OPT_KEY_ID },
	{ "serial", required_argument, NULL, OPT_SERIAL },
	CLI_REQUEST_OPTIONS,
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax principals_syntax = {
	principals_longopts, "h",
	"usage: agentid principals [--ca-fingerprint SHA256:...] "
	"[--key-fingerprint SHA256:...]\n"
	"                          [--key-id ID] [--serial N] [--service S] "
	"[--config PATH] [--] USER\n"
	"For sshd's AuthorizedPrincipalsCommand: prints USER when USER may log "
	"in to this host\nfor service sshd now (and, with fingerprints, the "
	"certificate is bound to USER),\nnothing otherwise. Exit 0 either way, "
	"2 on errors (directory unreachable,\nbad configuration), which sshd "
	"takes as a refusal.\n",
	1, 1,
};

/* A fingerprint as sshd passes it for %F/%f: "SHA256:..." or empty/none. */
static const char *
fingerprint_arg(const char *s)
{
	if (s == NULL || s[0] == '\0' || strcmp(s, "none") == 0)
		return NULL;
	return s;
}

/* Appends the decision as event "check"; 0 or the error (err says why). */
static int
audit_principals(const struct agentid_config *cfg,
    const struct agentid_request *req, const struct agentid_chain *chain,
    const struct agentid_decision *d, const struct cert_info *ci,
    struct agentid_error *err)
{
	struct agentid_audit_event ev;

	agentid_audit_event_init(&ev, "check", req, chain, d);
	ev.cert_key_id = ci->key_id;
	ev.has_cert_serial = ci->has_serial;
	ev.cert_serial = ci->serial;
	if (req->n_creds > 0)
		ev.cert_ca = req->creds[0].ca_fp;
	return agentid_audit_append(cfg, &ev, err);
}

/* cli_parse's handler: one option into struct opts. */
static int
principals_opt(int c, const char *arg, void *op)
{
	struct opts *o = op;

	switch (c) {
	case CLI_OPT_CA_FP:
		o->cert.ca_fp = fingerprint_arg(arg);
		break;
	case CLI_OPT_KEY_FP:
		o->cert.key_fp = fingerprint_arg(arg);
		break;
	case OPT_KEY_ID:
		o->ci.key_id = arg;
		break;
	case OPT_SERIAL:
		if (agentid_parse_decimal(arg, UINT64_MAX, &o->ci.serial) != 0) {
			tool_err("principals: --serial: not a number: %s", arg);
			return EXIT_ERROR;
		}
		o->ci.has_serial = true;
		break;
	case CLI_OPT_SERVICE:
		o->service = arg;
		break;
	}
	return 0;
}

/* agentid principals; see the top of this file. Returns an exit code. */
int
cmd_principals(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	struct agentid_request req;
	struct agentid_error err = { "" };
	struct opts o;
	char host[256];
	int r, rc = EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	o.service = "sshd";
	if ((r = cli_parse(ctx, argc, argv, &principals_syntax, principals_opt,
	    &o)) >= 0)
		return r;
	if (cli_load_config(ctx, &cfg) != 0 ||
	    cli_host_name(ctx, cfg, host, sizeof(host)) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.user = argv[optind];
	req.service = o.service;
	req.host = host;
	/* sshd does not tell the client's address here: from: grants are the
	 * account phase's (pam_agent.so), which always knows it */
	req.rhost = NULL;
	req.rhost_unknown = true;
	req.now = (int64_t)time(NULL);
	/* sshd checks principals and validity itself; the CA and key must be
	 * bound (principals and window stay "not known" in the credential) */
	o.cert.kind = AGENTID_CRED_CERT;
	if (o.cert.ca_fp != NULL || o.cert.key_fp != NULL) {
		req.creds = &o.cert;
		req.n_creds = 1;
	}
	r = agentid_decide_user(cfg, &req, &chain, &d, &err);
	if (r != 0 && !(r == EINVAL && d.reason == AGENTID_NOT_AN_AGENT)) {
		tool_err("%s: %s", req.user, err.msg);
		goto out;
	}
	/* from: needs the client's address, which only PAM is given */
	if (r == 0 &&
	    audit_principals(cfg, &req, &chain, &d, &o.ci, &err) != 0) {
		tool_err("the audit trail was not written: %s", err.msg);
		if (cfg->audit_required && d.allow)
			goto out;
	}
	rc = 0;
	if (d.allow)
		printf("%s\n", req.user);
	if (fflush(stdout) != 0) {
		tool_err("cannot write: %s", strerror(errno));
		rc = EXIT_ERROR;
	}
out:
	agentid_chain_clear(&chain);
	agentid_config_free(cfg);
	return rc;
}
