/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd_audit.c - "agentid audit verify [--key KEY] [FILE...]": checks the
 * hash chain of the audit trail (files oldest first, across rotations) and,
 * with the verification key, every seal; without FILE, the audit_log of
 * the configuration. Exit 0 intact (and a summary on stdout), 1 tampered
 * (file, first bad line and failing interval on stderr), 2 unreadable.
 * "agentid audit keygen" sets sealing up; "agentid audit seal" seals a
 * finished interval now (for a timer on hosts without agentidd).
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "cli_util.h"
#include "commands.h"

#define EXIT_TAMPERED 1

/* Prints the summary of an intact trail. */
static void
print_summary(const char *const *files, size_t n,
    const struct agentid_audit_summary *s, bool quiet)
{
	struct cli_text t = { NULL, 0 };
	char a[64], b[64];
	size_t i;
	int printed = 0;

	if (quiet)
		return;
	printf("intact: %" PRIu64 " line%s in %zu file%s", s->lines,
	    s->lines == 1 ? "" : "s", n, n == 1 ? "" : "s");
	if (s->lines > 0)
		printf(", seq %" PRIu64 "-%" PRIu64, s->first_seq, s->last_seq);
	printf("\n");
	if (s->lines > 0)
		printf("span: %s .. %s\n", agentid_format_time(s->first_ts, a,
		    sizeof(a)), agentid_format_time(s->last_ts, b, sizeof(b)));
	printf("decisions: allow %" PRIu64 ", deny %" PRIu64,
	    s->by_decision[AGENTID_AUDIT_ALLOW],
	    s->by_decision[AGENTID_AUDIT_DENY]);
	if (s->by_decision[AGENTID_AUDIT_IGNORE] > 0)
		printf(", ignore %" PRIu64, s->by_decision[AGENTID_AUDIT_IGNORE]);
	printf(", error %" PRIu64 "\n", s->by_decision[AGENTID_AUDIT_OTHER]);
	printf("reasons:");
	for (i = 0; i <= AGENTID_REASON_MAX; i++) {
		if (s->by_reason[i] == 0)
			continue;
		printf("%s %s %" PRIu64, printed++ ? "," : "",
		    i < AGENTID_REASON_MAX ?
		    agentid_reason_name((enum agentid_reason)i) : "other",
		    s->by_reason[i]);
	}
	printf("%s\n", printed ? "" : " none");
	if (s->lines > 0)
		printf("head: %s\n", cli_esc(&t, s->head));
	if (s->continues)
		printf("note: %s line 1 continues an earlier file (prev %s)\n",
		    cli_esc(&t, files[0]), cli_esc(&t, s->first_prev));
	cli_text_free(&t);
	if (s->seals > 0 && !s->key_checked)
		printf("seals: %" PRIu64 " (not checked: give --key)\n", s->seals);
}

/* The sealing part of the summary; returns whether something is missing. */
static bool
print_seals(const struct agentid_audit_summary *s, bool quiet)
{
	char a[64], b[64], d[32];
	bool missing = false;

	if (!quiet) {
		printf("seals: %" PRIu64 " checked with key %s (intervals of %s "
		    "from %s)", s->seals, s->key_id, agentid_format_duration(
		    s->seal_interval, d, sizeof(d)), agentid_format_time(
		    s->seal_start, a, sizeof(a)));
		if (s->has_seal)
			printf(", intervals %" PRIu64 "..%" PRIu64 ", all good",
			    s->first_sealed, s->last_sealed);
		printf("\n");
		if (s->has_seal)
			printf("sealed: %" PRIu64 " line%s up to the seal of "
			    "interval %" PRIu64 " (ended %s)\n", s->sealed_lines,
			    s->sealed_lines == 1 ? "" : "s", s->last_sealed,
			    agentid_format_time(s->last_sealed_end, a, sizeof(a)));
		printf("unsealed: %" PRIu64 " line%s after the last seal (not "
		    "proven yet)\n", s->unsealed_lines,
		    s->unsealed_lines == 1 ? "" : "s");
		if (s->gap_intervals > 0)
			printf("gaps: %" PRIu64 " interval%s without a seal between "
			    "the first and the last seal (nothing written and no "
			    "timer, or seals removed)\n", s->gap_intervals,
			    s->gap_intervals == 1 ? "" : "s");
	}
	if (s->has_seal && s->first_sealed > 0) {
		missing = true;
		printf("start: no seal for interval%s 0..%" PRIu64 " in these "
		    "files (earlier files not given, or the head was cut)\n",
		    s->first_sealed == 1 ? "" : "s", s->first_sealed - 1);
	}
	if (s->missing_intervals > 0) {
		missing = true;
		if (s->has_seal)
			printf("tail: last seal %s; now %s: %" PRIu64 " interval%s "
			    "missing (a cut tail, or a host that stopped "
			    "sealing)\n", agentid_format_time(s->last_sealed_end,
			    a, sizeof(a)), agentid_format_time(s->now, b,
			    sizeof(b)), s->missing_intervals,
			    s->missing_intervals == 1 ? "" : "s");
		else
			printf("tail: no seal at all; now %s: %" PRIu64
			    " interval%s missing\n", agentid_format_time(s->now,
			    b, sizeof(b)), s->missing_intervals,
			    s->missing_intervals == 1 ? "" : "s");
	}
	return missing;
}

