/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid_audit.h - the tamper-evident audit trail (DESIGN.md "Audit
 * trail"): hash-chained JSON lines appended under flock, and verification.
 * Implemented in common/audit_*.c.
 *
 * Record format (agentid_audit_format; the trail adds "seq"):
 *  - one compact JSON object per line, members in this order: ts host event
 *    service user decision reason owner chain rhost tty pid not_after cert
 *    {key_id serial ca valid_before} task on_behalf_of session boot_id
 *    audit_session login_session duration culprit action signalled operator seq
 *    prev ("source"
 *    after "reason"). Absent optional members are omitted (never null);
 *    ts, decision, reason and prev are always there, except in a seal
 *    line: ts host event("seal") interval key seal seq prev.
 *  - decision "allow"/"deny", "ignore" for a not_an_agent decision the
 *    front passed through (ev->passed_through), or "error" when
 *    ev->decision is NULL; reason
 *    is ev->reason, else the decision's reason code, else "error".
 *  - owner: the decision's owner, else the DN of a non-agent chain end;
 *    chain: every DN of ev->chain, agent first (human last when found).
 *  - times RFC 3339 UTC; a time past 9999-12-31 or negative is "forever".
 *    cert.serial is a number, or a decimal string above INT64_MAX.
 *    duration (seconds, session_close) appears when ev->duration >= 0;
 *    culprit, action and signalled (session_terminate) when set.
 *  - strings that are not valid UTF-8 have each offending byte replaced by
 *    U+FFFD, so that one hostile field never loses the whole record;
 *    control characters, quotes and backslashes are JSON-escaped, so a
 *    record is always exactly one line.
 *  - "seq": 1 for the first record of a trail, +1 per record, carried
 *    across rotations; it lets verify name the line at which records were
 *    removed, reordered or duplicated.
 *  - "prev": lowercase hex SHA-256 of the previous line's bytes, without
 *    its newline; 64 zeros for the first record of a new trail.
 *
 * Files: the log is created 0600 (root:root when run as root) in a
 * directory created 0700 (only the last path component is created; a
 * missing parent is ENOENT). "<log>.chain" is a second hard link to the
 * live file, which lets the first writer after a rotation chain onto the
 * rotated file (see packaging/logrotate/agentid). A torn last line (crash
 * mid-write) is terminated by the next writer, which chains over it and
 * logs a warning; verify still reports it as a bad line.
 */
#ifndef AGENTID_AUDIT_H
#define AGENTID_AUDIT_H

#include "agentid.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Appends ev to cfg->audit_log (one line, "prev" = SHA-256 hex of the
 * previous line), and a key=value line to syslog (authpriv) when
 * cfg->audit_syslog. Returns 0, or an errno-style code with err naming the
 * cause when the trail cannot be written; the caller then fails closed unless
 * cfg->audit_required is false.
 */
/*
 * Starts an event from a decision: zeroes ev, then sets ts, host, service,
 * user and rhost from req, the event name, decision and chain, this
 * process's pid, and no duration. The caller adds what else it knows
 * (tty, certificate, session, source, audit_session, login_session,
 * operator_name) before agentid_audit_append, and sets passed_through when
 * it lets a user that is not an agent through (PAM_IGNORE): the record then
 * says "decision":"ignore" instead of "deny".
 */
void agentid_audit_event_init(struct agentid_audit_event *ev,
    const char *event, const struct agentid_request *req,
    const struct agentid_chain *chain, const struct agentid_decision *d);

int agentid_audit_append(const struct agentid_config *cfg,
    const struct agentid_audit_event *ev, struct agentid_error *err);

