/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_check.c - agentid check USER: the decision for USER logging in now,
 * from the live directory through libagentid's LDAP source and policy
 * engine, in words or JSON; every check is audited (event "check").
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_ldap.h"
#include "cli_util.h"
#include "commands.h"

/* The request as the options describe it. */
struct opts {
	const char *service;
	const char *ca_fp;
	const char *key_fp;
	const char *rhost;
	const char *host;
	bool json;
};

enum { OPT_RHOST = 1, OPT_HOST, OPT_JSON };

static const struct option check_longopts[] = {
	{ "rhost", required_argument, NULL, OPT_RHOST },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_REQUEST_OPTIONS,
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax check_syntax = {
	check_longopts, "h",
	"usage: agentid check USER [--service S] [--rhost ADDR] [--host H] "
	"[--json] [--config PATH]\n"
	"                     [--ca-fingerprint SHA256:...] "
	"[--key-fingerprint SHA256:...]\n"
	"The decision for USER logging in now: exit 0 allow, 1 deny "
	"(also not_an_agent), 2 error.\nThe fingerprints stand for an SSH "
	"certificate signed by that CA for that key\n(rule cert_mismatch).\n",
	1, 1,
};

/* cli_parse's handler: one option into struct opts. */
static int
check_opt(int c, const char *arg, void *op)
{
	struct opts *o = op;

	if (c == CLI_OPT_SERVICE)
		o->service = arg;
	else if (c == OPT_RHOST)
		o->rhost = arg;
	else if (c == OPT_HOST)
		o->host = arg;
	else if (c == CLI_OPT_CA_FP)
		o->ca_fp = arg;
	else if (c == CLI_OPT_KEY_FP)
		o->key_fp = arg;
	else if (c == OPT_JSON)
		o->json = true;
	return 0;
}

/* Appends the check to the audit trail; a failure is only a warning. */
static void
audit_check(const struct agentid_config *cfg, const struct agentid_request *req,
    const struct agentid_chain *chain, const struct agentid_decision *d,
    bool error)
{
	struct agentid_audit_event ev;
	struct agentid_error err = { "" };

	agentid_audit_event_init(&ev, "check", req, chain, error ? NULL : d);
	ev.reason = error ? agentid_reason_name(d->reason) : NULL;
	if (agentid_audit_append(cfg, &ev, &err) != 0)
		tool_err("warning: the audit trail was not written: %s "
		    "(the check grants nothing, so it goes on)",
		    err.msg[0] ? err.msg : "error");
}

/* The DNs of the chain as a JSON array. */
static json_t *
json_chain(const struct agentid_chain *c)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; a != NULL && c != NULL && i < c->n; i++)
		json_array_append_new(a, cli_json_str(c->rec[i].dn));
	return a;
}