/* Parses --now: a GeneralizedTime ("YYYYMMDDHHMMSSZ") or seconds since
 * the epoch (the library's one decimal parser); says why it refuses.
 * 0 or EINVAL. */
static int
parse_now(const char *s, int64_t *out)
{
	uint64_t v;

	if (agentid_parse_gentime(s, out) == 0)
		return 0;
	if (agentid_parse_decimal(s, INT64_MAX, &v) != 0) {
		tool_err("--now %s: not a time", s);
		return EINVAL;
	}
	*out = (int64_t)v;
	return 0;
}

/* The verification key of --key: the text itself, or a file holding it. */
static int
read_key_arg(const char *arg, char *buf, size_t len)
{
	FILE *f;
	size_t n;

	if (strncmp(arg, "agentid-seal-", 13) == 0) {
		if (strlen(arg) >= len)
			return EINVAL;
		memcpy(buf, arg, strlen(arg) + 1);
		return 0;
	}
	if ((f = fopen(arg, "re")) == NULL)
		return errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return 0;
}

/* "audit verify [--quiet] [FILE...]". */
static int
audit_verify(struct tool_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "quiet", no_argument, NULL, 'q' },
		{ "key", required_argument, NULL, 'k' },
		{ "now", required_argument, NULL, 'n' },
		{ "strict", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		CLI_COMMON_OPTIONS,
	};
	struct agentid_config *cfg = NULL;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *const *files;
	const char *one[1], *key_arg = NULL;
	char key[512];
	bool quiet = false, strict = false;
	int64_t now = (int64_t)time(NULL);
	size_t n;
	int c, r, rc = EXIT_ERROR;

	while ((c = cli_getopt(ctx, argc, argv, "qk:n:sh", opts)) != -1) {
		switch (c) {
		case 'q':
			quiet = true;
			break;
		case 'k':
			key_arg = optarg;
			break;
		case 'n':
			if (parse_now(optarg, &now) != 0)
				return EXIT_ERROR;
			break;
		case 's':
			strict = true;
			break;
		case 'h':
			printf("usage: agentid [--config PATH] audit verify "
			    "[--quiet] [--key KEY|FILE [--strict] [--now TIME]] "
			    "[FILE...]\n"
			    "Files oldest first (audit.log.2 audit.log.1 "
			    "audit.log); default: audit_log of the config.\n"
			    "--key: the verification key of agentid audit keygen "
			    "(or a file holding it): every seal is checked, and\n"
			    "the last sealed interval and the intervals missing "
			    "up to now (or --now) are reported; --strict makes\n"
			    "a missing head or tail an error.\n"
			    "Exit 0 intact, 1 tampered (or incomplete with "
			    "--strict), 2 unreadable.\n");
			return 0;
		default:
			tool_err("usage: agentid audit verify [--quiet] "
			    "[--key KEY [--strict] [--now TIME]] [FILE...]");
			return EXIT_ERROR;
		}
	}
	if (key_arg != NULL && (r = read_key_arg(key_arg, key, sizeof(key))) != 0) {
		tool_err("--key %s: %s", key_arg, strerror(r));
		return EXIT_ERROR;
	}
	if (optind < argc) {
		files = (const char *const *)(argv + optind);
		n = (size_t)(argc - optind);
	} else {
		if (cli_load_config(ctx, &cfg) != 0)
			goto out;
		one[0] = cfg->audit_log != NULL ? cfg->audit_log :
		    AGENTID_DEFAULT_AUDIT_LOG;
		files = one;
		n = 1;
	}
	if (key_arg != NULL)
		r = agentid_audit_verify_key(files, n, key, now, &sum, &err);
	else
		r = agentid_audit_verify(files, n, &sum, &err);
	explicit_bzero(key, sizeof(key));
	if (r == 0) {
		print_summary(files, n, &sum, quiet);
		rc = 0;
		if (key_arg != NULL && print_seals(&sum, quiet) && strict) {
			tool_err("audit trail INCOMPLETE: intervals without a seal "
			    "(see start:/tail: above)");
			rc = EXIT_TAMPERED;
		}
	} else if (r == EINVAL && key_arg != NULL) {
		tool_err("%s", err.msg);
	} else if (r == EBADMSG) {
		tool_err("audit trail TAMPERED: %s", err.msg);
		rc = EXIT_TAMPERED;
	} else {
		tool_err("cannot verify: %s", err.msg);
	}
out:
	agentid_config_free(cfg);
	return rc;
}

