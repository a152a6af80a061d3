/*
 * audit_internal.h - helpers shared by common/audit_*.c and their unit
 * tests; not part of the ABI (no agentid_ prefix, so the version script
 * keeps them local).
 */
#ifndef AGENTID_AUDIT_INTERNAL_H
#define AGENTID_AUDIT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"

#define AUDIT_HASH_HEX 64            /* hex digits of a SHA-256 */
#define AUDIT_MAX_LINE (64 * 1024)   /* longest record the writer appends */
#define AUDIT_MAX_SCAN (1024 * 1024) /* longest line a reader accepts */
#define AUDIT_ZERO_HASH \
	"0000000000000000000000000000000000000000000000000000000000000000"
#define AUDIT_CHAIN_SUFFIX ".chain"  /* hard link to the live trail file */

/* A reusable SHA-256 context (one allocation for a million lines). */
struct audit_hasher;

/* Returns 0 or ENOMEM/EIO. */
int audit_hasher_new(struct audit_hasher **out);
void audit_hasher_free(struct audit_hasher *h);
/* Writes the lowercase hex SHA-256 of data into out (65 bytes); 0 or EIO. */
int audit_hash_hex(struct audit_hasher *h, const void *data, size_t len,
    char out[AUDIT_HASH_HEX + 1]);

/* The fields of one trail line a reader needs; spans point into the line
 * and are the raw JSON text between the quotes (escapes not decoded). */
struct audit_fields {
	const char *ts;
	size_t ts_len;
	const char *decision;
	size_t decision_len;
	const char *reason;
	size_t reason_len;
	const char *prev;       /* AUDIT_HASH_HEX lowercase hex digits */
	bool has_seq;
	uint64_t seq;
};

/*
 * Checks that line (no newline) is one strict JSON object (RFC 8259, valid
 * UTF-8, no duplicate or escaped top-level keys) with "prev" (64 lowercase
 * hex) and "ts" strings, and fills f. Returns 0 or EBADMSG with *why set to
 * a static explanation.
 */
int audit_parse_line(const char *line, size_t len, struct audit_fields *f,
    const char **why);

/* Length of the valid UTF-8 sequence at s (n bytes left), 0 if invalid. */
size_t audit_utf8_len(const unsigned char *s, size_t n);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" of len bytes; 0 or EINVAL. */
int audit_parse_ts(const char *s, size_t len, int64_t *out);

/*
 * One trail record: agentid_audit_format's object plus "seq" (position in
 * the trail, 1-based, carried across rotations) before "prev". seq 0 leaves
 * "seq" out. Returns a malloc'd string without newline, or NULL (ENOMEM).
 */
char *audit_format_record(const struct agentid_audit_event *ev, uint64_t seq,
    const char *prev_hex);

/*
 * The syslog line of an appended record: "event=... user=... decision=...
 * reason=... owner=... session=... seq=... hash=..." with values quoted
 * and escaped when they hold spaces, quotes or non-printable bytes.
 * Writes into buf (always terminated); returns 0 or ENOSPC if truncated.
 */
int audit_syslog_line(const struct agentid_audit_event *ev, uint64_t seq,
    const char *hash_hex, char *buf, size_t len);

#endif
