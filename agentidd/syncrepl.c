/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * syncrepl.c - the RFC 4533 consumer: one refreshAndPersist search, its
 * messages applied to the store.
 *
 * The search is sent with libldap's ldap_sync_t parameters and the Sync
 * Request control, but messages are read one at a time (LDAP_MSG_ONE) and
 * the Sync State / Sync Info values decoded here: libldap 2.5's
 * ldap_sync_init and ldap_sync_poll read with LDAP_MSG_RECEIVED and pass
 * the head of the chain to the handler for every message in it, so a burst
 * of changes arriving together loses entries (design-notes.md).
 *
 * The search starts at the naming context that holds `base`, not at base:
 * the directory reads an owner by its DN wherever it is (ldap_lookup.c),
 * and human owners usually live beside the agents (ou=people next to
 * ou=agents), groups under group_base. Only entries under base are agents
 * (AGENTID_STORED_AGENT_FILTER), as the directory's agent search is scoped
 * to base.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include <lber.h>
#include <ldap.h>

#include "agentid.h"
#include "agentidd.h"
#include "internal.h"
#include "ldap_internal.h"
#include "records.h"

#define DEFAULT_AGENT_FILTER "(objectClass=agentIdentity)"
#define DEFAULT_OWNER_FILTER "(objectClass=person)"

bool agentidd_mass_delete_pending;

static char *sync_attrs[] = {
	"objectClass", "uid", "agentOwner", "agentScope", "agentKeyFingerprint",
	"agentNotBefore", "agentNotAfter", "agentStatus", "uidNumber",
	"gidNumber", "homeDirectory", "loginShell", "gecos", "description",
	"cn", "memberUid", "entryUUID", NULL
};

static const char *
agent_filter(const struct agentid_config *cfg)
{
	return cfg->agent_filter != NULL ? cfg->agent_filter :
	    DEFAULT_AGENT_FILTER;
}

static const char *
owner_filter(const struct agentid_config *cfg)
{
	return cfg->owner_filter != NULL ? cfg->owner_filter :
	    DEFAULT_OWNER_FILTER;
}

/* Every value of attr (none with a NUL byte) into *vec. */
static int
values(const struct aidl_entry *e, const char *attr, char ***vec, size_t *n)
{
	const struct berval *v = aidl_entry_values(e, attr);
	size_t i;
	char *s;
	int r = 0;

	for (i = 0; v != NULL && v[i].bv_val != NULL && r == 0; i++) {
		if (i >= AGENTID_RECORDS_MAX_VALUES ||
		    memchr(v[i].bv_val, '\0', v[i].bv_len) != NULL)
			return EBADMSG;
		if ((s = strndup(v[i].bv_val, v[i].bv_len)) == NULL)
			return ENOMEM;
		r = agentid_strv_add(vec, n, s);
		free(s);
	}
	return r;
}

/* A gidNumber: decimal, fits in uint32_t. */
static bool
parse_u32(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (s == NULL || *s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > UINT32_MAX)
		return false;
	*out = v;
	return true;
}

/* Stores a marker for an entry aidl_entry_to_record refused (see below). */
static int
put_malformed(struct syncrepl *sr, const struct aidl_entry *e,
    const unsigned char uuid[16])
{
	struct agentid_stored m;
	int r;

	memset(&m, 0, sizeof(m));
	memcpy(m.uuid, uuid, 16);
	m.flags = AGENTID_STORED_MALFORMED;
	if (aidl_entry_has_class(e, "agentIdentity"))
		m.flags |= AGENTID_STORED_AGENT_CLASS;
	if ((m.rec.dn = aidl_dn_normalize(e->dn)) == NULL)
		return ENOMEM;
	/* the uid values, when they read (a NUL in a uid: by DN only) */
	if (values(e, "uid", &m.uids, &m.n_uids) != 0) {
		agentid_strv_free(m.uids);
		m.uids = NULL;
		m.n_uids = 0;
	}
	r = store_put(sr->st, &m);
	agentid_stored_clear(&m);
	return r;
}

/* An entry sent with state add or modify: into the store. The entry is
 * read once (aidl_entry_parse): at 1M entries, reading it attribute by
 * attribute with ldap_get_values_len was a third of the initial load. */
