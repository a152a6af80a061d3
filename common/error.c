/* SPDX-License-Identifier: BSD-2-Clause */
/* error.c - error messages for callers. */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>

#include "agentid.h"

/* Formats a message into err; returns code so callers can "return seterr()". */
int
agentid_seterr(struct agentid_error *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}
