/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_show.c - agentid show USER: the agent's directory record and each
 * entry of its delegation chain up to the human, in words or JSON; and
 * agentid show --tree USER-or-DN: everything below a human (or an agent),
 * down the delegations, each agent judged by the engine as the inventory
 * does (inventory_walk). Every value is the directory writer's text:
 * escaped before it is printed.
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
#include "lifecycle.h"

enum { OPT_JSON = 1, OPT_TREE };

static const struct option show_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	{ "tree", no_argument, NULL, OPT_TREE },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax show_syntax = {
	show_longopts, "h",
	"usage: agentid show USER [--json] [--config PATH]\n"
	"       agentid show --tree USER-or-DN [--json] [--config PATH]\n"
	"The agent's directory record and its delegation chain; with --tree,\n"
	"the agents a human (or an agent) is accountable for, as a tree down\n"
	"the delegations: each with its status, effective notAfter and what\n"
	"the engine says of its identity (the login's scope aside).\n",
	1, 1,
};

struct show_opts {
	bool json;
	bool tree;
};

/* cli_parse's handler: --json, --tree. */
static int
show_opt(int c, const char *arg, void *op)
{
	struct show_opts *o = op;

	(void)arg;
	if (c == OPT_JSON)
		o->json = true;
	else if (c == OPT_TREE)
		o->tree = true;
	return 0;
}

/* ------------------------------------------------------------ the tree */

/* One agent below the root. */
struct node {
	char *uid;
	char *dn;
	char *parent;         /* its agentOwner as resolved: rec[1] */
	char *status;
	char *note;           /* "ok", or the engine's sentence */
	const char *reason;   /* "ok" or the reason name */
	bool has_not_after;
	int64_t not_after;    /* effective: the chain's earliest */
	bool has_uid_number;
	uint32_t uid_number;
	bool placed;          /* printed already (never twice) */
};

struct tree {
	const char *root;     /* the DN the tree hangs from */
	bool root_known;      /* its record was seen in a chain */
	bool root_agent;
	bool root_active;
	char *root_uid;
	char *root_status;
	struct node *v;
	size_t n;
	int64_t now;
};

/* inventory_walk callback: one agent below the root, as a node. */
static int
tree_one(const struct agentid_record *a, const struct agentid_chain *chain,
    const struct agentid_decision *d, void *arg)
{
	struct tree *t = arg;
	struct node *nv, *x;
	char buf[1024];
	const char *note;
	size_t i;

	for (i = 1; !t->root_known && i < chain->n; i++) {
		const struct agentid_record *r = &chain->rec[i];

		if (r->dn == NULL || !agentid_dn_equal(r->dn, t->root))
			continue;
		t->root_known = true;
		t->root_agent = r->is_agent;
		t->root_active = r->is_agent ? r->status ==
		    AGENTID_STATUS_ACTIVE : r->owner_active;
		if ((r->uid != NULL && (t->root_uid = strdup(r->uid)) == NULL) ||
		    (t->root_status = strdup(r->is_agent ?
		    agentid_status_name(r->status) : r->owner_active ?
		    "active" : "inactive")) == NULL)
			return ENOMEM;
	}
	if ((nv = realloc(t->v, (t->n + 1) * sizeof(*nv))) == NULL)
		return ENOMEM;
	t->v = nv;
	x = &nv[t->n++];
	memset(x, 0, sizeof(*x));
	if (d->allow || agentid_reason_is_login(d->reason)) {
		note = "ok";
		x->reason = "ok";
	} else {
		/* "denied: revoked — uid=orch,... (delegator of ...) is revoked" */
		note = agentid_explain(chain, d, buf, sizeof(buf));
		if (strncmp(note, "denied: ", 8) == 0)
			note += 8;
		x->reason = agentid_reason_name(d->reason);
	}
	x->uid = strdup(a->uid != NULL ? a->uid : "?");
	x->dn = strdup(a->dn != NULL ? a->dn : "?");
	x->parent = strdup(chain->n > 1 && chain->rec[1].dn != NULL ?
	    chain->rec[1].dn : t->root);
	x->status = strdup(agentid_status_name(a->status));
	x->note = strdup(note);
	if (x->uid == NULL || x->dn == NULL || x->parent == NULL ||
	    x->status == NULL || x->note == NULL)
		return ENOMEM;
	x->has_not_after = d->has_window || a->has_not_after;
	x->not_after = d->has_window ? d->not_after : a->not_after;
	x->has_uid_number = a->has_posix;
	x->uid_number = a->uid_number;
	return 0;
}