static int
apply_entry(struct syncrepl *sr, LDAPMessage *msg, const unsigned char uuid[16])
{
	struct aidl_entry e;
	struct agentid_stored s;
	char **gid = NULL;
	size_t ngid = 0;
	uint64_t g;
	int r;

	memset(&s, 0, sizeof(s));
	memcpy(s.uuid, uuid, 16);
	if ((r = aidl_entry_parse(sr->ld, msg, &e)) != 0) {
		if (r == EBADMSG && e.dn == NULL) {
			/* no DN: nothing can find it */
			store_delete(sr->st, uuid);
			r = 0;
		}
		goto out;
	}
	if ((r = aidl_entry_to_record(&e, &s.rec)) != 0 ||
	    (r = values(&e, "uid", &s.uids, &s.n_uids)) != 0)
		goto out;
	if (aidl_entry_has_class(&e, "agentIdentity"))
		s.flags |= AGENTID_STORED_AGENT_CLASS;
	if (aidl_entry_has_class(&e, "posixGroup")) {
		char **cn = NULL;
		size_t ncn = 0;

		if ((r = values(&e, "cn", &cn, &ncn)) != 0 ||
		    (r = values(&e, "gidNumber", &gid, &ngid)) != 0 ||
		    (r = values(&e, "memberUid", &s.members,
		    &s.n_members)) != 0) {
			agentid_strv_free(cn);
			goto out;
		}
		if (ncn > 0 && ngid > 0 && parse_u32(gid[0], &g)) {
			s.group_name = cn[0];
			cn[0] = NULL;
			s.rec.gid_number = (uint32_t)g;
			s.flags |= AGENTID_STORED_GROUP;
		}
		agentid_strv_free(cn);
	}
	r = store_put(sr->st, &s);
out:
	if (r == EBADMSG) {
		/* an entry we cannot represent is kept as a marker under its
		 * DN (and uids, when readable): a lookup that meets it fails,
		 * as a live read of it does; dropping it would turn a
		 * malformed agent into "no such agent", a pass-through */
		agentidd_log(LOG_WARNING, "entry refused as malformed; lookups "
		    "that meet it fail");
		r = put_malformed(sr, &e, uuid);
	}
	aidl_entry_free(&e);
	agentid_strv_free(gid);
	agentid_stored_clear(&s);
	return r;
}

/* Deletes what a refresh did not present, unless that is more than half
 * of the agents and not yet confirmed by a second refresh. */
static int
delete_nonpresent(struct syncrepl *sr)
{
	struct store *st = sr->st;
	size_t i, gone = 0, gone_agents = 0;

	sr->nonpresent_done = true;
	for (i = 0; i < st->cap; i++) {
		struct node *nd = st->slot[i];

		if (nd != NULL && !nd->deleted && !nd->present) {
			gone++;
			if (nd->s.flags & AGENTID_STORED_AGENT_FILTER)
				gone_agents++;
		}
	}
	if (gone == 0) {
		agentidd_mass_delete_pending = false;
		return 0;
	}
	if (st->n_agents > 0 && gone_agents * 2 > st->n_agents &&
	    !agentidd_mass_delete_pending) {
		agentidd_log(LOG_CRIT, "refresh would delete %zu of %zu agents: "
		    "held back until a second full refresh confirms it",
		    gone_agents, st->n_agents);
		agentidd_mass_delete_pending = true;
		sr->held_back = true;
		return 0;
	}
	if (agentidd_mass_delete_pending)
		agentidd_log(LOG_CRIT, "second refresh confirms: deleting %zu "
		    "entries (%zu agents)", gone, gone_agents);
	agentidd_mass_delete_pending = false;
	for (i = 0; i < st->cap; i++) {
		struct node *nd = st->slot[i];

		if (nd != NULL && !nd->deleted && !nd->present)
			store_delete(st, nd->s.uuid);
	}
	return 0;
}

/* Keeps the cookie a message carried. */
static void
take_cookie(struct syncrepl *sr, const struct berval *c)
{
	if (c->bv_val != NULL)
		ber_bvreplace(&sr->cookie, c);
}