/* "audit keygen [--interval DUR] [--force] [--now TIME]". */
static int
audit_keygen(struct tool_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "force", no_argument, NULL, 'f' },
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		CLI_COMMON_OPTIONS,
	};
	struct agentid_config *cfg = NULL;
	struct agentid_audit_keyinfo ki;
	struct agentid_error err = { "" };
	const char *interval = NULL;
	char a[64], d[32];
	bool force = false;
	int64_t now = (int64_t)time(NULL), iv;
	int c, rc = EXIT_ERROR;

	while ((c = cli_getopt(ctx, argc, argv, "i:fn:h", opts)) != -1) {
		switch (c) {
		case 'i':
			interval = optarg;
			break;
		case 'f':
			force = true;
			break;
		case 'n':
			if (parse_now(optarg, &now) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			printf("usage: agentid [--config PATH] audit keygen "
			    "[--interval DUR] [--force]\n"
			    "Creates the sealing key beside the trail (root only) "
			    "and prints the verification key on stdout:\n"
			    "keep it off this host (it checks seals, and whoever "
			    "holds it could forge them).\n");
			return 0;
		default:
			tool_err("usage: agentid audit keygen [--interval DUR] "
			    "[--force]");
			return EXIT_ERROR;
		}
	}
	if (cli_load_config(ctx, &cfg) != 0)
		return EXIT_ERROR;
	if (interval != NULL) {
		if (agentid_parse_duration(interval, &iv) != 0 || iv < 1 ||
		    iv > 7 * 86400) {
			tool_err("--interval %s: a duration from 1s to 7d", interval);
			goto out;
		}
		cfg->audit_seal_interval = iv;
	}
	if (agentid_audit_keygen(cfg, now, force, &ki, &err) != 0) {
		tool_err("%s", err.msg);
		goto out;
	}
	printf("%s\n", ki.vkey);
	fflush(stdout);
	fprintf(stderr, "Sealing key stored in %s (mode 0600). It moves on "
	    "every %s and forgets the old key.\n"
	    "The line above is the VERIFICATION KEY (id %s, intervals from "
	    "%s):\n"
	    "store it off this host (password manager, paper, the security "
	    "team's vault) and delete it here;\n"
	    "check the trail with: agentid audit verify --key KEY [FILE...]\n",
	    ki.path, agentid_format_duration(ki.interval, d, sizeof(d)),
	    ki.key_id, agentid_format_time(ki.start, a, sizeof(a)));
	explicit_bzero(&ki, sizeof(ki));
	rc = 0;
out:
	agentid_config_free(cfg);
	return rc;
}

/* "audit seal [--now TIME]": seals the finished interval (timer/daemon). */
static int
audit_seal(struct tool_ctx *ctx, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "now", required_argument, NULL, 'n' },
		{ "help", no_argument, NULL, 'h' },
		CLI_COMMON_OPTIONS,
	};
	struct agentid_config *cfg = NULL;
	struct agentid_error err = { "" };
	int64_t now = (int64_t)time(NULL);
	int c, rc = EXIT_ERROR;

	while ((c = cli_getopt(ctx, argc, argv, "n:h", opts)) != -1) {
		switch (c) {
		case 'n':
			if (parse_now(optarg, &now) != 0)
				return EXIT_ERROR;
			break;
		case 'h':
			printf("usage: agentid [--config PATH] audit seal\n"
			    "Seals the interval that ended, if not sealed yet "
			    "(run it from a timer where agentidd does not).\n");
			return 0;
		default:
			tool_err("usage: agentid audit seal");
			return EXIT_ERROR;
		}
	}
	if (cli_load_config(ctx, &cfg) != 0)
		return EXIT_ERROR;
	if (agentid_audit_seal_now(cfg, now, &err) != 0)
		tool_err("%s", err.msg);
	else
		rc = 0;
	agentid_config_free(cfg);
	return rc;
}

#define AUDIT_USAGE "usage: agentid audit [--config PATH] verify [--quiet] [--key KEY " \
	"[--strict] [--now TIME]] [FILE...]\n" \
	"       agentid audit keygen [--interval DUR] [--force]\n" \
	"       agentid audit seal"

/* "audit SUBCOMMAND ...": verify, keygen, seal. */
int
cmd_audit(struct tool_ctx *ctx, int argc, char **argv)
{
	static const struct option lead[] = { CLI_COMMON_OPTIONS };
	const char *sub;
	int c, at;

	/* options before the subcommand ("audit --config F verify") */
	optind = 0;
	while ((c = cli_getopt(ctx, argc, argv, "+h", lead)) != -1) {
		if (c == 'h' || c == CLI_OPT_HELP) {
			printf("%s\n", AUDIT_USAGE);
			return 0;
		}
		tool_err(AUDIT_USAGE);
		return EXIT_ERROR;
	}
	if (optind >= argc) {
		tool_err(AUDIT_USAGE);
		return EXIT_ERROR;
	}
	at = optind;
	sub = argv[at];
	optind = 0;
	if (strcmp(sub, "verify") == 0)
		return audit_verify(ctx, argc - at, argv + at);
	if (strcmp(sub, "keygen") == 0)
		return audit_keygen(ctx, argc - at, argv + at);
	if (strcmp(sub, "seal") == 0)
		return audit_seal(ctx, argc - at, argv + at);
	tool_err("audit: unknown subcommand: %s", sub);
	tool_err(AUDIT_USAGE);
	return EXIT_ERROR;
}
