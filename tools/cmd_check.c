/*
 * cmd_check.c - agentid check, show and list: the live directory through
 * libagentid's LDAP source and policy engine, in words or JSON.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_ldap.h"
#include "commands.h"

/* Options shared by the three commands. */
struct opts {
	const char *service;
	const char *ca_fp;
	const char *key_fp;
	const char *rhost;
	const char *host;
	bool json;
	bool expired;
	bool orphaned;
	bool has_expiring;
	int64_t expiring;
};

enum { OPT_SERVICE = 1, OPT_RHOST, OPT_HOST, OPT_JSON, OPT_CONFIG,
	OPT_EXPIRING, OPT_EXPIRED, OPT_ORPHANED, OPT_HELP, OPT_CA_FP, OPT_KEY_FP };

static const struct option check_longopts[] = {
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "rhost", required_argument, NULL, OPT_RHOST },
	{ "host", required_argument, NULL, OPT_HOST },
	{ "ca-fingerprint", required_argument, NULL, OPT_CA_FP },
	{ "key-fingerprint", required_argument, NULL, OPT_KEY_FP },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const struct option list_longopts[] = {
	{ "expiring", required_argument, NULL, OPT_EXPIRING },
	{ "expired", no_argument, NULL, OPT_EXPIRED },
	{ "orphaned", no_argument, NULL, OPT_ORPHANED },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ "help", no_argument, NULL, OPT_HELP },
	{ NULL, 0, NULL, 0 },
};

static const char check_usage[] =
    "usage: agentid check USER [--service S] [--rhost ADDR] [--host H] "
    "[--json] [--config PATH]\n"
    "                     [--ca-fingerprint SHA256:...] "
    "[--key-fingerprint SHA256:...]\n"
    "The decision for USER logging in now: exit 0 allow, 1 deny "
    "(also not_an_agent), 2 error. The fingerprints stand for an SSH\n"
    "certificate signed by that CA for that key (rule cert_mismatch).\n";
static const char show_usage[] =
    "usage: agentid show USER [--json] [--config PATH]\n"
    "The agent's directory record and its delegation chain.\n";
static const char list_usage[] =
    "usage: agentid list [--expiring DUR] [--expired] [--orphaned] [--json] "
    "[--config PATH]\n"
    "Every agent; with selections, those expiring within DUR, expired or "
    "orphaned (owner missing or inactive): any of them.\n";

/*
 * Parses argv (argv[0] is the command) into o; list takes the selection
 * options, check the request options. Returns -1 to go on, or an exit code.
 * *user gets the one operand of check and show.
 */
static int
parse_opts(struct tool_ctx *ctx, int argc, char **argv, const char *usage,
    bool is_list, struct opts *o, const char **user)
{
	const struct option *lo = is_list ? list_longopts : check_longopts;
	int c;

	memset(o, 0, sizeof(*o));
	o->service = "sshd";
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case OPT_SERVICE:
		case OPT_RHOST:
		case OPT_HOST:
		case OPT_CA_FP:
		case OPT_KEY_FP:
			if (strcmp(argv[0], "check") != 0)
				goto bad;
			if (c == OPT_SERVICE)
				o->service = optarg;
			else if (c == OPT_RHOST)
				o->rhost = optarg;
			else if (c == OPT_HOST)
				o->host = optarg;
			else if (c == OPT_CA_FP)
				o->ca_fp = optarg;
			else
				o->key_fp = optarg;
			break;
		case OPT_JSON:
			o->json = true;
			break;
		case OPT_CONFIG:
			ctx->config_path = optarg;
			break;
		case OPT_EXPIRING:
			if (agentid_parse_duration(optarg, &o->expiring) != 0 ||
			    o->expiring < 0) {
				tool_err("%s: --expiring: not a duration: %s "
				    "(e.g. 7d, 12h)", argv[0], optarg);
				return EXIT_ERROR;
			}
			o->has_expiring = true;
			break;
		case OPT_EXPIRED:
			o->expired = true;
			break;
		case OPT_ORPHANED:
			o->orphaned = true;
			break;
		case OPT_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (is_list) {
		if (optind != argc)
			goto bad;
		return -1;
	}
	if (optind + 1 != argc)
		goto bad;
	*user = argv[optind];
	return -1;
bad:
	if (optind > 0 && optind <= argc && argv[optind - 1][0] == '-')
		tool_err("%s: bad option or argument: %s", argv[0], argv[optind - 1]);
	fputs(usage, stderr);
	return EXIT_ERROR;
}