/* A search entry with its Sync State control. */
static int
on_entry(struct syncrepl *sr, LDAPMessage *msg)
{
	LDAPControl **ctrls = NULL, *c;
	BerElement *ber = NULL;
	struct berval uuid = { 0, NULL }, cookie = { 0, NULL };
	ber_len_t len;
	ber_int_t state;
	unsigned char u[16];
	struct node *nd;
	int r = EBADMSG;

	if (ldap_get_entry_controls(sr->ld, msg, &ctrls) != LDAP_SUCCESS ||
	    ctrls == NULL ||
	    (c = ldap_control_find(LDAP_CONTROL_SYNC_STATE, ctrls, NULL)) == NULL ||
	    (ber = ber_init(&c->ldctl_value)) == NULL ||
	    ber_scanf(ber, "{em", &state, &uuid) == LBER_ERROR ||
	    uuid.bv_len != 16)
		goto out;
	if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
	    ber_scanf(ber, "m", &cookie) == LBER_ERROR)
		goto out;
	memcpy(u, uuid.bv_val, 16);
	sr->received++;
	switch (state) {
	case LDAP_SYNC_PRESENT:
		if ((nd = store_find(sr->st, u)) != NULL)
			nd->present = true;
		r = 0;
		break;
	case LDAP_SYNC_ADD:
	case LDAP_SYNC_MODIFY:
		r = apply_entry(sr, msg, u);
		break;
	case LDAP_SYNC_DELETE:
		store_delete(sr->st, u);
		r = 0;
		break;
	default:
		goto out;
	}
	take_cookie(sr, &cookie);
out:
	if (ber != NULL)
		ber_free(ber, 1);
	ldap_controls_free(ctrls);
	return r;
}

/* A Sync Info intermediate message. */
static int
on_info(struct syncrepl *sr, LDAPMessage *msg)
{
	char *oid = NULL;
	struct berval *data = NULL, cookie = { 0, NULL };
	BerVarray uuids = NULL;
	BerElement *ber = NULL;
	ber_tag_t tag;
	ber_len_t len;
	ber_int_t done = 1, deletes = 0;
	unsigned char u[16];
	struct node *nd;
	size_t i;
	int r = EBADMSG;

	if (ldap_parse_intermediate(sr->ld, msg, &oid, &data, NULL, 0) !=
	    LDAP_SUCCESS || oid == NULL || strcmp(oid, LDAP_SYNC_INFO) != 0 ||
	    data == NULL || (ber = ber_init(data)) == NULL)
		goto out;
	tag = ber_peek_tag(ber, &len);
	switch (tag) {
	case LDAP_TAG_SYNC_NEW_COOKIE:
		if (ber_scanf(ber, "m", &cookie) == LBER_ERROR)
			goto out;
		break;
	case LDAP_TAG_SYNC_REFRESH_DELETE:
	case LDAP_TAG_SYNC_REFRESH_PRESENT:
		if (ber_scanf(ber, "{") == LBER_ERROR)
			goto out;
		if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
		    ber_scanf(ber, "m", &cookie) == LBER_ERROR)
			goto out;
		if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDONE &&
		    ber_scanf(ber, "b", &done) == LBER_ERROR)
			goto out;
		/* the end of a present phase, or of a refresh that started
		 * from nothing: what was not presented is gone */
		if (!sr->nonpresent_done &&
		    (tag == LDAP_TAG_SYNC_REFRESH_PRESENT || (done && sr->full)))
			delete_nonpresent(sr);
		if (done)
			sr->refresh_done = true;
		break;
	case LDAP_TAG_SYNC_ID_SET:
		if (ber_scanf(ber, "{") == LBER_ERROR)
			goto out;
		if (ber_peek_tag(ber, &len) == LDAP_TAG_SYNC_COOKIE &&
		    ber_scanf(ber, "m", &cookie) == LBER_ERROR)
			goto out;
		if (ber_peek_tag(ber, &len) == LDAP_TAG_REFRESHDELETES &&
		    ber_scanf(ber, "b", &deletes) == LBER_ERROR)
			goto out;
		if (ber_scanf(ber, "[W]}", &uuids) == LBER_ERROR || uuids == NULL)
			goto out;
		for (i = 0; uuids[i].bv_val != NULL; i++) {
			if (uuids[i].bv_len != 16)
				continue;
			memcpy(u, uuids[i].bv_val, 16);
			if (deletes)
				store_delete(sr->st, u);
			else if ((nd = store_find(sr->st, u)) != NULL)
				nd->present = true;
		}
		break;
	default:
		goto out;
	}
	take_cookie(sr, &cookie);
	r = 0;