struct agentid_audit_summary {
	uint64_t lines;
	int64_t first_ts, last_ts;
	uint64_t by_reason[AGENTID_REASON_MAX + 1]; /* last slot: other */
	uint64_t bad_line;     /* 1-based line number of the first bad line */
	size_t bad_file;       /* index into files of that line */
	/* added by the audit implementation */
	bool continues;        /* line 1 of the first file chains onto an
	                        * earlier (rotated away) file: its prev is not
	                        * 64 zeros */
	char first_prev[65];   /* that line's "prev" */
	char head[65];         /* SHA-256 of the last line: the chain head, to
	                        * compare with syslog's hash= or a saved copy */
	uint64_t first_seq, last_seq; /* "seq" of the first and last lines */
	uint64_t by_decision[4]; /* allow, deny, anything else ("error"),
	                          * ignore; seal lines are not counted */
	/* seal lines: counted by both verifiers, checked only with a key */
	uint64_t seals;
	bool key_checked;         /* agentid_audit_verify_key checked them */
	char key_id[17];          /* the verification key's id */
	int64_t seal_start;       /* start of interval 0 (from the key) */
	int64_t seal_interval;    /* interval length, seconds (from the key) */
	bool has_seal;            /* at least one seal line */
	uint64_t first_sealed;    /* interval of the first seal line */
	uint64_t last_sealed;     /* interval of the last seal line */
	int64_t last_sealed_end;  /* when that interval ended */
	uint64_t sealed_lines;    /* lines up to and including the last seal */
	uint64_t unsealed_lines;  /* lines after the last seal (not proven) */
	uint64_t gap_intervals;   /* intervals between first and last seal
	                           * with no seal (quiet, or seals removed) */
	int64_t now;              /* the time verify_key was given */
	uint64_t current_interval; /* interval of now: still open */
	uint64_t missing_intervals; /* closed intervals after the last sealed
	                           * one, up to now: a cut tail, or a host
	                           * that stopped sealing */
};

/* Indexes of agentid_audit_summary.by_decision. */
enum { AGENTID_AUDIT_ALLOW, AGENTID_AUDIT_DENY, AGENTID_AUDIT_OTHER,
    AGENTID_AUDIT_IGNORE };

/*
 * Verifies files in order as one chain (rotation). 0 = intact; EBADMSG =
 * tampered (bad_line/bad_file set, err says why); other codes = unreadable.
 */
int agentid_audit_verify(const char *const *files, size_t n,
    struct agentid_audit_summary *sum, struct agentid_error *err);

/* --------------------------------------------------------------- sealing
 * Forward-secure sealing (docs/audit-sealing.md). The host keeps only the
 * current interval's sealing key in a root-only file beside the trail
 * (cfg->audit_seal_key, default audit_log with ".log" replaced by ".seal");
 * the verification key printed by keygen stays off the host.
 */

struct agentid_audit_keyinfo {
	char vkey[160];           /* "agentid-seal-v1:START:INTERVAL:HEX" */
	char key_id[17];          /* short id written in every seal line */
	char path[4096];          /* where the sealing key was stored */
	int64_t start;            /* start of interval 0 */
	int64_t interval;         /* seconds */
};

/*
 * Creates a new sealing key (interval cfg->audit_seal_interval, intervals
 * aligned on multiples of it) and stores it 0600 (root:root as root) at the
 * sealing key path; fills out with the verification key to keep off the
 * host. Refuses (EEXIST) to replace an existing key unless force. Returns
 * 0 or an errno-style code with err set.
 */
int agentid_audit_keygen(const struct agentid_config *cfg, int64_t now,
    bool force, struct agentid_audit_keyinfo *out, struct agentid_error *err);

/*
 * Seals the interval the sealing key is at when now is past it (one "seal"
 * line, appended under the trail's lock like any record), and moves the key
 * on to now's interval, erasing the old one. For a daemon to call at every
 * interval's end, so that quiet hosts seal too. Returns 0 (also when there
 * was nothing to seal yet), ENOENT when there is no sealing key (err says
 * so), or another errno-style code.
 */
int agentid_audit_seal_now(const struct agentid_config *cfg, int64_t now,
    struct agentid_error *err);

/*
 * agentid_audit_verify, and with the verification key vkey: every seal
 * line's MAC is checked with its interval's key, seal intervals never go
 * back. 0 = intact and every seal good (sum says how much is sealed and
 * how many intervals are missing up to now); EBADMSG = tampered (err names
 * the first interval whose seal fails); EINVAL = vkey is not a key.
 */
int agentid_audit_verify_key(const char *const *files, size_t n,
    const char *vkey, int64_t now, struct agentid_audit_summary *sum,
    struct agentid_error *err);

#ifdef __cplusplus
}
#endif
#endif
