/* SPDX-License-Identifier: BSD-2-Clause */
/* audit_format.c - one audit record as a JSON line, and its syslog form. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "audit_internal.h"

/* Latest time written as RFC 3339; later (or negative) values mean "forever". */
#define AUDIT_TIME_MAX INT64_C(253402300799) /* 9999-12-31T23:59:59Z */

/* Length of the valid UTF-8 sequence at s (of n bytes), or 0 if invalid. */
size_t
audit_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;
	uint32_t cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return 0;
	return len;
}

/*
 * The record is written here, not through jansson: it is output only, in
 * a fixed key order, and the writer is all pam_agent.so needed jansson for
 * (one shared object less for sshd to load per connection). It writes what
 * json_dumps(JSON_COMPACT) wrote: keys in insertion order, no spaces, the
 * escapes \" \\ \b \f \n \r \t and \u00XX (upper-case hex) for the other
 * control bytes, everything else (UTF-8 included) as is.
 */
struct jw {
	char *p;
	size_t len, cap;
	bool comma;      /* a value was written at this level */
	bool err;        /* out of memory: the record is dropped */
};

/* Appends n bytes. */
static void
jw_raw(struct jw *w, const char *s, size_t n)
{
	size_t cap;
	char *np;

	if (w->err)
		return;
	if (n + 1 > w->cap - w->len) {
		cap = w->cap != 0 ? w->cap : 512;
		while (n + 1 > cap - w->len) {
			if (cap > SIZE_MAX / 2) {
				w->err = true;
				return;
			}
			cap *= 2;
		}
		if ((np = realloc(w->p, cap)) == NULL) {
			w->err = true;
			return;
		}
		w->p = np;
		w->cap = cap;
	}
	memcpy(w->p + w->len, s, n);
	w->len += n;
	w->p[w->len] = '\0';
}

/* Appends one byte of a string's ASCII range, escaped as jansson does. */
static void
jw_ascii(struct jw *w, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '"': jw_raw(w, "\\\"", 2); return;
	case '\\': jw_raw(w, "\\\\", 2); return;
	case '\b': jw_raw(w, "\\b", 2); return;
	case '\f': jw_raw(w, "\\f", 2); return;
	case '\n': jw_raw(w, "\\n", 2); return;
	case '\r': jw_raw(w, "\\r", 2); return;
	case '\t': jw_raw(w, "\\t", 2); return;
	default:
		break;
	}
	if (c < 0x20) {
		snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)c);
		jw_raw(w, esc, 6);
		return;
	}
	jw_raw(w, (const char *)&c, 1);
}

/*
 * Appends s as a JSON string. A byte that does not start a valid UTF-8
 * sequence is written as U+FFFD, so that one hostile field cannot make the
 * whole record fail.
 */
static void
jw_str(struct jw *w, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, l;

	jw_raw(w, "\"", 1);
	while (i < n) {
		if ((l = audit_utf8_len(p + i, n - i)) == 0) {
			jw_raw(w, "\xef\xbf\xbd", 3);
			i++;
		} else if (l == 1) {
			jw_ascii(w, p[i++]);
		} else {
			jw_raw(w, s + i, l);
			i += l;
		}
	}
	jw_raw(w, "\"", 1);
}

/* Starts key's value at the current level. */
static void
jw_key(struct jw *w, const char *key)
{
	if (w->comma)
		jw_raw(w, ",", 1);
	jw_str(w, key);
	jw_raw(w, ":", 1);
	w->comma = true;
}

/* Opens an object or array ('{' or '['); jw_close closes it. */
static void
jw_open(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	w->comma = false;
}

static void
jw_close(struct jw *w, char c)
{
	jw_raw(w, &c, 1);
	w->comma = true;
}

/* Adds key: s unless s is NULL. */
static void
put_text(struct jw *w, const char *key, const char *s)
{
	if (s == NULL)
		return;
	jw_key(w, key);
	jw_str(w, s);
}

/* See audit_internal.h. */
void
audit_format_ts(int64_t t, char *buf, size_t len)
{
	if (t < 0 || t > AUDIT_TIME_MAX)
		snprintf(buf, len, "forever");
	else
		agentid_format_time(t, buf, len);
}

