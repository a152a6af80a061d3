/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_audit_verify.c - fuzz target: a whole trail file through
 * agentid_audit_verify (chain of hashes, seq, seals, rotation state), and
 * through agentid_audit_verify_key with a fixed verification key. The
 * input is written to a private temporary file: verify reads files.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "agentid_audit.h"
#include "fuzz_util.h"

static char path[4096];

static void
cleanup(void)
{
	char *slash;

	if (path[0] == '\0')
		return;
	unlink(path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		rmdir(path);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char vkey[] = "agentid-seal-v1:1789999980:60:"
	    "ddfecd41a8c034b463f9c4456f9e956443f6289961add0f2c0b1f0154345c592";
	struct agentid_audit_summary sum;
	struct agentid_error err;
	const char *files[1];
	size_t off = 0;
	ssize_t w;
	int fd;

	if (size > (1u << 20))
		return 0;
	if (path[0] == '\0') {
		/* tmpfs when there is one: on ext4, rewriting a truncated
		 * file forces a flush at close (auto_da_alloc), 100x slower */
		char dir[] = "/dev/shm/agentid-fuzz-audit.XXXXXX";
		char tdir[] = "/tmp/agentid-fuzz-audit.XXXXXX";

		if (mkdtemp(dir) == NULL && mkdtemp(strcpy(dir, tdir)) == NULL)
			return 0;
		snprintf(path, sizeof(path), "%s/audit.log", dir);
		atexit(cleanup);
	}
	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) < 0)
		return 0;
	while (off < size && (w = write(fd, data + off, size - off)) > 0)
		off += (size_t)w;
	close(fd);
	files[0] = path;
	memset(&sum, 0, sizeof(sum));
	(void)agentid_audit_verify(files, 1, &sum, &err);
	memset(&sum, 0, sizeof(sum));
	(void)agentid_audit_verify_key(files, 1, vkey, 1800000000, &sum, &err);
	return 0;
}
