/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_lifecycle.c - agentid create, narrow, renew, suspend, resume, revoke
 * and delete: writes to the directory with the operator's own credentials,
 * each checked first by the write-time rules (common/attenuate.c) over the
 * chain the one chain builder resolves, each audited as event "admin".
 * Exit 0 done, 1 refused (the rule named), 2 error.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "agentid_ldap.h"
#include "chain.h"
#include "cli_util.h"
#include "commands.h"
#include "internal.h"
#include "lifecycle.h"

enum {
	OPT_BIND_DN = 1, OPT_PASSWORD_FILE, OPT_SASL_EXTERNAL, OPT_DRY_RUN,
	OPT_OWNER, OPT_NOT_AFTER, OPT_FOR, OPT_SCOPE, OPT_UID_NUMBER,
	OPT_GID_NUMBER, OPT_DESCRIPTION,
};
/* bit of each option, for the commands that take it */
#define B(o) (1u << (o))
#define CRED_OPTS (B(OPT_BIND_DN) | B(OPT_PASSWORD_FILE) | \
	B(OPT_SASL_EXTERNAL) | B(OPT_DRY_RUN))

static const struct option lc_longopts[] = {
	{ "bind-dn", required_argument, NULL, OPT_BIND_DN },
	{ "password-file", required_argument, NULL, OPT_PASSWORD_FILE },
	{ "sasl-external", no_argument, NULL, OPT_SASL_EXTERNAL },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "owner", required_argument, NULL, OPT_OWNER },
	{ "not-after", required_argument, NULL, OPT_NOT_AFTER },
	{ "for", required_argument, NULL, OPT_FOR },
	{ "scope", required_argument, NULL, OPT_SCOPE },
	{ "uid-number", required_argument, NULL, OPT_UID_NUMBER },
	{ "gid-number", required_argument, NULL, OPT_GID_NUMBER },
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
	CLI_COMMON_OPTIONS,
};

#define CRED_USAGE \
	"Credentials (writes never use the host's bind):\n" \
	"  --bind-dn DN [--password-file FILE]  simple bind; without a file\n" \
	"                                       the password is asked on the tty\n" \
	"  --sasl-external                      SASL EXTERNAL over ldapi://\n" \
	"  --dry-run                            print the LDIF, change nothing\n" \
	"Exit 0 done, 1 refused (the rule is named), 2 error.\n"

static const struct lc_cmd {
	const char *name;
	unsigned opts;
	const char *usage;
} lc_cmds[] = {
	{ "create", CRED_OPTS | B(OPT_OWNER) | B(OPT_NOT_AFTER) | B(OPT_FOR) |
	  B(OPT_SCOPE) | B(OPT_UID_NUMBER) | B(OPT_GID_NUMBER) |
	  B(OPT_DESCRIPTION),
	  "usage: agentid create USER --owner DN (--not-after TIME | --for DUR)\n"
	  "         [--scope KIND:PATTERN]... [--uid-number N] [--gid-number N]\n"
	  "         [--description TEXT] [credentials] [--config PATH]\n"
	  "Creates an agent; refused unless the owner is a person or an agent,\n"
	  "the lifetime fits max_lifetime and every delegator's notAfter, the\n"
	  "depth fits, and every grant is covered by every delegator's grants.\n"
	  "TIME is a GeneralizedTime (20261231000000Z).\n" CRED_USAGE },
	{ "narrow", CRED_OPTS | B(OPT_SCOPE) | B(OPT_NOT_AFTER),
	  "usage: agentid narrow USER [--scope KIND:PATTERN]... [--not-after TIME]\n"
	  "         [credentials] [--config PATH]\n"
	  "--scope gives the grants the agent keeps; refused unless it only\n"
	  "removes grants or shortens the window.\n" CRED_USAGE },
	{ "renew", CRED_OPTS | B(OPT_FOR),
	  "usage: agentid renew USER --for DUR [credentials] [--config PATH]\n"
	  "Sets notAfter to now + DUR, within max_lifetime and the delegators'.\n"
	  CRED_USAGE },
	{ "suspend", CRED_OPTS,
	  "usage: agentid suspend USER [credentials] [--config PATH]\n" CRED_USAGE },
	{ "resume", CRED_OPTS,
	  "usage: agentid resume USER [credentials] [--config PATH]\n"
	  "Refused for a revoked agent.\n" CRED_USAGE },
	{ "revoke", CRED_OPTS,
	  "usage: agentid revoke USER [credentials] [--config PATH]\n"
	  "Revoked is final for the tool; its delegates are denied with it.\n"
	  CRED_USAGE },
	{ "delete", CRED_OPTS,
	  "usage: agentid delete USER [credentials] [--config PATH]\n"
	  "Refused while delegates exist.\n" CRED_USAGE },
};

