/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_main.c - the replay driver of the fuzz targets for builds without
 * libFuzzer (make check: gcc with ASan/UBSan, or no sanitizer under
 * valgrind). Feeds every file named on the command line, or every file of
 * every directory named, to LLVMFuzzerTestOneInput, one call per file.
 * With no argument it replays $top_srcdir/tests/fuzz/corpus/FUZZ_NAME, the
 * target's seeds and every crash input kept as a regression input.
 *
 * A crash is the sanitizer's abort; the driver itself fails (exit 1) when
 * a file cannot be read or the corpus is empty, so that a replay that ran
 * nothing never passes. The libFuzzer build links libFuzzer's main instead
 * (tests/fuzz/libfuzzer.sh).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef FUZZ_NAME
#error "FUZZ_NAME must name the target (its corpus directory)"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static long n_inputs;

/* Reads path whole and runs the target on it; 0 or an errno value. */
static int
replay_file(const char *path)
{
	FILE *f;
	uint8_t *buf = NULL, *nb;
	size_t len = 0, cap = 0, got;
	int rc = 0;

	if ((f = fopen(path, "rbe")) == NULL)
		return errno;
	for (;;) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4096;
			if ((nb = realloc(buf, cap)) == NULL) {
				rc = ENOMEM;
				goto out;
			}
			buf = nb;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		rc = EIO;
		goto out;
	}
	/* an exact-size copy: ASan then sees any read past the input */
	if ((nb = malloc(len ? len : 1)) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	memcpy(nb, buf, len);
	LLVMFuzzerTestOneInput(nb, len);
	free(nb);
	n_inputs++;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* Replays path: a file, or every regular file of a directory. */
static int
replay(const char *path)
{
	struct stat st;
	struct dirent **ents = NULL;
	int n, i, rc = 0;

	if (stat(path, &st) != 0)
		return errno;
	if (!S_ISDIR(st.st_mode))
		return replay_file(path);
	/* sorted: the same order on every machine */
	if ((n = scandir(path, &ents, NULL, alphasort)) < 0)
		return errno;
	for (i = 0; i < n; i++) {
		char sub[4096];

		if (rc == 0 && ents[i]->d_name[0] != '.' &&
		    (size_t)snprintf(sub, sizeof(sub), "%s/%s", path,
		    ents[i]->d_name) < sizeof(sub) &&
		    stat(sub, &st) == 0 && S_ISREG(st.st_mode))
			rc = replay_file(sub);
		free(ents[i]);
	}
	free(ents);
	return rc;
}

int
main(int argc, char **argv)
{
	char def[4096];
	const char *top = getenv("top_srcdir");
	int i, rc;

	if (argc < 2) {
		snprintf(def, sizeof(def), "%s/tests/fuzz/corpus/%s",
		    top != NULL ? top : ".", FUZZ_NAME);
		argv[1] = def;
		argc = 2;
	}
	for (i = 1; i < argc; i++) {
		if ((rc = replay(argv[i])) != 0) {
			fprintf(stderr, "%s: %s: %s\n", FUZZ_NAME, argv[i],
			    strerror(rc));
			return 1;
		}
	}
	if (n_inputs == 0) {
		fprintf(stderr, "%s: no input replayed\n", FUZZ_NAME);
		return 1;
	}
	printf("%s: %ld inputs replayed, no crash\n", FUZZ_NAME, n_inputs);
	return 0;
}
