/* SPDX-License-Identifier: BSD-2-Clause */
/* args.c - the module arguments: config=PATH, debug, unknown=ignore|deny. */
#include "config.h"

#include <string.h>
#include <syslog.h>

#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "pam_agent.h"

/* Fills a from argv; logs and skips anything it does not know. */
void
parse_args(pam_handle_t *pamh, int argc, const char **argv,
    struct pam_args *a)
{
	int i;

	a->config = AGENTID_CONFIG_PATH;
	a->debug = false;
	a->unknown_deny = false;
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (strncmp(arg, "config=", 7) == 0 && arg[7] != '\0')
			a->config = arg + 7;
		else if (strcmp(arg, "debug") == 0)
			a->debug = true;
		else if (strcmp(arg, "unknown=ignore") == 0)
			a->unknown_deny = false;
		else if (strcmp(arg, "unknown=deny") == 0)
			a->unknown_deny = true;
		else
			pam_syslog(pamh, LOG_ERR, "unknown option: %s", arg);
	}
}
