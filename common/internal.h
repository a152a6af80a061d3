/* SPDX-License-Identifier: BSD-2-Clause */
/* internal.h - helpers shared inside libagentid; not part of the ABI. */
#ifndef AGENTID_INTERNAL_H
#define AGENTID_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days since 1970-01-01 of a proleptic Gregorian date. */
int64_t agentid_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Frees a NULL-terminated string vector. */
void agentid_strv_free(char **v);
/* Appends a copy of s to the NULL-terminated vector *v of *n entries. */
int agentid_strv_add(char ***v, size_t *n, const char *s);

/* dn.c: canonical form of dn into out (strlen(dn) + 1 bytes). */
void agentid_dn_canon(const char *dn, char *out);
/* dn.c: the one DN comparison (case, spaces around separators). */
bool agentid_dn_equal(const char *a, const char *b);
/* dn.c: is dn base or below it (same comparison; "" is the root)? */
bool agentid_dn_under(const char *dn, const char *base);

/* util.c: flock(op) on fd, waiting at most max_ms; 0, ETIMEDOUT, errno. */
int agentid_flock_wait(int fd, int op, long max_ms);
/* util.c: FNV-1a (64 bits) of n bytes: the tables' one hash. */
uint64_t agentid_fnv1a(const void *p, size_t n);
/* util.c: fsyncs the directory holding path; 0 or errno. */
int agentid_fsync_parent(const char *path);

/* scope.c: "addr" or "addr/len" into family, 16 bytes and prefix length;
 * 0, or EINVAL when s is not an address. */
int agentid_cidr_parse(const char *s, int *family, unsigned char addr[16],
    unsigned *plen);
/* scope.c: are the first plen bits of a and b equal? */
bool agentid_prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned plen);

#endif