struct lc_opts {
	const struct lc_cmd *cmd;
	const char *bind_dn, *password_file, *owner, *description;
	bool sasl_external, dry_run, scope_given;
	bool has_not_after, has_for, has_uid, has_gid;
	int64_t not_after, dur;
	uint32_t uid_number, gid_number;
	char **scope;
	size_t n_scope;
};

/* Parses a uidNumber/gidNumber: 1 .. 2^32 - 2. */
static int
parse_id(const char *s, uint32_t *out)
{
	unsigned long long u;
	char *end;

	errno = 0;
	if (s[0] < '0' || s[0] > '9')
		return EINVAL;
	u = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || u == 0 || u >= UINT32_MAX)
		return EINVAL;
	*out = (uint32_t)u;
	return 0;
}

/* cli_parse's handler: each option, refused when the command lacks it. */
static int
lc_opt(int c, const char *arg, void *p)
{
	struct lc_opts *o = p;
	struct agentid_error err = { "" };

	if (c <= 0 || c >= 32 || !(o->cmd->opts & B(c))) {
		tool_err("%s: option not taken by this command", o->cmd->name);
		fputs(o->cmd->usage, stderr);
		return EXIT_ERROR;
	}
	switch (c) {
	case OPT_BIND_DN: o->bind_dn = arg; break;
	case OPT_PASSWORD_FILE: o->password_file = arg; break;
	case OPT_SASL_EXTERNAL: o->sasl_external = true; break;
	case OPT_DRY_RUN: o->dry_run = true; break;
	case OPT_OWNER: o->owner = arg; break;
	case OPT_DESCRIPTION: o->description = arg; break;
	case OPT_NOT_AFTER:
		if (agentid_parse_gentime(arg, &o->not_after) != 0) {
			tool_err("--not-after %s: expected a GeneralizedTime "
			    "(20261231000000Z)", arg);
			return EXIT_ERROR;
		}
		o->has_not_after = true;
		break;
	case OPT_FOR:
		if (agentid_parse_duration(arg, &o->dur) != 0 || o->dur <= 0) {
			tool_err("--for %s: expected a duration (12h, 30d)", arg);
			return EXIT_ERROR;
		}
		o->has_for = true;
		break;
	case OPT_SCOPE:
		if (agentid_grant_valid(arg, &err) != 0) {
			tool_err("%s", err.msg);
			return EXIT_ERROR;
		}
		if (agentid_strv_add(&o->scope, &o->n_scope, arg) != 0)
			return EXIT_ERROR;
		o->scope_given = true;
		break;
	case OPT_UID_NUMBER:
	case OPT_GID_NUMBER:
		if (parse_id(arg, c == OPT_UID_NUMBER ? &o->uid_number :
		    &o->gid_number) != 0) {
			tool_err("%s: not a number from 1 to 4294967294", arg);
			return EXIT_ERROR;
		}
		if (c == OPT_UID_NUMBER)
			o->has_uid = true;
		else
			o->has_gid = true;
		break;
	}
	return 0;
}

/* Reads a password from the terminal with echo off; malloc'd or NULL. */
static char *
prompt_password(const char *dn)
{
	struct termios old, quiet;
	char buf[1024], *pw = NULL;
	size_t n = 0;
	ssize_t k;
	char c;
	int fd;

	if ((fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)) < 0) {
		tool_err("no terminal to ask the password of %s on: give "
		    "--password-file", dn);
		return NULL;
	}
	if (tcgetattr(fd, &old) != 0) {
		tool_err("cannot turn echo off on the terminal");
		goto out;
	}
	quiet = old;
	quiet.c_lflag &= (tcflag_t)~(ECHO | ECHONL);
	if (tcsetattr(fd, TCSAFLUSH, &quiet) != 0)
		goto out;
	(void)!write(fd, "Password for the bind DN: ", 26);
	while ((k = read(fd, &c, 1)) == 1 && c != '\n' && c != '\r')
		if (n < sizeof(buf) - 1)
			buf[n++] = c;
	buf[n] = '\0';
	(void)tcsetattr(fd, TCSAFLUSH, &old);
	(void)!write(fd, "\n", 1);
	if (k == 1 || n > 0)
		pw = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
