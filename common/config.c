/* SPDX-License-Identifier: BSD-2-Clause */
/* config.c - /etc/agentid.conf: parsing (pure) and loading (permission checks). */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agentid.h"
#include "internal.h"

#define CONFIG_MAX_SIZE (1024 * 1024)
#define SECRET_MAX_SIZE 4096

enum key_type {
	K_STRING, K_FILTER, K_URI, K_SSL, K_REQCERT, K_SECONDS, K_DURATION,
	K_UINT, K_ULONG, K_BOOL, K_SCOPES, K_OFFLINE, K_SASL, K_SOURCE,
	K_SERVICES, K_RANGE,
};

struct key_def {
	const char *name;
	enum key_type type;
	size_t off;           /* offset of the field in struct agentid_config */
	long long min, max;   /* K_UINT, K_ULONG, K_SECONDS, K_DURATION */
};

#define F(field) offsetof(struct agentid_config, field)
static const struct key_def keys[] = {
	{ "uri", K_URI, F(uri), 0, 0 },
	{ "base", K_STRING, F(base), 0, 0 },
	{ "group_base", K_STRING, F(group_base), 0, 0 },
	{ "binddn", K_STRING, F(binddn), 0, 0 },
	{ "bindpw_file", K_STRING, F(bindpw_file), 0, 0 },
	{ "sasl_mech", K_SASL, F(sasl_mech), 0, 0 },
	{ "ssl", K_SSL, F(ssl), 0, 0 },
	{ "tls_reqcert", K_REQCERT, F(tls_reqcert), 0, 0 },
	{ "tls_cacert", K_STRING, F(tls_cacert), 0, 0 },
	{ "tls_cert", K_STRING, F(tls_cert), 0, 0 },
	{ "tls_key", K_STRING, F(tls_key), 0, 0 },
	{ "timeout", K_SECONDS, F(timeout), 1, 300 },
	{ "agent_filter", K_FILTER, F(agent_filter), 0, 0 },
	{ "max_delegation_depth", K_UINT, F(max_delegation_depth), 1, 32 },
	{ "clock_skew", K_DURATION, F(clock_skew), 0, 86400 },
	{ "max_lifetime", K_DURATION, F(max_lifetime), 0, 100LL * 365 * 86400 },
	{ "require_scope", K_SCOPES, F(require_scope), 0, 0 },
	{ "owner_filter", K_FILTER, F(owner_filter), 0, 0 },
	{ "owner_active_filter", K_FILTER, F(owner_active_filter), 0, 0 },
	{ "min_uid", K_ULONG, F(min_uid), 0, UINT32_MAX },
	{ "nologin_shell", K_STRING, F(nologin_shell), 0, 0 },
	{ "uid_range", K_RANGE, F(uid_range), 1, UINT32_MAX - 1 },
	{ "replica", K_STRING, F(replica), 0, 0 },
	{ "source", K_SOURCE, F(source), 0, 0 },
	{ "replica_max_age", K_DURATION, F(replica_max_age), 1, 86400 },
	{ "heartbeat", K_DURATION, F(heartbeat), 1, 3600 },
	{ "offline", K_OFFLINE, F(offline), 0, 0 },
	{ "offline_max_age", K_DURATION, F(offline_max_age), 0, 365LL * 86400 },
	{ "require_cert", K_SERVICES, F(require_cert), 0, 0 },
	{ "enforce", K_BOOL, F(enforce), 0, 0 },
	{ "enforce_grace", K_DURATION, F(enforce_grace), 0, 3600 },
	{ "enforce_cert_expiry", K_BOOL, F(enforce_cert_expiry), 0, 0 },
	{ "audit_log", K_STRING, F(audit_log), 0, 0 },
	{ "audit_syslog", K_BOOL, F(audit_syslog), 0, 0 },
	{ "audit_fsync", K_BOOL, F(audit_fsync), 0, 0 },
	{ "audit_required", K_BOOL, F(audit_required), 0, 0 },
	{ "audit_seal_interval", K_DURATION, F(audit_seal_interval), 1, 7 * 86400 },
	{ "audit_seal_key", K_STRING, F(audit_seal_key), 0, 0 },
	{ "hostname", K_STRING, F(hostname), 0, 0 },
};
#undef F
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

