/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * audit_scan.c - a strict, allocation-free JSON scanner for trail lines.
 * Verification reads millions of lines: instead of building a jansson tree
 * per line, it checks the RFC 8259 grammar in one pass and keeps only the
 * spans of the few top-level fields it needs.
 */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "audit_internal.h"
#include "internal.h"

#define SCAN_MAX_DEPTH 32

struct scan {
	const unsigned char *p;
	const unsigned char *end;
	const char *why;
};

/* Known top-level keys: a second occurrence of any of them is refused. */
enum {
	KEY_TS, KEY_HOST, KEY_EVENT, KEY_SERVICE, KEY_USER, KEY_DECISION,
	KEY_REASON, KEY_SOURCE, KEY_OWNER, KEY_CHAIN, KEY_RHOST, KEY_TTY,
	KEY_PID, KEY_NOT_AFTER, KEY_CERT, KEY_TASK, KEY_ON_BEHALF_OF,
	KEY_SESSION, KEY_BOOT_ID, KEY_AUDIT_SESSION, KEY_LOGIN_SESSION,
	KEY_DURATION, KEY_OPERATOR, KEY_INTERVAL, KEY_KEY, KEY_SEAL, KEY_SEQ,
	KEY_PREV, KEY_COUNT, KEY_UNKNOWN = -1
};
static const struct {
	const char *name;
	size_t len;
} known_keys[KEY_COUNT] = {
#define K(i, s) [i] = { s, sizeof(s) - 1 }
	K(KEY_TS, "ts"), K(KEY_HOST, "host"), K(KEY_EVENT, "event"),
	K(KEY_SERVICE, "service"), K(KEY_USER, "user"),
	K(KEY_DECISION, "decision"), K(KEY_REASON, "reason"),
	K(KEY_SOURCE, "source"), K(KEY_OWNER, "owner"), K(KEY_CHAIN, "chain"),
	K(KEY_RHOST, "rhost"), K(KEY_TTY, "tty"), K(KEY_PID, "pid"),
	K(KEY_NOT_AFTER, "not_after"), K(KEY_CERT, "cert"),
	K(KEY_TASK, "task"), K(KEY_ON_BEHALF_OF, "on_behalf_of"),
	K(KEY_SESSION, "session"), K(KEY_BOOT_ID, "boot_id"),
	K(KEY_AUDIT_SESSION, "audit_session"),
	K(KEY_LOGIN_SESSION, "login_session"), K(KEY_DURATION, "duration"),
	K(KEY_OPERATOR, "operator"), K(KEY_INTERVAL, "interval"),
	K(KEY_KEY, "key"), K(KEY_SEAL, "seal"), K(KEY_SEQ, "seq"),
	K(KEY_PREV, "prev"),
#undef K
};
/* "seen" is a 32-bit mask */
_Static_assert(KEY_COUNT <= 32, "too many known keys for the seen mask");

/* Fails the scan with why; returns EBADMSG. */
static int
fail(struct scan *s, const char *why)
{
	if (s->why == NULL)
		s->why = why;
	return EBADMSG;
}

/* Skips JSON whitespace. */
static void
skip_ws(struct scan *s)
{
	while (s->p < s->end &&
	    (*s->p == ' ' || *s->p == '\t' || *s->p == '\r' || *s->p == '\n'))
		s->p++;
}

/* Value of one hex digit, or -1. */
static int
hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Reads the 4 hex digits of a \u escape at s->p; returns the unit or -1. */
static long
read_u4(struct scan *s)
{
	long v = 0;
	int i, d;

	if (s->end - s->p < 4)
		return -1;
	for (i = 0; i < 4; i++) {
		if ((d = hexval(s->p[i])) < 0)
			return -1;
		v = v * 16 + d;
	}
	s->p += 4;
	return v;
}

/* 1 for the bytes a string may hold as they are: printable ASCII but '"'
 * and '\\' (and DEL, which JSON allows). */
