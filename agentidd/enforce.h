/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * enforce.h - the session enforcer (DESIGN.md, agentidd "Session
 * enforcement"): re-decides every registered agent session with the chain
 * builder and the engine, with the session's own request, and ends the
 * sessions a decision made from data denies. The caller owns the loop and
 * the source: it calls enforce_pass() when the replica changed and when the
 * deadline it returned has passed, with a lookup over the replica (or, in
 * tests, over the live directory).
 */
#ifndef AGENTIDD_ENFORCE_H
#define AGENTIDD_ENFORCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agentid.h"
#include "chain.h"

struct enforcer;
struct agentid_records;

/* What one pass did (for logs, `agentid status` and tests). */
struct enforce_stats {
	size_t sessions;          /* registered sessions read */
	size_t unreadable;        /* files that did not parse (left alone) */
	size_t pruned;            /* gone (leader and audit session empty, or
	                           * another boot): removed from the registry */
	size_t allowed;
	size_t denied;            /* decided from data: ended (or, enforce no,
	                           * only audited) */
	size_t lookup_errors;     /* source unavailable: nothing ended */
	size_t signalled;         /* processes signalled in this pass */
	size_t decided;           /* sessions decided again in this pass (the
	                           * others: unchanged chain, still allowed) */
	bool full;                /* this pass decided and checked every one */
};

/* A new enforcer; cfg is borrowed and must outlive it. 0 or ENOMEM. */
int enforcer_new(const struct agentid_config *cfg, struct enforcer **out);
void enforcer_free(struct enforcer *e);
/* What the lookups given to enforce_pass read (audit field source);
 * AGENTID_SOURCE_REPLICA unless set. */
void enforcer_set_source(struct enforcer *e, enum agentid_source source);

/*
 * The records replica the lookup of the next enforce_pass() reads (opened
 * beside replica), or NULL when it reads something else (the directory):
 * e takes r and closes it. Given the records, a pass re-decides only the
 * sessions whose chain an entry changed since the previous pass touched
 * (the delta's entries compared with the previous pass's), and every
 * session at a deadline, at each heartbeat and whenever it cannot tell
 * what changed (a new base, no previous pass, a delta it cannot pair with
 * r). Without them every pass decides every session.
 */
void enforcer_set_records(struct enforcer *e, const char *replica,
    struct agentid_records *r);

/*
 * One pass over the registry at now: prunes sessions that are gone (on
 * the heartbeat's full pass; a session denied is checked first), decides
 * again through lk the sessions that need it (enforcer_set_records),
 * ends those denied (logind TerminateSession when the session has a
 * logind id, else SIGTERM to every process of its kernel audit session;
 * SIGKILL to those left after enforce_grace), audits each as
 * session_terminate. A lookup error never ends a session. *next_deadline
 * gets the earliest time at which a decision can change without the data
 * changing (chain notAfter + clock_skew, certificate valid_before +
 * clock_skew with enforce_cert_expiry), or INT64_MAX; sooner (now +
 * heartbeat) after a lookup error. Returns 0, or an errno when the
 * registry cannot be read (ENOENT: no registry yet, which is not an error
 * for the caller). Blocks at most enforce_grace (plus the
 * final sweep) when it ends sessions.
 */
int enforce_pass(struct enforcer *e, int64_t now, const struct agentid_lookup *lk,
    int64_t *next_deadline, struct enforce_stats *st);

/* logind.c: asks logind (org.freedesktop.login1.Manager.TerminateSession)
 * to end session id, on the system bus or, for tests only, the bus at
 * AGENTID_TEST_LOGIND_BUS (secure_getenv). 0 or an errno, err set. */
int logind_terminate(const char *id, struct agentid_error *err);

#endif
