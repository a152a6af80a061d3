/* SPDX-License-Identifier: BSD-2-Clause */
/* test_audit.c - unit tests of the audit record builder, line scanner and
 * syslog line (pure code: no files). */
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
#include <jansson.h>

#include "agentid.h"
#include "agentid_audit.h"
#include "audit_internal.h"

static const char *const HASH1 =
    "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/* A typical event: an allowed account decision with a two-link chain. */
struct fixture {
	struct agentid_record rec[3];
	struct agentid_chain chain;
	struct agentid_decision d;
	struct agentid_audit_event ev;
};

static void
fixture_init(struct fixture *f)
{
	memset(f, 0, sizeof(*f));
	f->rec[0].dn = (char *)"uid=bot,ou=agents,dc=example,dc=org";
	f->rec[0].is_agent = true;
	f->rec[1].dn = (char *)"uid=orch,ou=agents,dc=example,dc=org";
	f->rec[1].is_agent = true;
	f->rec[2].dn = (char *)"uid=alice,ou=people,dc=example,dc=org";
	f->chain.rec = f->rec;
	f->chain.n = 3;
	f->d.allow = true;
	f->d.reason = AGENTID_OK;
	f->d.has_window = true;
	f->d.not_after = 1893456000; /* 2030-01-01 */
	f->d.owner = f->rec[2].dn;
	f->d.n_agents = 2;
	f->ev.ts = 1790000000;
	f->ev.host = "host1.example.org";
	f->ev.event = "account";
	f->ev.service = "sshd";
	f->ev.user = "bot";
	f->ev.decision = &f->d;
	f->ev.chain = &f->chain;
	f->ev.rhost = "192.0.2.7";
	f->ev.pid = 4242;
	f->ev.duration = -1;
}

/* Formats ev and parses it back with jansson (asserting it is JSON). */
static json_t *
format_parse(const struct agentid_audit_event *ev, const char *prev, char **text)
{
	json_error_t jerr;
	json_t *o;
	char *s = agentid_audit_format(ev, prev);

	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	o = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	assert_non_null(o);
	assert_true(json_is_object(o));
	if (text != NULL)
		*text = s;
	else
		free(s);
	return o;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
test_format_fields(void **state)
{
	struct fixture f;
	json_t *o, *chain;

	(void)state;
	fixture_init(&f);
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(jstr(o, "ts"), "2026-09-21T14:13:20Z");
	assert_string_equal(jstr(o, "host"), "host1.example.org");
	assert_string_equal(jstr(o, "event"), "account");
	assert_string_equal(jstr(o, "service"), "sshd");
	assert_string_equal(jstr(o, "user"), "bot");
	assert_string_equal(jstr(o, "decision"), "allow");
	assert_string_equal(jstr(o, "reason"), "ok");
	assert_string_equal(jstr(o, "owner"), "uid=alice,ou=people,dc=example,dc=org");
	assert_string_equal(jstr(o, "rhost"), "192.0.2.7");
	assert_int_equal(json_integer_value(json_object_get(o, "pid")), 4242);
	assert_string_equal(jstr(o, "not_after"), "2030-01-01T00:00:00Z");
	assert_string_equal(jstr(o, "prev"), HASH1);
	chain = json_object_get(o, "chain");
	assert_true(json_is_array(chain));
	assert_int_equal(json_array_size(chain), 3);
	assert_string_equal(json_string_value(json_array_get(chain, 0)),
	    "uid=bot,ou=agents,dc=example,dc=org");
	assert_string_equal(json_string_value(json_array_get(chain, 2)),
	    "uid=alice,ou=people,dc=example,dc=org");
	json_decref(o);
}

static void
test_format_order_prev_last(void **state)
{
	static const char *const order[] = { "\"ts\"", "\"host\"", "\"event\"",
	    "\"service\"", "\"user\"", "\"decision\"", "\"reason\"", "\"source\"",
	    "\"owner\"", "\"chain\"", "\"rhost\"", "\"tty\"", "\"pid\"", "\"not_after\"",
	    "\"cert\"", "\"task\"", "\"on_behalf_of\"", "\"session\"",
	    "\"boot_id\"", "\"audit_session\"", "\"login_session\"",
	    "\"duration\"", "\"operator\"", "\"prev\"" };
	struct fixture f;
	const char *last = NULL, *p;
	char *s;
	size_t i;

	(void)state;
	fixture_init(&f);
	f.ev.tty = "ssh";
	f.ev.source = "replica";
	f.ev.cert_key_id = "bot@ci";
	f.ev.task = "T-1";
	f.ev.on_behalf_of = "alice";
	f.ev.session = "s-1";
	f.ev.boot_id = "b";
	f.ev.has_audit_session = true;
	f.ev.audit_session = 3;
	f.ev.login_session = "c1";
	f.ev.duration = 30;
	f.ev.operator_name = "op";
	json_decref(format_parse(&f.ev, HASH1, &s));
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		p = strstr(s, order[i]);
		assert_non_null(p);
		assert_true(last == NULL || p > last);
		last = p;
	}
	/* prev is the very last member */
	assert_string_equal(s + strlen(s) - 75, ",\"prev\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}");
	free(s);
}