/* Adds key: an RFC 3339 time, or "forever" beyond year 9999. */
static void
put_time(struct jw *w, const char *key, int64_t t)
{
	char buf[64];

	audit_format_ts(t, buf, sizeof(buf));
	put_text(w, key, buf);
}

/* Adds key: an integer. */
static void
put_int(struct jw *w, const char *key, int64_t v)
{
	char buf[24];
	int n;

	jw_key(w, key);
	n = snprintf(buf, sizeof(buf), "%" PRId64, v);
	jw_raw(w, buf, (size_t)n);
}

/* "allow", "deny", "ignore" (a user that is not an agent, passed through
 * by the front) or "error" (no decision). */
static const char *
decision_text(const struct agentid_audit_event *ev)
{
	if (ev->decision == NULL)
		return "error";
	if (ev->decision->allow)
		return "allow";
	if (ev->passed_through && ev->decision->reason == AGENTID_NOT_AN_AGENT)
		return "ignore";
	return "deny";
}

/* The reason written for ev: its override, the decision's, or "error". */
static const char *
reason_text(const struct agentid_audit_event *ev)
{
	if (ev->reason != NULL)
		return ev->reason;
	if (ev->decision != NULL)
		return agentid_reason_name(ev->decision->reason);
	return "error";
}

/* The accountable human: the decision's owner, else a non-agent chain end. */
static const char *
owner_text(const struct agentid_audit_event *ev)
{
	const struct agentid_chain *c = ev->chain;

	if (ev->decision != NULL && ev->decision->owner != NULL)
		return ev->decision->owner;
	if (c != NULL && c->n > 0 && !c->rec[c->n - 1].is_agent)
		return c->rec[c->n - 1].dn;
	return NULL;
}

/* Adds "chain": [DN, ...] (agent first) when ev has a chain. */
static void
put_chain(struct jw *w, const struct agentid_audit_event *ev)
{
	size_t i;

	if (ev->chain == NULL || ev->chain->n == 0)
		return;
	jw_key(w, "chain");
	jw_open(w, '[');
	for (i = 0; i < ev->chain->n; i++) {
		const char *dn = ev->chain->rec[i].dn;

		if (i > 0)
			jw_raw(w, ",", 1);
		jw_str(w, dn != NULL ? dn : "");
	}
	jw_close(w, ']');
}

/* Adds "cert": {key_id, serial, ca, valid_before} when any is known. */
static void
put_cert(struct jw *w, const struct agentid_audit_event *ev)
{
	if (ev->cert_key_id == NULL && !ev->has_cert_serial &&
	    ev->cert_ca == NULL && !ev->has_cert_valid_before)
		return;
	jw_key(w, "cert");
	jw_open(w, '{');
	put_text(w, "key_id", ev->cert_key_id);
	if (ev->has_cert_serial) {
		/* as before (jansson's integers are signed): larger serials
		 * are written as a string */
		if (ev->cert_serial <= INT64_MAX) {
			put_int(w, "serial", (int64_t)ev->cert_serial);
		} else {
			char buf[24];

			snprintf(buf, sizeof(buf), "%" PRIu64, ev->cert_serial);
			put_text(w, "serial", buf);
		}
	}
	put_text(w, "ca", ev->cert_ca);
	if (ev->has_cert_valid_before)
		put_time(w, "valid_before", ev->cert_valid_before);
	jw_close(w, '}');
}

/* Writes the record object in DESIGN.md order. */
static void
record_object(struct jw *w, const struct agentid_audit_event *ev,
    uint64_t seq, const char *prev_hex)
{
	const struct agentid_decision *d = ev->decision;

	jw_open(w, '{');
	put_time(w, "ts", ev->ts);
	put_text(w, "host", ev->host);
	put_text(w, "event", ev->event);
	put_text(w, "service", ev->service);
	put_text(w, "user", ev->user);
	put_text(w, "decision", decision_text(ev));
	put_text(w, "reason", reason_text(ev));
	put_text(w, "source", ev->source);
	put_text(w, "owner", owner_text(ev));
	put_chain(w, ev);
	put_text(w, "rhost", ev->rhost);
	put_text(w, "tty", ev->tty);
	if (ev->pid > 0)
		put_int(w, "pid", ev->pid);
	if (d != NULL && d->has_window)
		put_time(w, "not_after", d->not_after);
	put_cert(w, ev);
	put_text(w, "task", ev->task);
	put_text(w, "on_behalf_of", ev->on_behalf_of);
	put_text(w, "session", ev->session);
	put_text(w, "boot_id", ev->boot_id);
	if (ev->has_audit_session)
		put_int(w, "audit_session", ev->audit_session);
	put_text(w, "login_session", ev->login_session);
	if (ev->duration >= 0)
		put_int(w, "duration", ev->duration);
	put_text(w, "culprit", ev->culprit);
	put_text(w, "action", ev->action);
	if (ev->has_signalled && ev->signalled <= INT64_MAX)
		put_int(w, "signalled", (int64_t)ev->signalled);
	put_text(w, "operator", ev->operator_name);
	if (seq > 0 && seq <= INT64_MAX)
		put_int(w, "seq", (int64_t)seq);
	put_text(w, "prev", prev_hex != NULL ? prev_hex : AUDIT_ZERO_HASH);
	jw_close(w, '}');
}

