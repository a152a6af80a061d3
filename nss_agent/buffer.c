/* SPDX-License-Identifier: BSD-2-Clause */
/* buffer.c - the NSS buffer contract and status translation, in one place. */
#include "config.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>
#include <time.h>

#include "nss_agent.h"

/* Starts handing out buf; a NULL buffer has no room at all. */
void
nss_buf_init(struct nss_buf *b, char *buf, size_t len)
{
	b->next = buf;
	b->left = buf == NULL ? 0 : len;
}

/* Copies len bytes and a NUL. */
int
nss_buf_str(struct nss_buf *b, const char *s, size_t len, char **out)
{
	if (b->left < len || b->left - len < 1)
		return ERANGE;
	memcpy(b->next, s, len);
	b->next[len] = '\0';
	*out = b->next;
	b->next += len + 1;
	b->left -= len + 1;
	return 0;
}

/* Reserves n pointers after aligning the cursor for them. */
int
nss_buf_ptrs(struct nss_buf *b, size_t n, char ***out)
{
	size_t a = alignof(char *);
	size_t pad = (a - (uintptr_t)b->next % a) % a;

	if (b->left < pad || (b->left - pad) / sizeof(char *) < n)
		return ERANGE;
	*out = (char **)(void *)(b->next + pad);
	b->next += pad + n * sizeof(char *);
	b->left -= pad + n * sizeof(char *);
	return 0;
}

/* errno-style code to enum nss_status. */
enum nss_status
nss_agent_status(int rc, int *errnop)
{
	switch (rc) {
	case 0:
		return NSS_STATUS_SUCCESS;
	case ENOENT:
		*errnop = ENOENT;
		return NSS_STATUS_NOTFOUND;
	case ERANGE:
	case ENOMEM:
		*errnop = rc;
		return NSS_STATUS_TRYAGAIN;
	default:
		/* missing or corrupt replica: this source is down, not empty */
		*errnop = ENOENT;
		return NSS_STATUS_UNAVAIL;
	}
}

/* The wall clock, coarse (vDSO, no system call). */
int64_t
nss_agent_now(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_REALTIME_COARSE, &ts) != 0)
		return (int64_t)time(NULL);
	return (int64_t)ts.tv_sec;
}