static void
test_format_absent_fields_omitted(void **state)
{
	struct agentid_audit_event ev;
	json_t *o;

	(void)state;
	memset(&ev, 0, sizeof(ev));
	ev.ts = 0;
	ev.event = "check";
	ev.duration = -1;
	o = format_parse(&ev, NULL, NULL);
	assert_string_equal(jstr(o, "ts"), "1970-01-01T00:00:00Z");
	assert_string_equal(jstr(o, "decision"), "error");
	assert_string_equal(jstr(o, "reason"), "error");
	assert_string_equal(jstr(o, "prev"), AUDIT_ZERO_HASH);
	assert_null(json_object_get(o, "host"));
	assert_null(json_object_get(o, "user"));
	assert_null(json_object_get(o, "owner"));
	assert_null(json_object_get(o, "chain"));
	assert_null(json_object_get(o, "pid"));
	assert_null(json_object_get(o, "not_after"));
	assert_null(json_object_get(o, "cert"));
	assert_null(json_object_get(o, "duration"));
	assert_null(json_object_get(o, "seq"));
	assert_int_equal(json_object_size(o), 5);
	json_decref(o);
}

static void
test_format_deny_reason(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.d.allow = false;
	f.d.reason = AGENTID_SCOPE_HOST;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(jstr(o, "decision"), "deny");
	assert_string_equal(jstr(o, "reason"), "scope_host");
	json_decref(o);
}

static void
test_format_reason_override(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.ev.reason = "ldap_unavailable";
	f.ev.decision = NULL;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(jstr(o, "decision"), "error");
	assert_string_equal(jstr(o, "reason"), "ldap_unavailable");
	/* without a decision, the owner comes from the human ending the chain */
	assert_string_equal(jstr(o, "owner"), "uid=alice,ou=people,dc=example,dc=org");
	assert_null(json_object_get(o, "not_after"));
	json_decref(o);
}

static void
test_format_owner_none_when_chain_ends_in_agent(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.chain.n = 2; /* owner missing: chain ends in an agent */
	f.ev.decision = NULL;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_null(json_object_get(o, "owner"));
	assert_int_equal(json_array_size(json_object_get(o, "chain")), 2);
	json_decref(o);
}

static void
test_format_cert(void **state)
{
	struct fixture f;
	json_t *o, *c;

	(void)state;
	fixture_init(&f);
	f.ev.event = "session_open";
	f.ev.cert_key_id = "bot@ci task=T-9";
	f.ev.has_cert_serial = true;
	f.ev.cert_serial = 77;
	f.ev.cert_ca = "SHA256:abcdef";
	f.ev.has_cert_valid_before = true;
	f.ev.cert_valid_before = 1893456000;
	o = format_parse(&f.ev, HASH1, NULL);
	c = json_object_get(o, "cert");
	assert_true(json_is_object(c));
	assert_string_equal(jstr(c, "key_id"), "bot@ci task=T-9");
	assert_int_equal(json_integer_value(json_object_get(c, "serial")), 77);
	assert_string_equal(jstr(c, "ca"), "SHA256:abcdef");
	assert_string_equal(jstr(c, "valid_before"), "2030-01-01T00:00:00Z");
	json_decref(o);
}

static void
test_format_cert_huge_serial_and_forever(void **state)
{
	struct fixture f;
	json_t *o, *c;

	(void)state;
	fixture_init(&f);
	f.ev.has_cert_serial = true;
	f.ev.cert_serial = UINT64_MAX;
	f.ev.has_cert_valid_before = true;
	f.ev.cert_valid_before = INT64_MAX;
	f.d.not_after = -1;
	o = format_parse(&f.ev, HASH1, NULL);
	c = json_object_get(o, "cert");
	assert_string_equal(jstr(c, "serial"), "18446744073709551615");
	assert_string_equal(jstr(c, "valid_before"), "forever");
	assert_string_equal(jstr(o, "not_after"), "forever");
	assert_null(json_object_get(c, "key_id"));
	json_decref(o);
}

static void
test_format_hostile_quotes_newlines(void **state)
{
	struct fixture f;
	json_t *o;
	char *s;

	(void)state;
	fixture_init(&f);
	f.ev.user = "bot\",\"decision\":\"allow\"}\n{\"x\":\"";
	f.ev.rhost = "a\r\nb\\c";
	o = format_parse(&f.ev, HASH1, &s);
	assert_string_equal(jstr(o, "user"), f.ev.user);
	assert_string_equal(jstr(o, "rhost"), "a\r\nb\\c");
	assert_null(strchr(s, '\n'));
	assert_null(strchr(s, '\r'));
	assert_string_equal(jstr(o, "decision"), "allow");
	free(s);
	json_decref(o);
}

static void
test_format_control_chars(void **state)
{
	struct fixture f;
	json_t *o;
	char *s;
	size_t i;

	(void)state;
	fixture_init(&f);
	f.ev.tty = "\x01\x1b[31m\x7f\t";
	o = format_parse(&f.ev, HASH1, &s);
	assert_string_equal(jstr(o, "tty"), "\x01\x1b[31m\x7f\t");
	for (i = 0; s[i] != '\0'; i++)
		assert_true((unsigned char)s[i] >= 0x20);
	assert_non_null(strstr(s, "\\u0001\\u001B[31m"));
	free(s);
	json_decref(o);
}

