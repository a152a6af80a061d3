/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * agentid.h - public API of libagentid.
 *
 * Conventions:
 *  - functions return 0 on success or a positive errno-style code
 *    (ENOMEM, EINVAL, ENOENT, EACCES, EHOSTDOWN for "directory unreachable",
 *    ETIMEDOUT, EIO, EBADMSG for malformed data); only the fronts (PAM, NSS,
 *    tool) translate these into their own ABI;
 *  - a human-readable explanation goes into a caller-provided
 *    struct agentid_error, never to stderr or syslog from the library;
 *  - times are seconds since the epoch (int64_t, UTC); nothing that decides
 *    reads the clock: "now" is always an input.
 */
#ifndef AGENTID_H
#define AGENTID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AGENTID_CONFIG_PATH "/etc/agentid.conf"
#define AGENTID_DEFAULT_REPLICA "/var/lib/agentid/agents.cdb"
#define AGENTID_DEFAULT_AUDIT_LOG "/var/log/agentid/audit.log"
#define AGENTID_MAX_NAME 256 /* longest user name accepted, in bytes */

/* ---------------------------------------------------------------- errors */

struct agentid_error {
	char msg[512];
};

/* Formats a message into err (if err is not NULL); returns code. */
int agentid_seterr(struct agentid_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ----------------------------------------------------------------- time */

/* Parses an RFC 4517 GeneralizedTime ("20261124041722Z", fractions, +hhmm). */
int agentid_parse_gentime(const char *s, int64_t *out);
/* Parses a duration: a number with unit s, m, h or d ("90d"); bare = s. */
int agentid_parse_duration(const char *s, int64_t *out);
/* Formats t as RFC 3339 UTC ("2026-11-24T04:17:22Z"); returns buf. */
char *agentid_format_time(int64_t t, char *buf, size_t len);
/* Formats a duration as compactly as possible ("90d", "1h30m"). */
char *agentid_format_duration(int64_t secs, char *buf, size_t len);

/* --------------------------------------------------------------- config */

/* For ldap:// URIs; ldaps:// is always TLS and ldapi:// needs none. The
 * default is StartTLS: plain text only when `ssl off` is written. */
enum agentid_ssl { AGENTID_SSL_OFF, AGENTID_SSL_START_TLS, AGENTID_SSL_ON };
enum agentid_reqcert {
	AGENTID_REQCERT_NEVER,
	AGENTID_REQCERT_ALLOW,
	AGENTID_REQCERT_TRY,
	AGENTID_REQCERT_DEMAND,
	AGENTID_REQCERT_HARD,
};
enum agentid_offline { AGENTID_OFFLINE_DENY, AGENTID_OFFLINE_CACHE };
enum agentid_source_pref { AGENTID_PREFER_REPLICA, AGENTID_PREFER_DIRECTORY };

/* Scope kinds, as bits for require_scope. */
#define AGENTID_KIND_HOST     0x1u
#define AGENTID_KIND_SERVICE  0x2u
#define AGENTID_KIND_FROM     0x4u

struct agentid_config {
	char *path;               /* file it was read from, or "<string>" */
	char **uri;               /* NULL-terminated; tried in order */
	size_t n_uri;
	char *base;
	char *group_base;         /* defaults to base */
	char *binddn;
	char *bindpw_file;
	char *sasl_mech;          /* "EXTERNAL" or NULL */
	enum agentid_ssl ssl;     /* default start_tls */
	enum agentid_reqcert tls_reqcert; /* default demand */
	char *tls_cacert;
	char *tls_cert;
	char *tls_key;
	int timeout;              /* seconds, default 3: bounds a whole
	                           * decision against one server */
	char *agent_filter;       /* default "(objectClass=agentIdentity)" */
	unsigned max_delegation_depth; /* agents in a chain, default 4 */
	int64_t clock_skew;       /* default 60 */
	int64_t max_lifetime;     /* default 90d; 0 = no limit */
	unsigned require_scope;   /* AGENTID_KIND_* bits, default host|service */
	char *owner_filter;       /* default "(objectClass=person)" */
	char *owner_active_filter;
	unsigned long min_uid;    /* default 1000 */
	char *nologin_shell;      /* default /usr/sbin/nologin */
	uint32_t uid_range[2];    /* uid_range LOW-HIGH for agentid create;
	                           * 0 0 = not set */
	char *replica;
	enum agentid_source_pref source; /* default replica */
	int64_t replica_max_age;  /* default 15 */
	int64_t heartbeat;        /* default 5 */
	enum agentid_offline offline;
	int64_t offline_max_age;  /* default 3600 */
	char **require_cert;      /* PAM services, NULL-terminated; default sshd */
	size_t n_require_cert;
	bool enforce;             /* default yes */
	int64_t enforce_grace;    /* default 5 */
	bool enforce_cert_expiry; /* default yes */
	char *audit_log;
	bool audit_syslog;        /* default yes */
	bool audit_fsync;         /* default yes */
	bool audit_required;      /* default yes */
	int64_t audit_seal_interval; /* seconds, default 900 (keygen's) */
	char *audit_seal_key;     /* NULL: beside audit_log ("audit.seal") */
	char *hostname;           /* NULL = ask the system at use time */
};

/* Returns a config holding every default (no uri, no base). */
int agentid_config_new(struct agentid_config **out);
/* Parses text (pure); name is used in error messages ("FILE:LINE: key: ..."). */
int agentid_config_parse(struct agentid_config *cfg, const char *text,
    size_t len, const char *name, struct agentid_error *err);
/*
 * Reads and parses path; refuses a file writable by group or others, or
 * (when running as root) not owned by root. Does not require uri/base: the
 * LDAP source checks those when it connects (audit verify needs neither).
 */
int agentid_config_load(const char *path, struct agentid_config **out,
    struct agentid_error *err);
void agentid_config_free(struct agentid_config *cfg);
/*
 * Reads a secret (bindpw_file): refused unless mode is 0600 or 0400 and, when
 * running as root, owned by root. Trailing newline removed. The caller wipes
 * and frees *out.
 */
int agentid_read_secret(const char *path, char **out, struct agentid_error *err);
/* This host's name: cfg->hostname, else the FQDN (AI_CANONNAME), else
 * gethostname(). Writes into buf. Does I/O (resolver). common/hostname.c */
int agentid_host_name(const struct agentid_config *cfg, char *buf, size_t len);

/* Strict decimal: digits only, no sign or space; EINVAL, or ERANGE above
 * max. */
int agentid_parse_decimal(const char *s, uint64_t max, uint64_t *out);

/* ---------------------------------------------------------------- names */

/* 0 when name is acceptable as a user name (non-empty, <= 256 bytes, no
 * control characters, no '/'); EINVAL with a message otherwise. */
int agentid_name_valid(const char *name, struct agentid_error *err);

/* --------------------------------------------------------------- records */

enum agentid_status {
	AGENTID_STATUS_ACTIVE,    /* also when agentStatus is absent */
	AGENTID_STATUS_SUSPENDED, /* also for any value we do not know */
	AGENTID_STATUS_REVOKED,
};

/* One directory entry of a chain: an agent, or the human at the end. */
struct agentid_record {
	char *dn;
	bool is_agent;            /* objectClass agentIdentity */
	char *uid;
	char *owner_dn;           /* agentOwner */
	char **scope;             /* agentScope values, NULL-terminated */
	size_t n_scope;
	char **fingerprints;      /* agentKeyFingerprint values, NULL-terminated */
	size_t n_fingerprints;
	bool has_not_before;
	int64_t not_before;
	bool has_not_after;
	int64_t not_after;
	enum agentid_status status;
	char *status_text;        /* agentStatus as written, or NULL */
	/* posixAccount, when present */
	bool has_posix;
	uint32_t uid_number;
	uint32_t gid_number;
	char *home;
	char *shell;
	char *gecos;
	char *description;
	/* for the human: owner_filter matched (a person, not an OU or a
	 * service account) and owner_active_filter matched (true when none
	 * is set); the source evaluates both */
	bool owner_match;
	bool owner_active;
	/* more than one uid value: not an agent entry (is_agent false) */
	bool ambiguous;
};

/* The chain: agent first, then its owner, ..., the human last (when found). */
struct agentid_chain {
	struct agentid_record *rec;
	size_t n;
};

enum agentid_status agentid_status_parse(const char *s);
const char *agentid_status_name(enum agentid_status st);
void agentid_record_clear(struct agentid_record *r);
/* Appends a zeroed record; returns it or NULL (ENOMEM). */
struct agentid_record *agentid_chain_add(struct agentid_chain *c);
void agentid_chain_clear(struct agentid_chain *c);

/* ---------------------------------------------------------------- scope */

/* Glob match of a host: grant against the FQDN and its short name. */
bool agentid_scope_match_host(const char *pattern, const char *host);
/* Glob match of a service: grant. */
bool agentid_scope_match_service(const char *pattern, const char *service);
/* from: grant: IPv4/IPv6 address or CIDR, or a hostname glob. */
bool agentid_scope_match_from(const char *pattern, const char *rhost);

/* --------------------------------------------------------------- engine */

enum agentid_reason {
	AGENTID_OK = 0,
	AGENTID_NOT_AN_AGENT,
	AGENTID_CHAIN_CYCLE,
	AGENTID_CHAIN_TOO_DEEP,
	AGENTID_OWNER_MISSING,
	AGENTID_OWNER_INACTIVE,
	AGENTID_SUSPENDED,
	AGENTID_REVOKED,
	AGENTID_NOT_YET_VALID,
	AGENTID_EXPIRED,
	AGENTID_LIFETIME_EXCEEDS_POLICY,
	AGENTID_SCOPE_SERVICE,
	AGENTID_SCOPE_HOST,
	AGENTID_SCOPE_FROM,
	AGENTID_CERT_MISMATCH,
	AGENTID_CERT_REQUIRED,
	AGENTID_CERT_EXPIRED,
	AGENTID_LDAP_UNAVAILABLE,
	AGENTID_DELETED,
	AGENTID_REASON_MAX
};

/* The reason code exactly as DESIGN.md names it ("scope_host"). */
const char *agentid_reason_name(enum agentid_reason r);
/* True for the reasons that depend on the login (scope, certificate), not
 * on the identity: an inventory or the NSS replica, which ask no login,
 * do not hold them against an agent. */
bool agentid_reason_is_login(enum agentid_reason r);
/* Parses a reason name; returns AGENTID_REASON_MAX if unknown. */
enum agentid_reason agentid_reason_parse(const char *s);

/* How the user proved who they are, as the front saw it. */
enum agentid_cred_kind {
	AGENTID_CRED_CERT,        /* OpenSSH certificate, signature verified */
	AGENTID_CRED_KEY,         /* a plain public key (authorized_keys) */
	AGENTID_CRED_UNREADABLE,  /* reported, but unparsable or unverified */
};

/* One credential of the login (sshd reports every key it accepted). */
struct agentid_credential {
	enum agentid_cred_kind kind;
	const char *ca_fp;        /* CERT: "SHA256:..." of the signing CA key */
	const char *key_fp;       /* CERT, KEY: "SHA256:..." of the key */
	char *const *principals;  /* CERT: NULL-terminated; NULL = not known */
	bool host_cert;           /* CERT: a host certificate (never valid) */
	bool has_validity;        /* CERT: the window below is known */
	uint64_t valid_after;     /* CERT: seconds; 0 = always */
	uint64_t valid_before;    /* CERT: seconds; UINT64_MAX = forever */
};

struct agentid_request {
	const char *user;
	const char *service;      /* PAM service, e.g. "sshd" */
	const char *host;         /* this host's FQDN (or short name) */
	const char *rhost;        /* remote host or address; NULL/"" if local */
	int64_t now;
	/* what the front knows of the login's credentials */
	const struct agentid_credential *creds;
	size_t n_creds;
	bool creds_known;         /* creds is the whole truth (session open);
	                           * false: not known yet (account phase) */
	bool rhost_unknown;       /* the front cannot know the remote host
	                           * (AuthorizedPrincipalsCommand): from:
	                           * grants are left to the account phase */
	bool known_agent;         /* this host's replica serves user as an agent */
};

struct agentid_policy {
	unsigned max_delegation_depth;
	int64_t clock_skew;
	int64_t max_lifetime;
	unsigned require_scope;
	char *const *require_cert; /* services; NULL-terminated or NULL */
};

/* Where the records of a decision came from (audit field "source"). */
enum agentid_source {
	AGENTID_SOURCE_NONE = 0,  /* no data was read (error before) */
	AGENTID_SOURCE_REPLICA,
	AGENTID_SOURCE_DIRECTORY,
	AGENTID_SOURCE_OFFLINE,
};
/* "replica", "directory", "offline", or NULL for none. */
const char *agentid_source_name(enum agentid_source s);

struct agentid_decision {
	bool allow;
	enum agentid_reason reason;
	bool has_window;          /* effective window computed */
	int64_t not_before;       /* latest notBefore of the agents (0 if none) */
	int64_t not_after;        /* earliest notAfter of the agents */
	size_t culprit;           /* index in the chain of the record at fault */
	const char *owner;        /* DN of the human at the top, or NULL */
	size_t n_agents;          /* agents in the chain */
	size_t cred;              /* cert_*: index of the credential at fault */
	enum agentid_source source; /* set by agentid_decide_user, not the engine */
};

/* Policy settings taken from a config. */
void agentid_policy_from_config(struct agentid_policy *p,
    const struct agentid_config *cfg);

/*
 * The policy engine (pure). Decides req against chain with the rules of
 * DESIGN.md in order; the first failing rule gives the reason. Pointers in
 * *out point into chain.
 */
void agentid_decide(const struct agentid_chain *chain,
    const struct agentid_request *req, const struct agentid_policy *pol,
    struct agentid_decision *out);

/*
 * One decision from the data (common/decide.c), as every front makes it:
 * validates the name, asks the replica whether it serves req->user as an
 * agent, resolves the chain through the chain builder from the source
 * DESIGN.md names, and runs the engine. On any error the decision is a deny
 * (ldap_unavailable when the directory could not be reached: EHOSTDOWN or
 * ETIMEDOUT) and the code is returned; EINVAL for a name agentid_name_valid
 * refuses (reason not_an_agent). chain is filled for the caller (audit,
 * explanation) and must be cleared with agentid_chain_clear.
 */
int agentid_decide_user(const struct agentid_config *cfg,
    const struct agentid_request *req, struct agentid_chain *chain,
    struct agentid_decision *d, struct agentid_error *err);
/* True when service is listed in cfg's require_cert. */
bool agentid_requires_cert(const struct agentid_config *cfg,
    const char *service);

/* One sentence for a sysadmin: "revoked — uid=orch,... (delegator of
 * uid=bot,...) is revoked". Returns buf. */
char *agentid_explain(const struct agentid_chain *chain,
    const struct agentid_decision *d, char *buf, size_t len);

/* ---------------------------------------------------------------- audit */

struct agentid_audit_event {
	int64_t ts;
	const char *host;
	const char *event;        /* account, session_open, session_close,
	                           * session_terminate, auth, check, admin */
	const char *service;
	const char *user;
	const struct agentid_decision *decision; /* NULL: decision "error" */
	const struct agentid_chain *chain;       /* may be NULL */
	const char *reason;       /* overrides decision's reason if set */
	const char *source;       /* replica, directory or offline; NULL = absent */
	const char *rhost;
	const char *tty;
	pid_t pid;
	/* certificate (NULL/0 when none) */
	const char *cert_key_id;
	bool has_cert_serial;
	uint64_t cert_serial;
	const char *cert_ca;
	bool has_cert_valid_before;
	int64_t cert_valid_before;
	const char *task;
	const char *on_behalf_of;
	const char *session;
	const char *boot_id;      /* NULL: agentid_audit_append reads the
	                           * kernel's (/proc/sys/kernel/random/boot_id) */
	bool has_audit_session;
	uint32_t audit_session;   /* kernel audit session (/proc/self/sessionid) */
	const char *login_session; /* logind's session id */
	int64_t duration;         /* session_close: seconds; < 0 = absent */
	/* session_terminate: the record at fault, what the enforcer did
	 * ("logind", "signal", or "none" under enforce no) and to how many
	 * processes */
	const char *culprit;      /* DN of the chain record at fault */
	const char *action;
	bool has_signalled;
	uint64_t signalled;
	const char *operator_name; /* event admin: who ran it ("operator") */
	/* the front let a user that is not an agent through (PAM_IGNORE):
	 * a not_an_agent decision is written "ignore", not "deny" */
	bool passed_through;
};

/*
 * Formats ev as one JSON object (no newline) with the fields of DESIGN.md in
 * a fixed order, "prev" last. Returns a malloc'd string or NULL (ENOMEM).
 */
char *agentid_audit_format(const struct agentid_audit_event *ev,
    const char *prev_hex);

#ifdef __cplusplus
}
#endif
#endif /* AGENTID_H */
