/* SPDX-License-Identifier: BSD-2-Clause */
/* test_sample_conf.c - packaging/agentid.conf parses, and the value shown
 * for each key that has a default is that default. */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "agentid.h"

/* Keys whose commented-out line in the sample must show the default. */
static const char *const default_keys[] = {
	"ssl", "tls_reqcert", "timeout", "agent_filter",
	"max_delegation_depth", "clock_skew", "max_lifetime", "require_scope",
	"min_uid", "nologin_shell", "replica", "offline", "offline_max_age",
	"audit_log", "audit_syslog", "audit_fsync", "audit_required",
	"owner_filter", "source", "replica_max_age", "heartbeat",
	"require_cert", "enforce", "enforce_grace", "enforce_cert_expiry",
};
#define N_DEFAULT_KEYS (sizeof(default_keys) / sizeof(default_keys[0]))

static char *sample;      /* the file's text */
static size_t sample_len;

/* Reads the sample from $top_srcdir; returns 0 or -1. */
static int
setup(void **state)
{
	const char *top = getenv("top_srcdir");
	char path[4096];
	FILE *f;
	long n;
	int r = -1;

	(void)state;
	snprintf(path, sizeof(path), "%s/packaging/agentid.conf",
	    top != NULL ? top : ".");
	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 ||
	    fseek(f, 0, SEEK_SET) != 0 || (sample = malloc((size_t)n + 1)) == NULL)
		goto out;
	if (fread(sample, 1, (size_t)n, f) != (size_t)n)
		goto out;
	sample[n] = '\0';
	sample_len = (size_t)n;
	r = 0;
out:
	fclose(f);
	return r;
}

/* Frees the sample; returns 0. */
static int
teardown(void **state)
{
	(void)state;
	free(sample);
	return 0;
}

/* True when line (up to its end) is a setting commented out: "#key value". */
static bool
is_setting(const char *line, const char *end)
{
	const char *p = line + 1;

	if (*line != '#' || p >= end || *p < 'a' || *p > 'z')
		return false;
	while (p < end && ((*p >= 'a' && *p <= 'z') || *p == '_'))
		p++;
	return p < end && *p == ' ';
}

/*
 * Returns a malloc'd copy of the sample's settings, uncommented: all of them
 * (all true), or only the first line of each key in keys.
 */
static char *
uncomment(const char *const *keys, size_t n_keys, bool all)
{
	char *out = calloc(1, sample_len + 1), *o = out;
	bool *seen = calloc(n_keys + 1, sizeof(*seen));
	const char *line, *end;
	size_t i, klen;

	assert_non_null(out);
	assert_non_null(seen);
	for (line = sample; *line != '\0'; line = *end ? end + 1 : end) {
		end = strchr(line, '\n');
		if (end == NULL)
			end = line + strlen(line);
		if (!is_setting(line, end))
			continue;
		klen = (size_t)(strchr(line, ' ') - line - 1);
		for (i = 0; !all && i < n_keys; i++)
			if (strlen(keys[i]) == klen &&
			    strncmp(keys[i], line + 1, klen) == 0)
				break;
		if (!all && (i == n_keys || seen[i]))
			continue;
		if (!all)
			seen[i] = true;
		memcpy(o, line + 1, (size_t)(end - line - 1));
		o += end - line - 1;
		*o++ = '\n';
	}
	*o = '\0';
	free(seen);
	return out;
}

/* Returns how many lines of text set key. */
static size_t
count_key(const char *text, const char *key)
{
	size_t klen = strlen(key), n = 0;
	const char *p = text;

	while (*p != '\0') {
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			n++;
		if ((p = strchr(p, '\n')) == NULL)
			break;
		p++;
	}
	return n;
}

/* Parses text into a new config; fails the test on error. */
static struct agentid_config *
parse_ok(const char *text)
{
	struct agentid_config *c;
	struct agentid_error err;

	memset(&err, 0, sizeof(err));
	assert_int_equal(agentid_config_new(&c), 0);
	if (agentid_config_parse(c, text, strlen(text), "agentid.conf", &err) != 0)
		fail_msg("packaging/agentid.conf: %s\n--- text ---\n%s", err.msg, text);
	return c;
}

/* The sample as shipped (everything commented out) is a valid config. */
static void
test_as_shipped(void **state)
{
	struct agentid_config *c;

	(void)state;
	c = parse_ok(sample);
	assert_int_equal(c->n_uri, 0);
	assert_null(c->base);
	agentid_config_free(c);
}

/* Every commented-out setting, defaults and examples, is valid. */
static void
test_every_setting_valid(void **state)
{
	struct agentid_config *c;
	char *text;

	(void)state;
	text = uncomment(NULL, 0, true);
	assert_non_null(strstr(text, "uri "));
	c = parse_ok(text);
	assert_true(c->n_uri >= 1);
	assert_non_null(c->base);
	agentid_config_free(c);
	free(text);
}

/* Uncommenting the default lines changes nothing. */
static void
test_defaults_shown(void **state)
{
	struct agentid_config *d, *c;
	char *text;
	size_t i;

	(void)state;
	text = uncomment(default_keys, N_DEFAULT_KEYS, false);
	for (i = 0; i < N_DEFAULT_KEYS; i++)
		if (count_key(text, default_keys[i]) != 1)
			fail_msg("packaging/agentid.conf: no \"#%s DEFAULT\" line",
			    default_keys[i]);
	assert_int_equal(agentid_config_new(&d), 0);
	c = parse_ok(text);
	assert_int_equal(c->ssl, d->ssl);
	assert_int_equal(c->tls_reqcert, d->tls_reqcert);
	assert_int_equal(c->timeout, d->timeout);
	assert_string_equal(c->agent_filter, d->agent_filter);
	assert_int_equal(c->max_delegation_depth, d->max_delegation_depth);
	assert_int_equal(c->clock_skew, d->clock_skew);
	assert_int_equal(c->max_lifetime, d->max_lifetime);
	assert_int_equal(c->require_scope, d->require_scope);
	assert_int_equal(c->min_uid, d->min_uid);
	assert_string_equal(c->nologin_shell, d->nologin_shell);
	assert_string_equal(c->replica, d->replica);
	assert_int_equal(c->offline, d->offline);
	assert_int_equal(c->offline_max_age, d->offline_max_age);
	assert_string_equal(c->audit_log, d->audit_log);
	assert_int_equal(c->audit_syslog, d->audit_syslog);
	assert_int_equal(c->audit_fsync, d->audit_fsync);
	assert_int_equal(c->audit_required, d->audit_required);
	assert_string_equal(c->owner_filter, d->owner_filter);
	assert_int_equal(c->source, d->source);
	assert_int_equal(c->replica_max_age, d->replica_max_age);
	assert_int_equal(c->heartbeat, d->heartbeat);
	assert_int_equal(c->n_require_cert, d->n_require_cert);
	assert_string_equal(c->require_cert[0], d->require_cert[0]);
	assert_int_equal(c->enforce, d->enforce);
	assert_int_equal(c->enforce_grace, d->enforce_grace);
	assert_int_equal(c->enforce_cert_expiry, d->enforce_cert_expiry);
	agentid_config_free(c);
	agentid_config_free(d);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_as_shipped),
		cmocka_unit_test(test_every_setting_valid),
		cmocka_unit_test(test_defaults_shown),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
