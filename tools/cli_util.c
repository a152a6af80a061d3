/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli_util.c - helpers shared by the agentid commands: one option parser
 * that takes --config wherever it stands, configuration loading, and the
 * printing of values (escaped text, JSON).
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "cli_util.h"
#include "commands.h"

/* The next option, --config taken into ctx; see cli_util.h. */
int
cli_getopt(struct tool_ctx *ctx, int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	const char *what = ctx->command != NULL ? ctx->command : "";
	const char *sep = ctx->command != NULL ? ": " : "";
	const char *arg;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) ==
	    CLI_OPT_CONFIG)
		ctx->config_path = optarg;
	if (c != '?')
		return c;
	/* the option that failed is the last argument taken, except an
	 * unknown short option inside a cluster (-xq) */
	arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	if (strncmp(arg, "--", 2) == 0)
		tool_err("%s%sbad option or missing argument: %s", what, sep, arg);
	else if (optopt > ' ' && optopt < 0x7f)
		tool_err("%s%sbad option or missing argument: -%c", what, sep,
		    optopt);
	else
		tool_err("%s%sbad option", what, sep);
	return '?';
}

/* The option loop of a command; -1 to go on, or an exit code. */
int
cli_parse(struct tool_ctx *ctx, int argc, char **argv,
    const struct cli_syntax *syn,
    int (*on_opt)(int opt, const char *optarg, void *arg), void *arg)
{
	int c, r, n;

	while ((c = cli_getopt(ctx, argc, argv, syn->shortopts,
	    syn->longopts)) != -1) {
		if (c == 'h' || c == CLI_OPT_HELP) {
			fputs(syn->usage, stdout);
			return 0;
		}
		if (c == '?')
			goto bad;
		if ((r = on_opt(c, optarg, arg)) != 0)
			return r;
	}
	n = argc - optind;
	if (n < syn->min_operands) {
		tool_err("%s: missing operand", ctx->command);
		goto bad;
	}
	if (syn->max_operands >= 0 && n > syn->max_operands) {
		tool_err("%s: unexpected argument: %s", ctx->command,
		    argv[optind + syn->max_operands]);
		goto bad;
	}
	return -1;
bad:
	fputs(syn->usage, stderr);
	return EXIT_ERROR;
}

/* "agentid: " + the formatted message, escaped, on stderr. */
void
tool_err(const char *fmt, ...)
{
	va_list ap;
	char *msg = NULL, *esc = NULL;
	int n;

	/* messages carry DNs, server diagnostics and user names: escape */
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n >= 0 && (msg = malloc((size_t)n + 1)) != NULL) {
		va_start(ap, fmt);
		vsnprintf(msg, (size_t)n + 1, fmt, ap);
		va_end(ap);
		esc = cli_escape(msg);
	}
	fprintf(stderr, "agentid: %s\n", esc != NULL ? esc :
	    "(out of memory formatting a message)");
	free(esc);
	free(msg);
}

/* 0, or the error of loading ctx->config_path (printed). */
int
cli_load_config(const struct tool_ctx *ctx, struct agentid_config **cfg)
{
	struct agentid_error err = { "" };
	int r;

	if ((r = agentid_config_load(ctx->config_path, cfg, &err)) != 0)
		tool_err("%s", err.msg[0] ? err.msg : strerror(r));
	return r;
}

/* 0, or the error of naming this host (printed). */
int
cli_host_name(const struct tool_ctx *ctx, const struct agentid_config *cfg,
    char *buf, size_t size)
{
	int r;

	if ((r = agentid_host_name(cfg, buf, size)) != 0)
		tool_err("cannot tell this host's name (set hostname in %s): %s",
		    ctx->config_path, strerror(r));
	return r;
}

/* Length of the valid UTF-8 sequence at p (1-4), 0 if it is not one; *cp
 * gets its code point. Overlong forms and surrogates are not valid. */
static size_t
utf8_seq(const unsigned char *p, uint32_t *cp)
{
	size_t n, i;
	uint32_t v, min;

	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	} else if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		n = 2, v = p[0] & 0x1f, min = 0x80;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		n = 3, v = p[0] & 0x0f, min = 0x800;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		n = 4, v = p[0] & 0x07, min = 0x10000;
	} else {
		return 0;
	}
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80) /* also stops at the NUL */
			return 0;
		v = (v << 6) | (p[i] & 0x3f);
	}
	if (v < min || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		return 0;
	*cp = v;
	return n;
}

/* Is code point cp one a terminal may act on, or that reorders or breaks
 * the line it is shown in? (C1 controls include CSI, U+009B.) */
static bool
cp_unsafe(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp <= 0x9f) ||
	    cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
	    (cp >= 0x2066 && cp <= 0x2069);
}

/* A new string: s escaped for a terminal (cli_util.h), or NULL. */
char *
cli_escape(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t len = strlen(s), n, i;
	uint32_t cp;
	char *out, *o;

	/* at worst each byte becomes \xHH */
	if (len > (SIZE_MAX - 1) / 4 || (out = malloc(len * 4 + 1)) == NULL)
		return NULL;
	o = out;
	while (*p != '\0') {
		n = utf8_seq(p, &cp);
		if (n > 0 && !cp_unsafe(cp) && cp != '\\') {
			memcpy(o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (n == 0) {
			n = 1; /* a byte that starts no valid sequence */
			cp = UINT32_MAX;
		}
		if (cp == '\\' || cp == '\n' || cp == '\r' || cp == '\t') {
			*o++ = '\\';
			*o++ = cp == '\\' ? '\\' : cp == '\n' ? 'n' :
			    cp == '\r' ? 'r' : 't';
			p++;
			continue;
		}
		for (i = 0; i < n; i++, p++) {
			*o++ = '\\';
			*o++ = 'x';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 0xf];
		}
	}
	*o = '\0';
	return out;
}

/* s escaped, kept in t; "-" for NULL, "?" when out of memory. */
const char *
cli_esc(struct cli_text *t, const char *s)
{
	char **nv, *e;

	if (s == NULL)
		return "-";
	if ((nv = realloc(t->v, (t->n + 1) * sizeof(*nv))) == NULL)
		return "?";
	t->v = nv;
	if ((e = cli_escape(s)) == NULL)
		return "?";
	t->v[t->n++] = e;
	return e;
}

/* Frees every copy kept in t. */
void
cli_text_free(struct cli_text *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->v[i]);
	free(t->v);
	t->v = NULL;
	t->n = 0;
}

/* RFC 3339 text of t, or JSON null when absent. */
json_t *
cli_json_time(bool has, int64_t t)
{
	char buf[40];

	if (!has)
		return json_null();
	return json_string(agentid_format_time(t, buf, sizeof(buf)));
}

/* A JSON string, or null when absent or not UTF-8. */
json_t *
cli_json_str(const char *s)
{
	json_t *v = s != NULL ? json_string(s) : NULL;

	return v != NULL ? v : json_null();
}

/* Prints v on one line and frees it; 0 or EIO. */
int
cli_print_json(json_t *v)
{
	int r = 0;

	/* jansson escapes C0 controls; ENSURE_ASCII also turns the C1 and
	 * bidirectional characters into \uXXXX, so JSON on a terminal is
	 * as inert as the text output */
	if (v == NULL || json_dumpf(v, stdout, JSON_COMPACT |
	    JSON_ENSURE_ASCII) != 0)
		r = EIO;
	else
		putchar('\n');
	json_decref(v);
	return r;
}
