/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_sync.c - `agentid sync`: every agent and group from the directory
 * into a new replica. Each agent's chain is resolved by the one chain
 * builder (chain.h) over a lookup that answers from the agents already
 * listed where possible: only owners that are not listed agents (the
 * humans, mostly) cost a directory read, once per distinct owner.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agentid.h"
#include "agentid_ldap.h"
#include "agentid_replica_writer.h"
#include "chain.h"
#include "replica_publish.h"
#include "internal.h"
#include "ldap_internal.h"

/* An owner DN that is not a listed agent, as the directory answered. */
struct suffix {
	char *dn;                 /* normalised owner DN */
	bool found;
	struct agentid_record rec;
};

/* DN -> array index (open addressing; slot holds index + 1, 0 = empty). */
struct dn_index {
	size_t *slot;
	size_t cap, n;
};

struct sync_state {
	const struct agentid_config *cfg;
	struct agentid_ldap *l;
	struct agentid_lookup dir;  /* the directory's own lookup */
	struct agentid_record *agents;
	size_t n_agents, cap_agents;
	struct dn_index agents_by_dn;
	struct suffix *suffixes;
	size_t n_suffixes, cap_suffixes;
	struct dn_index suffixes_by_dn;
	struct agentid_replica_writer *w;
	agentid_sync_warn_fn warn;
	void *warn_arg;
	struct agentid_sync_result *res;
	struct agentid_error werr; /* a failed group write */
};

