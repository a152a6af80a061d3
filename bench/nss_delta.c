/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nss_delta.c - what one directory change costs agentidd's replicas at
 * 100k and 1M agents: agentidd's own store (agentidd/store.c, compiled in)
 * is filled with N generated agents (N/100 owners, N/1000 groups of 1000)
 * and written once (records base + NSS base); then, for each of C changes
 * (a shell or a status of one agent), store_put + store_flush as agentidd
 * does after a batch (records delta + NSS delta), timed; then getpwnam_r
 * of the changed agent through libnss_agent.so.2 (dlopen'ed, called
 * directly) in a loop until it shows the change: the time from the end of
 * the flush to the change visible (the remap of the new delta included),
 * and warm lookups. Last, one change written with a full NSS
 * base, as every batch did before the delta. Prints figures; never fails
 * on time (exit 1 only if something does not work).
 *
 *   bench/nss_delta [--agents N] [--changes C] NSS_MODULE_SO
 *
 * Run as root (the module serves only files owned by root or agentid);
 * bench/nss_delta.sh builds an optimised tree and runs it at 100k and 1M.
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <getopt.h>
#include <nss.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "agentid.h"
#include "agentidd.h"

#define BASE_DN "dc=example,dc=com"

typedef enum nss_status (*pwnam_fn)(const char *, struct passwd *, char *,
    size_t, int *);

/* store.c logs through agentidd_log: the benchmark prints warnings only. */
void
agentidd_log(int prio, const char *fmt, ...)
{
	va_list ap;

	if (prio > LOG_WARNING)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static char *
xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		exit(1);
	return p;
}

/* A NULL-terminated vector of one string. */
static char **
vec1(const char *s, size_t *n)
{
	char **v = calloc(2, sizeof(*v));

	if (v == NULL)
		exit(1);
	v[0] = xstrdup(s);
	*n = 1;
	return v;
}

/* A UUID from a number. */
static void
uuid_of(unsigned char u[16], uint32_t kind, uint32_t i)
{
	memset(u, 0, 16);
	memcpy(u, &kind, 4);
	memcpy(u + 4, &i, 4);
	u[8] = 0x5a;
}

/* Puts agent i (1-based) into the store with shell and status. */
static void
put_agent(struct store *st, uint32_t i, uint32_t owners, const char *shell,
    enum agentid_status status, int64_t now)
{
	struct agentid_stored s;
	char buf[160];

	memset(&s, 0, sizeof(s));
	uuid_of(s.uuid, 1, i);
	snprintf(buf, sizeof(buf), "agent-%07u", i);
	s.uids = vec1(buf, &s.n_uids);
	s.rec.uid = xstrdup(buf);
	snprintf(buf, sizeof(buf), "uid=agent-%07u,ou=agents," BASE_DN, i);
	s.rec.dn = xstrdup(buf);
	snprintf(buf, sizeof(buf), "uid=owner-%05u,ou=people," BASE_DN,
	    i % owners + 1);
	s.rec.owner_dn = xstrdup(buf);
	s.rec.is_agent = true;
	s.rec.has_posix = true;
	s.rec.uid_number = s.rec.gid_number = 100000 + i;
	snprintf(buf, sizeof(buf), "/home/agent-%07u", i);
	s.rec.home = xstrdup(buf);
	s.rec.shell = xstrdup(shell);
	snprintf(buf, sizeof(buf), "Agent %u", i);
	s.rec.gecos = xstrdup(buf);
	s.rec.has_not_after = true;
	s.rec.not_after = now + 30 * 86400;
	s.rec.status = status;
	s.flags = AGENTID_STORED_AGENT_CLASS | AGENTID_STORED_AGENT_FILTER;
	if (store_put(st, &s) != 0)
		exit(1);
}

/* Puts owner k (a person matching owner_filter, active). */
static void
put_owner(struct store *st, uint32_t k)
{
	struct agentid_stored s;
	char buf[160];

	memset(&s, 0, sizeof(s));
	uuid_of(s.uuid, 2, k);
	snprintf(buf, sizeof(buf), "owner-%05u", k);
	s.uids = vec1(buf, &s.n_uids);
	s.rec.uid = xstrdup(buf);
	snprintf(buf, sizeof(buf), "uid=owner-%05u,ou=people," BASE_DN, k);
	s.rec.dn = xstrdup(buf);
	s.flags = AGENTID_STORED_OWNER_FILTER | AGENTID_STORED_OWNER_ACTIVE;
	if (store_put(st, &s) != 0)
		exit(1);
}

