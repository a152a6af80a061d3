/* SPDX-License-Identifier: BSD-2-Clause */
/* scope.c - matching of agentScope grants against a request (pure). */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "agentid.h"
#include "internal.h"

/* host: glob against the FQDN, and against the short name (case-insensitive). */
bool
agentid_scope_match_host(const char *pattern, const char *host)
{
	char shortname[AGENTID_MAX_NAME + 1];
	const char *dot;
	size_t n;

	if (pattern == NULL || host == NULL || *pattern == '\0')
		return false;
	if (fnmatch(pattern, host, FNM_CASEFOLD) == 0)
		return true;
	if ((dot = strchr(host, '.')) == NULL)
		return false;
	n = (size_t)(dot - host);
	if (n == 0 || n >= sizeof(shortname))
		return false;
	memcpy(shortname, host, n);
	shortname[n] = '\0';
	return fnmatch(pattern, shortname, FNM_CASEFOLD) == 0;
}

/* service: glob against the PAM service name. */
bool
agentid_scope_match_service(const char *pattern, const char *service)
{
	if (pattern == NULL || service == NULL || *pattern == '\0')
		return false;
	return fnmatch(pattern, service, 0) == 0;
}

/*
 * Parses "addr" or "addr/len" into family, 16 address bytes and a prefix
 * length. Returns 0, or EINVAL when s is not an address (then it is a glob).
 */
int
agentid_cidr_parse(const char *s, int *family, unsigned char addr[16],
    unsigned *plen)
{
	char buf[INET6_ADDRSTRLEN + 8];
	const char *slash;
	char *end;
	unsigned long l;
	size_t n;

	slash = strchr(s, '/');
	n = slash != NULL ? (size_t)(slash - s) : strlen(s);
	if (n == 0 || n >= sizeof(buf))
		return EINVAL;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(addr, 0, 16);
	if (inet_pton(AF_INET, buf, addr) == 1) {
		*family = AF_INET;
		*plen = 32;
	} else if (inet_pton(AF_INET6, buf, addr) == 1) {
		*family = AF_INET6;
		*plen = 128;
	} else {
		return EINVAL;
	}
	if (slash != NULL) {
		if (slash[1] < '0' || slash[1] > '9')
			return EINVAL;
		errno = 0;
		l = strtoul(slash + 1, &end, 10);
		if (errno != 0 || *end != '\0' || l > *plen)
			return EINVAL;
		*plen = (unsigned)l;
	}
	return 0;
}

/* Parses an address (no prefix), unmapping ::ffff:a.b.c.d to IPv4. */
static int
parse_addr(const char *s, int *family, unsigned char addr[16])
{
	static const unsigned char mapped[12] =
	    { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	unsigned plen;

	if (strchr(s, '/') != NULL ||
	    agentid_cidr_parse(s, family, addr, &plen) != 0)
		return EINVAL;
	if (*family == AF_INET6 && memcmp(addr, mapped, 12) == 0) {
		memmove(addr, addr + 12, 4);
		memset(addr + 4, 0, 12);
		*family = AF_INET;
	}
	return 0;
}

/* True if the first plen bits of a and b are equal. */
bool
agentid_prefix_equal(const unsigned char *a, const unsigned char *b,
    unsigned plen)
{
	unsigned full = plen / 8, rest = plen % 8;
	unsigned char mask;

	if (memcmp(a, b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	mask = (unsigned char)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

/*
 * from: an address or CIDR matches an rhost that is an address in it; any
 * other pattern is a case-insensitive hostname glob against rhost. An empty
 * rhost (local login) matches nothing.
 */
bool
agentid_scope_match_from(const char *pattern, const char *rhost)
{
	unsigned char net[16], addr[16];
	int pfam, afam;
	unsigned plen;

	if (pattern == NULL || rhost == NULL || *pattern == '\0' || *rhost == '\0')
		return false;
	if (agentid_cidr_parse(pattern, &pfam, net, &plen) == 0) {
		if (parse_addr(rhost, &afam, addr) != 0 || afam != pfam)
			return false;
		return agentid_prefix_equal(net, addr, plen);
	}
	return fnmatch(pattern, rhost, FNM_CASEFOLD) == 0;
}
