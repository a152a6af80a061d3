/*
 * cmd_audit.c - "agentid audit verify [FILE...]": checks the hash chain of
 * the audit trail (files oldest first, across rotations); without FILE,
 * the audit_log of the configuration. Exit 0 intact (and a summary on
 * stdout), 1 tampered (file and first bad line on stderr), 2 unreadable.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
	printf("decisions: allow %" PRIu64 ", deny %" PRIu64 ", error %" PRIu64
	    "\n", s->by_decision[AGENTID_AUDIT_ALLOW],
	    s->by_decision[AGENTID_AUDIT_DENY],
	    s->by_decision[AGENTID_AUDIT_OTHER]);
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
}

static const struct option audit_longopts[] = {
	{ "quiet", no_argument, NULL, 'q' },
	CLI_COMMON_OPTIONS,
};

static const struct cli_syntax audit_syntax = {
	audit_longopts, "qh",
	"usage: agentid audit verify [--quiet] [--config PATH] [FILE...]\n"
	"Files oldest first (audit.log.2 audit.log.1 audit.log); default: "
	"audit_log of the config.\nExit 0 intact, 1 tampered, 2 unreadable.\n",
	1, -1,
};

/* cli_parse's handler: --quiet. */
static int
audit_opt(int c, const char *arg, void *quiet)
{
	(void)arg;
	if (c == 'q')
		*(bool *)quiet = true;
	return 0;
}

/* "audit verify [--quiet] [FILE...]": the only subcommand of audit. */
int
cmd_audit(struct tool_ctx *ctx, int argc, char **argv)
{
	struct agentid_config *cfg = NULL;
	struct agentid_audit_summary sum;
	struct agentid_error err = { "" };
	const char *const *files;
	const char *one[1];
	bool quiet = false;
	size_t n;
	int r, rc = EXIT_ERROR;

	if ((r = cli_parse(ctx, argc, argv, &audit_syntax, audit_opt, &quiet)) >= 0)
		return r;
	if (strcmp(argv[optind], "verify") != 0) {
		tool_err("audit: unknown subcommand: %s", argv[optind]);
		fputs(audit_syntax.usage, stderr);
		return EXIT_ERROR;
	}
	if (++optind < argc) {
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
	r = agentid_audit_verify(files, n, &sum, &err);
	if (r == 0) {
		print_summary(files, n, &sum, quiet);
		rc = 0;
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