static void
test_format_invalid_utf8_replaced(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.ev.user = "bot\xff\xfe-\xc3\xa9-\xc0\xaf-\xed\xa0\x80-\xe2\x82";
	f.ev.service = "caf\xc3\xa9"; /* valid UTF-8 stays as it is */
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(jstr(o, "user"),
	    "bot\xef\xbf\xbd\xef\xbf\xbd-\xc3\xa9-\xef\xbf\xbd\xef\xbf\xbd-"
	    "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd-\xef\xbf\xbd\xef\xbf\xbd");
	assert_string_equal(jstr(o, "service"), "caf\xc3\xa9");
	/* the rest of the record is intact */
	assert_string_equal(jstr(o, "decision"), "allow");
	json_decref(o);
}

static void
test_format_invalid_utf8_in_chain(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.rec[0].dn = (char *)"uid=\x80\x81,dc=x";
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "chain"), 0)), "uid=\xef\xbf\xbd\xef\xbf\xbd,dc=x");
	json_decref(o);
}

static void
test_format_record_seq(void **state)
{
	struct fixture f;
	char *s;

	(void)state;
	fixture_init(&f);
	s = audit_format_record(&f.ev, NULL, 12345, HASH1);
	assert_non_null(s);
	assert_non_null(strstr(s, ",\"seq\":12345,\"prev\":\""));
	free(s);
}

static void
test_format_scan_roundtrip(void **state)
{
	struct audit_fields af;
	struct fixture f;
	const char *why = NULL;
	int64_t ts;
	char *s;

	(void)state;
	fixture_init(&f);
	f.ev.user = "we\"ird\\\x01\xff";
	s = audit_format_record(&f.ev, NULL, 9, HASH1);
	assert_non_null(s);
	assert_int_equal(audit_parse_line(s, strlen(s), &af, &why), 0);
	assert_true(af.has_seq);
	assert_int_equal(af.seq, 9);
	assert_memory_equal(af.prev, HASH1, 64);
	assert_int_equal(af.reason_len, 2);
	assert_memory_equal(af.reason, "ok", 2);
	assert_int_equal(audit_parse_ts(af.ts, af.ts_len, &ts), 0);
	assert_int_equal(ts, 1790000000);
	free(s);
}

/* Expects audit_parse_line to refuse line. */
static void
refuse(const char *line)
{
	struct audit_fields af;
	const char *why = NULL;

	assert_int_equal(audit_parse_line(line, strlen(line), &af, &why), EBADMSG);
	assert_non_null(why);
}

#define P "\"prev\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""
#define T "\"ts\":\"2026-01-01T00:00:00Z\""

static void
test_scan_accepts(void **state)
{
	static const char *const good[] = {
		"{" T "," P "}",
		"{ " T " , " P " }",
		"{" T ",\"x\":[1,-2.5e+3,true,false,null,{\"a\":[]}]," P "}",
		"{" T ",\"u\":\"\\u00e9\\ud83d\\ude00\\n\\\"\"," P "}",
		"{" T ",\"u\":\"caf\xc3\xa9 \xf0\x9f\x98\x80\"," P ",\"seq\":1}",
	};
	struct audit_fields af;
	const char *why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		assert_int_equal(audit_parse_line(good[i], strlen(good[i]), &af,
		    &why), 0);
	}
}

static void
test_scan_refuses(void **state)
{
	(void)state;
	refuse("");
	refuse("[]");
	refuse("{}");                                   /* no prev, no ts */
	refuse("{" T "}");                              /* no prev */
	refuse("{" P "}");                              /* no ts */
	refuse("{" T "," P "]");                        /* wrong bracket */
}

static void
test_scan_refuses_malformed(void **state)
{
	(void)state;
	refuse("{" T "," P "}x");                       /* trailing text */
	refuse("{" T "," P ",}");                       /* trailing comma */
	refuse("{" T "," P "," P "}");                  /* duplicate prev */
	refuse("{" T "," T "," P "}");                  /* duplicate ts */
	refuse("{" T ",\"pr\\u0065v\":\"x\"," P "}");   /* escaped key */
	refuse("{" T ",\"prev\":\"9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08\"}");
	refuse("{" T ",\"prev\":\"abc\"}");
	refuse("{" T ",\"u\":\"a\xff\"," P "}");        /* invalid UTF-8 */
	refuse("{" T ",\"u\":\"a\xc0\xaf\"," P "}");    /* overlong */
	refuse("{" T ",\"u\":\"\\ud800\"," P "}");      /* lone surrogate */
	refuse("{" T ",\"u\":\"\\u0000\"," P "}");      /* NUL */
	refuse("{" T ",\"u\":\"a\tb\"," P "}");         /* raw control */
	refuse("{" T ",\"u\":\"\\q\"," P "}");          /* bad escape */
	refuse("{" T ",\"n\":01," P "}");               /* leading zero */
	refuse("{" T ",\"n\":1.," P "}");
	refuse("{" T ",\"n\":tru," P "}");
	refuse("{" T ",\"seq\":0," P "}");              /* seq must be > 0 */
	refuse("{" T ",\"seq\":-1," P "}");
	refuse("{" T ",\"seq\":1.5," P "}");
	refuse("{" T ",\"seq\":\"1\"," P "}");
	refuse("{" T ",\"u\":\"unterminated");
}

static void
test_scan_depth_limit(void **state)
{
	char line[512];
	size_t o = 0;
	int i;

	(void)state;
	o += (size_t)snprintf(line, sizeof(line), "{" T "," P ",\"x\":");
	for (i = 0; i < 100; i++)
		line[o++] = '[';
	for (i = 0; i < 100; i++)
		line[o++] = ']';
	line[o++] = '}';
	line[o] = '\0';
	refuse(line);
}

