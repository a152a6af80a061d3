/* SPDX-License-Identifier: BSD-2-Clause */
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
	const char *event;
	size_t event_len;
	/* a seal line ("event":"seal") */
	bool has_interval;
	uint64_t interval;
	const char *key;        /* AUDIT_SEAL_ID_HEX lowercase hex, or NULL */
	const char *seal;       /* AUDIT_HASH_HEX lowercase hex, or NULL */
};

/* Whether f is a seal line ("event":"seal"). */
bool audit_is_seal(const struct audit_fields *f);

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

/* A time as records write it: RFC 3339 UTC, "forever" past year 9999
 * or before 1970; buf of 64 bytes. */
void audit_format_ts(int64_t t, char *buf, size_t len);

/* Parses "YYYY-MM-DDTHH:MM:SSZ" of len bytes; 0 or EINVAL. */
int audit_parse_ts(const char *s, size_t len, int64_t *out);

/* ------------------------------------------------------------ sealing */

#define AUDIT_SEAL_KEY_LEN 32       /* bytes of a sealing key (HMAC-SHA256) */
#define AUDIT_SEAL_ID_HEX 16        /* hex digits of a key id */
#define AUDIT_SEAL_MAX_STEPS (UINT64_C(1) << 26) /* intervals one verify
                                     * or one append may derive forward */

/* What a seal line says besides ts/seq/prev. */
struct audit_seal {
	uint64_t interval;                  /* the interval it seals */
	char key_id[AUDIT_SEAL_ID_HEX + 1]; /* which keygen's chain of keys */
	char mac[AUDIT_HASH_HEX + 1];       /* HMAC-SHA256, lowercase hex */
};

/* The sealing key file on the host (the current interval's key only). */
struct audit_seal_state {
	int64_t start;                      /* start of interval 0 */
	int64_t interval_len;               /* seconds */
	uint64_t epoch;                     /* interval whose key this is */
	unsigned char key[AUDIT_SEAL_KEY_LEN];
	char key_id[AUDIT_SEAL_ID_HEX + 1];
};

/* Interval number of time t for start/len (0 before start). */
uint64_t audit_seal_epoch(int64_t start, int64_t len, int64_t t);
/* key <- H(key): the one-way step to the next interval; 0 or EIO. */
int audit_seal_evolve(unsigned char key[AUDIT_SEAL_KEY_LEN]);
/* The key id of a verification seed (lowercase hex); 0 or EIO. */
int audit_seal_key_id(const unsigned char seed[AUDIT_SEAL_KEY_LEN],
    char out[AUDIT_SEAL_ID_HEX + 1]);
/*
 * The MAC of a seal line under key (that interval's key) over key_id,
 * interval, seq, ts (the line's "ts" text) and prev (the chain head):
 * lowercase hex into out. Returns 0 or EIO.
 */
int audit_seal_mac(const unsigned char key[AUDIT_SEAL_KEY_LEN],
    const char *key_id, uint64_t interval, uint64_t seq, const char *ts,
    size_t ts_len, const char *prev_hex, char out[AUDIT_HASH_HEX + 1]);
/* Length of the key file's text (fixed, so that it is overwritten in place). */
size_t audit_seal_state_len(void);
/* Writes st as the key file's text into buf (audit_seal_state_len() + 1). */
void audit_seal_state_format(const struct audit_seal_state *st, char *buf,
    size_t len);
/* Parses the key file's text; 0 or EBADMSG. */
int audit_seal_state_parse(const char *text, size_t len,
    struct audit_seal_state *st);
/* Parses a verification key "agentid-seal-v1:START:LEN:HEX"; 0 or EINVAL. */
int audit_seal_vkey_parse(const char *text, int64_t *start, int64_t *len,
    unsigned char seed[AUDIT_SEAL_KEY_LEN]);
/* The path of the sealing key file of cfg into buf; 0 or ENAMETOOLONG. */
int audit_seal_key_path(const struct agentid_config *cfg, char *buf,
    size_t len);

/*
 * One trail record: agentid_audit_format's object plus "seq" (position in
 * the trail, 1-based, carried across rotations) before "prev". seq 0 leaves
 * "seq" out. With seal, a seal line instead ("ts host event interval key
 * seal seq prev"; ev gives ts and host). Returns a malloc'd string without
 * newline, or NULL (ENOMEM).
 */
char *audit_format_record(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *prev_hex);

/*
 * The syslog line of an appended record: event= user= decision= reason=
 * source= owner= session= (interval= at a seal), then the anchors seq=
 * hash= (and seal= at a seal). Every value is quoted and escaped (\" \\
 * \xNN for control and non-ASCII bytes). When the line would not fit in
 * len, the longest values are cut (ending in "...") so that the anchors
 * always fit whole. Writes into buf (always terminated); returns 0, or
 * ENOSPC when a value was cut (or len cannot hold even the anchors).
 */
int audit_syslog_line(const struct agentid_audit_event *ev,
    const struct audit_seal *seal, uint64_t seq, const char *hash_hex,
    char *buf, size_t len);

#endif