out:
	if (uuids != NULL)
		ber_bvarray_free(uuids);
	if (ber != NULL)
		ber_free(ber, 1);
	if (oid != NULL)
		ldap_memfree(oid);
	if (data != NULL)
		ber_bvfree(data);
	return r;
}

/* The search ended: e-syncRefreshRequired or an error. */
static int
on_result(struct syncrepl *sr, LDAPMessage *msg, struct agentid_error *err)
{
	int code = LDAP_OTHER;
	char *text = NULL;

	sr->ended = true;
	if (ldap_parse_result(sr->ld, msg, &code, NULL, &text, NULL, NULL, 0) !=
	    LDAP_SUCCESS)
		code = LDAP_OTHER;
	if (code == LDAP_SYNC_REFRESH_REQUIRED) {
		sr->refresh_required = true;
		agentidd_log(LOG_NOTICE, "directory asks for a full refresh");
	} else {
		agentid_seterr(err, EHOSTDOWN, "sync search ended: %s",
		    ldap_err2string(code));
	}
	if (text != NULL)
		ldap_memfree(text);
	return sr->refresh_required ? 0 : EHOSTDOWN;
}

/* A read-ahead buffer under the connection's TLS layer (or under libldap
 * when there is none): slapd sends each entry of a refresh in a TLS record
 * of its own, and without it every entry cost a poll and two read system
 * calls, millions of them for a full refresh of 1M agents. The buffer
 * answers libldap's "data ready?" too, so buffered entries skip the poll.
 * Without it (no memory) the connection works as before. */
#define READ_AHEAD (64 * 1024)

static void
read_ahead(LDAP *ld)
{
	Sockbuf *sb = NULL;
	int size = READ_AHEAD;

	if (ldap_get_option(ld, LDAP_OPT_SOCKBUF, &sb) != LDAP_OPT_SUCCESS ||
	    sb == NULL)
		return;
	if (ber_sockbuf_ctrl(sb, LBER_SB_OPT_HAS_IO,
	    &ber_sockbuf_io_readahead) == 1)
		return; /* the same connection, a second search */
	(void)ber_sockbuf_add_io(sb, &ber_sockbuf_io_readahead,
	    LBER_SBIOD_LEVEL_PROVIDER, &size);
}

/* The naming context holding base, from the root DSE (a base-scope read,
 * once per connection): the closest of the namingContexts values base is
 * equal to or under, into *out (malloc'd), or NULL when the root DSE does
 * not say (hidden, no such value): the caller syncs base alone. EHOSTDOWN
 * when the read itself failed: the connection is retried rather than the
 * search narrowed, which would delete every owner outside base. */
static int
naming_context(LDAP *ld, const struct agentid_config *cfg, char **out)
{
	struct timeval tv = { cfg->timeout > 0 ? cfg->timeout : 3, 0 };
	char *attrs[] = { "namingContexts", NULL }, *best = NULL, *nc;
	struct berval **v = NULL;
	LDAPMessage *res = NULL, *e;
	size_t i;
	int rc, r = 0;

	*out = NULL;
	rc = ldap_search_ext_s(ld, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
	    0, NULL, NULL, &tv, 1, &res);
	if (rc != LDAP_SUCCESS && rc != LDAP_INSUFFICIENT_ACCESS &&
	    rc != LDAP_NO_SUCH_OBJECT && rc != LDAP_UNWILLING_TO_PERFORM) {
		r = EHOSTDOWN;
		goto out;
	}
	if (rc != LDAP_SUCCESS || (e = ldap_first_entry(ld, res)) == NULL ||
	    (v = ldap_get_values_len(ld, e, "namingContexts")) == NULL)
		goto out;
	for (i = 0; v[i] != NULL; i++) {
		/* "" (some servers list the root) is no search base */
		if (v[i]->bv_len == 0 || v[i]->bv_len > 4096 ||
		    memchr(v[i]->bv_val, '\0', v[i]->bv_len) != NULL)
			continue;
		if ((nc = strndup(v[i]->bv_val, v[i]->bv_len)) == NULL) {
			r = ENOMEM;
			goto out;
		}
		if (agentid_dn_under(cfg->base, nc) &&
		    (best == NULL || strlen(nc) > strlen(best))) {
			free(best);
			best = nc;
		} else {
			free(nc);
		}
	}
	*out = best;
	best = NULL;
out:
	free(best);
	if (v != NULL)
		ldap_value_free_len(v);
	if (res != NULL)
		ldap_msgfree(res);
	return r;
}

