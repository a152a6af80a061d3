/* SPDX-License-Identifier: BSD-2-Clause */
/* audit_format.c - one audit record as a JSON line, and its syslog form. */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

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
 * A JSON string for s: s itself when it is valid UTF-8, otherwise a copy in
 * which every byte that does not start a valid sequence is replaced by
 * U+FFFD, so that one hostile field cannot make the whole record fail.
 * Returns NULL on ENOMEM.
 */
static json_t *
json_text(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, o = 0, l;
	char *copy = NULL;
	json_t *j = NULL;

	while (i < n && (l = audit_utf8_len(p + i, n - i)) != 0)
		i += l;
	if (i == n)
		return json_stringn(s, n);
	if (n > SIZE_MAX / 3 || (copy = malloc(n * 3 + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; ) {
		if ((l = audit_utf8_len(p + i, n - i)) == 0) {
			memcpy(copy + o, "\xef\xbf\xbd", 3);
			o += 3;
			i++;
		} else {
			memcpy(copy + o, p + i, l);
			o += l;
			i += l;
		}
	}
	j = json_stringn(copy, o);
	free(copy);
	return j;
}

/* Adds key: s unless s is NULL; returns 0 or ENOMEM. */
static int
put_text(json_t *o, const char *key, const char *s)
{
	json_t *v;

	if (s == NULL)
		return 0;
	if ((v = json_text(s)) == NULL)
		return ENOMEM;
	return json_object_set_new(o, key, v) == 0 ? 0 : ENOMEM;
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

/* Adds key: an RFC 3339 time, or "forever" beyond year 9999; 0 or ENOMEM. */
static int
put_time(json_t *o, const char *key, int64_t t)
{
	char buf[64];

	audit_format_ts(t, buf, sizeof(buf));
	return json_object_set_new(o, key, json_string(buf)) == 0 ? 0 : ENOMEM;
}

/* Adds key: an integer; returns 0 or ENOMEM. */
static int
put_int(json_t *o, const char *key, json_int_t v)
{
	return json_object_set_new(o, key, json_integer(v)) == 0 ? 0 : ENOMEM;
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

/* Adds "chain": [DN, ...] (agent first) when ev has a chain; 0 or ENOMEM. */
static int
put_chain(json_t *o, const struct agentid_audit_event *ev)
{
	json_t *a, *v;
	size_t i;

	if (ev->chain == NULL || ev->chain->n == 0)
		return 0;
	if ((a = json_array()) == NULL)
		return ENOMEM;
	for (i = 0; i < ev->chain->n; i++) {
		const char *dn = ev->chain->rec[i].dn;

		if ((v = json_text(dn != NULL ? dn : "")) == NULL ||
		    json_array_append_new(a, v) != 0) {
			json_decref(a);
			return ENOMEM;
		}
	}
	return json_object_set_new(o, "chain", a) == 0 ? 0 : ENOMEM;
}

/* Adds "cert": {key_id, serial, ca, valid_before} when any is known. */
static int
put_cert(json_t *o, const struct agentid_audit_event *ev)
{
	json_t *c;
	int r = ENOMEM;

	if (ev->cert_key_id == NULL && !ev->has_cert_serial &&
	    ev->cert_ca == NULL && !ev->has_cert_valid_before)
		return 0;
	if ((c = json_object()) == NULL)
		return ENOMEM;
	if ((r = put_text(c, "key_id", ev->cert_key_id)) != 0)
		goto out;
	if (ev->has_cert_serial) {
		/* json_int_t is signed: larger serials are written as a string */
		if (ev->cert_serial <= INT64_MAX) {
			r = put_int(c, "serial", (json_int_t)ev->cert_serial);
		} else {
			char buf[24];

			snprintf(buf, sizeof(buf), "%" PRIu64, ev->cert_serial);
			r = put_text(c, "serial", buf);
		}
		if (r != 0)
			goto out;
	}
	if ((r = put_text(c, "ca", ev->cert_ca)) != 0)
		goto out;
	if (ev->has_cert_valid_before &&
	    (r = put_time(c, "valid_before", ev->cert_valid_before)) != 0)
		goto out;
	r = json_object_set_new(o, "cert", c) == 0 ? 0 : ENOMEM;
	c = NULL;
out:
	json_decref(c);
	return r;
}

/* Builds the record object in DESIGN.md order; returns it or NULL. */
static json_t *
record_object(const struct agentid_audit_event *ev, uint64_t seq,
    const char *prev_hex)
{
	const struct agentid_decision *d = ev->decision;
	json_t *o;

	if ((o = json_object()) == NULL)
		return NULL;
	if (put_time(o, "ts", ev->ts) != 0 ||
	    put_text(o, "host", ev->host) != 0 ||
	    put_text(o, "event", ev->event) != 0 ||
	    put_text(o, "service", ev->service) != 0 ||
	    put_text(o, "user", ev->user) != 0 ||
	    put_text(o, "decision", decision_text(ev)) != 0 ||
	    put_text(o, "reason", reason_text(ev)) != 0 ||
	    put_text(o, "source", ev->source) != 0 ||
	    put_text(o, "owner", owner_text(ev)) != 0 ||
	    put_chain(o, ev) != 0 ||
	    put_text(o, "rhost", ev->rhost) != 0 ||
	    put_text(o, "tty", ev->tty) != 0 ||
	    (ev->pid > 0 && put_int(o, "pid", ev->pid) != 0) ||
	    (d != NULL && d->has_window &&
	     put_time(o, "not_after", d->not_after) != 0) ||
	    put_cert(o, ev) != 0 ||
	    put_text(o, "task", ev->task) != 0 ||
	    put_text(o, "on_behalf_of", ev->on_behalf_of) != 0 ||
	    put_text(o, "session", ev->session) != 0 ||
	    put_text(o, "boot_id", ev->boot_id) != 0 ||
	    (ev->has_audit_session &&
	     put_int(o, "audit_session", ev->audit_session) != 0) ||
	    put_text(o, "login_session", ev->login_session) != 0 ||
	    (ev->duration >= 0 && put_int(o, "duration", ev->duration) != 0) ||
	    put_text(o, "culprit", ev->culprit) != 0 ||
	    put_text(o, "action", ev->action) != 0 ||
	    (ev->has_signalled && ev->signalled <= INT64_MAX &&
	     put_int(o, "signalled", (json_int_t)ev->signalled) != 0) ||
	    put_text(o, "operator", ev->operator_name) != 0 ||
	    (seq > 0 && seq <= INT64_MAX && put_int(o, "seq", (json_int_t)seq) != 0) ||
	    put_text(o, "prev", prev_hex != NULL ? prev_hex : AUDIT_ZERO_HASH) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* A seal line's object: ts host event interval key seal seq prev. */
static json_t *
seal_object(const struct agentid_audit_event *ev, const struct audit_seal *seal,
    uint64_t seq, const char *prev_hex)
{
	json_t *o;

	if (seal->interval > INT64_MAX || seq == 0 || seq > INT64_MAX ||
	    (o = json_object()) == NULL)
		return NULL;
	if (put_time(o, "ts", ev->ts) != 0 ||
	    put_text(o, "host", ev->host) != 0 ||
	    put_text(o, "event", "seal") != 0 ||
	    put_int(o, "interval", (json_int_t)seal->interval) != 0 ||
	    put_text(o, "key", seal->key_id) != 0 ||
	    put_text(o, "seal", seal->mac) != 0 ||
	    put_int(o, "seq", (json_int_t)seq) != 0 ||
	    put_text(o, "prev", prev_hex != NULL ? prev_hex : AUDIT_ZERO_HASH) != 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* The record (or seal line) as compact JSON (malloc'd), or NULL on ENOMEM. */
char *
audit_format_record(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *prev_hex)
{
	json_t *o;
	char *s;

	if (ev == NULL)
		return NULL;
	o = seal != NULL ? seal_object(ev, seal, seq, prev_hex) :
	    record_object(ev, seq, prev_hex);
	if (o == NULL)
		return NULL;
	/* jansson keeps insertion order (>= 2.8) and escapes control bytes */
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
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