static void
test_parse_ts(void **state)
{
	int64_t t = 0;

	(void)state;
	assert_int_equal(audit_parse_ts("2026-09-21T14:13:20Z", 20, &t), 0);
	assert_int_equal(t, 1790000000);
	assert_int_equal(audit_parse_ts("1970-01-01T00:00:00Z", 20, &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(audit_parse_ts("2026-09-21 14:13:20Z", 20, &t), EINVAL);
	assert_int_equal(audit_parse_ts("2026-13-21T14:13:20Z", 20, &t), EINVAL);
	assert_int_equal(audit_parse_ts("2026-09-21T14:13:20", 19, &t), EINVAL);
	assert_int_equal(audit_parse_ts("forever", 7, &t), EINVAL);
}

static void
test_syslog_line(void **state)
{
	struct fixture f;
	char buf[1024];

	(void)state;
	fixture_init(&f);
	f.ev.session = "s-1";
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 7, HASH1, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "event=\"account\" user=\"bot\" "
	    "decision=\"allow\" reason=\"ok\" "
	    "owner=\"uid=alice,ou=people,dc=example,dc=org\" session=\"s-1\" "
	    "seq=\"7\" hash=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"");
}

static void
test_syslog_line_escapes(void **state)
{
	struct fixture f;
	char buf[1024];

	(void)state;
	fixture_init(&f);
	f.ev.user = "evil user=x\n\"q\"\\\xff";
	f.ev.decision = NULL;
	f.chain.n = 2;
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 1, NULL, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "event=\"account\" user=\"evil user=x\\x0a\\\"q\\\"\\\\\\xff\" "
	    "decision=\"error\" reason=\"error\" owner=\"-\" session=\"-\" "
	    "seq=\"1\" hash=\"-\"");
	assert_null(strchr(buf, '\n'));
}

/*
 * Splits a syslog line the way a log parser would (key="value" pairs,
 * backslash escapes inside quotes) into keys[] and decoded-free raw
 * values; returns the number of pairs, or -1 when the line is not a
 * sequence of quoted pairs.
 */
static int
split_kv(const char *line, char keys[][32], char vals[][1024], int max)
{
	const char *p = line;
	int n = 0;
	size_t k, v;

	while (*p != '\0') {
		if (n > 0) {
			if (*p++ != ' ')
				return -1;
		}
		for (k = 0; *p != '=' && *p != '\0' && *p != ' ' && k < 31; k++)
			keys[n][k] = *p++;
		keys[n][k] = '\0';
		if (*p++ != '=' || *p++ != '"')
			return -1;
		for (v = 0; *p != '"'; v++) {
			if (*p == '\0' || v >= 1020)
				return -1;
			if (*p == '\\')
				vals[n][v++] = *p++;
			vals[n][v] = *p++;
		}
		vals[n][v] = '\0';
		p++;
		if (++n == max)
			return *p == '\0' ? n : -1;
	}
	return n;
}

/* issue 10: a value cannot add fields, whatever it holds */
static void
test_syslog_line_injection(void **state)
{
	static const char *const want[] = { "event", "user", "decision",
	    "reason", "source", "owner", "session", "seq", "hash" };
	static const char *const evil = "x\" user=root reason=ok decision=allow y=\"";
	char keys[16][32], vals[16][1024];
	struct fixture f;
	char buf[1024];
	int n, i;

	(void)state;
	fixture_init(&f);
	f.d.allow = false;
	f.d.reason = AGENTID_SCOPE_HOST;
	f.ev.user = evil;
	f.ev.session = evil;
	f.ev.source = "replica x=\"1\"";
	f.ev.reason = "scope_host\" decision=\"allow";
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 3, HASH1, buf,
	    sizeof(buf)), 0);
	n = split_kv(buf, keys, vals, 16);
	assert_int_equal(n, 9);
	for (i = 0; i < n; i++)
		assert_string_equal(keys[i], want[i]);
	assert_string_equal(vals[2], "deny");
	assert_string_equal(vals[1], "x\\\" user=root reason=ok decision=allow y=\\\"");
	assert_string_equal(vals[7], "3");
	assert_string_equal(vals[8], HASH1);
}

/* issue 10: a 250-byte UTF-8 user name and long values are cut, the
 * anchors seq= and hash= never */
static void
test_syslog_line_long_keeps_anchor(void **state)
{
	char keys[16][32], vals[16][1024];
	char user[251], owner[600], buf[1024];
	const char *tail;
	struct fixture f;
	size_t i;
	int n;

	(void)state;
	for (i = 0; i < 250; i += 2)
		memcpy(user + i, "\xc3\xa9", 2);  /* é: escaped to 8 bytes */
	user[250] = '\0';
	memset(owner, 'o', sizeof(owner) - 1);
	owner[sizeof(owner) - 1] = '\0';
	fixture_init(&f);
	f.ev.user = user;
	f.d.owner = owner;
	f.ev.session = "s-1";
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 123456789, HASH1, buf,
	    sizeof(buf)), ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	tail = " seq=\"123456789\" hash=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"";
	assert_true(strlen(buf) > strlen(tail));
	assert_string_equal(buf + strlen(buf) - strlen(tail), tail);
	n = split_kv(buf, keys, vals, 16);
	assert_int_equal(n, 8);
	/* short values whole, the long ones cut and marked, no escape split */
	assert_string_equal(vals[0], "account");
	assert_string_equal(vals[2], "allow");
	assert_string_equal(vals[5], "s-1");
	assert_true(strlen(vals[1]) > 100);
	assert_string_equal(vals[1] + strlen(vals[1]) - 3, "...");
	assert_int_equal((strlen(vals[1]) - 3) % 4, 0);
	assert_memory_equal(vals[1], "\\xc3\\xa9", 8);
	assert_string_equal(vals[4] + strlen(vals[4]) - 3, "...");
	/* the line uses the room it has */
	assert_true(strlen(buf) > 1000);
}

