/*
 * dlopen_bench.c - time to dlopen(RTLD_NOW) a PAM module in a fresh process
 * that already has libpam and libcrypto loaded (as sshd has), for
 * scripts/bench. Prints "us=N" (microseconds); never fails on time.
 *
 *   dlopen_bench MODULE.so
 */
#include <dlfcn.h>
#include <stdio.h>
#include <time.h>

#include <openssl/crypto.h>
#include <security/pam_appl.h>

int
main(int argc, char **argv)
{
	struct timespec a, b;
	void *h;

	if (argc != 2) {
		fprintf(stderr, "usage: dlopen_bench MODULE.so\n");
		return 2;
	}
	/* touch both libraries so that they are loaded and relocated */
	(void)pam_strerror(NULL, PAM_SUCCESS);
	(void)OPENSSL_init_crypto(0, NULL);
	clock_gettime(CLOCK_MONOTONIC, &a);
	h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	if (h == NULL) {
		fprintf(stderr, "dlopen_bench: %s\n", dlerror());
		return 1;
	}
	printf("us=%.1f\n", ((double)(b.tv_sec - a.tv_sec) * 1e9 +
	    (double)(b.tv_nsec - a.tv_nsec)) / 1e3);
	return 0;
}