/* Returns a config with every default of DESIGN.md. */
int
agentid_config_new(struct agentid_config **out)
{
	struct agentid_config *c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return ENOMEM;
	c->ssl = AGENTID_SSL_START_TLS;
	c->tls_reqcert = AGENTID_REQCERT_DEMAND;
	c->timeout = 3;
	c->max_delegation_depth = 4;
	c->clock_skew = 60;
	c->max_lifetime = 90LL * 86400;
	c->require_scope = AGENTID_KIND_HOST | AGENTID_KIND_SERVICE;
	c->min_uid = 1000;
	c->source = AGENTID_PREFER_REPLICA;
	c->replica_max_age = 15;
	c->heartbeat = 5;
	c->offline = AGENTID_OFFLINE_DENY;
	c->offline_max_age = 3600;
	c->enforce = true;
	c->enforce_grace = 5;
	c->enforce_cert_expiry = true;
	c->audit_syslog = true;
	c->audit_fsync = true;
	c->audit_required = true;
	c->audit_seal_interval = 900;
	if ((c->path = strdup("<string>")) == NULL ||
	    (c->agent_filter = strdup("(objectClass=agentIdentity)")) == NULL ||
	    (c->owner_filter = strdup("(objectClass=person)")) == NULL ||
	    agentid_strv_add(&c->require_cert, &c->n_require_cert, "sshd") != 0 ||
	    (c->nologin_shell = strdup("/usr/sbin/nologin")) == NULL ||
	    (c->replica = strdup(AGENTID_DEFAULT_REPLICA)) == NULL ||
	    (c->audit_log = strdup(AGENTID_DEFAULT_AUDIT_LOG)) == NULL) {
		agentid_config_free(c);
		return ENOMEM;
	}
	*out = c;
	return 0;
}

/* Frees cfg and everything it owns. */
void
agentid_config_free(struct agentid_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < NKEYS; i++) {
		enum key_type t = keys[i].type;

		if (t == K_STRING || t == K_FILTER || t == K_SASL)
			free(*(char **)((char *)c + keys[i].off));
	}
	agentid_strv_free(c->uri);
	agentid_strv_free(c->require_cert);
	free(c->path);
	free(c);
}

/* A filter must be one parenthesised, balanced expression. */
static bool
filter_ok(const char *v)
{
	int depth = 0;
	size_t i, n = strlen(v);

	if (n < 3 || v[0] != '(' || v[n - 1] != ')')
		return false;
	for (i = 0; i < n; i++) {
		if (v[i] == '(')
			depth++;
		else if (v[i] == ')' && --depth < 0)
			return false;
		if (depth == 0 && i != n - 1)
			return false;
	}
	return depth == 0;
}

static bool
uri_ok(const char *v)
{
	return strncasecmp(v, "ldap://", 7) == 0 ||
	    strncasecmp(v, "ldaps://", 8) == 0 || strncasecmp(v, "ldapi://", 8) == 0;
}