static const unsigned char plain[256] = {
#define R8(v) v, v, v, v, v, v, v, v
	R8(0), R8(0), R8(0), R8(0),                     /* 0x00-0x1f */
	1, 1, 0, 1, 1, 1, 1, 1, R8(1),                  /* 0x20-0x2f: '"' */
	R8(1), R8(1), R8(1), R8(1), R8(1),              /* 0x30-0x57 */
	1, 1, 1, 1, 0, 1, 1, 1,                         /* 0x58-0x5f: '\\' */
	R8(1), R8(1), R8(1), R8(1),                     /* 0x60-0x7f */
	/* 0x80-0xff: UTF-8, checked separately */
#undef R8
};

/* Scans a string at s->p ('"'); sets its raw span; 0 or EBADMSG. */
static int
scan_string(struct scan *s, const char **start, size_t *len, bool *escaped)
{
	const unsigned char *b;
	size_t l;
	long u, lo;

	if (s->p >= s->end || *s->p != '"')
		return fail(s, "expected a string");
	b = ++s->p;
	*escaped = false;
	for (;;) {
		/* fast path: plain printable ASCII */
		while (s->p < s->end && plain[*s->p])
			s->p++;
		if (s->p >= s->end)
			return fail(s, "unterminated string");
		if (*s->p == '"')
			break;
		if (*s->p < 0x20)
			return fail(s, "control character in a string");
		if (*s->p >= 0x80) {
			if ((l = audit_utf8_len(s->p, (size_t)(s->end - s->p))) == 0)
				return fail(s, "invalid UTF-8");
			s->p += l;
			continue;
		}
		/* backslash */
		*escaped = true;
		if (++s->p >= s->end)
			return fail(s, "unterminated escape");
		switch (*s->p++) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			break;
		case 'u':
			if ((u = read_u4(s)) < 0)
				return fail(s, "bad \\u escape");
			if (u == 0)
				return fail(s, "\\u0000 in a string");
			if (u >= 0xdc00 && u <= 0xdfff)
				return fail(s, "lone low surrogate");
			if (u >= 0xd800 && u <= 0xdbff) {
				if (s->end - s->p < 2 || s->p[0] != '\\' ||
				    s->p[1] != 'u')
					return fail(s, "lone high surrogate");
				s->p += 2;
				if ((lo = read_u4(s)) < 0xdc00 || lo > 0xdfff)
					return fail(s, "bad surrogate pair");
			}
			break;
		default:
			return fail(s, "bad escape");
		}
	}
	*start = (const char *)b;
	*len = (size_t)(s->p - b);
	s->p++;
	return 0;
}

/* Scans a number; 0 or EBADMSG. */
static int
scan_number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (s->p >= s->end)
		return fail(s, "bad number");
	if (*s->p == '0') {
		s->p++;
	} else if (*s->p >= '1' && *s->p <= '9') {
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	} else {
		return fail(s, "bad number");
	}
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (s->p >= s->end || *s->p < '0' || *s->p > '9')
			return fail(s, "bad number");
		while (s->p < s->end && *s->p >= '0' && *s->p <= '9')
			s->p++;
	}
	return 0;
}

/* Scans a literal word (true/false/null); 0 or EBADMSG. */
static int
scan_word(struct scan *s, const char *w)
{
	size_t n = strlen(w);

	if ((size_t)(s->end - s->p) < n || memcmp(s->p, w, n) != 0)
		return fail(s, "unexpected character");
	s->p += n;
	return 0;
}

static int scan_value(struct scan *s, unsigned depth);

/* Scans an object or array body after its opening bracket; 0 or EBADMSG. */
static int
scan_container(struct scan *s, unsigned depth, bool object)
{
	const char *k;
	size_t kl;
	bool esc;
	unsigned char close = object ? '}' : ']';

	skip_ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 0;
	}
	for (;;) {
		skip_ws(s);
		if (object) {
			if (scan_string(s, &k, &kl, &esc) != 0)
				return EBADMSG;
			skip_ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return fail(s, "expected ':'");
		}
		if (scan_value(s, depth + 1) != 0)
			return EBADMSG;
		skip_ws(s);
		if (s->p >= s->end)
			return fail(s, "unterminated object or array");
		if (*s->p == close) {
			s->p++;
			return 0;
		}
		if (*s->p++ != ',')
			return fail(s, "expected ',' or a closing bracket");
	}
}

