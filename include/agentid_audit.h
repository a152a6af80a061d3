/*
 * agentid_audit.h - the tamper-evident audit trail (DESIGN.md "Audit
 * trail"): hash-chained JSON lines appended under flock, and verification.
 * Implemented in common/audit_*.c.
 *
 * Record format (agentid_audit_format; the trail adds "seq"):
 *  - one compact JSON object per line, members in this order: ts host event
 *    service user decision reason owner chain rhost tty pid not_after cert
 *    {key_id serial ca valid_before} task on_behalf_of session duration seq
 *    prev. Absent optional members are omitted (never null); ts, decision,
 *    reason and prev are always there.
 *  - decision "allow"/"deny", or "error" when ev->decision is NULL; reason
 *    is ev->reason, else the decision's reason code, else "error".
 *  - owner: the decision's owner, else the DN of a non-agent chain end;
 *    chain: every DN of ev->chain, agent first (human last when found).
 *  - times RFC 3339 UTC; a time past 9999-12-31 or negative is "forever".
 *    cert.serial is a number, or a decimal string above INT64_MAX.
 *    duration (seconds, session_close) appears when ev->duration >= 0.
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
 * (tty, certificate, session) before agentid_audit_append.
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
	uint64_t by_decision[3]; /* allow, deny, anything else ("error") */
};

/* Indexes of agentid_audit_summary.by_decision. */
enum { AGENTID_AUDIT_ALLOW, AGENTID_AUDIT_DENY, AGENTID_AUDIT_OTHER };

/*
 * Verifies files in order as one chain (rotation). 0 = intact; EBADMSG =
 * tampered (bad_line/bad_file set, err says why); other codes = unreadable.
 */
int agentid_audit_verify(const char *const *files, size_t n,
    struct agentid_audit_summary *sum, struct agentid_error *err);

#ifdef __cplusplus
}
#endif
#endif