static void
test_syslog_line_truncated(void **state)
{
	char keys[16][32], vals[16][1024];
	struct fixture f;
	char buf[150];

	(void)state;
	fixture_init(&f);
	/* too small for the values: they go, the anchors stay */
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 1, HASH1, buf,
	    sizeof(buf)), ENOSPC);
	assert_true(strlen(buf) < sizeof(buf));
	assert_non_null(strstr(buf, " hash=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\""));
	assert_int_equal(split_kv(buf, keys, vals, 16), 8);
	/* too small even for the anchors: an empty line, never a cut anchor */
	assert_int_equal(audit_syslog_line(&f.ev, NULL, 1, HASH1, buf, 40),
	    ENOSPC);
	assert_string_equal(buf, "");
}

static void
test_syslog_line_seal(void **state)
{
	struct audit_seal seal;
	struct fixture f;
	char buf[1024];

	(void)state;
	fixture_init(&f);
	memset(&seal, 0, sizeof(seal));
	seal.interval = 42;
	memcpy(seal.key_id, "0123456789abcdef", 17);
	memcpy(seal.mac, HASH1, 65);
	assert_int_equal(audit_syslog_line(&f.ev, &seal, 9, HASH1, buf,
	    sizeof(buf)), 0);
	assert_string_equal(buf, "event=\"seal\" interval=\"42\" seq=\"9\" "
	    "hash=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\" "
	    "seal=\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"");
}

/* issue 10: a user that is not an agent and was passed through is "ignore" */
static void
test_format_ignore(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.d.allow = false;
	f.d.reason = AGENTID_NOT_AN_AGENT;
	f.ev.chain = NULL;
	f.ev.passed_through = true;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "decision")),
	    "ignore");
	assert_string_equal(json_string_value(json_object_get(o, "reason")),
	    "not_an_agent");
	json_decref(o);
	/* not passed through (unknown=deny): a deny */
	f.ev.passed_through = false;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "decision")),
	    "deny");
	json_decref(o);
	/* passed_through never turns another deny into "ignore" */
	f.ev.passed_through = true;
	f.d.reason = AGENTID_REVOKED;
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "decision")),
	    "deny");
	json_decref(o);
}

/* the fields DESIGN.md added: source, boot_id, audit_session,
 * login_session, operator */
static void
test_format_new_fields(void **state)
{
	struct fixture f;
	json_t *o;

	(void)state;
	fixture_init(&f);
	f.ev.event = "admin";
	f.ev.source = "offline";
	f.ev.boot_id = "0b1c2d3e-0000-4000-8000-00000000abcd";
	f.ev.has_audit_session = true;
	f.ev.audit_session = 4294967294u;
	f.ev.login_session = "c7";
	f.ev.operator_name = "uid=ops,ou=people,dc=example,dc=org";
	o = format_parse(&f.ev, HASH1, NULL);
	assert_string_equal(json_string_value(json_object_get(o, "event")), "admin");
	assert_string_equal(json_string_value(json_object_get(o, "source")), "offline");
	assert_string_equal(json_string_value(json_object_get(o, "boot_id")),
	    "0b1c2d3e-0000-4000-8000-00000000abcd");
	assert_int_equal(json_integer_value(json_object_get(o, "audit_session")),
	    4294967294LL);
	assert_string_equal(json_string_value(json_object_get(o, "login_session")), "c7");
	assert_string_equal(json_string_value(json_object_get(o, "operator")),
	    "uid=ops,ou=people,dc=example,dc=org");
	json_decref(o);
	/* absent: left out */
	fixture_init(&f);
	o = format_parse(&f.ev, HASH1, NULL);
	assert_null(json_object_get(o, "source"));
	assert_null(json_object_get(o, "audit_session"));
	assert_null(json_object_get(o, "operator"));
	json_decref(o);
}

/* a seal line: its fields, and the scanner reads them back */
static void
test_format_seal_line(void **state)
{
	struct audit_fields af;
	struct audit_seal seal;
	struct fixture f;
	char *s;

	(void)state;
	fixture_init(&f);
	memset(&seal, 0, sizeof(seal));
	seal.interval = 7;
	memcpy(seal.key_id, "0123456789abcdef", 17);
	memcpy(seal.mac, HASH1, 65);
	s = audit_format_record(&f.ev, &seal, 5, HASH1);
	assert_non_null(s);
	assert_string_equal(s, "{\"ts\":\"2026-09-21T14:13:20Z\",\"host\":"
	    "\"host1.example.org\",\"event\":\"seal\",\"interval\":7,\"key\":"
	    "\"0123456789abcdef\",\"seal\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
	    "\"seq\":5,\"prev\":\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\"}");
	assert_int_equal(audit_parse_line(s, strlen(s), &af, NULL), 0);
	assert_true(audit_is_seal(&af));
	assert_true(af.has_interval);
	assert_int_equal(af.interval, 7);
	assert_memory_equal(af.key, "0123456789abcdef", 16);
	assert_memory_equal(af.seal, HASH1, 64);
	free(s);
}