/* What the replica's entries and flags depend on: the search (its base
 * and filter) and what the flags are judged by (base, owner_active_filter).
 * malloc'd. */
static char *
search_key(const struct syncrepl *sr)
{
	const struct agentid_config *cfg = sr->cfg;
	const char *act = cfg->owner_active_filter != NULL ?
	    cfg->owner_active_filter : "";
	size_t len = strlen(sr->search_base) + strlen(sr->filter) +
	    strlen(cfg->base) + strlen(act) + 64;
	char *k = malloc(len);

	if (k != NULL)
		snprintf(k, len, "agentidd sync search 1\nsearch_base %s\n"
		    "filter %s\nbase %s\nowner_active_filter %s\n",
		    sr->search_base, sr->filter, cfg->base, act);
	return k;
}

/* Does AGENTS.search hold key? */
static bool
search_key_same(const char *replica, const char *key)
{
	char *path = agentid_records_path(replica, ".search"), *buf = NULL;
	size_t len = strlen(key);
	ssize_t n = -1;
	int fd = -1;
	bool same;

	if (path != NULL && (buf = malloc(len + 2)) != NULL &&
	    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) >= 0)
		n = read(fd, buf, len + 1);
	same = n == (ssize_t)len && memcmp(buf, key, len) == 0;
	if (fd >= 0)
		close(fd);
	free(buf);
	free(path);
	return same;
}

/* Writes AGENTS.search (temporary file, fsync, rename); 0 or errno. */
static int
search_key_save(const char *replica, const char *key)
{
	char *path = agentid_records_path(replica, ".search");
	int r;

	if (path == NULL)
		return ENOMEM;
	r = agentidd_write_file(path, key, strlen(key));
	free(path);
	return r;
}

/* The cookie refused because the search changed: the caller may offer it
 * again (after a reconnect, before a flush saved a new one). */
static struct berval refused_cookie;

/* Whether a saved cookie may resume this search: it was taken for the same
 * search (AGENTS.search). A cookie says where the provider's change log
 * stood, not what was searched: resuming a wider search (an upgrade from
 * the search at base, a new base, a new filter) with it would leave out
 * every entry that did not change since. When it may not, the cookie file
 * goes first and the new key is written second, so that a crash in
 * between leaves no cookie: a full refresh. */
static int
check_search(struct syncrepl *sr)
{
	const char *replica = sr->st->replica;
	char *key;
	int r = 0;

	if (replica == NULL)
		return 0;
	if ((key = search_key(sr)) == NULL)
		return ENOMEM;
	if (!sr->full && refused_cookie.bv_val != NULL &&
	    refused_cookie.bv_len == sr->cookie.bv_len &&
	    memcmp(refused_cookie.bv_val, sr->cookie.bv_val,
	    sr->cookie.bv_len) == 0) {
		sr->full = true;
	} else if (!sr->full && !search_key_same(replica, key)) {
		agentidd_log(LOG_NOTICE, "the sync search changed since the "
		    "saved cookie (naming context, filters, base or "
		    "owner_active_filter): full refresh");
		ber_bvreplace(&refused_cookie, &sr->cookie);
		sr->full = true;
	} else if (!sr->full) {
		goto out;
	}
	ber_memfree(sr->cookie.bv_val);
	sr->cookie.bv_val = NULL;
	sr->cookie.bv_len = 0;
	if (!search_key_same(replica, key) &&
	    (r = cookie_save(replica, NULL)) == 0)
		r = search_key_save(replica, key);
out:
	free(key);
	return r;
}

int
syncrepl_start(struct syncrepl *sr, struct store *st,
    const struct agentid_config *cfg, LDAP *ld, const struct berval *cookie,
    struct agentid_error *err)
{
	LDAPControl ctrl, *ctrls[2] = { &ctrl, NULL };
	BerElement *ber = NULL;
	size_t i, len;
	int rc, r = ENOMEM;

