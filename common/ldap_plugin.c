/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ldap_plugin.c - the live directory as a decision's chain source, behind
 * the table of dir_source.h. Built into libagentid.so (used directly there)
 * and into the plugin agentid-ldap.so, whose only exported symbol is
 * agentid_dir_plugin_v1 (common/agentid-ldap.sym).
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>

#include "dir_source.h"
#include "ldap_internal.h"

/* One decision's connection, and the signal mask to give back. */
struct dir_conn {
	struct agentid_ldap *l;
	struct aidl_sigpipe sp;
};

/* Blocks SIGPIPE for this thread, then connects and binds. */
static int
dir_open(const struct agentid_config *cfg, void **h, struct agentid_error *err)
{
	struct dir_conn *c;
	int r;

	*h = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	aidl_sigpipe_block(&c->sp);
	if ((r = agentid_ldap_open(cfg, &c->l, err)) != 0) {
		aidl_sigpipe_restore(&c->sp);
		free(c);
		return r;
	}
	*h = c;
	return 0;
}

/* The chain builder's lookups over the connection. */
static void
dir_lookup(void *h, struct agentid_lookup *lk)
{
	struct dir_conn *c = h;

	aidl_lookup(c->l, lk);
}

/* Unbinds, then restores the mask (a SIGPIPE of ours is discarded). */
static void
dir_close(void *h)
{
	struct dir_conn *c = h;

	if (c == NULL)
		return;
	agentid_ldap_close(c->l);
	aidl_sigpipe_restore(&c->sp);
	free(c);
}

/* Hidden: the weak reference of dir_source.c finds it where linked in. */
__attribute__((visibility("hidden")))
const struct agentid_dir_ops aidl_dir_ops = {
	.abi = AGENTID_DIR_ABI,
	.size = sizeof(struct agentid_dir_ops),
	.version = PACKAGE_VERSION,
	.config_size = sizeof(struct agentid_config),
	.record_size = sizeof(struct agentid_record),
	.chain_size = sizeof(struct agentid_chain),
	.error_size = sizeof(struct agentid_error),
	.open = dir_open,
	.lookup = dir_lookup,
	.close = dir_close,
};

/* The plugin's one exported symbol (AGENTID_DIR_PLUGIN_SYMBOL). */
const struct agentid_dir_ops *agentid_dir_plugin_v1(void);
const struct agentid_dir_ops *
agentid_dir_plugin_v1(void)
{
	return &aidl_dir_ops;
}