/* the ratchet, the MAC and the two key texts */
static void
test_seal_primitives(void **state)
{
	unsigned char k0[AUDIT_SEAL_KEY_LEN], k1[AUDIT_SEAL_KEY_LEN], seed[AUDIT_SEAL_KEY_LEN];
	struct audit_seal_state st, back;
	char mac[65], mac2[65], id[17], text[512];
	int64_t start, len;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(k0); i++)
		k0[i] = (unsigned char)i;
	memcpy(k1, k0, sizeof(k0));
	assert_int_equal(audit_seal_evolve(k1), 0);
	assert_memory_not_equal(k0, k1, sizeof(k0));
	memcpy(seed, k0, sizeof(k0));
	assert_int_equal(audit_seal_evolve(seed), 0);
	assert_memory_equal(seed, k1, sizeof(k1)); /* deterministic */
	assert_int_equal(audit_seal_key_id(k0, id), 0);
	assert_int_equal(strlen(id), 16);
	assert_int_equal(audit_seal_mac(k0, id, 3, 10, "2026-09-21T14:13:20Z",
	    20, HASH1, mac), 0);
	assert_int_equal(strlen(mac), 64);
	/* every input counts */
	assert_int_equal(audit_seal_mac(k1, id, 3, 10, "2026-09-21T14:13:20Z",
	    20, HASH1, mac2), 0);
	assert_string_not_equal(mac, mac2);
	assert_int_equal(audit_seal_mac(k0, id, 4, 10, "2026-09-21T14:13:20Z",
	    20, HASH1, mac2), 0);
	assert_string_not_equal(mac, mac2);
	assert_int_equal(audit_seal_mac(k0, id, 3, 11, "2026-09-21T14:13:20Z",
	    20, HASH1, mac2), 0);
	assert_string_not_equal(mac, mac2);
	assert_int_equal(audit_seal_mac(k0, id, 3, 10, "2026-09-21T14:13:21Z",
	    20, HASH1, mac2), 0);
	assert_string_not_equal(mac, mac2);
	assert_int_equal(audit_seal_mac(k0, id, 3, 10, "2026-09-21T14:13:20Z",
	    20, AUDIT_ZERO_HASH, mac2), 0);
	assert_string_not_equal(mac, mac2);
	/* epochs */
	assert_int_equal(audit_seal_epoch(1000, 60, 999), 0);
	assert_int_equal(audit_seal_epoch(1000, 60, 1059), 0);
	assert_int_equal(audit_seal_epoch(1000, 60, 1060), 1);
	/* the key file's text round-trips and is strict */
	memset(&st, 0, sizeof(st));
	st.start = 1790000000;
	st.interval_len = 900;
	st.epoch = 77;
	memcpy(st.key, k1, sizeof(k1));
	memcpy(st.key_id, id, sizeof(id));
	audit_seal_state_format(&st, text, sizeof(text));
	assert_int_equal(strlen(text), audit_seal_state_len());
	assert_int_equal(audit_seal_state_parse(text, strlen(text), &back), 0);
	assert_int_equal(back.epoch, 77);
	assert_int_equal(back.start, 1790000000);
	assert_memory_equal(back.key, k1, sizeof(k1));
	text[strlen(text) - 2] = 'X';
	assert_int_equal(audit_seal_state_parse(text, strlen(text), &back), EBADMSG);
	/* verification key text */
	assert_int_equal(audit_seal_vkey_parse("agentid-seal-v1:1790000000:900:"
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
	    &start, &len, seed), 0);
	assert_int_equal(start, 1790000000);
	assert_int_equal(len, 900);
	assert_memory_equal(seed, k0, sizeof(k0));
	assert_int_equal(audit_seal_vkey_parse("agentid-seal-v1:1790000000:900:"
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e", &start,
	    &len, seed), EINVAL);
	assert_int_equal(audit_seal_vkey_parse("agentid-seal-v1:1790000000:0:"
	    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
	    &start, &len, seed), EINVAL);
	assert_int_equal(audit_seal_vkey_parse("nonsense", &start, &len, seed),
	    EINVAL);
}

static void
test_hash_known_vector(void **state)
{
	struct audit_hasher *h = NULL;
	char hex[65];

	(void)state;
	assert_int_equal(audit_hasher_new(&h), 0);
	assert_int_equal(audit_hash_hex(h, "test", 4, hex), 0);
	assert_string_equal(hex, HASH1);
	assert_int_equal(audit_hash_hex(h, "", 0, hex), 0);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	audit_hasher_free(h);
}

/* ------------------------------------------- the writer against jansson */

/*
 * The record is written by hand (common/audit_format.c), claimed to be
 * byte for byte what json_dumps(JSON_COMPACT) wrote. Oracle: jansson loads
 * the line (duplicates refused) and dumps it again in the same order; the
 * two must be the same bytes. Each hostile string also reads back as the
 * value meant (invalid UTF-8 bytes as U+FFFD, decided here independently
 * by the Unicode standard's table 3-7), adds no key, and passes the scanner
 * that verification uses.
 */

/* Length of the well-formed UTF-8 sequence at p (table 3-7), or 0. */
static size_t
wf_len(const unsigned char *p, size_t n)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xbf;
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if (p[i] < 0x80 || p[i] > 0xbf)
			return 0;
	return len;
}