/* Passes a formatted warning to the caller. */
static void
warnf(struct sync_state *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
warnf(struct sync_state *s, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (s->warn == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	s->warn(s->warn_arg, msg);
}

/* FNV-1a of a DN's canonical form: equal DNs (agentid_dn_equal) hash
 * alike. */
static size_t
dn_hash(const char *dn)
{
	char buf[512], *canon = buf;
	size_t len = strlen(dn);
	uint64_t h;

	if (len >= sizeof(buf) && (canon = malloc(len + 1)) == NULL)
		return 0; /* one bucket for all: slower, still correct */
	agentid_dn_canon(dn, canon);
	h = agentid_fnv1a(canon, strlen(canon));
	if (canon != buf)
		free(canon);
	return (size_t)h;
}

/* Collects one agent (deep copy). */
static int
collect_agent(const struct agentid_record *agent, void *arg)
{
	struct sync_state *s = arg;

	if (s->n_agents == s->cap_agents) {
		size_t ncap = s->cap_agents == 0 ? 1024 : s->cap_agents * 2;
		struct agentid_record *na = realloc(s->agents, ncap * sizeof(*na));

		if (na == NULL)
			return ENOMEM;
		s->agents = na;
		s->cap_agents = ncap;
	}
	memset(&s->agents[s->n_agents], 0, sizeof(s->agents[0]));
	if (agentid_record_copy(&s->agents[s->n_agents], agent) != 0)
		return ENOMEM;
	s->n_agents++;
	return 0;
}

/* The DN of entry i of the array an index is over. */
typedef const char *(*dn_at_fn)(const struct sync_state *s, size_t i);

static const char *
agent_dn(const struct sync_state *s, size_t i)
{
	return s->agents[i].dn;
}

static const char *
suffix_dn(const struct sync_state *s, size_t i)
{
	return s->suffixes[i].dn;
}

/* The array index of dn + 1, or 0 when absent. */
static size_t
dn_index_find(const struct sync_state *s, const struct dn_index *x,
    dn_at_fn dn_at, const char *dn)
{
	size_t j;

	if (x->cap == 0)
		return 0;
	for (j = dn_hash(dn) & (x->cap - 1); x->slot[j] != 0;
	    j = (j + 1) & (x->cap - 1))
		if (agentid_dn_equal(dn_at(s, x->slot[j] - 1), dn))
			return x->slot[j];
	return 0;
}

/* Adds array index i (whose DN is not in x yet); grows at half load. */
static int
dn_index_add(const struct sync_state *s, struct dn_index *x, dn_at_fn dn_at,
    size_t i)
{
	size_t j, k;

	if ((x->n + 1) * 2 > x->cap) {
		struct dn_index nx = { NULL, x->cap == 0 ? 1024 : x->cap * 2, 0 };

		if ((nx.slot = calloc(nx.cap, sizeof(*nx.slot))) == NULL)
			return ENOMEM;
		for (k = 0; k < x->cap; k++)
			if (x->slot[k] != 0)
				dn_index_add(s, &nx, dn_at, x->slot[k] - 1);
		free(x->slot);
		*x = nx;
	}
	for (j = dn_hash(dn_at(s, i)) & (x->cap - 1); x->slot[j] != 0;
	    j = (j + 1) & (x->cap - 1))
		;
	x->slot[j] = i + 1;
	x->n++;
	return 0;
}

/* Indexes the collected agents by DN (a repeated DN keeps the first). */
static int
build_index(struct sync_state *s)
{
	size_t i;

	for (i = 0; i < s->n_agents; i++)
		if (s->agents[i].dn != NULL &&
		    dn_index_find(s, &s->agents_by_dn, agent_dn, s->agents[i].dn) == 0 &&
		    dn_index_add(s, &s->agents_by_dn, agent_dn, i) != 0)
			return ENOMEM;
	return 0;
}

/* The listed agent with this DN, or NULL. */
static const struct agentid_record *
find_agent(const struct sync_state *s, const char *dn)
{
	size_t i = dn_index_find(s, &s->agents_by_dn, agent_dn, dn);

	return i == 0 ? NULL : &s->agents[i - 1];
}

/* lookup.entry for the chain builder: a listed agent, else the directory
 * (read once per distinct DN, answer kept). */
static int
sync_entry(void *ctx, const char *dn, struct agentid_record *rec, bool *found,
    struct agentid_error *err)
{
	struct sync_state *s = ctx;
	const struct agentid_record *a;
	struct suffix *x;
	size_t i;
	int rc;

	*found = false;
	if ((a = find_agent(s, dn)) != NULL) {
		*found = true;
		return agentid_record_copy(rec, a);
	}
	if ((i = dn_index_find(s, &s->suffixes_by_dn, suffix_dn, dn)) != 0) {
		x = &s->suffixes[i - 1];
		*found = x->found;
		return x->found ? agentid_record_copy(rec, &x->rec) : 0;
	}
	if (s->n_suffixes == s->cap_suffixes) {
		size_t ncap = s->cap_suffixes == 0 ? 16 : s->cap_suffixes * 2;
		struct suffix *nx = realloc(s->suffixes, ncap * sizeof(*nx));

		if (nx == NULL)
			return agentid_seterr(err, ENOMEM, "out of memory");
		s->suffixes = nx;
		s->cap_suffixes = ncap;
	}
	x = &s->suffixes[s->n_suffixes];
	memset(x, 0, sizeof(*x));
	if ((x->dn = strdup(dn)) == NULL)
		return agentid_seterr(err, ENOMEM, "out of memory");
	/* a sync reads owner after owner: each read gets the whole timeout */
	aidl_deadline_restart(s->l);
	if ((rc = s->dir.entry(s->dir.ctx, dn, &x->rec, &x->found, err)) != 0) {
		agentid_record_clear(&x->rec);
		free(x->dn);
		return rc;
	}
	s->n_suffixes++;
	if (dn_index_add(s, &s->suffixes_by_dn, suffix_dn, s->n_suffixes - 1) != 0)
		return agentid_seterr(err, ENOMEM, "out of memory");
	*found = x->found;
	return x->found ? agentid_record_copy(rec, &x->rec) : 0;
}

/* lookup.agent: sync starts every chain from a listed agent; never used. */
static int
sync_agent(void *ctx, const char *user, struct agentid_record *rec,
    bool *found, struct agentid_error *err)
{
	(void)ctx;
	(void)user;
	(void)rec;
	(void)err;
	*found = false;
	return 0;
}

/* Decides one agent's chain (replica_publish.c: the same entry agentidd
 * writes) and writes it. */
static int
write_agent(struct sync_state *s, const struct agentid_record *a, int64_t now,
    struct agentid_error *err)
{
	struct agentid_lookup lk = { sync_agent, sync_entry, s };
	struct agentid_replica_entry e;
	struct agentid_error werr = { "" };
	enum agentid_reason why;
	int rc;

	rc = agentid_replica_entry_decide(s->cfg, &lk, a, now, &e, &why, &werr);
	if (rc == ENOENT) {
		/* not servable (two uid values, no posixAccount): warned */
		warnf(s, "%s", werr.msg);
		s->res->skipped++;
		return 0;
	}
	if (rc != 0)
		return agentid_seterr(err, rc, "%s", werr.msg);
	if ((rc = agentid_replica_write_user(s->w, &e, &werr)) != 0) {
		if (rc == ENOMEM || rc == EFBIG || rc == EIO || rc == ENOSPC)
			return agentid_seterr(err, rc, "%s", werr.msg);
		warnf(s, "%s; not written", werr.msg);
		s->res->skipped++;
		if (rc == EADDRINUSE)
			s->res->local++;
		return 0;
	}
	s->res->agents++;
	if (why == AGENTID_EXPIRED)
		s->res->expired++;
	else if (why == AGENTID_SUSPENDED || why == AGENTID_REVOKED)
		s->res->suspended++;
	else if (e.state == AGENTID_REPLICA_ORPHANED)
		s->res->orphaned++;
	return 0;
}

/* Writes one group; bad or low ones are warned about and skipped. */
static int
write_group(const struct agentid_group *g, void *arg)
{
	struct sync_state *s = arg;
	int rc;

	rc = agentid_replica_write_group(s->w, g->name, g->gid, g->members,
	    g->n_members, &s->werr);
	if (rc == ENOMEM || rc == EFBIG || rc == EIO || rc == ENOSPC)
		return rc;
	if (rc != 0) {
		warnf(s, "%s; not written", s->werr.msg);
		s->werr.msg[0] = '\0';
		s->res->skipped++;
		if (rc == EADDRINUSE)
			s->res->local++;
		return 0;
	}
	s->res->groups++;
	return 0;
}

/* Frees what the walk collected. */
static void
state_free(struct sync_state *s)
{
	size_t i;

	for (i = 0; i < s->n_agents; i++)
		agentid_record_clear(&s->agents[i]);
	free(s->agents);
	free(s->agents_by_dn.slot);
	free(s->suffixes_by_dn.slot);
	for (i = 0; i < s->n_suffixes; i++) {
		free(s->suffixes[i].dn);
		agentid_record_clear(&s->suffixes[i].rec);
	}
	free(s->suffixes);
	agentid_replica_writer_free(s->w);
	if (s->l != NULL)
		agentid_ldap_close(s->l);
}

/* Directory to replica: see agentid_replica_writer.h. */
int
agentid_replica_sync(const struct agentid_config *cfg, const char *path,
    int64_t now, agentid_sync_warn_fn warn, void *warn_arg,
    struct agentid_sync_result *res, struct agentid_error *err)
{
	struct agentid_replica_meta meta;
	struct sync_state s;
	size_t i;
	int rc;

	memset(&s, 0, sizeof(s));
	memset(res, 0, sizeof(*res));
	s.cfg = cfg;
	s.warn = warn;
	s.warn_arg = warn_arg;
	s.res = res;
	if (path == NULL)
		path = cfg->replica != NULL ? cfg->replica : AGENTID_DEFAULT_REPLICA;
	if ((rc = agentid_ldap_open(cfg, &s.l, err)) != 0 ||
	    (rc = agentid_ldap_each_agent(s.l, collect_agent, &s, err)) != 0)
		goto out;
	aidl_lookup(s.l, &s.dir);
	if ((rc = build_index(&s)) != 0) {
		rc = agentid_seterr(err, rc, "out of memory");
		goto out;
	}
	memset(&meta, 0, sizeof(meta));
	meta.generated = now;
	meta.min_uid = cfg->min_uid > UINT32_MAX ? UINT32_MAX :
	    (uint32_t)cfg->min_uid;
	meta.clock_skew = cfg->clock_skew;
	meta.nologin_shell = cfg->nologin_shell;
	/* no agent or group may take a local account's name or id: a
	 * posixGroup "sudo" would otherwise show in `id agent` and pass
	 * sshd's AllowGroups sudo */
	if ((rc = agentid_replica_writer_new(path, &meta, &s.w, err)) != 0 ||
	    (rc = agentid_replica_writer_reserve_local(s.w, AGENTID_FILES_PASSWD,
	    AGENTID_FILES_GROUP, err)) != 0)
		goto out;
	for (i = 0; i < s.n_agents; i++)
		if ((rc = write_agent(&s, &s.agents[i], now, err)) != 0)
			goto out;
	if ((rc = agentid_ldap_each_group(s.l, write_group, &s, err)) != 0) {
		if (s.werr.msg[0] != '\0')
			agentid_seterr(err, rc, "%s", s.werr.msg);
		goto out;
	}
	rc = agentid_replica_commit(s.w, err);
out:
	state_free(&s);
	return rc;
}