/* A seal line's object: ts host event interval key seal seq prev. */
static void
seal_object(struct jw *w, const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *prev_hex)
{
	if (seal->interval > INT64_MAX || seq == 0 || seq > INT64_MAX) {
		w->err = true;
		return;
	}
	jw_open(w, '{');
	put_time(w, "ts", ev->ts);
	put_text(w, "host", ev->host);
	put_text(w, "event", "seal");
	put_int(w, "interval", (int64_t)seal->interval);
	put_text(w, "key", seal->key_id);
	put_text(w, "seal", seal->mac);
	put_int(w, "seq", (int64_t)seq);
	put_text(w, "prev", prev_hex != NULL ? prev_hex : AUDIT_ZERO_HASH);
	jw_close(w, '}');
}

/* The record (or seal line) as compact JSON (malloc'd), or NULL on ENOMEM. */
char *
audit_format_record(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *prev_hex)
{
	struct jw w = { NULL, 0, 0, false, false };

	if (ev == NULL)
		return NULL;
	if (seal != NULL)
		seal_object(&w, ev, seal, seq, prev_hex);
	else
		record_object(&w, ev, seq, prev_hex);
	if (w.err) {
		free(w.p);
		return NULL;
	}
	return w.p;
}

/* The record without "seq" (see agentid.h); malloc'd, or NULL on ENOMEM. */
char *
agentid_audit_format(const struct agentid_audit_event *ev, const char *prev_hex)
{
	return audit_format_record(ev, NULL, 0, prev_hex);
}

/* ------------------------------------------------------------- syslog */

/* A key=value pair of the syslog line. */
struct kv {
	const char *key;
	const char *val;
	size_t esc;       /* length of the escaped value */
};

#define KV_CUT_MARK "..."
#define KV_MAX 12

/* Writes the escaped form of byte c into out (NULL: only measure); returns
 * its length: 1, 2 (\" \\) or 4 (\xNN for control and non-ASCII bytes). */
static size_t
esc_unit(unsigned char c, char *out)
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		if (out != NULL) {
			out[0] = '\\';
			out[1] = (char)c;
		}
		return 2;
	}
	if (c < ' ' || c >= 0x7f) {
		if (out != NULL) {
			out[0] = '\\';
			out[1] = 'x';
			out[2] = hex[c >> 4];
			out[3] = hex[c & 0xf];
		}
		return 4;
	}
	if (out != NULL)
		out[0] = (char)c;
	return 1;
}

/* Length of val escaped. */
static size_t
esc_len(const char *val)
{
	const unsigned char *p;
	size_t n = 0;

	for (p = (const unsigned char *)val; *p != '\0'; p++)
		n += esc_unit(*p, NULL);
	return n;
}

/*
 * Appends [ ]key="escaped value" at buf + *off, the value cut to at most
 * cap escaped bytes (never inside an escape) and marked with "..." when
 * cut. The caller has checked that it fits.
 */