out:
	close(fd);
	return pw;
}

/* GeneralizedTime text of t (UTC, seconds). */
static char *
gentime(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y%m%d%H%M%SZ",
	    &tm) == 0)
		snprintf(buf, len, "99991231235959Z");
	return buf;
}

/* Is n a local account's uid (/etc/passwd read as a file, not NSS: an
 * agent served by NSS must not count itself)? */
static bool
local_uid(uint32_t n)
{
	char line[4096], *p, *end;
	unsigned long long u;
	bool used = false;
	FILE *f;
	int field;

	if ((f = fopen("/etc/passwd", "re")) == NULL)
		return false;
	while (!used && fgets(line, sizeof(line), f) != NULL) {
		for (p = line, field = 0; field < 2 && p != NULL; field++)
			if ((p = strchr(p, ':')) != NULL)
				p++;
		if (p == NULL)
			continue;
		errno = 0;
		u = strtoull(p, &end, 10);
		if (errno == 0 && end != p && *end == ':' && u == n)
			used = true;
	}
	fclose(f);
	return used;
}

/* Compares two uint32_t for qsort. */
static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* State of one lifecycle run. */
struct lc_run {
	struct tool_ctx *ctx;
	struct lc_opts *o;
	struct agentid_config *cfg;
	struct agentid_config opcfg;  /* cfg with the operator's bind */
	struct agentid_ldap *l;
	char *operator_id;
	char *password;
	char **ldapi;                 /* --sasl-external: the ldapi:// URIs */
	const char *user;
	char host[256];
	int64_t now;
	struct agentid_chain chain;   /* the agent (as written for create) */
	struct agentid_refusal ref;
	char task[512];               /* the change in one line (audit) */
	uint32_t uidn;                /* create: the uidNumber written */
	uint32_t uid_floor;           /* create: numbers up to it were lost
	                               * to a concurrent create */
};

/* Creates that lose their uidNumber to a concurrent one and try the next. */
#define UID_RETRIES 8

/* Appends an admin event; allow (d non-NULL, allow), deny (rule) or error. */
static int
audit_admin(struct lc_run *r, const char *decision, const char *rule)
{
	struct agentid_audit_event ev;
	struct agentid_decision d;
	struct agentid_error err = { "" };
	int rc;

	memset(&ev, 0, sizeof(ev));
	memset(&d, 0, sizeof(d));
	ev.ts = r->now;
	ev.host = r->host;
	ev.event = "admin";
	ev.service = r->o->cmd->name;
	ev.user = r->user;
	ev.chain = r->chain.n > 0 ? &r->chain : NULL;
	ev.pid = getpid();
	ev.duration = -1;
	ev.operator_name = r->operator_id;
	ev.task = r->task[0] ? r->task : NULL;
	if (decision != NULL) {
		d.allow = strcmp(decision, "allow") == 0;
		d.reason = AGENTID_OK;
		if (r->chain.n > 0 && r->chain.rec[0].has_not_after) {
			d.has_window = true;
			d.not_after = r->chain.rec[0].not_after;
		}
		ev.decision = &d;
		ev.reason = rule != NULL ? rule : "ok";
	} else {
		ev.reason = rule;
	}
	if ((rc = agentid_audit_append(r->cfg, &ev, &err)) != 0) {
		tool_err("audit: %s", err.msg[0] ? err.msg : strerror(rc));
		if (r->cfg->audit_required)
			return rc;
	}
	return 0;
}

/* Prints and audits a refusal; EXIT_DENY (EXIT_ERROR if the audit fails). */
static int
refused(struct lc_run *r)
{
	tool_err("%s %s refused: %s (%s)", r->o->cmd->name, r->user,
	    r->ref.rule, r->ref.msg);
	if (!r->o->dry_run && audit_admin(r, "deny", r->ref.rule) != 0)
		return EXIT_ERROR;
	return EXIT_DENY;
}