/* Sets one key from its value; returns 0 or EINVAL with a message. */
static int
set_key(struct agentid_config *c, const struct key_def *k, char *v,
    const char *where, struct agentid_error *err)
{
	void *field = (char *)c + k->off;
	char *tok, *save = NULL;
	uint64_t u;
	int64_t d;
	int r;

	switch (k->type) {
	case K_FILTER:
		if (!filter_ok(v))
			return agentid_seterr(err, EINVAL, "%s: %s: not an LDAP filter "
			    "in parentheses: %s", where, k->name, v);
		/* FALLTHROUGH */
	case K_STRING:
	case K_SASL:
		if (k->type == K_SASL && strcasecmp(v, "EXTERNAL") != 0)
			return agentid_seterr(err, EINVAL, "%s: %s: only EXTERNAL is "
			    "supported, not %s", where, k->name, v);
		free(*(char **)field);
		if ((*(char **)field = strdup(v)) == NULL)
			return ENOMEM;
		return 0;
	case K_URI:
		for (tok = strtok_r(v, " \t", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t", &save)) {
			if (!uri_ok(tok))
				return agentid_seterr(err, EINVAL, "%s: uri: not an "
				    "ldap://, ldaps:// or ldapi:// URI: %s", where, tok);
			if ((r = agentid_strv_add(&c->uri, &c->n_uri, tok)) != 0)
				return r;
		}
		return 0;
	case K_SSL:
		if (strcmp(v, "off") == 0)
			c->ssl = AGENTID_SSL_OFF;
		else if (strcmp(v, "start_tls") == 0)
			c->ssl = AGENTID_SSL_START_TLS;
		else if (strcmp(v, "on") == 0)
			c->ssl = AGENTID_SSL_ON;
		else
			return agentid_seterr(err, EINVAL, "%s: ssl: expected off, "
			    "start_tls or on, not %s", where, v);
		return 0;
	case K_REQCERT: {
		static const char *const names[] =
		    { "never", "allow", "try", "demand", "hard" };
		for (u = 0; u < 5; u++)
			if (strcmp(v, names[u]) == 0) {
				c->tls_reqcert = (enum agentid_reqcert)u;
				return 0;
			}
		return agentid_seterr(err, EINVAL, "%s: tls_reqcert: expected never, "
		    "allow, try, demand or hard, not %s", where, v);
	}
	case K_OFFLINE:
		if (strcmp(v, "deny") == 0)
			c->offline = AGENTID_OFFLINE_DENY;
		else if (strcmp(v, "cache") == 0)
			c->offline = AGENTID_OFFLINE_CACHE;
		else
			return agentid_seterr(err, EINVAL, "%s: offline: expected deny "
			    "or cache, not %s", where, v);
		return 0;
	case K_SOURCE:
		if (strcmp(v, "replica") == 0)
			c->source = AGENTID_PREFER_REPLICA;
		else if (strcmp(v, "directory") == 0)
			c->source = AGENTID_PREFER_DIRECTORY;
		else
			return agentid_seterr(err, EINVAL, "%s: source: expected "
			    "replica or directory, not %s", where, v);
		return 0;
	case K_SERVICES:
		agentid_strv_free(c->require_cert);
		c->require_cert = NULL;
		c->n_require_cert = 0;
		for (tok = strtok_r(v, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (strcmp(tok, "none") == 0)
				continue;
			if ((r = agentid_name_valid(tok, NULL)) != 0)
				return agentid_seterr(err, EINVAL, "%s: require_cert: "
				    "not a PAM service name: %s", where, tok);
			if ((r = agentid_strv_add(&c->require_cert,
			    &c->n_require_cert, tok)) != 0)
				return r;
		}
		return 0;
	case K_BOOL:
		if (strcmp(v, "yes") == 0)
			*(bool *)field = true;
		else if (strcmp(v, "no") == 0)
			*(bool *)field = false;
		else
			return agentid_seterr(err, EINVAL, "%s: %s: expected yes or no, "
			    "not %s", where, k->name, v);
		return 0;
	case K_UINT:
	case K_ULONG:
		if (agentid_parse_decimal(v, (uint64_t)k->max, &u) != 0 ||
		    u < (uint64_t)k->min)
			return agentid_seterr(err, EINVAL, "%s: %s: expected a number "
			    "from %lld to %lld, not %s", where, k->name, k->min, k->max, v);
		/* the field's own type: a 4-byte store into an unsigned long
		 * would set its high half on a big-endian host */
		if (k->type == K_ULONG)
			*(unsigned long *)field = (unsigned long)u;
		else
			*(unsigned *)field = (unsigned)u;
		return 0;
	case K_RANGE: {
		/* "LO-HI": uidNumbers agentid create may pick (a new key) */
		uint64_t hi;

		if ((tok = strchr(v, '-')) == NULL)
			goto bad_range;
		*tok++ = '\0';
		if (agentid_parse_decimal(v, (uint64_t)k->max, &u) != 0 ||
		    agentid_parse_decimal(tok, (uint64_t)k->max, &hi) != 0 ||
		    u < (uint64_t)k->min || u > hi) {
			tok[-1] = '-';
			goto bad_range;
		}
		((uint32_t *)field)[0] = (uint32_t)u;
		((uint32_t *)field)[1] = (uint32_t)hi;
		return 0;
bad_range:
		return agentid_seterr(err, EINVAL, "%s: %s: expected LOW-HIGH, "
		    "numbers from %lld to %lld, not %s", where, k->name, k->min,
		    k->max, v);
	}
	case K_SECONDS:
	case K_DURATION:
		if (agentid_parse_duration(v, &d) != 0 || d < k->min || d > k->max)
			return agentid_seterr(err, EINVAL, "%s: %s: expected a duration "
			    "(30s, 15m, 12h, 90d) from %llds to %llds, not %s", where,
			    k->name, k->min, k->max, v);
		if (k->type == K_SECONDS)
			*(int *)field = (int)d;
		else
			*(int64_t *)field = d;
		return 0;
	case K_SCOPES:
		c->require_scope = 0;
		for (tok = strtok_r(v, " \t,", &save); tok != NULL;
		    tok = strtok_r(NULL, " \t,", &save)) {
			if (strcmp(tok, "host") == 0)
				c->require_scope |= AGENTID_KIND_HOST;
			else if (strcmp(tok, "service") == 0)
				c->require_scope |= AGENTID_KIND_SERVICE;
			else if (strcmp(tok, "from") == 0)
				c->require_scope |= AGENTID_KIND_FROM;
			else if (strcmp(tok, "none") != 0)
				return agentid_seterr(err, EINVAL, "%s: require_scope: "
				    "unknown scope kind %s (host, service, from, none)",
				    where, tok);
		}
		return 0;
	}
	return EINVAL;
}

/* Parses configuration text; errors name "name:line: key". */
int
agentid_config_parse(struct agentid_config *c, const char *text, size_t len,
    const char *name, struct agentid_error *err)
{
	bool seen[NKEYS] = { false };
	char *copy, *line, *next, *key, *val, *p;
	char where[PATH_MAX + 32];
	unsigned lineno = 0;
	size_t i;
	int r = 0;

	if ((copy = malloc(len + 1)) == NULL)
		return ENOMEM;
	memcpy(copy, text, len);
	copy[len] = '\0';
	if (memchr(text, '\0', len) != NULL) {
		r = agentid_seterr(err, EINVAL, "%s: contains a NUL byte", name);
		goto out;
	}
	free(c->path);
	if ((c->path = strdup(name)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	for (line = copy; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		while (isspace((unsigned char)*line))
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		p = line + strlen(line);
		while (p > line && isspace((unsigned char)p[-1]))
			*--p = '\0';
		key = line;
		for (val = key; *val != '\0' && !isspace((unsigned char)*val); val++)
			;
		if (*val != '\0')
			*val++ = '\0';
		while (isspace((unsigned char)*val))
			val++;
		for (i = 0; i < NKEYS; i++)
			if (strcmp(keys[i].name, key) == 0)
				break;
		if (i == NKEYS) {
			r = agentid_seterr(err, EINVAL, "%s: unknown key %s", where, key);
			goto out;
		}
		if (*val == '\0') {
			r = agentid_seterr(err, EINVAL, "%s: %s: missing value", where, key);
			goto out;
		}
		if (seen[i] && keys[i].type != K_URI) {
			r = agentid_seterr(err, EINVAL, "%s: %s: given more than once",
			    where, key);
			goto out;
		}
		seen[i] = true;
		if ((r = set_key(c, &keys[i], val, where, err)) != 0)
			goto out;
	}
	if (c->group_base == NULL && c->base != NULL &&
	    (c->group_base = strdup(c->base)) == NULL)
		r = ENOMEM;
out:
	free(copy);
	return r;
}

/* Opens, checks and parses path into a new config. */
int
agentid_config_load(const char *path, struct agentid_config **out,
    struct agentid_error *err)
{
	struct agentid_config *c = NULL;
	struct stat st;
	char *buf = NULL;
	ssize_t got;
	size_t len = 0;
	int fd = -1, r;

	/* O_NONBLOCK: a FIFO put at the path must not hang a login; the
	 * type is checked before anything is read */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
		r = errno;
		agentid_seterr(err, r, "%s: cannot open: %s", path, strerror(r));
		goto out;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = agentid_seterr(err, EINVAL, "%s: not a regular file", path);
		goto out;
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		r = agentid_seterr(err, EACCES, "%s: refusing a configuration "
		    "writable by group or others (mode %04o); chmod go-w %s",
		    path, (unsigned)(st.st_mode & 07777), path);
		goto out;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		r = agentid_seterr(err, EACCES, "%s: refusing a configuration not "
		    "owned by root (uid %u)", path, (unsigned)st.st_uid);
		goto out;
	}
	if (st.st_size > CONFIG_MAX_SIZE) {
		r = agentid_seterr(err, EINVAL, "%s: larger than %d bytes", path,
		    CONFIG_MAX_SIZE);
		goto out;
	}
	if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
		r = ENOMEM;
		goto out;
	}
	while (len < (size_t)st.st_size) {
		got = read(fd, buf + len, (size_t)st.st_size - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0) {
			r = agentid_seterr(err, EIO, "%s: read error", path);
			goto out;
		}
		len += (size_t)got;
	}
	if ((r = agentid_config_new(&c)) != 0 ||
	    (r = agentid_config_parse(c, buf, len, path, err)) != 0)
		goto out;
	*out = c;
	c = NULL;
out:
	if (fd >= 0)
		close(fd);
	free(buf);
	agentid_config_free(c);
	return r;
}

/* Reads a root-only secret file; the caller wipes and frees *out. */
int
agentid_read_secret(const char *path, char **out, struct agentid_error *err)
{
	char buf[SECRET_MAX_SIZE + 1];
	struct stat st;
	ssize_t got;
	size_t len = 0;
	mode_t mode;
	int fd, r = 0;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY)) < 0) {
		r = errno;
		return agentid_seterr(err, r, "bindpw_file %s: cannot open: %s",
		    path, strerror(r));
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		r = agentid_seterr(err, EINVAL, "bindpw_file %s: not a regular file",
		    path);
		goto out;
	}
	mode = st.st_mode & 07777;
	if (mode != 0600 && mode != 0400) {
		r = agentid_seterr(err, EACCES, "bindpw_file %s: refusing mode %04o; "
		    "it must be 0600 or 0400", path, (unsigned)mode);
		goto out;
	}
	if (geteuid() == 0 && st.st_uid != 0) {
		r = agentid_seterr(err, EACCES, "bindpw_file %s: refusing a file not "
		    "owned by root", path);
		goto out;
	}
	while (len < SECRET_MAX_SIZE) {
		got = read(fd, buf + len, SECRET_MAX_SIZE - len);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = agentid_seterr(err, EIO, "bindpw_file %s: read error", path);
			goto out;
		}
		if (got == 0)
			break;
		len += (size_t)got;
	}
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	buf[len] = '\0';
	if (len == 0 || memchr(buf, '\0', len) != NULL) {
		r = agentid_seterr(err, EINVAL, "bindpw_file %s: empty or binary", path);
		goto out;
	}
	if ((*out = strdup(buf)) == NULL)
		r = ENOMEM;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return r;
}
