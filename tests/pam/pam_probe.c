/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_probe.c - pam_probe.so, a test module that shows what another module
 * returns before libpam folds it into the stack's result (PAM_IGNORE, for
 * one, never reaches the application as such):
 *
 *   account required pam_probe.so /path/pam_agent.so ARGS...
 *
 * calls that module's pam_sm_* from inside libpam's dispatch (so its
 * pam_set_data/pam_get_data work), puts PAM_PROBE_<phase>=PAM_CODE into the
 * PAM environment and returns the module's code unchanged. The module is
 * loaded with RTLD_NODELETE: it stays mapped for the session data cleanup
 * and for LeakSanitizer.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_codes.h"

typedef int (*pam_sm_fn)(pam_handle_t *, int, int, const char **);

/* Runs fn of argv[0] with the other arguments; records its code. */
static int
probe(pam_handle_t *pamh, const char *phase, const char *fn, int flags,
    int argc, const char **argv)
{
	char env[128];
	pam_sm_fn f;
	void *dl;
	int r;

	if (argc < 1) {
		pam_syslog(pamh, LOG_ERR, "pam_probe: no module given");
		return PAM_SERVICE_ERR;
	}
	if ((dl = dlopen(argv[0], RTLD_NOW | RTLD_NODELETE)) == NULL) {
		pam_syslog(pamh, LOG_ERR, "pam_probe: %s", dlerror());
		return PAM_OPEN_ERR;
	}
	if ((f = (pam_sm_fn)(uintptr_t)dlsym(dl, fn)) == NULL) {
		dlclose(dl);
		return PAM_SYMBOL_ERR;
	}
	r = f(pamh, flags, argc - 1, argv + 1);
	dlclose(dl); /* RTLD_NODELETE: stays mapped */
	snprintf(env, sizeof(env), "PAM_PROBE_%s=%s", phase, pam_code_name(r));
	(void)pam_putenv(pamh, env);
	return r;
}

/* account: the probed module's pam_sm_acct_mgmt. */
PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return probe(pamh, "account", "pam_sm_acct_mgmt", flags, argc, argv);
}

/* session open: the probed module's pam_sm_open_session. */
PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return probe(pamh, "open", "pam_sm_open_session", flags, argc, argv);
}

/* session close: the probed module's pam_sm_close_session. */
PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	return probe(pamh, "close", "pam_sm_close_session", flags, argc, argv);
}

/* auth: the probed module's pam_sm_authenticate. */
PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return probe(pamh, "auth", "pam_sm_authenticate", flags, argc, argv);
}

/* setcred: the probed module's pam_sm_setcred. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return probe(pamh, "setcred", "pam_sm_setcred", flags, argc, argv);
}
