/*
 * cmd_show.c - agentid show USER: the agent's directory record and each
 * entry of its delegation chain up to the human, in words or JSON. Every
 * value is the directory writer's text: escaped before it is printed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "cli_util.h"
#include "commands.h"

enum { OPT_JSON = 1 };

static const struct option show_longopts[] = {
	{ "json", no_argument, NULL, OPT_JSON },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax show_syntax = {
	show_longopts, "h",
	"usage: agentid show USER [--json] [--config PATH]\n"
	"The agent's directory record and its delegation chain.\n",
	1, 1,
};

/* cli_parse's handler: --json. */
static int
show_opt(int c, const char *arg, void *json)
{
	(void)arg;
	if (c == OPT_JSON)
		*(bool *)json = true;
	return 0;
}

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
	bool json = false;
	const char *user;
	size_t i;
	int r, ret = EXIT_ERROR;

	if ((r = cli_parse(ctx, argc, argv, &show_syntax, show_opt, &json)) >= 0)
		return r;
	user = argv[optind];
	if (cli_load_config(ctx, &cfg) != 0)
		goto out;
	if ((r = agentid_ldap_open(cfg, &l, &err)) != 0 ||
	    (r = agentid_ldap_chain(l, user, &chain, &err)) != 0) {
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
