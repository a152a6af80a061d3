/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_list.c - agentid list: the inventory of agents under base, sorted by
 * uid, optionally only those expiring, expired or orphaned, or only those
 * a person (or an agent) is accountable for through delegation, in a table
 * or JSON (paged searches through libagentid's LDAP source). The walk over
 * the agents, each judged by the chain builder and the engine, is shared
 * with show --tree (inventory_walk). Uids and owner
 * DNs are the directory writer's text: escaped before they are printed.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "cli_util.h"
#include "commands.h"
#include "internal.h"

/* The selections and the output form. */
struct opts {
	bool json;
	bool expired;
	bool orphaned;
	bool has_expiring;
	int64_t expiring;
	const char *owner;    /* --owner: only agents whose chain holds it */
};

enum { OPT_JSON = 1, OPT_EXPIRING, OPT_EXPIRED, OPT_ORPHANED, OPT_OWNER };

static const struct option list_longopts[] = {
	{ "expiring", required_argument, NULL, OPT_EXPIRING },
	{ "expired", no_argument, NULL, OPT_EXPIRED },
	{ "orphaned", no_argument, NULL, OPT_ORPHANED },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax list_syntax = {
	list_longopts, "h",
	"usage: agentid list [--expiring DUR] [--expired] [--orphaned] "
	"[--owner DN] [--json]\n"
	"         [--config PATH]\n"
	"Every agent; with selections, those expiring within DUR, expired or\n"
	"orphaned (owner missing or inactive): any of them. --owner DN keeps\n"
	"only what DN is accountable for: the agents whose delegation chain\n"
	"passes through DN (its agents, their sub-agents, ...).\n",
	0, 0,
};

/* cli_parse's handler: one option into struct opts. */
static int
list_opt(int c, const char *arg, void *op)
{
	struct opts *o = op;

	switch (c) {
	case OPT_JSON:
		o->json = true;
		break;
	case OPT_EXPIRING:
		if (agentid_parse_duration(arg, &o->expiring) != 0 ||
		    o->expiring < 0) {
			tool_err("list: --expiring: not a duration: %s "
			    "(e.g. 7d, 12h)", arg);
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
	case OPT_OWNER:
		if (arg[0] == '\0' || strchr(arg, '=') == NULL) {
			tool_err("list: --owner: not a DN: %s "
			    "(e.g. uid=alice,ou=people,dc=example,dc=org)", arg);
			return EXIT_ERROR;
		}
		o->owner = arg;
		break;
	}
	return 0;
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
	const char *flag;     /* expired, expiring, owner_missing, ... */
	const char *orphan;   /* reason name when orphaned */
	bool expired;         /* the engine said expired (clock_skew applied) */
	bool ambiguous;       /* more than one uid value */
};

struct list_state {
	const struct opts *o;
	int64_t now;
	struct row *rows;
	size_t n;
};

/* The walk's state: the caller's callback and what judging needs. */
struct walk {
	struct agentid_ldap *l;
	const struct agentid_config *cfg;
	int64_t now;
	const char *through;
	inventory_cb cb;
	void *arg;
	struct agentid_error *e;
};

/*
 * The engine's view of an agent's identity: its chain resolved through the
 * chain builder and decided now, as a login would be (scope aside: rules 1-5
 * do not depend on the login). The inventory's notes are the engine's
 * reasons and its effective window, with clock_skew: no rule of its own.
 */
static int
judge(struct walk *w, const struct agentid_record *a,
    struct agentid_decision *d, struct agentid_chain *chain)
{
	struct agentid_request req;
	struct agentid_policy pol;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = agentid_ldap_chain_from(w->l, a, chain, w->e)) != 0)
		return r;
	memset(&req, 0, sizeof(req));
	req.user = a->uid;
	req.service = "";
	req.host = "";
	req.now = w->now;
	agentid_policy_from_config(&pol, w->cfg);
	agentid_decide(chain, &req, &pol, d);
	return 0;
}

/* Does the chain pass through dn above its agent (rec[0])? */
static bool
passes_through(const struct agentid_chain *chain, const char *dn)
{
	size_t i;

	for (i = 1; i < chain->n; i++)
		if (chain->rec[i].dn != NULL &&
		    agentid_dn_equal(chain->rec[i].dn, dn))
			return true;
	return false;
}

/* each_agent callback: judges one agent and hands it on. */
static int
walk_one(const struct agentid_record *a, void *arg)
{
	struct walk *w = arg;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_decision d;
	int r;

	memset(&d, 0, sizeof(d));
	if (a->ambiguous) {
		/* two uid values: no login resolves it, no chain to follow */
		if (w->through != NULL)
			return 0;
		return w->cb(a, &chain, &d, w->arg);
	}
	if ((r = judge(w, a, &d, &chain)) == 0 &&
	    (w->through == NULL || passes_through(&chain, w->through)))
		r = w->cb(a, &chain, &d, w->arg);
	agentid_chain_clear(&chain);
	return r;
}

int
inventory_walk(struct agentid_ldap *l, const struct agentid_config *cfg,
    int64_t now, const char *through, inventory_cb cb, void *arg,
    struct agentid_error *err)
{
	struct walk w = { l, cfg, now, through, cb, arg, err };

	return agentid_ldap_each_agent(l, walk_one, &w, err);
}

/* inventory_walk callback: keeps the agents that the selections ask for. */
static int
list_one(const struct agentid_record *a, const struct agentid_chain *chain,
    const struct agentid_decision *d, void *arg)
{
	struct list_state *s = arg;
	const struct opts *o = s->o;
	bool any = o->expired || o->has_expiring || o->orphaned;
	bool expired, expiring, orphaned;
	const char *flag = NULL;
	struct row *nr, *row;

	(void)chain;
	if (a->ambiguous)
		flag = "ambiguous_uid";
	expired = !a->ambiguous && d->reason == AGENTID_EXPIRED;
	expiring = !a->ambiguous && !expired && o->has_expiring &&
	    d->has_window && d->not_after <= s->now + o->expiring;
	orphaned = !a->ambiguous && (d->reason == AGENTID_OWNER_MISSING ||
	    d->reason == AGENTID_OWNER_INACTIVE);
	if (flag == NULL) {
		if (orphaned)
			flag = agentid_reason_name(d->reason);
		else if (expired)
			flag = "expired";
		else if (expiring)
			flag = "expiring";
	}
	/* an ambiguous entry is nobody's agent: listed with the orphans */
	if (any && !((o->expired && expired) || expiring ||
	    (o->orphaned && (orphaned || a->ambiguous))))
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
	/* the chain's effective notAfter: what the engine holds the agent to */
	row->has_not_after = d->has_window || a->has_not_after;
	row->not_after = d->has_window ? d->not_after : a->not_after;
	row->has_uid_number = a->has_posix;
	row->uid_number = a->uid_number;
	row->flag = flag;
	row->orphan = orphaned ? agentid_reason_name(d->reason) : NULL;
	row->expired = expired;
	row->ambiguous = a->ambiguous;
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

			json_object_set_new(v, "uid", cli_json_str(w->uid));
			json_object_set_new(v, "dn", cli_json_str(w->dn));
			json_object_set_new(v, "owner", cli_json_str(w->owner));
			json_object_set_new(v, "status", json_string(w->status));
			json_object_set_new(v, "not_after", cli_json_time(w->has_not_after,
			    w->not_after));
			json_object_set_new(v, "uid_number", w->has_uid_number ?
			    json_integer(w->uid_number) : json_null());
			json_object_set_new(v, "expired", json_boolean(w->expired));
			json_object_set_new(v, "orphaned", w->orphan ?
			    json_string(w->orphan) : json_false());
			json_object_set_new(v, "ambiguous", json_boolean(w->ambiguous));
			json_array_append_new(a, v);
		}
		return cli_print_json(a);
	}
	printf("%-20s %-9s %-10s %-21s %-14s %s\n", "UID", "UIDNUMBER", "STATUS",
	    "NOT AFTER", "NOTE", "OWNER");
	for (i = 0; i < s->n; i++) {
		const struct row *w = &s->rows[i];
		struct cli_text t = { NULL, 0 };
		char note[64] = "";
		char num[16] = "-";

		if (w->has_uid_number)
			snprintf(num, sizeof(num), "%u", w->uid_number);
		if (w->ambiguous || w->orphan != NULL || w->expired)
			snprintf(note, sizeof(note), "%s", w->flag);
		else if (w->flag != NULL)
			snprintf(note, sizeof(note), "in %s", agentid_format_duration(
			    w->not_after - s->now, dur, sizeof(dur)));
		printf("%-20s %-9s %-10s %-21s %-14s %s\n", cli_esc(&t, w->uid),
		    num, w->status, w->has_not_after ? agentid_format_time(
		    w->not_after, buf, sizeof(buf)) : "-", note[0] ? note : "-",
		    cli_esc(&t, w->owner));
		cli_text_free(&t);
	}
	return 0;
}

/* agentid list: the inventory of agents, optionally only some. */
int
cmd_list(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_ldap *l = NULL;
	struct agentid_error err = { "" };
	struct list_state s;
	struct opts o;
	size_t i;
	int r, ret = EXIT_ERROR;

	memset(&s, 0, sizeof(s));
	memset(&o, 0, sizeof(o));
	if ((r = cli_parse(ctx, argc, argv, &list_syntax, list_opt, &o)) >= 0)
		return r;
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	s.o = &o;
	s.now = (int64_t)time(NULL);
	if ((r = agentid_ldap_open(cfg, &l, &err)) != 0 ||
	    (r = inventory_walk(l, cfg, s.now, o.owner, list_one, &s,
	    &err)) != 0) {
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
	agentid_ldap_close(l);
	agentid_config_free(cfg);
	return ret;
}