/* Sorts nodes by uid: siblings print in that order. */
static int
node_cmp(const void *a, const void *b)
{
	const struct node *x = a, *y = b;

	return strcmp(x->uid, y->uid);
}

/* Is node i a child of dn? A node whose delegator is not in the tree
 * (its chain reached the root through an entry the walk did not list)
 * hangs from the root. */
static bool
child_of(const struct tree *t, size_t i, const char *dn)
{
	size_t j;

	if (agentid_dn_equal(t->v[i].parent, dn))
		return true;
	if (!agentid_dn_equal(dn, t->root))
		return false;
	for (j = 0; j < t->n; j++)
		if (j != i && agentid_dn_equal(t->v[i].parent, t->v[j].dn))
			return false;
	return true;
}

/* The children of dn as a JSON array, recursively. */
static json_t *
json_children(struct tree *t, const char *dn, size_t depth)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; depth < 64 && i < t->n; i++) {
		struct node *x = &t->v[i];
		json_t *v;

		if (x->placed || !child_of(t, i, dn))
			continue;
		x->placed = true;
		v = json_object();
		json_object_set_new(v, "uid", cli_json_str(x->uid));
		json_object_set_new(v, "dn", cli_json_str(x->dn));
		json_object_set_new(v, "status", json_string(x->status));
		json_object_set_new(v, "not_after", cli_json_time(x->has_not_after,
		    x->not_after));
		json_object_set_new(v, "uid_number", x->has_uid_number ?
		    json_integer(x->uid_number) : json_null());
		json_object_set_new(v, "reason", json_string(x->reason));
		json_object_set_new(v, "note", cli_json_str(x->note));
		json_object_set_new(v, "agents", json_children(t, x->dn,
		    depth + 1));
		json_array_append_new(a, v);
	}
	return a;
}

/* Prints the children of dn, each line prefixed by the branches above. */
static void
print_children(struct tree *t, const char *dn, char *prefix, size_t plen,
    size_t depth)
{
	size_t i, j, last = t->n;

	for (i = 0; i < t->n; i++)
		if (!t->v[i].placed && child_of(t, i, dn))
			last = i;
	for (i = 0; depth < 64 && i < t->n; i++) {
		struct node *x = &t->v[i];
		struct cli_text tx = { NULL, 0 };
		char buf[40], num[24] = "";

		if (x->placed || !child_of(t, i, dn))
			continue;
		x->placed = true;
		if (x->has_uid_number)
			snprintf(num, sizeof(num), " (%u)", x->uid_number);
		printf("%s%s %s%s  %s  not after %s  %s\n", prefix,
		    i == last ? "`-" : "|-", cli_esc(&tx, x->uid), num, x->status,
		    x->has_not_after ? agentid_format_time(x->not_after, buf,
		    sizeof(buf)) : "-", cli_esc(&tx, x->note));
		cli_text_free(&tx);
		j = strlen(prefix);
		if (j + 4 < plen) {
			snprintf(prefix + j, plen - j, "%s", i == last ? "   " :
			    "|  ");
			print_children(t, x->dn, prefix, plen, depth + 1);
			prefix[j] = '\0';
		}
	}
}

/*
 * The DN the tree hangs from: arg itself when it holds '=', else the
 * agent of that uid, else the one entry under base with that uid (a
 * person). 0, EXIT_DENY (nothing has that uid, said) or EXIT_ERROR.
 */