/* Prints the decision of check in words or JSON. */
static int
print_decision(const struct opts *o, const struct agentid_request *req,
    const struct agentid_chain *chain, const struct agentid_decision *d)
{
	struct cli_text t = { NULL, 0 };
	char text[1024], nb[40], na[40];
	size_t i;

	agentid_explain(chain, d, text, sizeof(text));
	if (o->json) {
		json_t *v = json_object();

		json_object_set_new(v, "decision", json_string(d->allow ? "allow" : "deny"));
		json_object_set_new(v, "reason", json_string(agentid_reason_name(d->reason)));
		json_object_set_new(v, "user", cli_json_str(req->user));
		json_object_set_new(v, "owner", cli_json_str(d->owner));
		json_object_set_new(v, "chain", json_chain(chain));
		json_object_set_new(v, "not_before", cli_json_time(d->has_window &&
		    d->not_before != 0, d->not_before));
		json_object_set_new(v, "not_after", cli_json_time(d->has_window, d->not_after));
		json_object_set_new(v, "service", cli_json_str(req->service));
		json_object_set_new(v, "host", cli_json_str(req->host));
		json_object_set_new(v, "rhost", cli_json_str(req->rhost));
		json_object_set_new(v, "source",
		    cli_json_str(agentid_source_name(d->source)));
		json_object_set_new(v, "culprit", chain->n > 0 && !d->allow &&
		    d->culprit < chain->n ? cli_json_str(chain->rec[d->culprit].dn) :
		    json_null());
		json_object_set_new(v, "explanation", cli_json_str(text));
		return cli_print_json(v);
	}
	printf("%s\n", cli_esc(&t, text));
	printf("  request: user %s, service %s, host %s, from %s\n",
	    cli_esc(&t, req->user), cli_esc(&t, req->service),
	    cli_esc(&t, req->host), cli_esc(&t, req->rhost && *req->rhost ?
	    req->rhost : NULL));
	if (chain->n > 0) {
		printf("  chain:   ");
		for (i = 0; i < chain->n; i++)
			printf("%s%s", i ? "\n           -> " : "",
			    cli_esc(&t, chain->rec[i].dn));
		printf("\n");
	}
	if (d->owner != NULL)
		printf("  owner:   %s\n", cli_esc(&t, d->owner));
	if (d->has_window)
		printf("  valid:   %s .. %s\n", d->not_before ?
		    agentid_format_time(d->not_before, nb, sizeof(nb)) : "-",
		    agentid_format_time(d->not_after, na, sizeof(na)));
	cli_text_free(&t);
	return 0;
}

/* agentid check USER: the engine's decision against the live directory. */
int
cmd_check(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	struct agentid_request req;
	struct agentid_credential cert;
	struct agentid_error err = { "" };
	struct opts o;
	const char *user = NULL;
	char host[256];
	int r, ret = EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	o.service = "sshd";
	if ((r = cli_parse(ctx, argc, argv, &check_syntax, check_opt, &o)) >= 0)
		return r;
	user = argv[optind];
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.user = user;
	req.service = o.service;
	req.rhost = o.rhost;
	req.now = (int64_t)time(NULL);
	if (o.ca_fp != NULL || o.key_fp != NULL) {
		/* as sshd's AuthorizedPrincipalsCommand sees a certificate: CA
		 * and key known, principals and window checked by sshd */
		memset(&cert, 0, sizeof(cert));
		cert.kind = AGENTID_CRED_CERT;
		cert.ca_fp = o.ca_fp;
		cert.key_fp = o.key_fp;
		req.creds = &cert;
		req.n_creds = 1;
	}
	if (o.host != NULL)
		req.host = o.host;
	else if (cli_host_name(ctx, cfg, host, sizeof(host)) == 0)
		req.host = host;
	else
		goto out;
	r = agentid_decide_user(cfg, &req, &chain, &d, &err);
	if (r == EHOSTDOWN || r == ETIMEDOUT) {
		/* no decision: the directory could not be asked */
		audit_check(cfg, &req, &chain, &d, true);
		if (o.json) {
			json_t *v = json_object();

			json_object_set_new(v, "decision", json_string("error"));
			json_object_set_new(v, "reason", json_string("ldap_unavailable"));
			json_object_set_new(v, "user", cli_json_str(user));
			json_object_set_new(v, "error", cli_json_str(err.msg));
			cli_print_json(v);
		} else {
			struct cli_text t = { NULL, 0 };

			printf("error: ldap_unavailable — %s\n",
			    cli_esc(&t, err.msg));
			cli_text_free(&t);
		}
		goto out;
	}
	if (r != 0) {
		tool_err("check %s: %s", user, err.msg[0] ? err.msg : strerror(r));
		goto out;
	}
	audit_check(cfg, &req, &chain, &d, false);
	if (print_decision(&o, &req, &chain, &d) != 0)
		goto out;
	ret = d.allow ? EXIT_ALLOW : EXIT_DENY;
out:
	agentid_chain_clear(&chain);
	agentid_config_free(cfg);
	return ret;
}