/* Scans any JSON value; 0 or EBADMSG. */
static int
scan_value(struct scan *s, unsigned depth)
{
	const char *str;
	size_t len;
	bool esc;

	if (depth > SCAN_MAX_DEPTH)
		return fail(s, "nested too deeply");
	skip_ws(s);
	if (s->p >= s->end)
		return fail(s, "missing value");
	switch (*s->p) {
	case '"':
		return scan_string(s, &str, &len, &esc);
	case '{':
		s->p++;
		return scan_container(s, depth, true);
	case '[':
		s->p++;
		return scan_container(s, depth, false);
	case 't':
		return scan_word(s, "true");
	case 'f':
		return scan_word(s, "false");
	case 'n':
		return scan_word(s, "null");
	default:
		if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
			return scan_number(s);
		return fail(s, "unexpected character");
	}
}

/* Index of a known key in known_keys, or KEY_UNKNOWN. */
static int
key_index(const char *k, size_t kl)
{
	size_t i;

	for (i = 0; i < KEY_COUNT; i++)
		if (known_keys[i].len == kl && known_keys[i].name[0] == k[0] &&
		    memcmp(known_keys[i].name, k, kl) == 0)
			return (int)i;
	return KEY_UNKNOWN;
}

/* Reads an unsigned decimal integer span into *out; 0 or EBADMSG. */
static int
span_u64(const unsigned char *b, const unsigned char *e, uint64_t *out)
{
	uint64_t v = 0;

	if (b == e || (*b == '0' && e - b > 1))
		return EBADMSG;
	for (; b < e; b++) {
		if (*b < '0' || *b > '9' || v > (UINT64_MAX - 9) / 10)
			return EBADMSG;
		v = v * 10 + (uint64_t)(*b - '0');
	}
	*out = v;
	return 0;
}