static int
tree_root(struct agentid_ldap *l, const struct agentid_config *cfg,
    const char *arg, char **dn)
{
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	struct cli_text t = { NULL, 0 };
	char **dns = NULL;
	size_t n = 0;
	int r, ret = EXIT_ERROR;

	*dn = NULL;
	if (strchr(arg, '=') != NULL) {
		*dn = strdup(arg);
		return *dn != NULL ? 0 : EXIT_ERROR;
	}
	if ((r = agentid_ldap_chain(l, arg, &chain, &err)) != 0 ||
	    (chain.n == 0 &&
	     (r = agentid_ldap_find(l, "uid", arg, &dns, &n, &err)) != 0)) {
		tool_err("show --tree %s: %s", arg, err.msg[0] ? err.msg :
		    strerror(r));
		goto out;
	}
	if (chain.n > 0) {
		*dn = strdup(chain.rec[0].dn);
	} else if (n == 1) {
		*dn = strdup(dns[0]);
	} else {
		printf("%s: %s entry under %s has that uid%s\n",
		    cli_esc(&t, arg), n == 0 ? "no" : "more than one",
		    cli_esc(&t, cfg->base), n == 0 ? "" : ": give the DN");
		ret = EXIT_DENY;
		goto out;
	}
	ret = *dn != NULL ? 0 : EXIT_ERROR;
out:
	cli_text_free(&t);
	agentid_ldap_dns_free(dns);
	agentid_chain_clear(&chain);
	return ret;
}

/* agentid show --tree USER-or-DN. */
static int
show_tree(struct agentid_ldap *l, const struct agentid_config *cfg,
    const char *arg, bool json)
{
	struct agentid_error err = { "" };
	struct tree t;
	char prefix[256] = "";
	char *root = NULL;
	size_t i;
	int r, ret;

	memset(&t, 0, sizeof(t));
	if ((ret = tree_root(l, cfg, arg, &root)) != 0)
		return ret;
	ret = EXIT_ERROR;
	t.root = root;
	t.now = (int64_t)time(NULL);
	if ((r = inventory_walk(l, cfg, t.now, root, tree_one, &t, &err)) != 0) {
		tool_err("show --tree %s: %s", arg, err.msg[0] ? err.msg :
		    strerror(r));
		goto out;
	}
	if (t.n > 1)
		qsort(t.v, t.n, sizeof(*t.v), node_cmp);
	if (json) {
		json_t *v = json_object();

		json_object_set_new(v, "dn", cli_json_str(root));
		json_object_set_new(v, "uid", cli_json_str(t.root_uid));
		json_object_set_new(v, "agent", t.root_known ?
		    json_boolean(t.root_agent) : json_null());
		json_object_set_new(v, "status", t.root_known ?
		    json_string(t.root_status) : json_null());
		json_object_set_new(v, "agents", json_children(&t, root, 0));
		if (cli_print_json(v) != 0)
			goto out;
	} else {
		struct cli_text tx = { NULL, 0 };

		if (!t.root_known)
			printf("%s (no agents)\n", cli_esc(&tx, root));
		else if (t.root_agent)
			printf("%s (agent %s, %s)\n", cli_esc(&tx, root),
			    cli_esc(&tx, t.root_uid), t.root_status);
		else
			printf("%s (human, %s)\n", cli_esc(&tx, root),
			    t.root_active ? "active" :
			    "NOT active (owner_active_filter)");
		cli_text_free(&tx);
		print_children(&t, root, prefix, sizeof(prefix), 0);
	}
	ret = EXIT_ALLOW;
out:
	for (i = 0; i < t.n; i++) {
		free(t.v[i].uid);
		free(t.v[i].dn);
		free(t.v[i].parent);
		free(t.v[i].status);
		free(t.v[i].note);
	}
	free(t.v);
	free(t.root_uid);
	free(t.root_status);
	free(root);
	return ret;
}

/* ------------------------------------------------------- one agent */

/* One record as a JSON object. */
static json_t *
json_record(const struct agentid_record *r)
{
	json_t *v = json_object(), *a;
	size_t i;

	json_object_set_new(v, "dn", cli_json_str(r->dn));
	json_object_set_new(v, "agent", json_boolean(r->is_agent));
	json_object_set_new(v, "uid", cli_json_str(r->uid));
	if (r->is_agent) {
		json_object_set_new(v, "owner", cli_json_str(r->owner_dn));
		json_object_set_new(v, "status", json_string(agentid_status_name(r->status)));
		json_object_set_new(v, "not_before", cli_json_time(r->has_not_before,
		    r->not_before));
		json_object_set_new(v, "not_after", cli_json_time(r->has_not_after,
		    r->not_after));
		a = json_array();
		for (i = 0; i < r->n_scope; i++)
			json_array_append_new(a, cli_json_str(r->scope[i]));
		json_object_set_new(v, "scope", a);
		a = json_array();
		for (i = 0; i < r->n_fingerprints; i++)
			json_array_append_new(a, cli_json_str(r->fingerprints[i]));
		json_object_set_new(v, "fingerprints", a);
	} else {
		json_object_set_new(v, "active", json_boolean(r->owner_active));
	}
	if (r->has_posix) {
		json_object_set_new(v, "uid_number", json_integer(r->uid_number));
		json_object_set_new(v, "gid_number", json_integer(r->gid_number));
		json_object_set_new(v, "home", cli_json_str(r->home));
		json_object_set_new(v, "shell", cli_json_str(r->shell));
		json_object_set_new(v, "gecos", cli_json_str(r->gecos));
	}
	json_object_set_new(v, "description", cli_json_str(r->description));
	return v;
}

