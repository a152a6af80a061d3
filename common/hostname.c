/* SPDX-License-Identifier: BSD-2-Clause */
/* hostname.c - this host's name, as host: grants match it. */
#include "config.h"

#include <errno.h>
#include <netdb.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agentid.h"

/* cfg->hostname, else the canonical FQDN, else gethostname(). */
int
agentid_host_name(const struct agentid_config *cfg, char *buf, size_t len)
{
	struct addrinfo hints, *ai = NULL;

	if (len == 0)
		return EINVAL;
	if (cfg != NULL && cfg->hostname != NULL) {
		if (strlen(cfg->hostname) >= len)
			return ENAMETOOLONG;
		strcpy(buf, cfg->hostname);
		return 0;
	}
	if (gethostname(buf, len) != 0)
		return errno;
	buf[len - 1] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_CANONNAME;
	hints.ai_family = AF_UNSPEC;
	if (getaddrinfo(buf, NULL, &hints, &ai) == 0 && ai != NULL &&
	    ai->ai_canonname != NULL && strlen(ai->ai_canonname) < len &&
	    strchr(ai->ai_canonname, '.') != NULL)
		strcpy(buf, ai->ai_canonname);
	if (ai != NULL)
		freeaddrinfo(ai);
	return 0;
}