/* Opens the connection: the operator's, or the host's for a dry run. */
static int
connect_operator(struct lc_run *r)
{
	struct agentid_error err = { "" };
	struct lc_opts *o = r->o;
	static char *ldapi_default[] = { "ldapi:///", NULL };
	static char sasl[] = "EXTERNAL";
	size_t i, n = 0;
	int rc;

	if ((o->bind_dn != NULL) + o->sasl_external > 1 ||
	    (o->password_file != NULL && o->bind_dn == NULL)) {
		tool_err("give either --bind-dn DN [--password-file FILE] or "
		    "--sasl-external");
		return EXIT_ERROR;
	}
	r->opcfg = *r->cfg;
	if (o->bind_dn != NULL) {
		r->opcfg.binddn = (char *)o->bind_dn;
		r->opcfg.bindpw_file = NULL;
		r->opcfg.sasl_mech = NULL;
		if (o->password_file != NULL)
			rc = agentid_read_secret(o->password_file, &r->password, &err);
		else
			rc = (r->password = prompt_password(o->bind_dn)) ? 0 : EACCES;
		if (rc != 0) {
			if (err.msg[0])
				tool_err("%s", err.msg);
			return EXIT_ERROR;
		}
	} else if (o->sasl_external) {
		/* EXTERNAL over ldapi://: the configured ldapi URIs, else the
		 * local server's default socket */
		if ((r->ldapi = calloc(r->cfg->n_uri + 1, sizeof(char *))) == NULL)
			return EXIT_ERROR;
		for (i = 0; i < r->cfg->n_uri; i++)
			if (strncasecmp(r->cfg->uri[i], "ldapi://", 8) == 0)
				r->ldapi[n++] = r->cfg->uri[i];
		r->opcfg.uri = n > 0 ? r->ldapi : ldapi_default;
		r->opcfg.n_uri = n > 0 ? n : 1;
		r->opcfg.binddn = NULL;
		r->opcfg.bindpw_file = NULL;
		r->opcfg.sasl_mech = sasl;
	} else if (!o->dry_run) {
		tool_err("%s writes with the operator's own credentials: give "
		    "--bind-dn DN (--password-file FILE or a prompt) or "
		    "--sasl-external", o->cmd->name);
		return EXIT_ERROR;
	}
	if ((rc = agentid_ldap_open_password(&r->opcfg, r->password, &r->l,
	    &err)) != 0) {
		tool_err("%s", err.msg[0] ? err.msg : strerror(rc));
		return EXIT_ERROR;
	}
	if (o->bind_dn != NULL || o->sasl_external) {
		if ((rc = agentid_ldap_whoami(r->l, &r->operator_id, &err)) != 0 &&
		    o->bind_dn != NULL)
			r->operator_id = strdup(o->bind_dn);
		if (r->operator_id == NULL) {
			tool_err("%s", err.msg[0] ? err.msg : strerror(rc));
			return EXIT_ERROR;
		}
	}
	return 0;
}

/* Resolves chain from rec[0] (create) or user (others); 0 or EXIT_ERROR. */
static int
resolve(struct lc_run *r, bool from_first)
{
	struct agentid_lookup lk;
	struct agentid_error err = { "" };
	int rc;

	agentid_ldap_lookup(r->l, &lk);
	rc = from_first ? agentid_chain_extend(&lk, r->cfg->max_delegation_depth,
	    &r->chain, &err) : agentid_chain_build(&lk,
	    r->cfg->max_delegation_depth, r->user, &r->chain, &err);
	if (rc != 0) {
		tool_err("%s: %s", r->user, err.msg[0] ? err.msg : strerror(rc));
		return EXIT_ERROR;
	}
	return 0;
}

/* Picks the uidNumber for create; 0, EXIT_DENY (ref set) or EXIT_ERROR. */
static int
pick_uid(struct lc_run *r, uint32_t *out)
{
	struct agentid_error err = { "" };
	uint32_t *used = NULL, lo = r->cfg->uid_range[0], hi = r->cfg->uid_range[1];
	uint64_t cand;
	size_t n = 0, i = 0;
	int rc, ret = EXIT_ERROR;

	if (r->o->has_uid)
		lo = hi = r->o->uid_number;
	else if (lo == 0) {
		tool_err("create: give --uid-number or set uid_range in %s",
		    r->ctx->config_path);
		return EXIT_ERROR;
	} else if (r->uid_floor >= lo && r->uid_floor < hi)
		lo = r->uid_floor + 1;
	else if (r->uid_floor >= hi)
		lo = hi + 1;  /* the range was lost: nothing left to try */
	if ((rc = agentid_ldap_uid_numbers(r->l, lo, hi, &used, &n, &err)) != 0) {
		tool_err("%s", err.msg[0] ? err.msg : strerror(rc));
		return EXIT_ERROR;
	}
	if (n > 1)
		qsort(used, n, sizeof(*used), cmp_u32);
	for (cand = lo; cand <= hi; cand++) {
		while (i < n && used[i] < cand)
			i++;
		if ((i < n && used[i] == cand) || local_uid((uint32_t)cand))
			continue;
		*out = (uint32_t)cand;
		ret = 0;
		goto out;
	}
	if (r->o->has_uid)
		snprintf(r->ref.msg, sizeof(r->ref.msg), "uidNumber %u is used by "
		    "another entry or a local account", r->o->uid_number);
	else
		snprintf(r->ref.msg, sizeof(r->ref.msg), "no free uidNumber in "
		    "uid_range %u-%u", lo, hi);
	r->ref.rule = r->o->has_uid ? "uid_number_in_use" : "uid_range_exhausted";
	ret = EXIT_DENY;
out:
	free(used);
	return ret;
}

