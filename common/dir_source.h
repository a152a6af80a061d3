/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dir_source.h - the live directory as a chain source, kept out of what
 * pam_agent.so loads at load time. sshd loads the module afresh for every
 * connection; libldap pulls in GnuTLS, SASL, p11-kit, nettle and gmp, which
 * cost more to load than the whole decision from the replica. So the LDAP
 * code is also built as a plugin, agentid-ldap.so in $(pkglibdir), that
 * exports one symbol (AGENTID_DIR_PLUGIN_SYMBOL), a table of the three
 * operations a decision needs; dir_source.c opens it only when a decision
 * asks the directory. Where the LDAP code is linked in already (libagentid.so,
 * for the agentid command), the same table is used directly. Not part of the
 * ABI.
 */
#ifndef AGENTID_DIR_SOURCE_H
#define AGENTID_DIR_SOURCE_H

#include <stdint.h>

#include "agentid.h"
#include "chain.h"

/* Bumped whenever the table or what crosses it changes shape. */
#define AGENTID_DIR_ABI 1
#define AGENTID_DIR_PLUGIN_SYMBOL "agentid_dir_plugin_v1"

struct agentid_dir_ops {
	uint32_t abi;             /* AGENTID_DIR_ABI */
	uint32_t size;            /* sizeof(struct agentid_dir_ops) */
	const char *version;      /* PACKAGE_VERSION of the build */
	/* layout of what the two sides share, checked by the loader */
	uint32_t config_size, record_size, chain_size, error_size;
	/*
	 * Connects and binds (failover over cfg->uri) with SIGPIPE held off
	 * in this thread until close; *h is the connection. 0 or errno-style
	 * (EHOSTDOWN, ETIMEDOUT: unreachable).
	 */
	int (*open)(const struct agentid_config *cfg, void **h,
	    struct agentid_error *err);
	/* The chain builder's lookup interface over h (valid until close). */
	void (*lookup)(void *h, struct agentid_lookup *lk);
	/* Closes h (NULL: nothing) and restores the thread's signal mask. */
	void (*close)(void *h);
};

/* One decision's use of the directory: the module (if loaded) and the
 * connection. Zero it before agentid_dir_open. */
struct agentid_dir {
	void *dl;                 /* dlopen handle; NULL when built in */
	const struct agentid_dir_ops *ops;
	void *h;                  /* the connection */
};

/*
 * Loads the directory source (the plugin, unless built in) and connects.
 * A plugin that cannot be loaded, lacks the symbol or was built from another
 * version gives ELIBACC with an error naming the file: the decision fails
 * closed as ldap_unavailable. The plugin's path is compiled in
 * (AGENTID_LDAP_MODULE_PATH); AGENTID_LDAP_MODULE overrides it (absolute
 * path, secure_getenv: never for setuid callers) so tests can run from the
 * build tree.
 */
int agentid_dir_open(const struct agentid_config *cfg, struct agentid_dir *dir,
    struct agentid_error *err);
/* The chain builder's lookup interface over an open dir. */
void agentid_dir_lookup(struct agentid_dir *dir, struct agentid_lookup *lk);
/* Closes what agentid_dir_open opened (any state it left). */
void agentid_dir_close(struct agentid_dir *dir);

#endif
