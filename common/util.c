/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - the small helpers every part of libagentid shares: one strict
 * decimal parser, one bounded flock wait, one directory fsync. Internal
 * (common/internal.h), except agentid_parse_decimal, which the tool uses.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "internal.h"

/* Digits only (no sign, no space, no empty string), at most max. */
int
agentid_parse_decimal(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || s[0] < '0' || s[0] > '9')
		return EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return EINVAL;
	if (v > max)
		return ERANGE;
	*out = v;
	return 0;
}

/* Sleeps ms milliseconds, resuming after a signal. */
static void
sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/*
 * Takes flock(op) on fd, polling so that a stuck holder cannot hang a login
 * forever: at most max_ms milliseconds. 0, ETIMEDOUT, or flock's errno.
 */
int
agentid_flock_wait(int fd, int op, long max_ms)
{
	long waited = 0, step = 1;

	for (;;) {
		if (flock(fd, op | LOCK_NB) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK)
			return errno;
		if (waited >= max_ms)
			return ETIMEDOUT;
		sleep_ms(step);
		waited += step;
		if (step < 4)
			step *= 2;
	}
}

/* fsyncs the directory that holds path (a rename there is then durable). */
int
agentid_fsync_parent(const char *path)
{
	char dir[PATH_MAX], *slash;
	int fd, r = 0;

	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir))
		return ENAMETOOLONG;
	if ((slash = strrchr(dir, '/')) == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return errno;
	if (fsync(fd) != 0)
		r = errno;
	close(fd);
	return r;
}

/* FNV-1a, 64 bits: the one hash of the library's in-memory tables (sync's
 * DN index, the replica writer's name and id sets, agentidd's store). */
uint64_t
agentid_fnv1a(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t h = 0xcbf29ce484222325ull;

	while (n-- > 0)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}
