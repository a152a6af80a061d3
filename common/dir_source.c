/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * dir_source.c - finds the directory source for a decision: the LDAP code
 * linked into this object, or else the plugin agentid-ldap.so, opened only
 * now, when a decision needs the directory (dir_source.h says why).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dir_source.h"

#ifndef AGENTID_LDAP_MODULE_PATH
#error "AGENTID_LDAP_MODULE_PATH must name the installed agentid-ldap.so"
#endif

/*
 * The table of common/ldap_plugin.c when the LDAP code is linked into the
 * same object (libagentid.so, which the agentid command uses for show, list
 * and sync anyway). A hidden weak reference: the static linker resolves it,
 * or sets it to NULL where the LDAP code is absent (pam_agent.so); nothing
 * is looked up at run time.
 */
extern const struct agentid_dir_ops aidl_dir_ops
    __attribute__((weak, visibility("hidden")));

typedef const struct agentid_dir_ops *(*plugin_fn)(void);

/* The plugin's path: the compiled-in one, or the test override. */
static const char *
plugin_path(void)
{
	const char *p = secure_getenv("AGENTID_LDAP_MODULE");

	return p != NULL && p[0] != '\0' ? p : AGENTID_LDAP_MODULE_PATH;
}

/* 0 when ops was built from the same source as we were. */
static int
ops_check(const struct agentid_dir_ops *ops, const char *path,
    struct agentid_error *err)
{
	if (ops == NULL || ops->abi != AGENTID_DIR_ABI ||
	    ops->size != sizeof(*ops))
		return agentid_seterr(err, ELIBACC,
		    "directory module %s: interface %u, wanted %u", path,
		    ops != NULL ? (unsigned)ops->abi : 0u, AGENTID_DIR_ABI);
	if (ops->version == NULL || strcmp(ops->version, PACKAGE_VERSION) != 0 ||
	    ops->config_size != sizeof(struct agentid_config) ||
	    ops->record_size != sizeof(struct agentid_record) ||
	    ops->chain_size != sizeof(struct agentid_chain) ||
	    ops->error_size != sizeof(struct agentid_error) ||
	    ops->open == NULL || ops->lookup == NULL || ops->close == NULL)
		return agentid_seterr(err, ELIBACC,
		    "directory module %s: built from agentid %.32s, not %s",
		    path, ops->version != NULL ? ops->version : "?",
		    PACKAGE_VERSION);
	return 0;
}

/* Opens the plugin into dir (dl, ops); 0 or ELIBACC. */
static int
plugin_load(struct agentid_dir *dir, struct agentid_error *err)
{
	const char *path = plugin_path();
	const char *why;
	plugin_fn fn;
	int r = ELIBACC;

	/* never a bare name: that would search LD_LIBRARY_PATH */
	if (path[0] != '/')
		return agentid_seterr(err, ELIBACC,
		    "directory module %s: not an absolute path", path);
	/*
	 * RTLD_NODELETE: libldap, GnuTLS and SASL register handlers (atexit,
	 * thread keys) that must not outlive their code, so once loaded the
	 * plugin stays; a later decision's dlopen only counts a reference.
	 */
	dlerror();
	if ((dir->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE)) ==
	    NULL) {
		why = dlerror();
		agentid_seterr(err, r, "cannot load the directory module %s: %s",
		    path, why != NULL ? why : "unknown error");
		goto out;
	}
	/* POSIX: a function pointer through an object pointer */
	*(void **)(&fn) = dlsym(dir->dl, AGENTID_DIR_PLUGIN_SYMBOL);
	if (fn == NULL) {
		agentid_seterr(err, r, "directory module %s: no symbol %s",
		    path, AGENTID_DIR_PLUGIN_SYMBOL);
		goto out;
	}
	dir->ops = fn();
	r = ops_check(dir->ops, path, err);
out:
	if (r != 0) {
		if (dir->dl != NULL)
			dlclose(dir->dl);
		dir->dl = NULL;
		dir->ops = NULL;
	}
	return r;
}

/* Loads the source and connects; see dir_source.h. */
int
agentid_dir_open(const struct agentid_config *cfg, struct agentid_dir *dir,
    struct agentid_error *err)
{
	int r;

	memset(dir, 0, sizeof(*dir));
	if (&aidl_dir_ops != NULL)
		dir->ops = &aidl_dir_ops;
	else if ((r = plugin_load(dir, err)) != 0)
		return r;
	return dir->ops->open(cfg, &dir->h, err);
}

/* The lookup interface over the connection. */
void
agentid_dir_lookup(struct agentid_dir *dir, struct agentid_lookup *lk)
{
	dir->ops->lookup(dir->h, lk);
}

/* Closes the connection, then drops our reference to the plugin. */
void
agentid_dir_close(struct agentid_dir *dir)
{
	if (dir->ops != NULL)
		dir->ops->close(dir->h);
	if (dir->dl != NULL)
		dlclose(dir->dl);
	memset(dir, 0, sizeof(*dir));
}