/* Puts group j: agents j, j + G, j + 2G... */
static void
put_group(struct store *st, uint32_t j, uint32_t groups, uint32_t n)
{
	struct agentid_stored s;
	char buf[160];
	size_t m = 0;
	uint32_t i;

	memset(&s, 0, sizeof(s));
	uuid_of(s.uuid, 3, j);
	snprintf(buf, sizeof(buf), "cn=team-%05u,ou=groups," BASE_DN, j);
	s.rec.dn = xstrdup(buf);
	snprintf(buf, sizeof(buf), "team-%05u", j);
	s.group_name = xstrdup(buf);
	s.rec.gid_number = 200000 + j;
	if ((s.members = calloc(n / groups + 2, sizeof(*s.members))) == NULL)
		exit(1);
	for (i = j; i <= n; i += groups) {
		snprintf(buf, sizeof(buf), "agent-%07u", i);
		s.members[m++] = xstrdup(buf);
	}
	s.n_members = m;
	s.flags = AGENTID_STORED_GROUP;
	if (store_put(st, &s) != 0)
		exit(1);
}

static int
cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Prints median, p99 and max of v (ms). */
static void
stats(const char *what, double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("  %-44s median %8.3f ms  p99 %8.3f ms  max %8.3f ms\n", what,
	    v[n / 2] * 1e3, v[(n * 99) / 100 < n ? (n * 99) / 100 : n - 1] * 1e3,
	    v[n - 1] * 1e3);
}

/* Two passes of getpwnam_r over the same 100k names (the first touches
 * the pages of the mapping made after the last change, the second is
 * warm): mean seconds per lookup of each. */
static int
lookups(pwnam_fn getpwnam_r, uint32_t n, double pass[2])
{
	char name[32], buf[4096];
	struct passwd pw;
	double t0;
	uint32_t k;
	int c, e;

	for (c = 0; c < 2; c++) {
		t0 = now_s();
		for (k = 0; k < 100000; k++) {
			snprintf(name, sizeof(name), "agent-%07u",
			    (uint32_t)(((uint64_t)k * 104729u) % n) + 1);
			if (getpwnam_r(name, &pw, buf, sizeof(buf), &e) !=
			    NSS_STATUS_SUCCESS) {
				fprintf(stderr, "nss_delta: %s: not found\n", name);
				return 1;
			}
		}
		pass[c] = (now_s() - t0) / 100000;
	}
	return 0;
}