/* Validates and builds create's change; 0, EXIT_DENY or EXIT_ERROR. */
static int
plan_create(struct lc_run *r, struct agentid_change *ch)
{
	struct agentid_error err = { "" };
	struct agentid_policy pol;
	struct agentid_record *a;
	struct lc_opts *o = r->o;
	char **dns = NULL, num[16], t[32];
	size_t n = 0, i;
	uint32_t uidn = 0;
	int rc;

	if (o->owner == NULL || o->has_not_after == o->has_for) {
		tool_err("create: give --owner DN and one of --not-after TIME or "
		    "--for DUR");
		fputs(o->cmd->usage, stderr);
		return EXIT_ERROR;
	}
	if ((rc = agentid_ldap_find(r->l, "uid", r->user, &dns, &n, &err)) != 0) {
		tool_err("%s", err.msg[0] ? err.msg : strerror(rc));
		return EXIT_ERROR;
	}
	agentid_ldap_dns_free(dns);
	if (n > 0) {
		r->ref.rule = "user_exists";
		snprintf(r->ref.msg, sizeof(r->ref.msg), "an entry with uid %s "
		    "exists already", r->user);
		return EXIT_DENY;
	}
	if ((a = agentid_chain_add(&r->chain)) == NULL)
		return EXIT_ERROR;
	a->is_agent = true;
	a->has_not_after = true;
	a->not_after = o->has_for ? r->now + o->dur : o->not_after;
	if ((a->dn = agentid_ldap_agent_dn(r->cfg, r->user)) == NULL ||
	    (a->uid = strdup(r->user)) == NULL ||
	    (a->owner_dn = strdup(o->owner)) == NULL)
		return EXIT_ERROR;
	for (i = 0; i < o->n_scope; i++)
		if (agentid_strv_add(&a->scope, &a->n_scope, o->scope[i]) != 0)
			return EXIT_ERROR;
	if ((rc = resolve(r, true)) != 0)
		return rc;
	agentid_policy_from_config(&pol, r->cfg);
	agentid_check_write(&r->chain, &pol, r->now, AGENTID_CHECK_SCOPE, &r->ref);
	if (r->ref.rule != NULL)
		return EXIT_DENY;
	if ((rc = pick_uid(r, &uidn)) != 0)
		return rc;
	r->uidn = uidn;
	a = &r->chain.rec[0];
	snprintf(num, sizeof(num), "%u", uidn);
	if (agentid_change_init(ch, AGENTID_CHANGE_ADD, a->dn) != 0 ||
	    agentid_change_value(ch, 0, "objectClass", "account") != 0 ||
	    agentid_change_value(ch, 0, "objectClass", "posixAccount") != 0 ||
	    agentid_change_value(ch, 0, "objectClass", "agentIdentity") != 0 ||
	    agentid_change_value(ch, 0, "uid", r->user) != 0 ||
	    agentid_change_value(ch, 0, "cn", r->user) != 0 ||
	    agentid_change_value(ch, 0, "uidNumber", num) != 0)
		return EXIT_ERROR;
	if (o->has_gid)
		snprintf(num, sizeof(num), "%u", o->gid_number);
	snprintf(t, sizeof(t), "/home/%s", r->user);
	if (agentid_change_value(ch, 0, "gidNumber", num) != 0 ||
	    agentid_change_value(ch, 0, "homeDirectory", strchr(r->user, '/') ?
	    "/nonexistent" : t) != 0 ||
	    (o->description != NULL &&
	     agentid_change_value(ch, 0, "description", o->description) != 0) ||
	    agentid_change_value(ch, 0, "agentOwner", o->owner) != 0 ||
	    agentid_change_value(ch, 0, "agentNotAfter",
	    gentime(a->not_after, t, sizeof(t))) != 0 ||
	    agentid_change_value(ch, 0, "agentStatus", "active") != 0)
		return EXIT_ERROR;
	for (i = 0; i < o->n_scope; i++)
		if (agentid_change_value(ch, 0, "agentScope", o->scope[i]) != 0)
			return EXIT_ERROR;
	snprintf(r->task, sizeof(r->task), "create owner=%s uidNumber=%u "
	    "notAfter=%s scopes=%zu", o->owner, uidn, t, o->n_scope);
	return 0;
}