	memset(sr, 0, sizeof(*sr));
	memset(&ctrl, 0, sizeof(ctrl));
	sr->cfg = cfg;
	sr->st = st;
	sr->ld = ld;
	sr->full = cookie == NULL || cookie->bv_val == NULL;
	/* agents, groups and owners: whatever a chain or NSS may read */
	len = strlen(agent_filter(cfg)) + strlen(owner_filter(cfg)) + 64;
	if ((sr->filter = malloc(len)) == NULL)
		goto out;
	snprintf(sr->filter, len, "(|%s%s%s(objectClass=posixGroup))",
	    DEFAULT_AGENT_FILTER, agent_filter(cfg), owner_filter(cfg));
	if (!sr->full && ber_dupbv(&sr->cookie, (struct berval *)cookie) == NULL)
		goto out;
	/* from the naming context: owners and groups beside base */
	if ((r = naming_context(ld, cfg, &sr->search_base)) != 0) {
		r = agentid_seterr(err, r, "reading the root DSE: %s",
		    r == ENOMEM ? "out of memory" : "no answer");
		goto out;
	}
	r = ENOMEM;
	if (sr->search_base == NULL) {
		agentidd_log(LOG_WARNING, "the root DSE names no naming context "
		    "holding %s: syncing it alone (owners and groups outside "
		    "it read as missing)", cfg->base);
		if ((sr->search_base = strdup(cfg->base)) == NULL)
			goto out;
	} else if (!agentid_dn_equal(sr->search_base, cfg->base))
		agentidd_log(LOG_INFO, "syncing %s, the naming context holding "
		    "%s (owners and groups beside it)", sr->search_base,
		    cfg->base);
	if (cfg->group_base != NULL &&
	    !agentid_dn_under(cfg->group_base, sr->search_base))
		agentidd_log(LOG_WARNING, "group_base %s is outside the synced "
		    "subtree %s: its groups are not replicated", cfg->group_base,
		    sr->search_base);
	if ((r = check_search(sr)) != 0) {
		r = agentid_seterr(err, r, "saving the sync search beside %s: "
		    "%s", st->replica, strerror(r));
		goto out;
	}
	r = ENOMEM;
	for (i = 0; i < st->cap; i++)
		if (st->slot[i] != NULL)
			st->slot[i]->present = false;
	if ((ber = ber_alloc_t(LBER_USE_DER)) == NULL)
		goto out;
	if (sr->full)
		rc = ber_printf(ber, "{eb}", LDAP_SYNC_REFRESH_AND_PERSIST, 0);
	else
		rc = ber_printf(ber, "{eOb}", LDAP_SYNC_REFRESH_AND_PERSIST,
		    &sr->cookie, 0);
	if (rc < 0 || ber_flatten2(ber, &ctrl.ldctl_value, 0) < 0)
		goto out;
	ctrl.ldctl_oid = LDAP_CONTROL_SYNC;
	ctrl.ldctl_iscritical = 1;
	read_ahead(ld);
	rc = ldap_search_ext(ld, sr->search_base, LDAP_SCOPE_SUBTREE, sr->filter,
	    sync_attrs, 0, ctrls, NULL, NULL, 0, &sr->msgid);
	if (rc != LDAP_SUCCESS) {
		r = agentid_seterr(err, EHOSTDOWN, "sync search: %s",
		    ldap_err2string(rc));
		goto out;
	}
	r = 0;
out:
	if (ber != NULL)
		ber_free(ber, 1);
	if (r != 0)
		syncrepl_free(sr); /* the caller frees only a started search */
	return r;
}

int
syncrepl_read(struct syncrepl *sr, int timeout_ms, struct agentid_error *err)
{
	struct timeval tv;
	LDAPMessage *msg = NULL;
	int rc, r = 0, n;

	for (n = 0; !sr->ended; n++) {
		/* wait for the first message, then take what is there */
		tv.tv_sec = n == 0 ? timeout_ms / 1000 : 0;
		tv.tv_usec = n == 0 ? (timeout_ms % 1000) * 1000 : 0;
		rc = ldap_result(sr->ld, sr->msgid, LDAP_MSG_ONE, &tv, &msg);
		if (rc == 0)
			break;
		if (rc < 0) {
			int code = LDAP_SERVER_DOWN;

			(void)ldap_get_option(sr->ld, LDAP_OPT_RESULT_CODE, &code);
			return agentid_seterr(err, EHOSTDOWN, "connection lost: %s",
			    ldap_err2string(code));
		}
		switch (ldap_msgtype(msg)) {
		case LDAP_RES_SEARCH_ENTRY:
			r = on_entry(sr, msg);
			break;
		case LDAP_RES_INTERMEDIATE:
			r = on_info(sr, msg);
			break;
		case LDAP_RES_SEARCH_RESULT:
			r = on_result(sr, msg, err);
			break;
		default:
			r = 0; /* references: not followed */
			break;
		}
		ldap_msgfree(msg);
		msg = NULL;
		if (r == EBADMSG)
			return agentid_seterr(err, EBADMSG, "malformed sync "
			    "message: starting over");
		if (r != 0)
			return r;
		if (n > 100000)
			break; /* let the caller flush a very long burst */
	}
	return 0;
}

