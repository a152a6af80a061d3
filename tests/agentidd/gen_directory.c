/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * gen_directory.c - a random directory for the equivalence test
 * (test_equivalence.sh): what decisions from agentidd's replica must answer
 * exactly as decisions from the live directory do.
 *
 *   gen_directory SEED N OUTDIR [BASE]
 *
 * writes, from SEED alone (its own PRNG, so a seed names the same
 * directory on every machine; times are relative to now):
 *   OUTDIR/initial.ldif   ~N entries: people (staff, departed, neither),
 *                         organizationalRoles (owner_filter lets them own),
 *                         posixGroups and OUs (nobody), agents in chains up
 *                         to depth 6 with every status (and garbage), windows
 *                         around now in several GeneralizedTime forms,
 *                         scopes (globs, CIDRs, junk), fingerprints, owners
 *                         missing / OUs / groups / cycles / DNs spelled
 *                         differently (case, spaces, OIDs, hex escapes),
 *                         entries with two uid values, uids equal but for
 *                         case
 *   OUTDIR/changes.ldif   ~N/3 modifications, renames and deletions (apply
 *                         with ldapmodify -c: a change to an entry deleted
 *                         before it fails, as it would in real life)
 *   OUTDIR/requests.txt   ~N*5/3 requests, one a line, tab-separated: user,
 *                         service, host, rhost, CA fingerprint ("-" for
 *                         none): agents, renamed and deleted agents, case
 *                         variants, people, names nobody has
 *
 * Agents live under ou=agents (the test's base), a few agentIdentity
 * entries under ou=outside beside it (owners only: no agents for either
 * source), the people, roles and groups beside it too.
 *
 * The test configuration: owner_filter
 * (|(objectClass=person)(objectClass=organizationalRole)),
 * owner_active_filter (|(employeeType=staff)(description=active*)),
 * hostname web1.example.org. No time is within 10 minutes of a decision
 * boundary (clock_skew 60 s, max_lifetime 90d), so the two decisions of a
 * request, made milliseconds apart, see the same window.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_DEPTH 6

static uint64_t rng_state;

/* splitmix64: the same sequence everywhere for a seed. */
static uint64_t
rng(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n). */
static unsigned
pick(unsigned n)
{
	return n == 0 ? 0 : (unsigned)(rng() % n);
}

/* True with probability pct %. */
static int
chance(unsigned pct)
{
	return pick(100) < pct;
}

static const char *base = "dc=example,dc=org";
static time_t now;

struct agent {
	char uid[64];
	char alias[64];     /* a second uid value, "" for none */
	char dn[160];
	int depth;          /* 1 + the owner agent's depth; 1 under a human */
	int alive;
	int posix;
	int outside;        /* under ou=outside, beside base (ou=agents) */
};

struct person {
	char uid[32];
	int alive;
	int staff;
};

static struct agent *agents;
static unsigned n_agents, cap_agents;
static struct person *people;
static unsigned n_people, n_roles, n_groups;

static char **dead_names;  /* uids of deleted or renamed agents */
static unsigned n_dead;

static const char *fingerprints[] = {
	"SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU",
	"SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s",
	"SHA256:7n3Ff3YZFSRWr1ZvTZzuGqBeRRqj/D3ISfvU5dGOtyk",
	"SHA256:Zb8ebdSzRxDyb7DZnQJGkBNxb0V3oJQmI+z2TtvOyDg",
};
#define N_FP (sizeof(fingerprints) / sizeof(fingerprints[0]))

static const char *scopes[] = {
	"host:*", "host:*", "host:web*", "host:web1.example.org", "host:db?",
	"host:*.example.org", "host:db1", "host:mail.other.org",
	"service:sshd", "service:sshd", "service:*", "service:su*",
	"service:login", "service:cron",
	"from:10.0.0.0/8", "from:192.168.1.0/24", "from:*.example.org",
	"from:2001:db8::/32", "from:10.1.2.3", "from:*", "from:172.16.0.0/12",
	"bogus:x", "host", "service:", "from:300.1.2.3/8", "from:10.0.0.0/33",
};
#define N_SCOPES (sizeof(scopes) / sizeof(scopes[0]))

static const char *statuses[] = {
	"active", "suspended", "revoked", "Active", "REVOKED", "paused",
	"Suspended", "x",
};

/* A GeneralizedTime off seconds from now, in one of the forms RFC 4517
 * allows (seconds, minutes only, a fraction, a zone offset). */
static void
gentime(long off, char *out, size_t len)
{
	time_t t = now + off;
	struct tm tm;
	int form = (int)pick(10), oh;

	switch (form) {
	case 0: /* minutes only: the seconds are dropped (earlier) */
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y%m%d%H%MZ", &tm);
		break;
	case 1:
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y%m%d%H%M%S", &tm);
		strncat(out, ".25Z", len - strlen(out) - 1);
		break;
	case 2: /* local time +HHMM */
	case 3: /* local time -HHMM */
		oh = 1 + (int)pick(9);
		t += (form == 2 ? 1 : -1) * oh * 3600 + (form == 2 ? 1 : -1) * 1800;
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y%m%d%H%M%S", &tm);
		snprintf(out + strlen(out), len - strlen(out), "%c%02d30",
		    form == 2 ? '+' : '-', oh);
		break;
	default:
		gmtime_r(&t, &tm);
		strftime(out, len, "%Y%m%d%H%M%SZ", &tm);
		break;
	}
}

/* The DN of person i, sometimes spelled as another client might write it:
 * the same entry for the server (case, spaces, the OID of uid, an escaped
 * character). */
static void
person_dn(unsigned i, char *out, size_t len)
{
	switch (chance(25) ? pick(5) : 9) {
	case 0:
		snprintf(out, len, "UID=%s,OU=People,%s", people[i].uid, base);
		break;
	case 1:
		snprintf(out, len, "uid=%s , ou=people, %s", people[i].uid, base);
		break;
	case 2:
		snprintf(out, len, "0.9.2342.19200300.100.1.1=%s,ou=people,%s",
		    people[i].uid, base);
		break;
	case 3: /* "p12" as "\70\31\32" */
		snprintf(out, len, "uid=\\%02x%s,ou=people,%s",
		    (unsigned char)people[i].uid[0], people[i].uid + 1, base);
		break;
	case 4:
		snprintf(out, len, "uid=%c%s,ou=people,%s",
		    people[i].uid[0] - 'a' + 'A', people[i].uid + 1, base);
		break;
	default:
		snprintf(out, len, "uid=%s,ou=people,%s", people[i].uid, base);
		break;
	}
}

/* A person who owns actively (when it was made). */
static unsigned
staff_person(void)
{
	unsigned j = pick(n_people);

	for (int tries = 0; tries < 20 && !people[j].staff; tries++)
		j = pick(n_people);
	return j;
}

/* An owner for an agent of the given index: mostly a person or an earlier
 * agent; sometimes a later one (a cycle when it points back), a DN with no
 * entry, an OU, a group, a role, the base, the reader. *depth: the chain
 * depth this gives the agent (0 when the owner is not an agent). */
static void
owner_dn(unsigned self, char *out, size_t len, int *depth)
{
	unsigned r = pick(100), j;

	*depth = 1;
	if (r < 25 && self > 0) {
		for (int tries = 0; tries < 8; tries++) {
			j = pick(self);
			if (agents[j].alive && agents[j].depth < MAX_DEPTH) {
				snprintf(out, len, "%s", agents[j].dn);
				*depth = agents[j].depth + 1;
				return;
			}
		}
	}
	if (r >= 25 && r < 29) {
		/* a later agent (or itself): a cycle when it points back */
		j = self + pick(20);
		snprintf(out, len, "uid=a%u,ou=agents,%s", j, base);
		*depth = MAX_DEPTH;
		return;
	}
	if (r >= 29 && r < 32) {
		snprintf(out, len, "uid=ghost%u,ou=people,%s", pick(50), base);
		return;
	}
	if (r >= 32 && r < 34) {
		snprintf(out, len, chance(50) ? "ou=teams,ou=people,%s" :
		    "ou=people,%s", base);
		return;
	}
	if (r >= 34 && r < 38 && n_roles > 0) {
		snprintf(out, len, "cn=role%u,ou=roles,%s", pick(n_roles + 1), base);
		return;
	}
	if (r >= 38 && r < 40 && n_groups > 0) {
		snprintf(out, len, "cn=g%u,ou=groups,%s", pick(n_groups), base);
		return;
	}
	if (r == 40) {
		snprintf(out, len, chance(50) ? "%s" : "cn=reader,ou=services,%s",
		    base);
		return;
	}
	person_dn(pick(n_people), out, len);
}

/* Prints "attr: value" unless this value was printed for the entry
 * already (the directory refuses a value given twice). */
static void
value(FILE *f, const char *attr, const char *v, const char **seen,
    unsigned *n_seen)
{
	for (unsigned i = 0; i < *n_seen; i++)
		if (strcmp(seen[i], v) == 0)
			return;
	seen[(*n_seen)++] = v;
	fprintf(f, "%s: %s\n", attr, v);
}

/* The attributes of an agent that change: status, window, scopes,
 * fingerprints. clean: active, valid now, host:* and service:sshd (the
 * ones that let a chain through). */
static void
agent_attrs(FILE *f, int clean)
{
	const char *seen[16];
	unsigned n_seen = 0;
	char t[40];
	unsigned r, i, n;

	r = clean ? 99 : pick(100);
	if (r < 25)
		fprintf(f, "agentStatus: active\n");
	else if (r < 35)
		fprintf(f, "agentStatus: suspended\n");
	else if (r < 43)
		fprintf(f, "agentStatus: revoked\n");
	else if (r < 50)
		fprintf(f, "agentStatus: %s\n", statuses[pick(8)]);
	r = clean ? 99 : pick(100);
	if (r < 15)
		gentime(-2 * 86400, t, sizeof(t));
	else if (r < 25)
		gentime(-1200, t, sizeof(t));
	else if (r < 33)
		gentime(1200, t, sizeof(t));
	else if (r < 38)
		gentime(5 * 86400, t, sizeof(t));
	if (r < 38)
		fprintf(f, "agentNotBefore: %s\n", t);
	r = clean ? 50 : pick(100);
	if (r < 8)
		gentime(-3 * 86400, t, sizeof(t));
	else if (r < 16)
		gentime(-1200, t, sizeof(t));
	else if (r < 24)
		gentime(1200, t, sizeof(t));
	else if (r < 70)
		gentime(30 * 86400, t, sizeof(t));
	else if (r < 85)
		gentime(85 * 86400, t, sizeof(t));
	else if (r < 95)
		gentime(200 * 86400, t, sizeof(t));
	else
		gentime(3650L * 86400, t, sizeof(t));
	fprintf(f, "agentNotAfter: %s\n", t);
	if (clean || chance(75)) {
		value(f, "agentScope", clean || chance(80) ? "host:*" : "host:web*",
		    seen, &n_seen);
		value(f, "agentScope", clean || chance(80) ? "service:sshd" :
		    "service:*", seen, &n_seen);
	}
	n = clean ? 0 : pick(4);
	for (i = 0; i < n; i++)
		value(f, "agentScope", scopes[pick(N_SCOPES)], seen, &n_seen);
	if (chance(clean ? 30 : 35)) {
		n = 1 + pick(2);
		for (i = 0; i < n; i++)
			value(f, "agentKeyFingerprint",
			    fingerprints[(pick(N_FP) + i) % N_FP], seen, &n_seen);
	}
}

/* Appends a new agent (its entry into f). force_owner: this owner (DN),
 * at this depth, and a plain name; clean: see agent_attrs. */
static void
new_agent_with(FILE *f, const char *force_owner, int force_depth, int clean)
{
	struct agent *a;
	char owner[200];
	unsigned i = n_agents;
	int depth = force_depth;

	if (n_agents == cap_agents) {
		cap_agents = cap_agents ? cap_agents * 2 : 64;
		agents = realloc(agents, cap_agents * sizeof(*agents));
		if (agents == NULL)
			exit(2);
	}
	a = &agents[n_agents++];
	memset(a, 0, sizeof(*a));
	a->alive = 1;
	/* a few names differ from another agent's only in case (the
	 * directory matches uid without case: an ambiguous name) */
	if (force_owner == NULL && i > 10 && chance(2))
		snprintf(a->uid, sizeof(a->uid), "A%u", pick(i));
	else if (force_owner == NULL && chance(5))
		snprintf(a->uid, sizeof(a->uid), "Bot%u", i);
	else
		snprintf(a->uid, sizeof(a->uid), "a%u", i);
	snprintf(a->dn, sizeof(a->dn), "uid=%s,ou=agents,%s", a->uid, base);
	if (a->uid[0] == 'A') /* its own DN must differ from a%u's */
		snprintf(a->dn, sizeof(a->dn), "uid=%s,ou=more,ou=agents,%s",
		    a->uid, base);
	else if (force_owner == NULL && chance(4)) {
		a->outside = 1;
		snprintf(a->dn, sizeof(a->dn), "uid=%s,ou=outside,%s", a->uid,
		    base);
	}
	if (force_owner != NULL)
		snprintf(owner, sizeof(owner), "%s", force_owner);
	else if (clean)
		person_dn(staff_person(), owner, sizeof(owner));
	else
		owner_dn(i, owner, sizeof(owner), &depth);
	a->depth = depth;
	a->posix = chance(70);
	if (!clean && chance(3))
		snprintf(a->alias, sizeof(a->alias), "alias%u", i);
	fprintf(f, "dn: %s\nchangetype: add\nobjectClass: account\n"
	    "objectClass: agentIdentity\n", a->dn);
	if (a->posix)
		fprintf(f, "objectClass: posixAccount\n");
	fprintf(f, "uid: %s\n", a->uid);
	if (a->alias[0])
		fprintf(f, "uid: %s\n", a->alias);
	if (a->posix)
		fprintf(f, "cn: %s\nuidNumber: %u\ngidNumber: %u\n"
		    "homeDirectory: /home/%s\nloginShell: /bin/sh\n", a->uid,
		    chance(5) ? 500 + i : 20000 + i, 20000 + pick(5), a->uid);
	fprintf(f, "agentOwner: %s\n", owner);
	agent_attrs(f, clean);
	fprintf(f, "\n");
}

static void
new_agent(FILE *f)
{
	new_agent_with(f, NULL, 1, chance(30));
}

/* A chain of 2..7 agents under a staff person, mostly clean: the depths
 * around max_delegation_depth (4), ok or chain_too_deep. */
static void
new_chain(FILE *f)
{
	unsigned len = 2 + pick(6), k;
	char owner[200];

	person_dn(staff_person(), owner, sizeof(owner));
	for (k = 0; k < len; k++) {
		new_agent_with(f, owner, (int)k + 1, chance(85));
		snprintf(owner, sizeof(owner), "%s", agents[n_agents - 1].dn);
	}
}

/* A cycle of 1..3 agents (a0 -> a2 -> a1 -> a0) and an agent under it. */
static void
new_cycle(FILE *f)
{
	unsigned len = 1 + pick(3), first = n_agents, k;
	char owner[200];

	for (k = 0; k < len; k++) {
		snprintf(owner, sizeof(owner), "uid=a%u,ou=agents,%s",
		    k == 0 ? first + len - 1 : first + k - 1, base);
		new_agent_with(f, owner, MAX_DEPTH, chance(80));
	}
	/* a copy: new_agent_with may move the array */
	snprintf(owner, sizeof(owner), "%s", agents[first].dn);
	new_agent_with(f, owner, MAX_DEPTH, 1);
}

static void
add_dead(const char *uid)
{
	dead_names = realloc(dead_names, (n_dead + 1) * sizeof(*dead_names));
	if (dead_names == NULL || (dead_names[n_dead] = strdup(uid)) == NULL)
		exit(2);
	n_dead++;
}

/* A live agent, or -1. */
static int
live_agent(void)
{
	for (int tries = 0; tries < 20; tries++) {
		unsigned j = pick(n_agents);

		if (agents[j].alive)
			return (int)j;
	}
	return -1;
}

static void
initial(FILE *f, unsigned n)
{
	unsigned i;

	n_people = n / 8 + 3;
	n_roles = n / 40 + 2;
	n_groups = n / 40 + 2;
	people = calloc(n_people, sizeof(*people));
	if (people == NULL)
		exit(2);
	fprintf(f, "dn: ou=people,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: people\n\n", base);
	fprintf(f, "dn: ou=teams,ou=people,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: teams\n\n", base);
	fprintf(f, "dn: ou=agents,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: agents\n\n", base);
	fprintf(f, "dn: ou=more,ou=agents,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: more\n\n", base);
	fprintf(f, "dn: ou=roles,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: roles\n\n", base);
	fprintf(f, "dn: ou=outside,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: outside\n\n", base);
	fprintf(f, "dn: ou=groups,%s\nchangetype: add\nobjectClass: "
	    "organizationalUnit\nou: groups\n\n", base);
	for (i = 0; i < n_people; i++) {
		unsigned r = pick(100);

		snprintf(people[i].uid, sizeof(people[i].uid), "p%u", i);
		people[i].alive = 1;
		fprintf(f, "dn: uid=%s,ou=people,%s\nchangetype: add\n"
		    "objectClass: inetOrgPerson\nuid: %s\ncn: %s\nsn: P\n",
		    people[i].uid, base, people[i].uid, people[i].uid);
		people[i].staff = r < 60 || (r >= 80 && r < 88);
		if (r < 60)
			fprintf(f, "employeeType: staff\n");
		else if (r < 80)
			fprintf(f, "employeeType: departed\n");
		else if (r < 88)
			fprintf(f, "description: active since 2020\n");
		fprintf(f, "\n");
	}
	for (i = 0; i < n_roles; i++)
		fprintf(f, "dn: cn=role%u,ou=roles,%s\nchangetype: add\n"
		    "objectClass: organizationalRole\ncn: role%u\n"
		    "description: %s\n\n", i, base, i,
		    chance(60) ? "active role" : "retired");
	for (i = 0; i < n_groups; i++)
		fprintf(f, "dn: cn=g%u,ou=groups,%s\nchangetype: add\n"
		    "objectClass: posixGroup\ncn: g%u\ngidNumber: %u\n"
		    "memberUid: a%u\n\n", i, base, i, 20000 + i, pick(n));
	while (n_people + n_roles + n_groups + n_agents < n) {
		unsigned r = pick(100);

		if (r < 8)
			new_chain(f);
		else if (r < 12)
			new_cycle(f);
		else
			new_agent(f);
	}
}

/* One random change. */
static void
change(FILE *f)
{
	unsigned r = pick(100), k;
	int j = live_agent();
	char t[40], owner[200];
	int depth;

	if (j < 0 || r >= 96) {
		new_agent(f);
		return;
	}
	struct agent *a = &agents[j];

	if (r < 14) {
		fprintf(f, "dn: %s\nchangetype: modify\n", a->dn);
		k = pick(10);
		if (k < 2)
			fprintf(f, "delete: agentStatus\n-\n\n");
		else
			fprintf(f, "replace: agentStatus\nagentStatus: %s\n-\n\n",
			    statuses[pick(3) + (k == 9 ? 3 : 0)]);
	} else if (r < 26) {
		long offs[] = { -3 * 86400, -1200, 1200, 30 * 86400, 85 * 86400,
		    200 * 86400 };

		gentime(offs[pick(6)], t, sizeof(t));
		fprintf(f, "dn: %s\nchangetype: modify\nreplace: agentNotAfter\n"
		    "agentNotAfter: %s\n-\n\n", a->dn, t);
	} else if (r < 32) {
		long offs[] = { -2 * 86400, -1200, 1200, 5 * 86400 };

		fprintf(f, "dn: %s\nchangetype: modify\n", a->dn);
		if (chance(30)) {
			fprintf(f, "replace: agentNotBefore\n-\n\n");
		} else {
			gentime(offs[pick(4)], t, sizeof(t));
			fprintf(f, "replace: agentNotBefore\nagentNotBefore: %s\n"
			    "-\n\n", t);
		}
	} else if (r < 42) {
		owner_dn((unsigned)j, owner, sizeof(owner), &depth);
		if (depth > a->depth)
			a->depth = depth;
		fprintf(f, "dn: %s\nchangetype: modify\nreplace: agentOwner\n"
		    "agentOwner: %s\n-\n\n", a->dn, owner);
	} else if (r < 52) {
		fprintf(f, "dn: %s\nchangetype: modify\n", a->dn);
		if (chance(30))
			fprintf(f, "replace: agentScope\n-\n\n");
		else if (chance(50))
			fprintf(f, "add: agentScope\nagentScope: %s\n-\n\n",
			    scopes[pick(N_SCOPES)]);
		else
			fprintf(f, "replace: agentScope\nagentScope: host:*\n"
			    "agentScope: %s\n-\n\n", scopes[pick(N_SCOPES)]);
	} else if (r < 57) {
		fprintf(f, "dn: %s\nchangetype: modify\nreplace: "
		    "agentKeyFingerprint\n", a->dn);
		if (chance(70))
			fprintf(f, "agentKeyFingerprint: %s\n", fingerprints[pick(N_FP)]);
		fprintf(f, "-\n\n");
	} else if (r < 60) {
		if (a->alias[0] == '\0')
			snprintf(a->alias, sizeof(a->alias), "alias%d", j);
		fprintf(f, "dn: %s\nchangetype: modify\nadd: uid\nuid: %s\n-\n\n",
		    a->dn, a->alias);
	} else if (r < 72) {
		fprintf(f, "dn: %s\nchangetype: delete\n\n", a->dn);
		a->alive = 0;
		add_dead(a->uid);
	} else if (r < 76 && a->uid[0] != 'A' && !a->outside) {
		/* a rename: the old name is gone, the new one is the agent */
		add_dead(a->uid);
		snprintf(a->uid, sizeof(a->uid), "r%d-%u", j, pick(1000));
		fprintf(f, "dn: %s\nchangetype: modrdn\nnewrdn: uid=%s\n"
		    "deleteoldrdn: 1\n\n", a->dn, a->uid);
		snprintf(a->dn, sizeof(a->dn), "uid=%s,ou=agents,%s", a->uid, base);
	} else if (r < 86) {
		k = pick(n_people);
		fprintf(f, "dn: uid=%s,ou=people,%s\nchangetype: modify\n",
		    people[k].uid, base);
		if (chance(30))
			fprintf(f, "replace: description\ndescription: %s\n-\n\n",
			    chance(50) ? "active again" : "gone");
		else
			fprintf(f, "replace: employeeType\nemployeeType: %s\n-\n\n",
			    chance(50) ? "staff" : "departed");
	} else if (r < 89) {
		k = pick(n_people);
		fprintf(f, "dn: uid=%s,ou=people,%s\nchangetype: delete\n\n",
		    people[k].uid, base);
		people[k].alive = 0;
	} else if (r < 90) {
		/* a person renamed: the agents naming the old DN lose their
		 * owner */
		k = pick(n_people);
		fprintf(f, "dn: uid=%s,ou=people,%s\nchangetype: modrdn\n"
		    "newrdn: uid=%s-x\ndeleteoldrdn: 0\n\n", people[k].uid, base,
		    people[k].uid);
		people[k].alive = 0;
	} else if (r < 91 && a->uid[0] != 'A') {
		/* moved to another OU: same uid, new DN */
		fprintf(f, "dn: %s\nchangetype: modrdn\nnewrdn: uid=%s\n"
		    "deleteoldrdn: 1\nnewsuperior: ou=more,ou=agents,%s\n\n",
		    a->dn, a->uid, base);
		snprintf(a->dn, sizeof(a->dn), "uid=%s,ou=more,ou=agents,%s",
		    a->uid, base);
		a->outside = 0; /* moved into base: an agent now */
	} else if (r < 92) {
		/* no longer an agent: the entry stays, as a plain account */
		fprintf(f, "dn: %s\nchangetype: modify\ndelete: objectClass\n"
		    "objectClass: agentIdentity\n-\nreplace: agentOwner\n-\n"
		    "replace: agentNotAfter\n-\nreplace: agentNotBefore\n-\n"
		    "replace: agentScope\n-\nreplace: agentStatus\n-\n"
		    "replace: agentKeyFingerprint\n-\n\n", a->dn);
		a->alive = 0;
		add_dead(a->uid);
	} else if (r < 94) {
		fprintf(f, "dn: cn=role%u,ou=roles,%s\nchangetype: modify\n"
		    "replace: description\ndescription: %s\n-\n\n", pick(n_roles),
		    base, chance(50) ? "active role" : "retired");
	} else {
		new_agent(f);
	}
}

/* One request line. */
static void
request(FILE *f)
{
	static const char *services[] = { "sshd", "sshd", "sshd", "su", "sudo",
	    "login", "cron" };
	static const char *hosts[] = { "-", "-", "-", "web1.example.org", "web1",
	    "db1.example.org", "db2", "mail.other.org" };
	static const char *rhosts[] = { "-", "-", "-", "10.1.2.3",
	    "192.168.1.77", "172.16.0.9", "ws.example.org", "evil.other.org",
	    "2001:db8::5", "::1" };
	char user[80];
	unsigned r = pick(100);
	int j = live_agent();

	if (r < 55 && j >= 0) {
		snprintf(user, sizeof(user), "%s", agents[j].uid);
	} else if (r < 62 && j >= 0) {
		snprintf(user, sizeof(user), "%s", agents[j].uid);
		for (char *p = user; *p; p++)
			if (*p >= 'a' && *p <= 'z') {
				*p = (char)(*p - 'a' + 'A');
				break;
			} else if (*p >= 'A' && *p <= 'Z') {
				*p = (char)(*p - 'A' + 'a');
				break;
			}
	} else if (r < 72 && n_dead > 0) {
		snprintf(user, sizeof(user), "%s", dead_names[pick(n_dead)]);
	} else if (r < 77 && j >= 0 && agents[j].alias[0]) {
		snprintf(user, sizeof(user), "%s", agents[j].alias);
	} else if (r < 85) {
		snprintf(user, sizeof(user), "p%u", pick(n_people));
	} else if (r < 92) {
		snprintf(user, sizeof(user), "nobody%u", pick(1000));
	} else {
		snprintf(user, sizeof(user), "a%u", pick(n_agents + 5));
	}
	fprintf(f, "%s\t%s\t%s\t%s\t%s\n", user, services[pick(7)],
	    hosts[pick(8)], rhosts[pick(10)],
	    chance(20) ? fingerprints[pick(N_FP)] :
	    chance(5) ? "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" : "-");
}

static FILE *
open_out(const char *dir, const char *name)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "w")) == NULL) {
		perror(path);
		exit(2);
	}
	return f;
}

int
main(int argc, char **argv)
{
	FILE *f;
	unsigned long n, i;
	char *end;

	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: gen_directory SEED N OUTDIR [BASE]\n");
		return 2;
	}
	rng_state = strtoull(argv[1], &end, 10);
	n = strtoul(argv[2], NULL, 10);
	if (*end != '\0' || n < 20 || n > 10000000) {
		fprintf(stderr, "gen_directory: bad SEED or N\n");
		return 2;
	}
	if (argc == 5)
		base = argv[4];
	now = time(NULL);
	f = open_out(argv[3], "initial.ldif");
	initial(f, (unsigned)n);
	fclose(f);
	f = open_out(argv[3], "changes.ldif");
	for (i = 0; i < n / 3; i++)
		change(f);
	fclose(f);
	f = open_out(argv[3], "requests.txt");
	for (i = 0; i < n * 5 / 3; i++)
		request(f);
	if (fclose(f) != 0)
		return 2;
	return 0;
}