/* Validates and builds the change of the other commands. */
static int
plan_modify(struct lc_run *r, struct agentid_change *ch)
{
	const char *cmd = r->o->cmd->name, *status = NULL;
	struct agentid_error err = { "" };
	struct agentid_policy pol;
	struct agentid_record *a;
	struct lc_opts *o = r->o;
	char **dns = NULL, t[32];
	size_t n = 0, i;
	int rc;

	if (strcmp(cmd, "renew") == 0 && !o->has_for) {
		tool_err("renew: give --for DUR");
		return EXIT_ERROR;
	}
	if (strcmp(cmd, "narrow") == 0 && !o->scope_given && !o->has_not_after) {
		tool_err("narrow: give --scope (the grants kept) or --not-after");
		return EXIT_ERROR;
	}
	if ((rc = resolve(r, false)) != 0)
		return rc;
	if (r->chain.n == 0) {
		r->ref.rule = "not_an_agent";
		snprintf(r->ref.msg, sizeof(r->ref.msg), "no agent entry has uid %s",
		    r->user);
		return EXIT_DENY;
	}
	a = &r->chain.rec[0];
	if (a->status == AGENTID_STATUS_REVOKED && strcmp(cmd, "delete") != 0 &&
	    strcmp(cmd, "revoke") != 0) {
		r->ref.rule = "revoked";
		snprintf(r->ref.msg, sizeof(r->ref.msg), "%s is revoked: revoked "
		    "is final (delete it, or create a new agent)", a->dn);
		return EXIT_DENY;
	}
	if (strcmp(cmd, "narrow") == 0) {
		agentid_check_narrow(a, o->scope_given ? o->scope : NULL, o->n_scope,
		    o->has_not_after, o->not_after, r->cfg->require_scope, &r->ref);
		if (r->ref.rule != NULL)
			return EXIT_DENY;
		if (agentid_change_init(ch, AGENTID_CHANGE_MODIFY, a->dn) != 0)
			return EXIT_ERROR;
		if (o->scope_given) {
			if (agentid_change_value(ch, AGENTID_MOD_REPLACE, "agentScope",
			    NULL) != 0)
				return EXIT_ERROR;
			for (i = 0; i < o->n_scope; i++)
				if (agentid_change_value(ch, AGENTID_MOD_REPLACE,
				    "agentScope", o->scope[i]) != 0)
					return EXIT_ERROR;
		}
		if (o->has_not_after && agentid_change_value(ch,
		    AGENTID_MOD_REPLACE, "agentNotAfter",
		    gentime(o->not_after, t, sizeof(t))) != 0)
			return EXIT_ERROR;
		snprintf(r->task, sizeof(r->task), "narrow scopes=%s notAfter=%s",
		    o->scope_given ? "replaced" : "kept",
		    o->has_not_after ? t : "kept");
		return 0;
	}
	if (strcmp(cmd, "renew") == 0) {
		a->not_after = r->now + o->dur;
		a->has_not_after = true;
		agentid_policy_from_config(&pol, r->cfg);
		agentid_check_write(&r->chain, &pol, r->now, 0, &r->ref);
		if (r->ref.rule != NULL)
			return EXIT_DENY;
		if (agentid_change_init(ch, AGENTID_CHANGE_MODIFY, a->dn) != 0 ||
		    agentid_change_value(ch, AGENTID_MOD_REPLACE, "agentNotAfter",
		    gentime(a->not_after, t, sizeof(t))) != 0)
			return EXIT_ERROR;
		snprintf(r->task, sizeof(r->task), "renew notAfter=%s", t);
		return 0;
	}
	if (strcmp(cmd, "delete") == 0) {
		if ((rc = agentid_ldap_find(r->l, "agentOwner", a->dn, &dns, &n,
		    &err)) != 0) {
			tool_err("%s", err.msg[0] ? err.msg : strerror(rc));
			return EXIT_ERROR;
		}
		if (n > 0) {
			r->ref.rule = "delegates_exist";
			snprintf(r->ref.msg, sizeof(r->ref.msg), "%zu agent(s) name "
			    "%s as agentOwner, %s first", n, a->dn, dns[0]);
			agentid_ldap_dns_free(dns);
			return EXIT_DENY;
		}
		agentid_ldap_dns_free(dns);
		snprintf(r->task, sizeof(r->task), "delete");
		return agentid_change_init(ch, AGENTID_CHANGE_DELETE, a->dn) != 0 ?
		    EXIT_ERROR : 0;
	}
	status = strcmp(cmd, "suspend") == 0 ? "suspended" :
	    strcmp(cmd, "resume") == 0 ? "active" : "revoked";
	if (agentid_change_init(ch, AGENTID_CHANGE_MODIFY, a->dn) != 0 ||
	    agentid_change_value(ch, AGENTID_MOD_REPLACE, "agentStatus",
	    status) != 0)
		return EXIT_ERROR;
	snprintf(r->task, sizeof(r->task), "%s agentStatus=%s", cmd, status);
	return 0;
}

