/* SPDX-License-Identifier: BSD-2-Clause */
/* names.c - validation of user names coming from PAM, NSS or the tool. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "agentid.h"

/* 0 if name may be looked up; EINVAL naming what is wrong otherwise. */
int
agentid_name_valid(const char *name, struct agentid_error *err)
{
	size_t i, len;

	if (name == NULL || name[0] == '\0')
		return agentid_seterr(err, EINVAL, "user name is empty");
	len = strnlen(name, AGENTID_MAX_NAME + 1);
	if (len > AGENTID_MAX_NAME)
		return agentid_seterr(err, EINVAL,
		    "user name is longer than %d bytes", AGENTID_MAX_NAME);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c < 0x20 || c == 0x7f)
			return agentid_seterr(err, EINVAL,
			    "user name contains a control character at byte %zu", i);
		if (c == '/')
			return agentid_seterr(err, EINVAL,
			    "user name contains '/'");
	}
	return 0;
}