/* Loads the config named by ctx; prints the reason on failure. */
static int
load_config(struct tool_ctx *ctx, struct agentid_config **cfg)
{
	struct agentid_error err = { "" };
	int r;

	if ((r = agentid_config_load(ctx->config_path, cfg, &err)) != 0)
		tool_err("%s", err.msg[0] ? err.msg : strerror(r));
	return r;
}

/* RFC 3339 text of t, or NULL (JSON null) when absent. */
static json_t *
json_time(bool has, int64_t t)
{
	char buf[40];

	if (!has)
		return json_null();
	return json_string(agentid_format_time(t, buf, sizeof(buf)));
}

/* A string, or JSON null when absent or not valid UTF-8. */
static json_t *
json_str(const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

/* Prints a JSON value on one line; 0 or EIO. */
static int
print_json(json_t *v)
{
	int r = 0;

	if (v == NULL || json_dumpf(v, stdout, JSON_COMPACT) != 0)
		r = EIO;
	else
		putchar('\n');
	json_decref(v);
	return r;
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
		json_array_append_new(a, json_str(c->rec[i].dn));
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
		json_object_set_new(v, "user", json_str(req->user));
		json_object_set_new(v, "owner", json_str(d->owner));
		json_object_set_new(v, "chain", json_chain(chain));
		json_object_set_new(v, "not_before", json_time(d->has_window &&
		    d->not_before != 0, d->not_before));
		json_object_set_new(v, "not_after", json_time(d->has_window, d->not_after));
		json_object_set_new(v, "service", json_str(req->service));
		json_object_set_new(v, "host", json_str(req->host));
		json_object_set_new(v, "rhost", json_str(req->rhost));
		json_object_set_new(v, "culprit", chain->n > 0 && !d->allow &&
		    d->culprit < chain->n ? json_str(chain->rec[d->culprit].dn) :
		    json_null());
		json_object_set_new(v, "explanation", json_str(text));
		return print_json(v);
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
	struct agentid_credential cert;
	struct agentid_error err = { "" };
	struct opts o;
	const char *user = NULL;
	char host[256];
	int r, ret = EXIT_ERROR;

	if ((r = parse_opts(ctx, argc, argv, check_usage, false, &o, &user)) >= 0)
		return r;
	if (load_config(ctx, &cfg) != 0)
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
	if (o.host != NULL) {
		req.host = o.host;
	} else if ((r = agentid_host_name(cfg, host, sizeof(host))) == 0) {
		req.host = host;
	} else {
		tool_err("cannot tell this host's name (set hostname in %s or use "
		    "--host): %s", ctx->config_path, strerror(r));
		goto out;
	}
	r = agentid_decide_user(cfg, &req, &chain, &d, &err);
	if (r == EHOSTDOWN || r == ETIMEDOUT) {
		/* no decision: the directory could not be asked */
		audit_check(cfg, &req, &chain, &d, true);
		if (o.json) {
			json_t *v = json_object();

			json_object_set_new(v, "decision", json_string("error"));
			json_object_set_new(v, "reason", json_string("ldap_unavailable"));
			json_object_set_new(v, "user", json_str(user));
			json_object_set_new(v, "error", json_str(err.msg));
			print_json(v);
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

/* One record as a JSON object. */
static json_t *
json_record(const struct agentid_record *r)
{
	json_t *v = json_object(), *a;
	size_t i;

	json_object_set_new(v, "dn", json_str(r->dn));
	json_object_set_new(v, "agent", json_boolean(r->is_agent));
	json_object_set_new(v, "uid", json_str(r->uid));
	if (r->is_agent) {
		json_object_set_new(v, "owner", json_str(r->owner_dn));
		json_object_set_new(v, "status", json_string(agentid_status_name(r->status)));
		json_object_set_new(v, "not_before", json_time(r->has_not_before,
		    r->not_before));
		json_object_set_new(v, "not_after", json_time(r->has_not_after,
		    r->not_after));
		a = json_array();
		for (i = 0; i < r->n_scope; i++)
			json_array_append_new(a, json_str(r->scope[i]));
		json_object_set_new(v, "scope", a);
		a = json_array();
		for (i = 0; i < r->n_fingerprints; i++)
			json_array_append_new(a, json_str(r->fingerprints[i]));
		json_object_set_new(v, "fingerprints", a);
	} else {
		json_object_set_new(v, "active", json_boolean(r->owner_active));
	}
	if (r->has_posix) {
		json_object_set_new(v, "uid_number", json_integer(r->uid_number));
		json_object_set_new(v, "gid_number", json_integer(r->gid_number));
		json_object_set_new(v, "home", json_str(r->home));
		json_object_set_new(v, "shell", json_str(r->shell));
		json_object_set_new(v, "gecos", json_str(r->gecos));
	}
	json_object_set_new(v, "description", json_str(r->description));
	return v;
}

/* Prints one chain element in words. */
static void
print_record(const struct agentid_record *r, size_t depth)
{
	char buf[40];
	size_t i;

	if (depth == 0)
		printf("%s\n", r->dn);
	else
		printf("%s %s\n", r->is_agent ? "delegated by" : "owned by", r->dn);
	if (!r->is_agent) {
		printf("  human%s\n", r->owner_active ? "" :
		    ", NOT active (owner_active_filter)");
		return;
	}
	printf("  uid:          %s\n", r->uid ? r->uid : "-");
	printf("  status:       %s\n", r->status_text ? r->status_text : "active");
	printf("  not before:   %s\n", r->has_not_before ?
	    agentid_format_time(r->not_before, buf, sizeof(buf)) : "-");
	printf("  not after:    %s\n", r->has_not_after ?
	    agentid_format_time(r->not_after, buf, sizeof(buf)) : "- (invalid)");
	for (i = 0; i < r->n_scope; i++)
		printf("  scope:        %s\n", r->scope[i]);
	for (i = 0; i < r->n_fingerprints; i++)
		printf("  key:          %s\n", r->fingerprints[i]);
	if (r->has_posix)
		printf("  posix:        uid %u gid %u home %s shell %s\n",
		    r->uid_number, r->gid_number, r->home ? r->home : "-",
		    r->shell ? r->shell : "-");
	if (r->description != NULL)
		printf("  description:  %s\n", r->description);
}

/* agentid show USER: the record and its chain. */
int
cmd_show(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_ldap *l = NULL;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	struct opts o;
	const char *user = NULL;
	size_t i;
	int r, ret = EXIT_ERROR;

	if ((r = parse_opts(ctx, argc, argv, show_usage, false, &o, &user)) >= 0)
		return r;
	if (load_config(ctx, &cfg) != 0)
		goto out;
	if ((r = agentid_ldap_open(cfg, &l, &err)) != 0 ||
	    (r = agentid_ldap_chain(l, user, &chain, &err)) != 0) {
		tool_err("show %s: %s", user, err.msg[0] ? err.msg : strerror(r));
		goto out;
	}
	if (chain.n == 0) {
		if (o.json) {
			json_t *v = json_object();

			json_object_set_new(v, "user", json_str(user));
			json_object_set_new(v, "agent", json_false());
			print_json(v);
		} else {
			printf("%s is not an agent (no entry matches uid=%s and "
			    "agent_filter under %s)\n", user, user, cfg->base);
		}
		ret = EXIT_DENY;
		goto out;
	}
	if (o.json) {
		json_t *v = json_record(&chain.rec[0]), *a = json_array();

		for (i = 0; i < chain.n; i++)
			json_array_append_new(a, json_record(&chain.rec[i]));
		json_object_set_new(v, "chain", a);
		if (print_json(v) != 0)
			goto out;
	} else {
		for (i = 0; i < chain.n; i++)
			print_record(&chain.rec[i], i);
		if (chain.rec[chain.n - 1].is_agent)
			printf("(the chain ends here: owner missing, a loop, or "
			    "deeper than max_delegation_depth)\n");
	}
	ret = EXIT_ALLOW;
out:
	agentid_chain_clear(&chain);
	agentid_ldap_close(l);
	agentid_config_free(cfg);
	return ret;
}

/* One line of agentid list. */
struct row {
	char *uid;
	char *dn;
	char *owner;
	char *status;
	bool has_not_after;
	int64_t not_after;
	bool has_uid_number;
	uint32_t uid_number;
	const char *flag;     /* expired, expiring, orphaned: owner_missing... */
	const char *orphan;   /* reason name when orphaned */
};

struct list_state {
	struct agentid_ldap *l;
	const struct agentid_config *cfg;
	const struct opts *o;
	int64_t now;
	struct row *rows;
	size_t n;
	int err;
	struct agentid_error *e;
};

/* Is the agent's owner missing or not active? Resolves its chain. */
static int
orphan_reason(struct list_state *s, const struct agentid_record *a,
    const char **why)
{
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_request req;
	struct agentid_policy pol;
	struct agentid_decision d;
	int r;

	*why = NULL;
	if ((r = agentid_ldap_chain_from(s->l, a, &chain, s->e)) != 0)
		goto out;
	memset(&req, 0, sizeof(req));
	req.user = a->uid;
	req.service = "sshd";
	req.host = "localhost";
	req.now = s->now;
	agentid_policy_from_config(&pol, s->cfg);
	agentid_decide(&chain, &req, &pol, &d);
	if (d.reason == AGENTID_OWNER_MISSING || d.reason == AGENTID_OWNER_INACTIVE)
		*why = agentid_reason_name(d.reason);
out:
	agentid_chain_clear(&chain);
	return r;
}

/* each_agent callback: keeps the agents that the selections ask for. */
static int
list_one(const struct agentid_record *a, void *arg)
{
	struct list_state *s = arg;
	const struct opts *o = s->o;
	bool any = o->expired || o->has_expiring || o->orphaned;
	bool expired = !a->has_not_after || a->not_after < s->now;
	bool expiring = !expired && o->has_expiring &&
	    a->not_after <= s->now + o->expiring;
	const char *why = NULL, *flag = NULL;
	struct row *nr, *row;
	int r;

	if (o->orphaned && (r = orphan_reason(s, a, &why)) != 0)
		return r;
	if (why != NULL)
		flag = "orphaned";
	else if (expired)
		flag = "expired";
	else if (expiring)
		flag = "expiring";
	if (any && !((o->expired && expired) || expiring || why != NULL))
		return 0;
	if ((nr = realloc(s->rows, (s->n + 1) * sizeof(*nr))) == NULL)
		return ENOMEM;
	s->rows = nr;
	row = &nr[s->n];
	memset(row, 0, sizeof(*row));
	s->n++;
	row->uid = strdup(a->uid ? a->uid : "?");
	row->dn = strdup(a->dn ? a->dn : "?");
	row->owner = a->owner_dn ? strdup(a->owner_dn) : NULL;
	row->status = strdup(agentid_status_name(a->status));
	if (row->uid == NULL || row->dn == NULL || row->status == NULL ||
	    (a->owner_dn != NULL && row->owner == NULL))
		return ENOMEM;
	row->has_not_after = a->has_not_after;
	row->not_after = a->not_after;
	row->has_uid_number = a->has_posix;
	row->uid_number = a->uid_number;
	row->flag = flag;
	row->orphan = why;
	return 0;
}

/* Sort rows by uid. */
static int
row_cmp(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return strcmp(x->uid, y->uid);
}

/* Prints the rows in words or JSON. */
static int
print_rows(const struct list_state *s, bool json)
{
	char buf[40], dur[40];
	size_t i;

	if (json) {
		json_t *a = json_array();

		for (i = 0; i < s->n; i++) {
			const struct row *w = &s->rows[i];
			json_t *v = json_object();

			json_object_set_new(v, "uid", json_str(w->uid));
			json_object_set_new(v, "dn", json_str(w->dn));
			json_object_set_new(v, "owner", json_str(w->owner));
			json_object_set_new(v, "status", json_string(w->status));
			json_object_set_new(v, "not_after", json_time(w->has_not_after,
			    w->not_after));
			json_object_set_new(v, "uid_number", w->has_uid_number ?
			    json_integer(w->uid_number) : json_null());
			json_object_set_new(v, "expired", json_boolean(
			    !w->has_not_after || w->not_after < s->now));
			json_object_set_new(v, "orphaned", w->orphan ?
			    json_string(w->orphan) : json_false());
			json_array_append_new(a, v);
		}
		return print_json(a);
	}
	printf("%-20s %-9s %-10s %-21s %-14s %s\n", "UID", "UIDNUMBER", "STATUS",
	    "NOT AFTER", "NOTE", "OWNER");
	for (i = 0; i < s->n; i++) {
		const struct row *w = &s->rows[i];
		char note[64] = "";
		char num[16] = "-";

		if (w->has_uid_number)
			snprintf(num, sizeof(num), "%u", w->uid_number);
		if (w->orphan != NULL)
			snprintf(note, sizeof(note), "%s", w->orphan);
		else if (!w->has_not_after || w->not_after < s->now)
			snprintf(note, sizeof(note), "expired");
		else if (w->flag != NULL)
			snprintf(note, sizeof(note), "in %s", agentid_format_duration(
			    w->not_after - s->now, dur, sizeof(dur)));
		printf("%-20s %-9s %-10s %-21s %-14s %s\n", w->uid, num, w->status,
		    w->has_not_after ? agentid_format_time(w->not_after, buf,
		    sizeof(buf)) : "-", note[0] ? note : "-",
		    w->owner ? w->owner : "-");
	}
	return 0;
}

/* agentid list: the inventory of agents, optionally only some. */
int
cmd_list(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_error err = { "" };
	struct list_state s;
	struct opts o;
	size_t i;
	int r, ret = EXIT_ERROR;

	memset(&s, 0, sizeof(s));
	if ((r = parse_opts(ctx, argc, argv, list_usage, true, &o, NULL)) >= 0)
		return r;
	if (load_config(ctx, &cfg) != 0)
		goto out;
	s.cfg = cfg;
	s.o = &o;
	s.now = (int64_t)time(NULL);
	s.e = &err;
	if ((r = agentid_ldap_open(cfg, &s.l, &err)) != 0 ||
	    (r = agentid_ldap_each_agent(s.l, list_one, &s, &err)) != 0) {
		tool_err("list: %s", err.msg[0] ? err.msg : strerror(r));
		goto out;
	}
	if (s.n > 1)
		qsort(s.rows, s.n, sizeof(*s.rows), row_cmp);
	if (print_rows(&s, o.json) != 0)
		goto out;
	ret = 0;
out:
	for (i = 0; i < s.n; i++) {
		free(s.rows[i].uid);
		free(s.rows[i].dn);
		free(s.rows[i].owner);
		free(s.rows[i].status);
	}
	free(s.rows);
	agentid_ldap_close(s.l);
	agentid_config_free(cfg);
	return ret;
}