static off_t
fsize(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0 ? st.st_size : -1;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "agents", required_argument, NULL, 'n' },
		{ "changes", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	char dir[] = "/tmp/agentid-nss-delta.XXXXXX", path[200], dpath[220],
	    conf[600], name[32], buf[4096], cmd[300];
	struct agentid_config *cfg = NULL;
	struct agentid_error err = { "" };
	uint32_t n = 100000, changes = 100, owners, groups, i, k, tries,
	    later = 0;
	double t0, t1, *tflush, *tfirst, warm, warm_pass[2], *tbase;
	struct store st;
	struct passwd pw;
	pwnam_fn getpwnam_r;
	void *dl;
	int64_t now = (int64_t)time(NULL);
	int c, e;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n = (uint32_t)strtoul(optarg, NULL, 10);
		else if (c == 'c')
			changes = (uint32_t)strtoul(optarg, NULL, 10);
		else
			return 2;
	}
	if (optind + 1 != argc || n < 1000 || changes < 1) {
		fprintf(stderr, "usage: nss_delta [--agents N>=1000] [--changes C] "
		    "NSS_MODULE_SO\n");
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "nss_delta: run as root (the module serves only "
		    "replicas owned by root or agentid)\n");
		return 1;
	}
	if ((dl = dlopen(argv[optind], RTLD_NOW | RTLD_LOCAL)) == NULL ||
	    (*(void **)&getpwnam_r = dlsym(dl, "_nss_agent_getpwnam_r")) == NULL) {
		fprintf(stderr, "nss_delta: %s\n", dlerror());
		return 1;
	}
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/agents.cdb", dir);
	snprintf(dpath, sizeof(dpath), "%s.delta", path);
	snprintf(conf, sizeof(conf), "uri ldap://127.0.0.1/\nbase " BASE_DN "\n"
	    "replica %s\n", path);
	if (agentid_config_new(&cfg) != 0 ||
	    agentid_config_parse(cfg, conf, strlen(conf), "bench", &err) != 0 ||
	    store_init(&st, cfg, path) != 0) {
		fprintf(stderr, "nss_delta: config: %s\n", err.msg);
		return 1;
	}
	setenv("AGENTID_REPLICA", path, 1);
	owners = n / 100;
	groups = n / 1000;
	tflush = calloc(changes, sizeof(double));
	tfirst = calloc(changes, sizeof(double));
	tbase = calloc(3, sizeof(double));
	if (tflush == NULL || tfirst == NULL || tbase == NULL)
		return 1;

	t0 = now_s();
	for (k = 1; k <= owners; k++)
		put_owner(&st, k);
	for (i = 1; i <= n; i++)
		put_agent(&st, i, owners, "/bin/bash", AGENTID_STATUS_ACTIVE, now);
	for (k = 1; k <= groups; k++)
		put_group(&st, k, groups, n);
	t1 = now_s();
	printf("%u agents, %u owners, %u groups of %u: store filled in %.2f s\n",
	    n, owners, groups, n / groups, t1 - t0);
	t0 = now_s();
	if (store_flush(&st, now, &err) != 0) {
		fprintf(stderr, "nss_delta: first write: %s\n", err.msg);
		return 1;
	}
	t1 = now_s();
	printf("  first write (records base + NSS base):       %.2f s; NSS base "
	    "%.1f MB\n", t1 - t0, (double)fsize(path) / 1048576);
	/* the module maps the base alone, as on a host before the first
	 * change: the first delta appears where there was none */
	if (getpwnam_r("agent-0000001", &pw, buf, sizeof(buf), &e) !=
	    NSS_STATUS_SUCCESS) {
		fprintf(stderr, "nss_delta: agent-0000001: not found\n");
		return 1;
	}

	for (k = 0; k < changes; k++) {
		/* an agent far from the last one; its shell flips */
		const char *shell = k % 2 == 0 ? "/bin/zsh" : "/bin/sh";

		i = (uint32_t)(((uint64_t)k * 7919u + 17u) % n) + 1;
		snprintf(name, sizeof(name), "agent-%07u", i);
		put_agent(&st, i, owners, shell, AGENTID_STATUS_ACTIVE, now);
		st.changed = true;
		t0 = now_s();
		if (store_flush(&st, now, &err) != 0) {
			fprintf(stderr, "nss_delta: change %u: %s\n", k, err.msg);
			return 1;
		}
		tflush[k] = now_s() - t0;
		if (st.nss_last_base) {
			fprintf(stderr, "nss_delta: change %u wrote a base\n", k);
			return 1;
		}
		/* looked up in a loop until the change shows: at the module's
		 * next check of the paths (every 10 ms), or at once for a delta
		 * it maps (too big to be read into memory: fstat sees it
		 * replaced); 2 s is a guard against a hang, not a measure */
		t0 = now_s();
		for (tries = 1;; tries++) {
			if (getpwnam_r(name, &pw, buf, sizeof(buf), &e) !=
			    NSS_STATUS_SUCCESS) {
				fprintf(stderr, "nss_delta: %s: not found\n", name);
				return 1;
			}
			if (strcmp(pw.pw_shell, shell) == 0)
				break;
			if (now_s() - t0 > 2.0) {
				fprintf(stderr, "nss_delta: %s: change not visible "
				    "after 2 s\n", name);
				return 1;
			}
		}
		tfirst[k] = now_s() - t0;
		if (tries > 1)
			later++;
	}
	if (lookups(getpwnam_r, n, warm_pass) != 0)
		return 1;
	warm = warm_pass[1];
	printf("  %u changes, one at a time (records delta + NSS delta):\n",
	    changes);
	stats("store_flush (write both deltas, fsync, rename)", tflush, changes);
	stats("store_flush end -> visible to getpwnam_r", tfirst, changes);
	printf("  %-44s %u of %u (the rest at the next lookup)\n",
	    "seen at the module's path check (<= 10 ms)", later, changes);
	printf("  %-44s mean %8.3f us first pass, %.3f us second (100k "
	    "names, base + delta)\n", "getpwnam_r, module called directly",
	    warm_pass[0] * 1e6, warm * 1e6);
	printf("  NSS delta after %u changes: %ld bytes\n", changes,
	    (long)fsize(dpath));
	/* the same change with a full NSS base, as each batch did before */
	for (k = 0; k < 3; k++) {
		put_agent(&st, 1, owners, k % 2 ? "/bin/sh" : "/bin/zsh",
		    AGENTID_STATUS_ACTIVE, now);
		st.changed = true;
		st.nss_force_base = true;
		t0 = now_s();
		if (store_flush(&st, now, &err) != 0) {
			fprintf(stderr, "nss_delta: base: %s\n", err.msg);
			return 1;
		}
		tbase[k] = now_s() - t0;
	}
	stats("one change with a full NSS base (before)", tbase, 3);
	/* the same lookups on the base alone (the base retired the delta) */
	if (lookups(getpwnam_r, n, warm_pass) != 0)
		return 1;
	printf("  %-44s mean %8.3f us first pass, %.3f us second\n",
	    "getpwnam_r, base alone (no delta)", warm_pass[0] * 1e6,
	    warm_pass[1] * 1e6);
	store_free(&st);
	agentid_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	free(tflush);
	free(tfirst);
	free(tbase);
	return 0;
}
