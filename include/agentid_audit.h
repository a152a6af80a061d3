/*
 * agentid_audit.h - the tamper-evident audit trail (DESIGN.md "Audit
 * trail"): hash-chained JSON lines appended under flock, and verification.
 * Implemented in common/audit_*.c.
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
