/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_codes.h - PAM return codes by name, for the test driver and probe. */
#ifndef AGENTID_TEST_PAM_CODES_H
#define AGENTID_TEST_PAM_CODES_H

#include <stddef.h>

#include <security/_pam_types.h>

/* The PAM_* name of code ("PAM_UNKNOWN_CODE" for others). */
static inline const char *
pam_code_name(int code)
{
	static const struct {
		int code;
		const char *name;
	} codes[] = {
		{ PAM_SUCCESS, "PAM_SUCCESS" },
		{ PAM_OPEN_ERR, "PAM_OPEN_ERR" },
		{ PAM_SYMBOL_ERR, "PAM_SYMBOL_ERR" },
		{ PAM_SERVICE_ERR, "PAM_SERVICE_ERR" },
		{ PAM_SYSTEM_ERR, "PAM_SYSTEM_ERR" },
		{ PAM_BUF_ERR, "PAM_BUF_ERR" },
		{ PAM_PERM_DENIED, "PAM_PERM_DENIED" },
		{ PAM_AUTH_ERR, "PAM_AUTH_ERR" },
		{ PAM_AUTHINFO_UNAVAIL, "PAM_AUTHINFO_UNAVAIL" },
		{ PAM_USER_UNKNOWN, "PAM_USER_UNKNOWN" },
		{ PAM_ACCT_EXPIRED, "PAM_ACCT_EXPIRED" },
		{ PAM_SESSION_ERR, "PAM_SESSION_ERR" },
		{ PAM_IGNORE, "PAM_IGNORE" },
		{ PAM_ABORT, "PAM_ABORT" },
		{ PAM_NEW_AUTHTOK_REQD, "PAM_NEW_AUTHTOK_REQD" },
		{ PAM_CONV_ERR, "PAM_CONV_ERR" },
	};
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].code == code)
			return codes[i].name;
	return "PAM_UNKNOWN_CODE";
}

#endif