static void
kv_put(char *buf, size_t *off, const struct kv *kv, size_t cap)
{
	const unsigned char *p;
	size_t u, used = 0;
	bool cut = kv->esc > cap;

	if (*off > 0)
		buf[(*off)++] = ' ';
	memcpy(buf + *off, kv->key, strlen(kv->key));
	*off += strlen(kv->key);
	buf[(*off)++] = '=';
	buf[(*off)++] = '"';
	for (p = (const unsigned char *)kv->val; *p != '\0'; p++) {
		u = esc_unit(*p, NULL);
		if (used + u > cap)
			break;
		esc_unit(*p, buf + *off);
		*off += u;
		used += u;
	}
	if (cut) {
		memcpy(buf + *off, KV_CUT_MARK, sizeof(KV_CUT_MARK) - 1);
		*off += sizeof(KV_CUT_MARK) - 1;
	}
	buf[(*off)++] = '"';
	buf[*off] = '\0';
}

/* Bytes the values take when each is cut to cap (plus its mark). */
static size_t
kv_cost(const struct kv *kv, size_t n, size_t cap)
{
	size_t i, sum = 0;

	for (i = 0; i < n; i++)
		sum += kv[i].esc <= cap ? kv[i].esc :
		    cap + sizeof(KV_CUT_MARK) - 1;
	return sum;
}

/* The key=value syslog line of a record; see audit_internal.h. */
int
audit_syslog_line(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *hash_hex,
    char *buf, size_t len)
{
	const char *owner = owner_text(ev);
	struct kv body[KV_MAX], anchor[3];
	size_t nb = 0, na = 0, i, off = 0, fixed = 0, room, lo, hi, cap;
	char num[24], ival[24];
	bool cut = false;

	if (len == 0)
		return ENOSPC;
	buf[0] = '\0';
	snprintf(num, sizeof(num), "%" PRIu64, seq);
#define BODY(k, v) body[nb++] = (struct kv){ k, v, 0 }
	BODY("event", seal != NULL ? "seal" :
	    ev->event != NULL ? ev->event : "-");
	if (seal != NULL) {
		snprintf(ival, sizeof(ival), "%" PRIu64, seal->interval);
		BODY("interval", ival);
	} else {
		BODY("user", ev->user != NULL ? ev->user : "-");
		BODY("decision", decision_text(ev));
		BODY("reason", reason_text(ev));
		if (ev->source != NULL)
			BODY("source", ev->source);
		BODY("owner", owner != NULL ? owner : "-");
		BODY("session", ev->session != NULL ? ev->session : "-");
	}
#undef BODY
	anchor[na++] = (struct kv){ "seq", num, 0 };
	anchor[na++] = (struct kv){ "hash", hash_hex != NULL ? hash_hex : "-", 0 };
	if (seal != NULL)
		anchor[na++] = (struct kv){ "seal", seal->mac, 0 };
	/* every pair costs ' ' key '=' '"' '"' besides its value */
	for (i = 0; i < na; i++) {
		anchor[i].esc = esc_len(anchor[i].val);
		fixed += 1 + strlen(anchor[i].key) + 3 + anchor[i].esc;
	}
	for (i = 0; i < nb; i++) {
		body[i].esc = esc_len(body[i].val);
		fixed += 1 + strlen(body[i].key) + 3;
	}
	/* the line has no leading space; one byte is the terminator */
	if (fixed > len) {
		/* not even the keys and anchors fit: cannot happen with
		 * the 1024 bytes syslog gets; leave an empty line */
		return ENOSPC;
	}
	room = len - fixed;
	cap = SIZE_MAX;
	if (kv_cost(body, nb, SIZE_MAX) > room) {
		/* the largest cap at which the values fit: the longest
		 * values are cut first, the short ones stay whole */
		cut = true;
		lo = 0;
		hi = room;
		if (kv_cost(body, nb, 0) > room) {
			cap = 0;
		} else {
			while (lo < hi) {
				size_t mid = lo + (hi - lo + 1) / 2;

				if (kv_cost(body, nb, mid) <= room)
					lo = mid;
				else
					hi = mid - 1;
			}
			cap = lo;
		}
		if (kv_cost(body, nb, cap) > room) {
			/* even empty values with marks do not fit */
			for (i = 0; i < nb; i++)
				body[i].val = "";
			for (i = 0; i < nb; i++)
				body[i].esc = 0;
			cap = 0;
		}
	}
	for (i = 0; i < nb; i++)
		kv_put(buf, &off, &body[i], cap);
	for (i = 0; i < na; i++)
		kv_put(buf, &off, &anchor[i], SIZE_MAX);
	return cut ? ENOSPC : 0;
}