/* s with each byte that starts no well-formed sequence as U+FFFD. */
static char *
wf_expect(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, l;
	char *out = malloc(n * 3 + 1);

	assert_non_null(out);
	while (i < n) {
		if ((l = wf_len(p + i, n - i)) == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, l);
			o += l;
			i += l;
		}
	}
	out[o] = '\0';
	return out;
}

/* Formats ev (a record, or a seal line when seal is set) and checks the
 * line against jansson's own output and the scanner; returns the object. */
static json_t *
jansson_same(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq)
{
	struct audit_fields af;
	json_error_t jerr;
	const char *why = NULL;
	char *s, *again;
	json_t *o;

	s = audit_format_record(ev, seal, seq, HASH1);
	assert_non_null(s);
	o = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL)
		fail_msg("jansson refuses %s: %s", s, jerr.text);
	again = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_non_null(again);
	if (strcmp(s, again) != 0)
		fail_msg("written:\n%s\njansson:\n%s", s, again);
	if (audit_parse_line(s, strlen(s), &af, &why) != 0)
		fail_msg("the scanner refuses %s: %s", s, why);
	free(again);
	free(s);
	return o;
}

/* The string fields an agent or a directory writer can fill. */
static const struct {
	size_t off;
	const char *key;
	const char *in;        /* NULL: top level; else the object holding it */
} text_fields[] = {
#define F(m, k, in) { offsetof(struct agentid_audit_event, m), k, in }
	F(host, "host", NULL), F(service, "service", NULL),
	F(user, "user", NULL), F(reason, "reason", NULL),
	F(source, "source", NULL), F(rhost, "rhost", NULL),
	F(tty, "tty", NULL), F(cert_key_id, "key_id", "cert"),
	F(cert_ca, "ca", "cert"), F(task, "task", NULL),
	F(on_behalf_of, "on_behalf_of", NULL), F(session, "session", NULL),
	F(boot_id, "boot_id", NULL), F(login_session, "login_session", NULL),
	F(culprit, "culprit", NULL), F(action, "action", NULL),
	F(operator_name, "operator", NULL),
#undef F
};

/* Puts s in every field (and the chain's first DN) in turn and checks. */
static void
check_string_everywhere(const char *s)
{
	struct fixture f;
	char *want = wf_expect(s);
	size_t i, keys;
	json_t *o, *v;

	fixture_init(&f);
	o = jansson_same(&f.ev, NULL, 0);
	keys = json_object_size(o);
	json_decref(o);
	for (i = 0; i < sizeof(text_fields) / sizeof(text_fields[0]); i++) {
		fixture_init(&f);
		*(const char **)((char *)&f.ev + text_fields[i].off) = s;
		o = jansson_same(&f.ev, NULL, 7);
		v = o;
		if (text_fields[i].in != NULL)
			v = json_object_get(o, text_fields[i].in);
		v = json_object_get(v, text_fields[i].key);
		if (!json_is_string(v) || strcmp(json_string_value(v), want) != 0)
			fail_msg("field %s does not read back", text_fields[i].key);
		/* one key more at most (the field itself, or "cert"), plus seq */
		assert_true(json_object_size(o) <= keys + 2);
		assert_string_equal(json_string_value(json_object_get(o, "prev")),
		    HASH1);
		json_decref(o);
	}
	fixture_init(&f);
	f.rec[0].dn = (char *)s;
	o = jansson_same(&f.ev, NULL, 0);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(o, "chain"), 0)), want);
	assert_int_equal(json_object_size(o), keys);
	json_decref(o);
	free(want);
}

static void
test_format_same_as_jansson_hostile_strings(void **state)
{
	static const char *const fixed[] = {
		"", "\"", "\\", "\\\"", "\",\"user\":\"root", "\"}{\"a\":\"",
		"a\\u0022b", "\x7f", "/</script>", "\xe2\x80\xa8\xe2\x80\xa9",
		"\xef\xbb\xbf" "bom", "\xef\xbf\xbd", "\xef\xbf\xbf",
		"\xf4\x8f\xbf\xbf", "\xf0\x9f\x98\x80",
		/* overlong */
		"\xc0\x80", "\xc1\xbf", "\xe0\x80\x80", "\xe0\x9f\xbf",
		"\xf0\x80\x80\x80", "\xf0\x8f\xbf\xbf",
		/* surrogates encoded in UTF-8 (CESU-8) */
		"\xed\xa0\x80", "\xed\xbf\xbf", "\xed\xa0\xbd\xed\xb8\x80",
		/* beyond U+10FFFF, and bytes no sequence starts with */
		"\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xf8\x88\x80\x80\x80",
		"\xfe", "\xff", "\x80", "\xbf\x80",
		/* cut short, at the end and before a quote */
		"\xc3", "\xe2\x82", "\xf0\x9f\x98", "\xe2\x82\"", "\xf0\x9f\"}",
		"\x01\x02\x1b[31m\x1f\b\f\n\r\t\x0b",
	};
	char one[4], big[70000];
	unsigned int x = 2463534242u;
	size_t i, j, n;

	(void)state;
	for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		check_string_everywhere(fixed[i]);
	for (i = 1; i < 256; i++) {
		one[0] = (char)i;
		one[1] = '\0';
		check_string_everywhere(one);
		one[0] = 'a';
		one[1] = (char)i;
		one[2] = 'b';
		one[3] = '\0';
		check_string_everywhere(one);
	}
	/* random strings biased to the bytes that matter (xorshift32) */
	for (i = 0; i < 300; i++) {
		char r[48];
		static const unsigned char pick[] = { 0x01, 0x1f, '"', '\\',
		    '/', 'u', 'a', 0x7f, 0x80, 0xbf, 0xc0, 0xc2, 0xdf, 0xe0,
		    0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f, 0x8f,
		    0x90 };

		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		n = x % (sizeof(r) - 1);
		for (j = 0; j < n; j++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			r[j] = (char)(x % 3 == 0 ? (unsigned char)(x >> 8) :
			    pick[(x >> 8) % sizeof(pick)]);
			if (r[j] == '\0')
				r[j] = 'z';
		}
		r[n] = '\0';
		check_string_everywhere(r);
	}
	/* a long value: every escape and replacement, many times */
	for (i = 0; i < sizeof(big) - 1; i++)
		big[i] = (char)(i % 7 == 0 ? '"' : i % 7 == 1 ? '\n' :
		    i % 7 == 2 ? '\xed' : i % 7 == 3 ? '\\' : i % 7 == 4 ? '\xc3' :
		    i % 7 == 5 ? '\xa9' : '\x01');
	big[sizeof(big) - 1] = '\0';
	check_string_everywhere(big);
}