/* Prints one chain element in words, every value escaped. */
static void
print_record(const struct agentid_record *r, size_t depth)
{
	struct cli_text t = { NULL, 0 };
	char buf[40];
	size_t i;

	if (depth == 0)
		printf("%s\n", cli_esc(&t, r->dn));
	else
		printf("%s %s\n", r->is_agent ? "delegated by" : "owned by",
		    cli_esc(&t, r->dn));
	if (!r->is_agent) {
		printf("  human%s\n", r->owner_active ? "" :
		    ", NOT active (owner_active_filter)");
		goto out;
	}
	printf("  uid:          %s\n", cli_esc(&t, r->uid));
	printf("  status:       %s\n", r->status_text ?
	    cli_esc(&t, r->status_text) : "active");
	printf("  not before:   %s\n", r->has_not_before ?
	    agentid_format_time(r->not_before, buf, sizeof(buf)) : "-");
	printf("  not after:    %s\n", r->has_not_after ?
	    agentid_format_time(r->not_after, buf, sizeof(buf)) : "- (invalid)");
	for (i = 0; i < r->n_scope; i++)
		printf("  scope:        %s\n", cli_esc(&t, r->scope[i]));
	for (i = 0; i < r->n_fingerprints; i++)
		printf("  key:          %s\n", cli_esc(&t, r->fingerprints[i]));
	if (r->has_posix)
		printf("  posix:        uid %u gid %u home %s shell %s\n",
		    r->uid_number, r->gid_number, cli_esc(&t, r->home),
		    cli_esc(&t, r->shell));
	if (r->has_posix && r->gecos != NULL)
		printf("  gecos:        %s\n", cli_esc(&t, r->gecos));
	if (r->description != NULL)
		printf("  description:  %s\n", cli_esc(&t, r->description));
out:
	cli_text_free(&t);
}

/* agentid show USER: the record and its chain. */
int
cmd_show(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_ldap *l = NULL;
	struct agentid_chain chain = { NULL, 0 };
	struct agentid_error err = { "" };
	struct show_opts o = { false, false };
	bool json;
	const char *user;
	size_t i;
	int r, ret = EXIT_ERROR;

	if ((r = cli_parse(ctx, argc, argv, &show_syntax, show_opt, &o)) >= 0)
		return r;
	json = o.json;
	user = argv[optind];
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	if ((r = agentid_ldap_open(cfg, &l, &err)) != 0) {
		tool_err("show %s: %s", user, err.msg[0] ? err.msg : strerror(r));
		goto out;
	}
	if (o.tree) {
		ret = show_tree(l, cfg, user, json);
		goto out;
	}
	if ((r = agentid_ldap_chain(l, user, &chain, &err)) != 0) {
		tool_err("show %s: %s", user, err.msg[0] ? err.msg : strerror(r));
		goto out;
	}
	if (chain.n == 0) {
		if (json) {
			json_t *v = json_object();

			json_object_set_new(v, "user", cli_json_str(user));
			json_object_set_new(v, "agent", json_false());
			cli_print_json(v);
		} else {
			struct cli_text t = { NULL, 0 };
			const char *u = cli_esc(&t, user);

			printf("%s is not an agent (no entry matches uid=%s and "
			    "agent_filter under %s)\n", u, u,
			    cli_esc(&t, cfg->base));
			cli_text_free(&t);
		}
		ret = EXIT_DENY;
		goto out;
	}
	if (json) {
		json_t *v = json_record(&chain.rec[0]), *a = json_array();

		for (i = 0; i < chain.n; i++)
			json_array_append_new(a, json_record(&chain.rec[i]));
		json_object_set_new(v, "chain", a);
		if (cli_print_json(v) != 0)
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
