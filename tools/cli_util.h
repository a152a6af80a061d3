/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli_util.h - what every agentid command shares: option parsing (with
 * --config), loading the configuration, and printing (text escaped for a
 * terminal, JSON on one line).
 */
#ifndef AGENTID_TOOL_CLI_UTIL_H
#define AGENTID_TOOL_CLI_UTIL_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

struct agentid_config;
struct tool_ctx;

/* Option codes of CLI_COMMON_OPTIONS; commands use values below 0x100. */
enum { CLI_OPT_CONFIG = 0x100, CLI_OPT_HELP };

/* The options every command takes; ends a command's option table. */
#define CLI_COMMON_OPTIONS \
	{ "config", required_argument, NULL, CLI_OPT_CONFIG }, \
	{ "help", no_argument, NULL, CLI_OPT_HELP }, \
	{ NULL, 0, NULL, 0 }

/* Options that describe a login request (check, principals). */
enum { CLI_OPT_SERVICE = 0x110, CLI_OPT_CA_FP, CLI_OPT_KEY_FP };
#define CLI_REQUEST_OPTIONS \
	{ "service", required_argument, NULL, CLI_OPT_SERVICE }, \
	{ "ca-fingerprint", required_argument, NULL, CLI_OPT_CA_FP }, \
	{ "key-fingerprint", required_argument, NULL, CLI_OPT_KEY_FP }

/*
 * The next option of argv (getopt_long; argv[0] is the command, or the
 * program for the options before the command). --config is taken here into
 * ctx->config_path, so every command accepts it before or after its name;
 * an option the table lacks, or one missing its argument, is reported on
 * stderr and returned as '?'. Returns the option code, or -1 when only
 * operands are left (at optind).
 */
int cli_getopt(struct tool_ctx *ctx, int argc, char **argv,
    const char *shortopts, const struct option *longopts);

/* What a command accepts. */
struct cli_syntax {
	const struct option *longopts; /* ends with CLI_COMMON_OPTIONS */
	const char *shortopts;         /* "h" at least: -h is --help */
	const char *usage;             /* for --help, and after an error */
	int min_operands;
	int max_operands;              /* -1: no limit */
};

/*
 * Parses the options of command argv[0] (anywhere among its operands; "--"
 * ends them) with cli_getopt, handing each to on_opt(opt, optarg, arg),
 * which returns 0 to go on or an exit code (having said why). --help or -h
 * prints the usage and gives 0; a bad option or a number of operands
 * outside the syntax prints the usage to stderr and gives EXIT_ERROR.
 * Returns -1 when the command goes on, its operands at argv[optind].
 */
int cli_parse(struct tool_ctx *ctx, int argc, char **argv,
    const struct cli_syntax *syn,
    int (*on_opt)(int opt, const char *optarg, void *arg), void *arg);

/* Prints "agentid: " + message, escaped, to stderr. */
void tool_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Loads the configuration named by ctx; 0, or the error (printed). */
int cli_load_config(const struct tool_ctx *ctx, struct agentid_config **cfg);

/* The name of this host as the configuration says; 0, or the error (printed). */
int cli_host_name(const struct tool_ctx *ctx, const struct agentid_config *cfg,
    char *buf, size_t size);

/*
 * s with everything a terminal could act on escaped, in a new string:
 * control characters as \n, \r, \t or \xHH, a backslash as \\, bytes that
 * are not UTF-8 and the C1, bidirectional and line-separator characters as
 * \xHH per byte. NULL when out of memory.
 */
char *cli_escape(const char *s);

/* Escaped copies for one piece of text output, freed together. */
struct cli_text {
	char **v;
	size_t n;
};

/*
 * The escaped form of s for text output, kept in t until cli_text_free;
 * "-" for NULL. Every value from the directory or the user goes through
 * here before it reaches stdout ("?" when out of memory).
 */
const char *cli_esc(struct cli_text *t, const char *s);

/* Frees the copies of t. */
void cli_text_free(struct cli_text *t);

/* RFC 3339 text of t, or JSON null when absent. */
json_t *cli_json_time(bool has, int64_t t);

/* A string, or JSON null when absent or not valid UTF-8. */
json_t *cli_json_str(const char *s);

/* Prints v on one line (ASCII only: \uXXXX beyond) and frees it; 0 or EIO. */
int cli_print_json(json_t *v);

#endif
