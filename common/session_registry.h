/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session_registry.h - the registry of open agent sessions (DESIGN.md:
 * pam_agent registers, the enforcer re-decides, auth for sudo matches):
 * one file per session under /run/agentid/sessions/, named by the session
 * id, written by root atomically (temp + rename), read defensively.
 * Also the few /proc readers that tie a session to its processes: the
 * kernel audit session id (/proc/PID/sessionid, set by pam_loginuid,
 * inherited across fork, setsid and double forks) and a pid's start time
 * (so a reused pid is never mistaken for the session leader).
 *
 * File format: text, one "key value" per line, '\n' ends every line:
 *
 *   agentid-session 1
 *   id 0123456789abcdef0123456789abcdef
 *   user bot-ok
 *   service sshd
 *   rhost 10.0.0.7                 (optional)
 *   tty ssh                        (optional)
 *   pid 4242
 *   pid_start 123456               (optional: /proc/PID/stat starttime)
 *   audit_session 17               (optional: absent = unset)
 *   login_session 5                (optional: logind's id)
 *   boot_id 6f0c...-...            (36 characters)
 *   start 1763960000
 *   cert_ca SHA256:...             (cert_* lines: all of ca, key,
 *   cert_key SHA256:...             valid_after, valid_before, or none;
 *   cert_principal bot-ok           principals 0 to 32)
 *   cert_valid_after 0
 *   cert_valid_before 18446744073709551615
 *
 * The first line must be the magic; every other key at most once (except
 * cert_principal); unknown keys, empty values, control characters, bad
 * numbers, a missing required key, or an id that differs from the file's
 * name are EBADMSG. Not part of the ABI (internal names: sessreg_*).
 */
#ifndef AGENTID_SESSION_REGISTRY_H
#define AGENTID_SESSION_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "agentid.h"

#define SESSREG_DIR "/run/agentid/sessions"
#define SESSREG_DIR_ENV "AGENTID_SESSION_DIR" /* tests only (secure_getenv) */
#define SESSREG_MAGIC "agentid-session 1"
#define SESSREG_MAX_FILE 16384
#define SESSREG_MAX_PRINCIPALS 32
#define SESSREG_AUDIT_UNSET 4294967295u /* the kernel's "no session" */

struct sessreg_session {
	char id[33];              /* 32 lowercase hex digits (AGENTID_SESSION) */
	char user[AGENTID_MAX_NAME + 1];
	char service[128];
	char rhost[256];          /* "" when none */
	char tty[128];            /* "" when none */
	pid_t pid;                /* the session leader (pam_open_session's) */
	uint64_t pid_start;       /* its start time in ticks; 0 = unknown */
	bool has_audit_session;
	uint32_t audit_session;
	char login_session[64];   /* "" when pam_systemd did not run */
	char boot_id[37];
	int64_t start;            /* when the session opened */
	bool has_cert;
	char ca_fp[128];
	char key_fp[128];
	char principals[SESSREG_MAX_PRINCIPALS][AGENTID_MAX_NAME + 1];
	size_t n_principals;
	uint64_t valid_after;
	uint64_t valid_before;    /* UINT64_MAX = forever */
};

/* The registry directory: SESSREG_DIR, or AGENTID_SESSION_DIR (tests). */
const char *sessreg_dir(void);
/* True when name is a session id (32 lowercase hex digits). */
bool sessreg_id_valid(const char *name);

/* Formats s as the file's text into a malloc'd *out; 0, EINVAL (a value
 * holds a control character or is too long), or ENOMEM. */
int sessreg_format(const struct sessreg_session *s, char **out, size_t *len);
/* Parses the file's text (pure, never reads past len); 0 or EBADMSG. */
int sessreg_parse(const char *text, size_t len, struct sessreg_session *out);

/* Writes s into dir (created 0700 when missing) as dir/ID, atomically.
 * Refuses a dir that is not ours alone (EACCES). 0 or errno, err set. */
int sessreg_write(const char *dir, const struct sessreg_session *s,
    struct agentid_error *err);
/* Removes dir/ID; 0 also when it was not there. */
int sessreg_remove(const char *dir, const char *id);
/* Reads dir/name: a regular file, no symlink, not writable by group or
 * others, owned by root or us, at most SESSREG_MAX_FILE bytes; 0, ENOENT,
 * EACCES, EFBIG, EBADMSG or errno. */
int sessreg_read(const char *dir, const char *name, struct sessreg_session *s);

/* Called for each file of the registry whose name is a session id: s is
 * NULL and code the error when the file cannot be read; a non-zero return
 * stops the walk and is returned. */
typedef int (*sessreg_cb)(const char *name, const struct sessreg_session *s,
    int code, void *arg);
/* Walks dir; ENOENT when dir does not exist. */
int sessreg_each(const char *dir, sessreg_cb cb, void *arg);

/* One version of a registry file or of the directory: a file is only ever
 * replaced by rename (a new inode), an entry added or removed changes the
 * directory's mtime and ctime. */
struct sessreg_ident {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};
/* The directory's own ident; 0 or errno (ENOENT). */
int sessreg_dir_ident(const char *dir, struct sessreg_ident *id);
/* The enforcer's walk (it keeps what it parsed): for each session file of
 * dir, known(name, ident) says whether the caller already holds that very
 * version (then the file is not read); otherwise the file is read and cb
 * called as sessreg_each's, with the ident of the version read (NULL when
 * the file could not be read). ENOENT when dir does not exist. */
typedef bool (*sessreg_known_cb)(const char *name,
    const struct sessreg_ident *id, void *arg);
typedef int (*sessreg_read_cb)(const char *name,
    const struct sessreg_ident *id, const struct sessreg_session *s,
    int code, void *arg);
int sessreg_each_changed(const char *dir, sessreg_known_cb known,
    sessreg_read_cb cb, void *arg);

/* The kernel audit session of pid (0 = this process); 0, ENOENT (no such
 * process) or EBADMSG. SESSREG_AUDIT_UNSET when it has none. */
int sessreg_proc_sessionid(pid_t pid, uint32_t *out);
/* State letter and start time (ticks since boot) of pid from
 * /proc/PID/stat; 0, ENOENT or EBADMSG. */
int sessreg_proc_stat(pid_t pid, char *state, uint64_t *start);
/* This boot's id (/proc/sys/kernel/random/boot_id) into buf[37]. */
int sessreg_boot_id(char *buf, size_t len);
/* Is the session leader still there (same pid, same start, not a zombie)? */
bool sessreg_leader_alive(const struct sessreg_session *s);

#endif