/*
 * After an add: is the uidNumber ours alone? Two operators creating at once
 * may pick the same free number (each read the numbers in use before the
 * other wrote). The later add yields (agentid_ldap_uid_contested: entryCSN
 * order): it deletes its entry and, when the number came from uid_range,
 * the create is planned again above it (bounded); a --uid-number given is
 * refused. 0 (kept), EAGAIN (deleted: plan again), EXIT_DENY, EXIT_ERROR.
 */
static int
claim_uid(struct lc_run *r, const struct agentid_change *ch, int attempt)
{
	struct agentid_change undo;
	struct agentid_error err = { "" };
	char *other = NULL;
	bool yield = false;
	int rc;

	if ((rc = agentid_ldap_uid_contested(r->l, r->uidn, ch->dn, &yield,
	    &other, &err)) != 0) {
		tool_err("%s was written; checking its uidNumber %u: %s", ch->dn,
		    r->uidn, err.msg[0] ? err.msg : strerror(rc));
		free(other);
		return EXIT_ERROR;
	}
	if (!yield)
		return 0;
	if (agentid_change_init(&undo, AGENTID_CHANGE_DELETE, ch->dn) != 0) {
		free(other);
		return EXIT_ERROR;
	}
	rc = agentid_ldap_apply(r->l, &undo, &err);
	agentid_change_clear(&undo);
	if (rc != 0 && rc != ENOENT) {
		tool_err("%s was written with uidNumber %u, which %s holds too; "
		    "removing it failed: %s", ch->dn, r->uidn, other ? other :
		    "another entry", err.msg);
		free(other);
		return EXIT_ERROR;
	}
	r->ref.rule = "uid_number_in_use";
	snprintf(r->ref.msg, sizeof(r->ref.msg), "uidNumber %u was taken by "
	    "%s, created at the same time%s", r->uidn, other ? other :
	    "another entry", r->o->has_uid ? "" : "; no free number after "
	    "the retries");
	free(other);
	if (r->o->has_uid || attempt + 1 >= UID_RETRIES)
		return EXIT_DENY;
	r->uid_floor = r->uidn;
	return EAGAIN;
}

/*
 * After an add: the chain read back from the directory must still pass
 * (a delegator narrowed or shortened meanwhile, by another operator, would
 * otherwise leave the new agent holding more). Refused: the entry is
 * deleted again. 0, EXIT_DENY or EXIT_ERROR.
 */
static int
recheck_create(struct lc_run *r, const struct agentid_change *ch)
{
	struct agentid_change undo;
	struct agentid_error err = { "" };
	struct agentid_policy pol;
	int rc;

	agentid_chain_clear(&r->chain);
	if ((rc = resolve(r, false)) != 0)
		return rc;
	agentid_policy_from_config(&pol, r->cfg);
	agentid_check_write(&r->chain, &pol, r->now, AGENTID_CHECK_SCOPE, &r->ref);
	if (r->ref.rule == NULL)
		return 0;
	if (agentid_change_init(&undo, AGENTID_CHANGE_DELETE, ch->dn) != 0)
		return EXIT_ERROR;
	rc = agentid_ldap_apply(r->l, &undo, &err);
	agentid_change_clear(&undo);
	if (rc != 0) {
		tool_err("%s was written but no longer passes (%s); removing it "
		    "failed: %s", ch->dn, r->ref.rule, err.msg);
		return EXIT_ERROR;
	}
	return EXIT_DENY;
}