/* Whether s (len bytes) is lowercase hex digits only. */
static bool
lower_hex(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* See audit_internal.h. */
bool
audit_is_seal(const struct audit_fields *f)
{
	return f->event != NULL && f->event_len == 4 &&
	    memcmp(f->event, "seal", 4) == 0;
}

/* Checks one top-level member's value and records the fields we keep. */
static int
scan_member(struct scan *s, int idx, struct audit_fields *f)
{
	const unsigned char *vb;
	const char *str;
	size_t len;
	bool esc;

	skip_ws(s);
	vb = s->p;
	switch (idx) {
	case KEY_TS:
	case KEY_DECISION:
	case KEY_REASON:
	case KEY_EVENT:
	case KEY_KEY:
	case KEY_SEAL:
	case KEY_PREV:
		if (scan_string(s, &str, &len, &esc) != 0)
			return EBADMSG;
		if (idx == KEY_EVENT) {
			f->event = str;
			f->event_len = len;
		} else if (idx == KEY_KEY || idx == KEY_SEAL) {
			/* only a seal line's are read; others just scanned */
			if (len != (idx == KEY_KEY ? AUDIT_SEAL_ID_HEX :
			    AUDIT_HASH_HEX) || !lower_hex(str, len))
				return 0;
			if (idx == KEY_KEY)
				f->key = str;
			else
				f->seal = str;
		} else if (idx == KEY_TS) {
			f->ts = str;
			f->ts_len = len;
		} else if (idx == KEY_DECISION) {
			f->decision = str;
			f->decision_len = len;
		} else if (idx == KEY_REASON) {
			f->reason = str;
			f->reason_len = len;
		} else {
			if (len != AUDIT_HASH_HEX)
				return fail(s, "\"prev\" is not a SHA-256 hex digest");
			if (!lower_hex(str, len))
				return fail(s, "\"prev\" is not lowercase hex");
			f->prev = str;
		}
		return 0;
	case KEY_SEQ:
		if (scan_number(s) != 0)
			return EBADMSG;
		if (span_u64(vb, s->p, &f->seq) != 0 || f->seq == 0)
			return fail(s, "\"seq\" is not a positive integer");
		f->has_seq = true;
		return 0;
	case KEY_INTERVAL:
		if (scan_number(s) != 0)
			return EBADMSG;
		/* 0 is a valid interval; anything else that is not a plain
		 * non-negative integer leaves has_interval false */
		if (s->p - vb == 1 && *vb == '0') {
			f->interval = 0;
			f->has_interval = true;
		} else if (span_u64(vb, s->p, &f->interval) == 0) {
			f->has_interval = true;
		}
		return 0;
	default:
		return scan_value(s, 1);
	}
}

/* See audit_internal.h. */
int
audit_parse_line(const char *line, size_t len, struct audit_fields *f,
    const char **why)
{
	struct scan s = { (const unsigned char *)line,
	    (const unsigned char *)line + len, NULL };
	uint32_t seen = 0;
	const char *k;
	size_t kl;
	bool esc;
	int idx;

	memset(f, 0, sizeof(*f));
	skip_ws(&s);
	if (s.p >= s.end || *s.p++ != '{') {
		fail(&s, "not a JSON object");
		goto out;
	}
	skip_ws(&s);
	if (s.p < s.end && *s.p == '}') {
		s.p++;
	} else {
		for (;;) {
			skip_ws(&s);
			if (scan_string(&s, &k, &kl, &esc) != 0)
				goto out;
			if (esc) {
				fail(&s, "escaped key");
				goto out;
			}
			if ((idx = key_index(k, kl)) != KEY_UNKNOWN) {
				if (seen & (1u << idx)) {
					fail(&s, "duplicate key");
					goto out;
				}
				seen |= 1u << idx;
			}
			skip_ws(&s);
			if (s.p >= s.end || *s.p++ != ':') {
				fail(&s, "expected ':'");
				goto out;
			}
			if (scan_member(&s, idx, f) != 0)
				goto out;
			skip_ws(&s);
			if (s.p >= s.end) {
				fail(&s, "unterminated object");
				goto out;
			}
			if (*s.p == '}') {
				s.p++;
				break;
			}
			if (*s.p++ != ',') {
				fail(&s, "expected ',' or '}'");
				goto out;
			}
		}
	}
	skip_ws(&s);
	if (s.p != s.end)
		fail(&s, "text after the JSON object");
	else if (f->prev == NULL)
		fail(&s, "no \"prev\" field");
	else if (f->ts == NULL)
		fail(&s, "no \"ts\" field");
out:
	if (why != NULL)
		*why = s.why;
	return s.why == NULL ? 0 : EBADMSG;
}

/* Parses "YYYY-MM-DDTHH:MM:SSZ" (what the writer emits); 0 or EINVAL. */
int
audit_parse_ts(const char *s, size_t len, int64_t *out)
{
	static const char pat[] = "dddd-dd-ddTdd:dd:ddZ";
	int v[6] = { 0 }, k = 0;
	size_t i;

	if (len != sizeof(pat) - 1)
		return EINVAL;
	for (i = 0; i < len; i++) {
		if (pat[i] == 'd') {
			if (s[i] < '0' || s[i] > '9')
				return EINVAL;
			v[k] = v[k] * 10 + (s[i] - '0');
		} else if (s[i] != pat[i]) {
			return EINVAL;
		} else {
			k++;
		}
	}
	if (v[1] < 1 || v[1] > 12 || v[2] < 1 || v[2] > 31 || v[3] > 23 ||
	    v[4] > 59 || v[5] > 60)
		return EINVAL;
	*out = agentid_days_from_civil(v[0], (unsigned)v[1], (unsigned)v[2]) *
	    86400 + v[3] * 3600 + v[4] * 60 + v[5];
	return 0;
}