/* numbers and times at their limits */
static void
test_format_same_as_jansson_numbers(void **state)
{
	static const int64_t times[] = { INT64_MIN, -1, 0, 1,
	    INT64_C(253402300799), INT64_C(253402300800), INT64_MAX };
	static const uint64_t u64s[] = { 0, 1, (uint64_t)INT64_MAX,
	    (uint64_t)INT64_MAX + 1, UINT64_MAX };
	struct audit_seal seal;
	struct fixture f;
	json_t *o;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		fixture_init(&f);
		f.ev.ts = times[i];
		f.d.not_after = times[i];
		f.ev.has_cert_valid_before = true;
		f.ev.cert_valid_before = times[i];
		f.ev.duration = times[i];
		json_decref(jansson_same(&f.ev, NULL, 1));
	}
	for (i = 0; i < sizeof(u64s) / sizeof(u64s[0]); i++) {
		fixture_init(&f);
		f.ev.pid = i % 2 == 0 ? 2147483647 : 1;
		f.ev.has_audit_session = true;
		f.ev.audit_session = i % 2 == 0 ? UINT32_MAX : 0;
		f.ev.has_cert_serial = true;
		f.ev.cert_serial = u64s[i];
		f.ev.has_signalled = true;
		f.ev.signalled = u64s[i];
		o = jansson_same(&f.ev, NULL, u64s[i]);
		/* past INT64_MAX a serial is a string, signalled and seq absent */
		if (u64s[i] > (uint64_t)INT64_MAX) {
			assert_true(json_is_string(json_object_get(
			    json_object_get(o, "cert"), "serial")));
			assert_null(json_object_get(o, "signalled"));
			assert_null(json_object_get(o, "seq"));
		}
		json_decref(o);
	}
	memset(&seal, 0, sizeof(seal));
	memcpy(seal.key_id, "0123456789abcdef", 17);
	memcpy(seal.mac, HASH1, 65);
	fixture_init(&f);
	f.ev.host = "h\"\x01\xff";
	seal.interval = (uint64_t)INT64_MAX;
	json_decref(jansson_same(&f.ev, &seal, (uint64_t)INT64_MAX));
	seal.interval = 0;
	json_decref(jansson_same(&f.ev, &seal, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_fields),
		cmocka_unit_test(test_syslog_line_injection),
		cmocka_unit_test(test_syslog_line_long_keeps_anchor),
		cmocka_unit_test(test_syslog_line_seal),
		cmocka_unit_test(test_format_ignore),
		cmocka_unit_test(test_format_new_fields),
		cmocka_unit_test(test_format_seal_line),
		cmocka_unit_test(test_seal_primitives),
		cmocka_unit_test(test_format_order_prev_last),
		cmocka_unit_test(test_format_absent_fields_omitted),
		cmocka_unit_test(test_format_deny_reason),
		cmocka_unit_test(test_format_reason_override),
		cmocka_unit_test(test_format_owner_none_when_chain_ends_in_agent),
		cmocka_unit_test(test_format_cert),
		cmocka_unit_test(test_format_cert_huge_serial_and_forever),
		cmocka_unit_test(test_format_hostile_quotes_newlines),
		cmocka_unit_test(test_format_control_chars),
		cmocka_unit_test(test_format_invalid_utf8_replaced),
		cmocka_unit_test(test_format_invalid_utf8_in_chain),
		cmocka_unit_test(test_format_record_seq),
		cmocka_unit_test(test_format_scan_roundtrip),
		cmocka_unit_test(test_scan_accepts),
		cmocka_unit_test(test_scan_refuses),
		cmocka_unit_test(test_scan_refuses_malformed),
		cmocka_unit_test(test_scan_depth_limit),
		cmocka_unit_test(test_parse_ts),
		cmocka_unit_test(test_syslog_line),
		cmocka_unit_test(test_syslog_line_escapes),
		cmocka_unit_test(test_syslog_line_truncated),
		cmocka_unit_test(test_hash_known_vector),
		cmocka_unit_test(test_format_same_as_jansson_hostile_strings),
		cmocka_unit_test(test_format_same_as_jansson_numbers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