/* agentid create|narrow|renew|suspend|resume|revoke|delete USER. */
int
cmd_lifecycle(struct tool_ctx *ctx, int argc, char **argv)
{
	struct lc_opts o;
	struct lc_run r;
	struct agentid_change ch;
	struct agentid_error err = { "" };
	struct cli_syntax syn = { lc_longopts, "h", NULL, 1, 1 };
	char *ldif = NULL;
	size_t i;
	int rc, attempt, ret = EXIT_ERROR;

	memset(&o, 0, sizeof(o));
	memset(&r, 0, sizeof(r));
	memset(&ch, 0, sizeof(ch));
	for (i = 0; i < sizeof(lc_cmds) / sizeof(lc_cmds[0]); i++)
		if (strcmp(argv[0], lc_cmds[i].name) == 0)
			o.cmd = &lc_cmds[i];
	if (o.cmd == NULL)
		return EXIT_ERROR;
	syn.usage = o.cmd->usage;
	if ((rc = cli_parse(ctx, argc, argv, &syn, lc_opt, &o)) >= 0) {
		agentid_strv_free(o.scope);
		return rc;
	}
	r.ctx = ctx;
	r.o = &o;
	r.user = argv[optind];
	r.now = (int64_t)time(NULL);
	if (agentid_name_valid(r.user, &err) != 0) {
		tool_err("%s", err.msg);
		goto out;
	}
	if (cli_load_config(ctx, &r.cfg) != 0 ||
	    cli_host_name(ctx, r.cfg, r.host, sizeof(r.host)) != 0 ||
	    (ret = connect_operator(&r)) != 0) {
		ret = EXIT_ERROR;
		goto out;
	}
	ret = strcmp(o.cmd->name, "create") == 0 ? plan_create(&r, &ch) :
	    plan_modify(&r, &ch);
	if (ret == EXIT_DENY) {
		ret = refused(&r);
		goto out;
	}
	if (ret != 0)
		goto out;
	ret = EXIT_ERROR;
	if (o.dry_run) {
		if ((ldif = agentid_change_ldif(&ch)) == NULL ||
		    fputs(ldif, stdout) == EOF || fflush(stdout) != 0)
			goto out;
		ret = EXIT_ALLOW;
		goto out;
	}
	for (attempt = 0;; attempt++) {
		if ((rc = agentid_ldap_apply(r.l, &ch, &err)) != 0) {
			tool_err("%s %s: %s", o.cmd->name, r.user,
			    err.msg[0] ? err.msg : strerror(rc));
			(void)audit_admin(&r, NULL, "ldap_write_failed");
			goto out;
		}
		if (ch.op != AGENTID_CHANGE_ADD ||
		    (rc = claim_uid(&r, &ch, attempt)) == 0)
			break;
		if (rc != EAGAIN) {
			ret = rc == EXIT_DENY ? refused(&r) : EXIT_ERROR;
			goto out;
		}
		/* lost the number to a concurrent create: plan again */
		agentid_change_clear(&ch);
		agentid_chain_clear(&r.chain);
		memset(&r.ref, 0, sizeof(r.ref));
		r.task[0] = '\0';
		if ((ret = plan_create(&r, &ch)) == EXIT_DENY) {
			ret = refused(&r);
			goto out;
		}
		if (ret != 0)
			goto out;
		ret = EXIT_ERROR;
	}
	if (ch.op == AGENTID_CHANGE_ADD && (rc = recheck_create(&r, &ch)) != 0) {
		ret = rc == EXIT_DENY ? refused(&r) : EXIT_ERROR;
		goto out;
	}
	if (audit_admin(&r, "allow", NULL) != 0) {
		tool_err("%s %s: written, but the audit trail could not be "
		    "appended", o.cmd->name, r.user);
		goto out;
	}
	{
		struct cli_text t = { NULL, 0 };

		printf("%s %s: done (%s)\n", o.cmd->name, cli_esc(&t, r.user),
		    cli_esc(&t, r.task));
		cli_text_free(&t);
	}
	ret = EXIT_ALLOW;
out:
	free(ldif);
	agentid_change_clear(&ch);
	agentid_chain_clear(&r.chain);
	agentid_ldap_close(r.l);
	if (r.password != NULL) {
		explicit_bzero(r.password, strlen(r.password));
		free(r.password);
	}
	free(r.operator_id);
	free(r.ldapi);
	agentid_config_free(r.cfg);
	agentid_strv_free(o.scope);
	return ret;
}
