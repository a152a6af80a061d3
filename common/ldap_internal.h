/* SPDX-License-Identifier: BSD-2-Clause */
/* ldap_internal.h - shared by common/ldap_*.c; not part of the ABI. */
#ifndef AGENTID_LDAP_INTERNAL_H
#define AGENTID_LDAP_INTERNAL_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <time.h>

#include <ldap.h>

#include "agentid.h"
#include "agentid_ldap.h"

/*
 * Bounds a TLS handshake: libldap 2.5 as Debian builds it does the handshake
 * on a blocking socket with no timeout, so a server that accepts and never
 * answers would hang us. A thread shuts the socket down at the deadline.
 */
struct aidl_watchdog {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t thread;
	struct timespec deadline; /* CLOCK_MONOTONIC */
	int fd;                   /* the connection's socket; -1 when none */
	bool done;
	bool fired;
};

struct agentid_ldap {
	LDAP *ld;
	struct ldap_conncb conncb;        /* registered with LDAP_OPT_CONNECT_CB */
	struct aidl_watchdog wd;
	const struct agentid_config *cfg; /* borrowed: outlives the connection */
	const char *bindpw;               /* borrowed: the operator's password
	                                   * (agentid create ...), else NULL:
	                                   * bindpw_file is read */
	char *uri;
	bool secure;                      /* TLS or ldapi:// */
	bool tls;                         /* TLS: no socket timeouts before the
	                                   * handshake and bind are done */
	struct timespec deadline;         /* CLOCK_MONOTONIC: end of the budget */
};

/*
 * SIGPIPE held off in this thread while we talk to the directory: liblber
 * (and OpenSSL through it) writes with write(2), so a server that resets the
 * connection would otherwise kill the host process (sudo, su, a daemon)
 * unless that process happens to ignore SIGPIPE.
 */
struct aidl_sigpipe {
	sigset_t old;             /* the thread's mask before */
	bool pending;             /* a SIGPIPE was pending already: not ours */
};
void aidl_sigpipe_block(struct aidl_sigpipe *g);
/* Discards a SIGPIPE raised since the block, then restores the mask. */
void aidl_sigpipe_restore(const struct aidl_sigpipe *g);

/* Attributes every record read asks for (NULL-terminated). */
extern char *aidl_record_attrs[];

/* errno-style code for an LDAP result code (EHOSTDOWN, ETIMEDOUT, ...). */
int aidl_errno(int ldap_rc);
/* True for the codes that mean "directory unreachable". */
bool aidl_unreachable(int code);
/* Formats "what: LDAP message (diagnostic)" into err; returns the errno. */
int aidl_seterr(struct agentid_ldap *l, int ldap_rc, struct agentid_error *err,
    const char *what);
/* What is left of the current time budget (at least 1 ms). */
struct timeval aidl_timeout(const struct agentid_ldap *l);
/* A new budget of cfg->timeout seconds: per server for a decision, per page
 * for a listing. */
void aidl_deadline_restart(struct agentid_ldap *l);

/* True if entry e lists objectClass oc (ASCII case-insensitive). */
bool aidl_has_class(LDAP *ld, LDAPMessage *e, const char *oc);
/* Fills r from entry e; r must be zeroed. 0, ENOMEM or EBADMSG. */
int aidl_entry_record(LDAP *ld, LDAPMessage *e, struct agentid_record *r);

/* An entry read in one pass: the values of the attributes a record, the
 * store or agentidd's filters read (ldap_get_values_len scans the entry
 * from its start for each attribute asked). The values point into the
 * message's BER: valid until aidl_entry_free, not NUL-terminated. */
#define AIDL_ENTRY_ATTRS 17
struct aidl_entry {
	char *dn;                           /* as sent (malloc'd) */
	BerElement *ber;
	BerVarray vals[AIDL_ENTRY_ATTRS];   /* NULL: absent */
};
/* 0, ENOMEM or EBADMSG (no DN, undecodable). The caller frees *v in
 * every case; after EBADMSG, v->dn is set when the DN itself read. */
int aidl_entry_parse(LDAP *ld, LDAPMessage *e, struct aidl_entry *v);
/* The values of attr (one of aidl_record_attrs, cn, memberUid, entryUUID;
 * the first attribute of that name the entry carries), terminated by a
 * NULL bv_val, or NULL when absent. */
const struct berval *aidl_entry_values(const struct aidl_entry *v,
    const char *attr);
bool aidl_entry_has_class(const struct aidl_entry *v, const char *oc);
/* aidl_entry_record from a parsed entry. */
int aidl_entry_to_record(const struct aidl_entry *v, struct agentid_record *r);
void aidl_entry_free(struct aidl_entry *v);
/* malloc'd RFC 4514 form of dn (spacing normalised) or NULL (ENOMEM). */
char *aidl_dn_normalize(const char *dn);

/* agentid_ldap_open, binding as cfg->binddn with password bindpw (in
 * memory, borrowed for the call) instead of bindpw_file. */
int aidl_open_password(const struct agentid_config *cfg, const char *bindpw,
    struct agentid_ldap **out, struct agentid_error *err);

struct agentid_lookup;
/* ldap_lookup.c: the chain builder's lookup interface over l. */
void aidl_lookup(struct agentid_ldap *l, struct agentid_lookup *lk);

#endif