/* Base-scope read of dn with filter: *match. */
static int
matches(struct syncrepl *sr, const char *dn, const char *filter, bool *match,
    struct agentid_error *err)
{
	struct timeval tv = { sr->cfg->timeout > 0 ? sr->cfg->timeout : 3, 0 };
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL;
	int rc;

	*match = false;
	rc = ldap_search_ext_s(sr->ld, dn, LDAP_SCOPE_BASE, filter, attrs, 0,
	    NULL, NULL, &tv, 2, &res);
	if (rc == LDAP_SUCCESS)
		*match = ldap_first_entry(sr->ld, res) != NULL;
	if (res != NULL)
		ldap_msgfree(res);
	if (rc == LDAP_SUCCESS || rc == LDAP_NO_SUCH_OBJECT)
		return 0;
	return agentid_seterr(err, EHOSTDOWN, "evaluating a filter on %s: %s",
	    dn, ldap_err2string(rc));
}

/* Evaluates agent_filter, owner_filter and owner_active_filter for each
 * changed entry, as the live lookups would (ldap_lookup.c): the server
 * judges its own filters. Entries keep the answer until they change. */
int
syncrepl_eval(struct syncrepl *sr, struct agentid_error *err)
{
	struct store *st = sr->st;
	const struct agentid_config *cfg = sr->cfg;
	bool default_agent = strcasecmp(agent_filter(cfg),
	    DEFAULT_AGENT_FILTER) == 0;
	size_t i;
	bool m;
	int r;

	for (i = 0; i < st->cap; i++) {
		struct node *nd = st->slot[i];
		struct agentid_stored *s;
		bool was_agent;

		if (nd == NULL || nd->deleted || !nd->needs_eval)
			continue;
		s = &nd->s;
		was_agent = (s->flags & AGENTID_STORED_AGENT_FILTER) != 0;
		s->flags &= ~(AGENTID_STORED_AGENT_FILTER |
		    AGENTID_STORED_OWNER_FILTER | AGENTID_STORED_OWNER_ACTIVE);
		/* the directory looks agents up under base only: an
		 * agentIdentity elsewhere in the naming context is read as an
		 * owner (by its DN), never as the agent of a user */
		m = agentid_dn_under(s->rec.dn, cfg->base);
		if (m && !default_agent && (r = matches(sr, s->rec.dn,
		    agent_filter(cfg), &m, err)) != 0)
			return r;
		if (m && (!default_agent ||
		    (s->flags & AGENTID_STORED_AGENT_CLASS)))
			s->flags |= AGENTID_STORED_AGENT_FILTER;
		if (!(s->flags & AGENTID_STORED_AGENT_CLASS)) {
			if ((r = matches(sr, s->rec.dn, owner_filter(cfg), &m,
			    err)) != 0)
				return r;
			if (m)
				s->flags |= AGENTID_STORED_OWNER_FILTER;
			m = true;
			if (m && cfg->owner_active_filter != NULL &&
			    (r = matches(sr, s->rec.dn, cfg->owner_active_filter,
			    &m, err)) != 0)
				return r;
			if (m)
				s->flags |= AGENTID_STORED_OWNER_ACTIVE;
		}
		if (was_agent != ((s->flags & AGENTID_STORED_AGENT_FILTER) != 0))
			st->n_agents += was_agent ? (size_t)-1 : 1;
		nd->needs_eval = false;
	}
	return 0;
}

void
syncrepl_free(struct syncrepl *sr)
{
	free(sr->filter);
	free(sr->search_base);
	ber_memfree(sr->cookie.bv_val);
	memset(sr, 0, sizeof(*sr));
}
