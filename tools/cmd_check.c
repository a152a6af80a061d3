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

enum { OPT_SERVICE = 1, OPT_RHOST, OPT_HOST, OPT_JSON, OPT_CA_FP, OPT_KEY_FP };

static const struct option check_longopts[] = {
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "rhost", required_argument, NULL, OPT_RHOST },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "ca-fingerprint", required_argument, NULL, OPT_CA_FP },
	{ "key-fingerprint", required_argument, NULL, OPT_KEY_FP },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
};

static const char check_usage[] =
    "usage: agentid check USER [--service S] [--rhost ADDR] [--host H] "
    "[--json] [--config PATH]\n"
    "                     [--ca-fingerprint SHA256:...] "
    "[--key-fingerprint SHA256:...]\n"
    "The decision for USER logging in now: exit 0 allow, 1 deny "
    "(also not_an_agent), 2 error. The fingerprints stand for an SSH\n"
    "certificate signed by that CA for that key (rule cert_mismatch).\n";

/*
 * Parses argv (argv[0] is the command) into o and *user, the one operand.
 * Returns -1 to go on, or an exit code.
 */
static int
parse_opts(struct tool_ctx *ctx, int argc, char **argv, struct opts *o,
    const char **user)
{
	int c;

	memset(o, 0, sizeof(*o));
	o->service = "sshd";
	while ((c = cli_getopt(ctx, argc, argv, "", check_longopts)) != -1) {
		switch (c) {
		case OPT_SERVICE:
			o->service = optarg;
			break;
		case OPT_RHOST:
			o->rhost = optarg;
			break;
		case OPT_HOST:
			o->host = optarg;
			break;
		case OPT_CA_FP:
			o->ca_fp = optarg;
			break;
		case OPT_KEY_FP:
			o->key_fp = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case CLI_OPT_HELP:
			fputs(check_usage, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind + 1 != argc)
		goto bad;
	*user = argv[optind];
	return -1;
bad:
	fputs(check_usage, stderr);
	return EXIT_ERROR;
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
		json_object_set_new(v, "culprit", chain->n > 0 && !d->allow &&
		    d->culprit < chain->n ? cli_json_str(chain->rec[d->culprit].dn) :
		    json_null());
		json_object_set_new(v, "explanation", cli_json_str(text));
		return cli_print_json(v);
	}
	printf("%s\n", text);
	printf("  request: user %s, service %s, host %s, from %s\n", req->user,
	    req->service, req->host, req->rhost && *req->rhost ? req->rhost : "-");
	if (chain->n > 0) {
		printf("  chain:   ");
		for (i = 0; i < chain->n; i++)
			printf("%s%s", i ? "\n           -> " : "", chain->rec[i].dn);
		printf("\n");
	}
	if (d->owner != NULL)
		printf("  owner:   %s\n", d->owner);
	if (d->has_window)
		printf("  valid:   %s .. %s\n", d->not_before ?
		    agentid_format_time(d->not_before, nb, sizeof(nb)) : "-",
		    agentid_format_time(d->not_after, na, sizeof(na)));
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
	struct agentid_cert_ref cert;
	struct agentid_error err = { "" };
	struct opts o;
	const char *user = NULL;
	char host[256];
	int r, ret = EXIT_ERROR;

	if ((r = parse_opts(ctx, argc, argv, &o, &user)) >= 0)
		return r;
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.user = user;
	req.service = o.service;
	req.rhost = o.rhost;
	req.now = (int64_t)time(NULL);
	if (o.ca_fp != NULL || o.key_fp != NULL) {
		memset(&cert, 0, sizeof(cert));
		cert.ca_fp = o.ca_fp;
		cert.key_fp = o.key_fp;
		req.cert = &cert;
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
			printf("error: ldap_unavailable — %s\n", err.msg);
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
