/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_reader.c - maps the replica and reads it without trusting it.
 * Uses libc and libcdb only: this file is compiled into libagentid and into
 * libnss_agent.so.2, which links nothing else. See agentid_replica.h for the
 * interface and replica_format.h for the format.
 */
#include "config.h"

#include <cdb.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agentid_replica.h"
#include "replica_format.h"

#define USER_FIXED 40u
#define GROUP_FIXED 12u
#define GIDS_FIXED 8u

/* Who a file is and how it was when mapped: a rename over it drops its
 * link count and moves its ctime, a truncation or a write in place moves
 * size and mtime, chmod and chown move mode and owner (the trust checks
 * made at open: compared here too, as a timestamp's granularity may hide
 * a change made in the same tick). */
struct ident {
	dev_t dev;
	ino_t ino;
	off_t size;
	nlink_t nlink;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime, ctime;
};

/* One mapped file: a base or a delta. */
struct rfile {
	struct cdb cdb;           /* copied for each find: cdb_find writes to it */
	const unsigned char *mem;
	uint32_t size;            /* bytes mapped (the file) */
	uint32_t dend;            /* end of the data section */
	uint32_t hdr_end;         /* first byte after the header record */
	uint32_t data_crc;
	const unsigned char *users;  /* "@p": n_users positions */
	const unsigned char *groups; /* "@g": n_groups positions */
	int fd;                   /* kept open (O_CLOEXEC, >= 3); -1: none */
	bool copied;              /* mem is a private copy (malloc), no map */
	struct ident id;
	struct agentid_replica_info info;
	bool delta;               /* header flag: a delta file */
	uint64_t gen, base_gen;   /* 0 for a version 1 base */
	uint32_t tombs;
};

/* A consistent view: a base and, when one belongs to it, its delta. */
struct agentid_replica {
	struct rfile *base, *delta;
	char *path, *dpath;       /* NULL for a single file (open_file) */
	bool dseen;               /* a file was at dpath when opened */
	struct ident did;         /* its identity */
	struct agentid_replica_info info;
};

static const uint32_t crc32c_table[256] = {
	0x00000000, 0xf26b8303, 0xe13b70f7, 0x1350f3f4,
	0xc79a971f, 0x35f1141c, 0x26a1e7e8, 0xd4ca64eb,
	0x8ad958cf, 0x78b2dbcc, 0x6be22838, 0x9989ab3b,
	0x4d43cfd0, 0xbf284cd3, 0xac78bf27, 0x5e133c24,
	0x105ec76f, 0xe235446c, 0xf165b798, 0x030e349b,
	0xd7c45070, 0x25afd373, 0x36ff2087, 0xc494a384,
	0x9a879fa0, 0x68ec1ca3, 0x7bbcef57, 0x89d76c54,
	0x5d1d08bf, 0xaf768bbc, 0xbc267848, 0x4e4dfb4b,
	0x20bd8ede, 0xd2d60ddd, 0xc186fe29, 0x33ed7d2a,
	0xe72719c1, 0x154c9ac2, 0x061c6936, 0xf477ea35,
	0xaa64d611, 0x580f5512, 0x4b5fa6e6, 0xb93425e5,
	0x6dfe410e, 0x9f95c20d, 0x8cc531f9, 0x7eaeb2fa,
	0x30e349b1, 0xc288cab2, 0xd1d83946, 0x23b3ba45,
	0xf779deae, 0x05125dad, 0x1642ae59, 0xe4292d5a,
	0xba3a117e, 0x4851927d, 0x5b016189, 0xa96ae28a,
	0x7da08661, 0x8fcb0562, 0x9c9bf696, 0x6ef07595,
	0x417b1dbc, 0xb3109ebf, 0xa0406d4b, 0x522bee48,
	0x86e18aa3, 0x748a09a0, 0x67dafa54, 0x95b17957,
	0xcba24573, 0x39c9c670, 0x2a993584, 0xd8f2b687,
	0x0c38d26c, 0xfe53516f, 0xed03a29b, 0x1f682198,
	0x5125dad3, 0xa34e59d0, 0xb01eaa24, 0x42752927,
	0x96bf4dcc, 0x64d4cecf, 0x77843d3b, 0x85efbe38,
	0xdbfc821c, 0x2997011f, 0x3ac7f2eb, 0xc8ac71e8,
	0x1c661503, 0xee0d9600, 0xfd5d65f4, 0x0f36e6f7,
	0x61c69362, 0x93ad1061, 0x80fde395, 0x72966096,
	0xa65c047d, 0x5437877e, 0x4767748a, 0xb50cf789,
	0xeb1fcbad, 0x197448ae, 0x0a24bb5a, 0xf84f3859,
	0x2c855cb2, 0xdeeedfb1, 0xcdbe2c45, 0x3fd5af46,
	0x7198540d, 0x83f3d70e, 0x90a324fa, 0x62c8a7f9,
	0xb602c312, 0x44694011, 0x5739b3e5, 0xa55230e6,
	0xfb410cc2, 0x092a8fc1, 0x1a7a7c35, 0xe811ff36,
	0x3cdb9bdd, 0xceb018de, 0xdde0eb2a, 0x2f8b6829,
	0x82f63b78, 0x709db87b, 0x63cd4b8f, 0x91a6c88c,
	0x456cac67, 0xb7072f64, 0xa457dc90, 0x563c5f93,
	0x082f63b7, 0xfa44e0b4, 0xe9141340, 0x1b7f9043,
	0xcfb5f4a8, 0x3dde77ab, 0x2e8e845f, 0xdce5075c,
	0x92a8fc17, 0x60c37f14, 0x73938ce0, 0x81f80fe3,
	0x55326b08, 0xa759e80b, 0xb4091bff, 0x466298fc,
	0x1871a4d8, 0xea1a27db, 0xf94ad42f, 0x0b21572c,
	0xdfeb33c7, 0x2d80b0c4, 0x3ed04330, 0xccbbc033,
	0xa24bb5a6, 0x502036a5, 0x4370c551, 0xb11b4652,
	0x65d122b9, 0x97baa1ba, 0x84ea524e, 0x7681d14d,
	0x2892ed69, 0xdaf96e6a, 0xc9a99d9e, 0x3bc21e9d,
	0xef087a76, 0x1d63f975, 0x0e330a81, 0xfc588982,
	0xb21572c9, 0x407ef1ca, 0x532e023e, 0xa145813d,
	0x758fe5d6, 0x87e466d5, 0x94b49521, 0x66df1622,
	0x38cc2a06, 0xcaa7a905, 0xd9f75af1, 0x2b9cd9f2,
	0xff56bd19, 0x0d3d3e1a, 0x1e6dcdee, 0xec064eed,
	0xc38d26c4, 0x31e6a5c7, 0x22b65633, 0xd0ddd530,
	0x0417b1db, 0xf67c32d8, 0xe52cc12c, 0x1747422f,
	0x49547e0b, 0xbb3ffd08, 0xa86f0efc, 0x5a048dff,
	0x8ecee914, 0x7ca56a17, 0x6ff599e3, 0x9d9e1ae0,
	0xd3d3e1ab, 0x21b862a8, 0x32e8915c, 0xc083125f,
	0x144976b4, 0xe622f5b7, 0xf5720643, 0x07198540,
	0x590ab964, 0xab613a67, 0xb831c993, 0x4a5a4a90,
	0x9e902e7b, 0x6cfbad78, 0x7fab5e8c, 0x8dc0dd8f,
	0xe330a81a, 0x115b2b19, 0x020bd8ed, 0xf0605bee,
	0x24aa3f05, 0xd6c1bc06, 0xc5914ff2, 0x37faccf1,
	0x69e9f0d5, 0x9b8273d6, 0x88d28022, 0x7ab90321,
	0xae7367ca, 0x5c18e4c9, 0x4f48173d, 0xbd23943e,
	0xf36e6f75, 0x0105ec76, 0x12551f82, 0xe03e9c81,
	0x34f4f86a, 0xc69f7b69, 0xd5cf889d, 0x27a40b9e,
	0x79b737ba, 0x8bdcb4b9, 0x988c474d, 0x6ae7c44e,
	0xbe2da0a5, 0x4c4623a6, 0x5f16d052, 0xad7d5351,
};

#if defined(__x86_64__) && defined(__GNUC__)
#include <cpuid.h>
#define HAVE_CRC32C_HW 1

static bool crc32c_hw_ok; /* set once, before any lookup can run */

/* The CPU has the SSE4.2 crc32 instruction (cpuid once, at load time: in a
 * VM each cpuid may trap to the hypervisor). */
__attribute__((constructor)) static void
crc32c_probe(void)
{
	unsigned a, b, c, d;

	crc32c_hw_ok = __get_cpuid(1, &a, &b, &c, &d) != 0 && (c & bit_SSE4_2) != 0;
}

/* Raw CRC-32C update with the crc32 instruction, 8 bytes at a time. */
__attribute__((target("sse4.2"))) static uint32_t
crc32c_hw(uint32_t crc, const unsigned char *b, size_t n)
{
	unsigned long long c = crc;
	uint64_t v;

	for (; n >= 8; n -= 8, b += 8) {
		memcpy(&v, b, 8);
		c = __builtin_ia32_crc32di(c, v);
	}
	crc = (uint32_t)c;
	while (n-- > 0)
		crc = __builtin_ia32_crc32qi(crc, *b++);
	return crc;
}
#endif

/* CRC-32C of n bytes continuing from crc. */
uint32_t
agentid_replica_crc32c(uint32_t crc, const void *p, size_t n)
{
	const unsigned char *b = p;

	crc = ~crc;
#ifdef HAVE_CRC32C_HW
	if (crc32c_hw_ok)
		return ~crc32c_hw(crc, b, n);
#endif
	while (n-- > 0)
		crc = crc32c_table[(crc ^ *b++) & 0xffu] ^ (crc >> 8);
	return ~crc;
}

/* Little-endian u16 at p. */
static uint32_t
get16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

/* Little-endian u32 at p. */
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* Little-endian i64 at p. */
static int64_t
get64(const unsigned char *p)
{
	return (int64_t)((uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32);
}

/* 0 when the record at pos lies inside the data section; its parts then. */
static int
rec_at(const struct rfile *r, uint32_t pos,
    const unsigned char **key, uint32_t *klen,
    const unsigned char **val, uint32_t *vlen)
{
	uint32_t kl, vl;

	if (pos < AGENTID_REPLICA_HEADER_POS || pos > r->dend ||
	    r->dend - pos < 8)
		return EBADMSG;
	kl = get32(r->mem + pos);
	vl = get32(r->mem + pos + 4);
	if (kl > r->dend - pos - 8 || vl > r->dend - pos - 8 - kl)
		return EBADMSG;
	*key = r->mem + pos + 8;
	*klen = kl;
	*val = *key + kl;
	*vlen = vl;
	return 0;
}

/* 0 and the value of key; ENOENT when absent, EBADMSG when cdb says the
 * tables are inconsistent. */
static int
find(const struct rfile *r, const void *key, unsigned klen,
    const unsigned char **val, uint32_t *vlen, uint32_t *pos)
{
	struct cdb c = r->cdb;
	int rc;

	if (r->mem == NULL)
		return ENOENT; /* the empty base of a delta opened alone */
	rc = cdb_find(&c, key, klen);
	if (rc < 0)
		return EBADMSG;
	if (rc == 0)
		return ENOENT;
	if (cdb_datapos(&c) > r->dend || cdb_datalen(&c) > r->dend - cdb_datapos(&c) ||
	    cdb_keypos(&c) < AGENTID_REPLICA_HEADER_POS + 8)
		return EBADMSG;
	*val = r->mem + cdb_datapos(&c);
	*vlen = cdb_datalen(&c);
	if (pos != NULL)
		*pos = cdb_keypos(&c) - 8;
	return 0;
}

/* 0 when the record's CRC (key, then value from byte 4) matches. */
static int
check_crc(const unsigned char *key, uint32_t klen, const unsigned char *val,
    uint32_t vlen)
{
	uint32_t crc;

	if (vlen < 4)
		return EBADMSG;
	crc = agentid_replica_crc32c(0, key, klen);
	crc = agentid_replica_crc32c(crc, val + 4, vlen - 4);
	return crc == get32(val) ? 0 : EBADMSG;
}

/* 0 when a string of len bytes at p has no NUL and fits the limit. */
static int
check_str(const unsigned char *p, size_t len, size_t max)
{
	if (len > max || memchr(p, '\0', len) != NULL)
		return EBADMSG;
	return 0;
}

/* Decodes the user record at pos. */
static int
parse_user(const struct rfile *r, uint32_t pos,
    struct agentid_replica_user *u)
{
	const unsigned char *k, *v, *s;
	uint32_t klen, vlen, gl, hl, sl;
	int rc;

	if ((rc = rec_at(r, pos, &k, &klen, &v, &vlen)) != 0)
		return rc;
	if (klen < 3 || klen - 2 > AGENTID_MAX_NAME || k[0] != 'n' ||
	    k[1] != ':' || vlen < USER_FIXED)
		return EBADMSG;
	if ((rc = check_crc(k, klen, v, vlen)) != 0)
		return rc;
	gl = get16(v + 32);
	hl = get16(v + 34);
	sl = get16(v + 36);
	if ((uint64_t)USER_FIXED + gl + hl + sl != vlen || v[12] >=
	    AGENTID_REPLICA_STATE_MAX)
		return EBADMSG;
	s = v + USER_FIXED;
	if (check_str(k + 2, klen - 2, AGENTID_MAX_NAME) != 0 ||
	    check_str(s, gl, AGENTID_REPLICA_MAX_FIELD) != 0 ||
	    check_str(s + gl, hl, AGENTID_REPLICA_MAX_FIELD) != 0 ||
	    check_str(s + gl + hl, sl, AGENTID_REPLICA_MAX_FIELD) != 0)
		return EBADMSG;
	u->name.p = (const char *)k + 2;
	u->name.len = klen - 2;
	u->uid = get32(v + 4);
	u->gid = get32(v + 8);
	u->state = (enum agentid_replica_state)v[12];
	u->has_not_before = (v[13] & 1u) != 0;
	u->not_before = get64(v + 16);
	u->not_after = get64(v + 24);
	u->gecos.p = (const char *)s;
	u->gecos.len = gl;
	u->home.p = (const char *)s + gl;
	u->home.len = hl;
	u->shell.p = (const char *)s + gl + hl;
	u->shell.len = sl;
	u->pos = pos;
	return 0;
}

/* Decodes the group record at pos, checking every member. */
static int
parse_group(const struct rfile *r, uint32_t pos,
    struct agentid_replica_group *g)
{
	const unsigned char *k, *v;
	uint32_t klen, vlen, n, i;
	size_t off;
	int rc;

	if ((rc = rec_at(r, pos, &k, &klen, &v, &vlen)) != 0)
		return rc;
	if (klen < 3 || klen - 2 > AGENTID_MAX_NAME || k[0] != 'g' ||
	    k[1] != ':' || vlen < GROUP_FIXED)
		return EBADMSG;
	if ((rc = check_crc(k, klen, v, vlen)) != 0 ||
	    (rc = check_str(k + 2, klen - 2, AGENTID_MAX_NAME)) != 0)
		return rc;
	n = get32(v + 8);
	if (n > AGENTID_REPLICA_MAX_MEMBERS)
		return EBADMSG;
	for (i = 0, off = GROUP_FIXED; i < n; i++) {
		size_t len;

		if (vlen - off < 2)
			return EBADMSG;
		len = get16(v + off);
		off += 2;
		if (len == 0 || len > vlen - off ||
		    check_str(v + off, len, AGENTID_MAX_NAME) != 0)
			return EBADMSG;
		off += len;
	}
	if (off != vlen)
		return EBADMSG;
	g->name.p = (const char *)k + 2;
	g->name.len = klen - 2;
	g->gid = get32(v + 4);
	g->n_members = n;
	g->members = v + GROUP_FIXED;
	g->members_len = vlen - GROUP_FIXED;
	g->pos = pos;
	return 0;
}

/* Builds prefix + name as a key; ENOENT for names no record can have. */
static int
make_key(unsigned char *key, size_t *klen, char a, char b, const char *name)
{
	size_t len;

	if (name == NULL)
		return ENOENT;
	len = strnlen(name, AGENTID_MAX_NAME + 1);
	if (len == 0 || len > AGENTID_MAX_NAME)
		return ENOENT;
	key[0] = (unsigned char)a;
	key[1] = (unsigned char)b;
	memcpy(key + 2, name, len);
	*klen = len + 2;
	return 0;
}

/* Position stored under the 5-byte key tag + id. */
static int
find_pos(const struct rfile *r, char tag, uint32_t id, uint32_t *pos)
{
	unsigned char key[5];
	const unsigned char *v;
	uint32_t vlen;
	int rc;

	key[0] = (unsigned char)tag;
	key[1] = (unsigned char)(id & 0xffu);
	key[2] = (unsigned char)(id >> 8 & 0xffu);
	key[3] = (unsigned char)(id >> 16 & 0xffu);
	key[4] = (unsigned char)(id >> 24 & 0xffu);
	if ((rc = find(r, key, sizeof(key), &v, &vlen, NULL)) != 0)
		return rc;
	if (vlen != 4)
		return EBADMSG;
	*pos = get32(v);
	return 0;
}

/* In a delta, a tombstone: a value of only the CRC (of the key). */
static int
check_tomb(const struct rfile *r, const unsigned char *key, size_t klen,
    const unsigned char *v, uint32_t vlen)
{
	if (!r->delta || vlen != 4)
		return EBADMSG;
	return check_crc(key, (uint32_t)klen, v, vlen) == 0 ? ENOENT : EBADMSG;
}

/* The user called name in one file; ESRCH for a tombstone. */
static int
f_user_by_name(const struct rfile *r, const char *name,
    struct agentid_replica_user *u)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	const unsigned char *v;
	uint32_t vlen, pos;
	size_t klen;
	int rc;

	if ((rc = make_key(key, &klen, 'n', ':', name)) != 0 ||
	    (rc = find(r, key, (unsigned)klen, &v, &vlen, &pos)) != 0)
		return rc;
	if (vlen == 4)
		return check_tomb(r, key, klen, v, vlen) == ENOENT ? ESRCH : EBADMSG;
	return parse_user(r, pos, u);
}

/* The user whose uid is uid in one file. */
static int
f_user_by_uid(const struct rfile *r, uint32_t uid,
    struct agentid_replica_user *u)
{
	uint32_t pos;
	int rc;

	if ((rc = find_pos(r, 'u', uid, &pos)) != 0 ||
	    (rc = parse_user(r, pos, u)) != 0)
		return rc;
	return u->uid == uid ? 0 : EBADMSG;
}

/* The group called name in one file; ESRCH for a tombstone. */
static int
f_group_by_name(const struct rfile *r, const char *name,
    struct agentid_replica_group *g)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	const unsigned char *v;
	uint32_t vlen, pos;
	size_t klen;
	int rc;

	if ((rc = make_key(key, &klen, 'g', ':', name)) != 0 ||
	    (rc = find(r, key, (unsigned)klen, &v, &vlen, &pos)) != 0)
		return rc;
	if (vlen == 4)
		return check_tomb(r, key, klen, v, vlen) == ENOENT ? ESRCH : EBADMSG;
	return parse_group(r, pos, g);
}

/* The group whose gid is gid in one file. */
static int
f_group_by_gid(const struct rfile *r, uint32_t gid,
    struct agentid_replica_group *g)
{
	uint32_t pos;
	int rc;

	if ((rc = find_pos(r, 'G', gid, &pos)) != 0 ||
	    (rc = parse_group(r, pos, g)) != 0)
		return rc;
	return g->gid == gid ? 0 : EBADMSG;
}

/* 0 when the delta d has the key prefix + name (entry or tombstone),
 * ENOENT when not. */
static int
d_has_name(const struct rfile *d, char a, const struct agentid_replica_str *name)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	const unsigned char *v;
	uint32_t vlen;

	if (name->len == 0 || name->len > AGENTID_MAX_NAME)
		return EBADMSG;
	key[0] = (unsigned char)a;
	key[1] = ':';
	memcpy(key + 2, name->p, name->len);
	return find(d, key, (unsigned)name->len + 2, &v, &vlen, NULL);
}

/* 0 when the delta d has the id key tag + id, ENOENT when not. */
static int
d_has_id(const struct rfile *d, char tag, uint32_t id)
{
	uint32_t pos;

	return find_pos(d, tag, id, &pos);
}

/* A base entry is served only when the delta has neither its name nor its
 * id: ENOENT when hidden (renamed, deleted, id taken), 0 when visible. */
static int
base_visible(const struct agentid_replica *r, char name_tag, char id_tag,
    const struct agentid_replica_str *name, uint32_t id)
{
	int rc;

	if (r->delta == NULL)
		return 0;
	if ((rc = d_has_name(r->delta, name_tag, name)) != ENOENT ||
	    (rc = d_has_id(r->delta, id_tag, id)) != ENOENT)
		return rc == 0 ? ENOENT : rc;
	return 0;
}

/* The user called name: the delta's, else the base's if still visible. */
int
agentid_replica_user_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_user *u)
{
	int rc;

	if (r->delta != NULL) {
		rc = f_user_by_name(r->delta, name, u);
		if (rc == ESRCH)
			return ENOENT;
		if (rc != ENOENT)
			return rc;
	}
	if ((rc = f_user_by_name(r->base, name, u)) != 0)
		return rc == ESRCH ? EBADMSG : rc;
	if (r->delta != NULL && (rc = d_has_id(r->delta, 'u', u->uid)) != ENOENT)
		return rc == 0 ? ENOENT : rc;
	return 0;
}

/* The user whose uid is uid. */
int
agentid_replica_user_by_uid(const struct agentid_replica *r, uint32_t uid,
    struct agentid_replica_user *u)
{
	int rc;

	if (r->delta != NULL && (rc = f_user_by_uid(r->delta, uid, u)) != ENOENT)
		return rc;
	if ((rc = f_user_by_uid(r->base, uid, u)) != 0)
		return rc;
	if (r->delta != NULL && (rc = d_has_name(r->delta, 'n', &u->name)) !=
	    ENOENT)
		return rc == 0 ? ENOENT : rc;
	return 0;
}

/* The next visible user from *cursor: the delta's, then the base's. */
int
agentid_replica_user_next(const struct agentid_replica *r, uint32_t *cursor,
    struct agentid_replica_user *u)
{
	uint32_t c = *cursor, nd = r->delta != NULL ? r->delta->info.n_users : 0;
	int rc;

	for (;; c++) {
		if (c < nd) {
			rc = parse_user(r->delta, get32(r->delta->users + 4 *
			    (size_t)c), u);
			break;
		}
		if (c - nd >= r->base->info.n_users)
			return ENOENT;
		if ((rc = parse_user(r->base, get32(r->base->users + 4 *
		    (size_t)(c - nd)), u)) != 0)
			break;
		if ((rc = base_visible(r, 'n', 'u', &u->name, u->uid)) != ENOENT)
			break;
	}
	*cursor = c + 1;
	return rc;
}

/* The group called name. */
int
agentid_replica_group_by_name(const struct agentid_replica *r,
    const char *name, struct agentid_replica_group *g)
{
	int rc;

	if (r->delta != NULL) {
		rc = f_group_by_name(r->delta, name, g);
		if (rc == ESRCH)
			return ENOENT;
		if (rc != ENOENT)
			return rc;
	}
	if ((rc = f_group_by_name(r->base, name, g)) != 0)
		return rc == ESRCH ? EBADMSG : rc;
	if (r->delta != NULL && (rc = d_has_id(r->delta, 'G', g->gid)) != ENOENT)
		return rc == 0 ? ENOENT : rc;
	return 0;
}

/* The group whose gid is gid. */
int
agentid_replica_group_by_gid(const struct agentid_replica *r, uint32_t gid,
    struct agentid_replica_group *g)
{
	int rc;

	if (r->delta != NULL && (rc = f_group_by_gid(r->delta, gid, g)) != ENOENT)
		return rc;
	if ((rc = f_group_by_gid(r->base, gid, g)) != 0)
		return rc;
	if (r->delta != NULL && (rc = d_has_name(r->delta, 'g', &g->name)) !=
	    ENOENT)
		return rc == 0 ? ENOENT : rc;
	return 0;
}

/* The next visible group from *cursor. */
int
agentid_replica_group_next(const struct agentid_replica *r, uint32_t *cursor,
    struct agentid_replica_group *g)
{
	uint32_t c = *cursor, nd = r->delta != NULL ? r->delta->info.n_groups : 0;
	int rc;

	for (;; c++) {
		if (c < nd) {
			rc = parse_group(r->delta, get32(r->delta->groups + 4 *
			    (size_t)c), g);
			break;
		}
		if (c - nd >= r->base->info.n_groups)
			return ENOENT;
		if ((rc = parse_group(r->base, get32(r->base->groups + 4 *
		    (size_t)(c - nd)), g)) != 0)
			break;
		if ((rc = base_visible(r, 'g', 'G', &g->name, g->gid)) != ENOENT)
			break;
	}
	*cursor = c + 1;
	return rc;
}

/* Next member; the list was checked by parse_group. */
bool
agentid_replica_member_next(const struct agentid_replica_group *g,
    size_t *cursor, struct agentid_replica_str *member)
{
	size_t len;

	if (*cursor + 2 > g->members_len)
		return false;
	len = get16(g->members + *cursor);
	member->p = (const char *)g->members + *cursor + 2;
	member->len = len;
	*cursor += 2 + len;
	return true;
}

/* The groups that list member in one file. */
static int
f_groups_of(const struct rfile *r, const char *member,
    struct agentid_replica_gids *out)
{
	unsigned char key[AGENTID_MAX_NAME + 2];
	const unsigned char *v;
	uint32_t vlen, n;
	size_t klen;
	int rc;

	if ((rc = make_key(key, &klen, 'm', ':', member)) != 0 ||
	    (rc = find(r, key, (unsigned)klen, &v, &vlen, NULL)) != 0)
		return rc;
	if (vlen < GIDS_FIXED || (rc = check_crc(key, (uint32_t)klen, v, vlen)) != 0)
		return EBADMSG;
	n = get32(v + 4);
	if ((vlen - GIDS_FIXED) / 4 != n || (vlen - GIDS_FIXED) % 4 != 0)
		return EBADMSG;
	out->p = v + GIDS_FIXED;
	out->n = n;
	return 0;
}

/* The groups that list member: the delta's list replaces the base's. */
int
agentid_replica_groups_of(const struct agentid_replica *r, const char *member,
    struct agentid_replica_gids *out)
{
	int rc;

	if (r->delta != NULL && (rc = f_groups_of(r->delta, member, out)) !=
	    ENOENT)
		return rc;
	return f_groups_of(r->base, member, out);
}

/* The i-th gid of g (i < g->n). */
uint32_t
agentid_replica_gid_at(const struct agentid_replica_gids *g, uint32_t i)
{
	return get32(g->p + 4 * (size_t)i);
}

/* Valid now: state OK and now inside the window widened by the skew. */
bool
agentid_replica_user_valid(const struct agentid_replica *r,
    const struct agentid_replica_user *u, int64_t now)
{
	int64_t skew = r->info.clock_skew;

	if (u->state != AGENTID_REPLICA_OK)
		return false;
	/* skew is bounded at open and now is the clock: neither side of these
	 * comparisons can overflow, whatever the (untrusted) file holds */
	if (u->has_not_before && now + skew < u->not_before)
		return false;
	return now - skew <= u->not_after;
}

/* A uid or gid NSS may hand out. */
bool
agentid_replica_id_ok(const struct agentid_replica *r, uint32_t id)
{
	return id >= r->info.min_uid && id != AGENTID_REPLICA_NOBODY &&
	    id <= AGENTID_REPLICA_MAX_ID;
}

/* The header fields, checked at open (the delta's, when there is one). */
const struct agentid_replica_info *
agentid_replica_info(const struct agentid_replica *r)
{
	return &r->info;
}

/* Records st as a file's identity. */
static void
ident_set(struct ident *id, const struct stat *st)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	id->size = st->st_size;
	id->nlink = st->st_nlink;
	id->mode = st->st_mode;
	id->uid = st->st_uid;
	id->gid = st->st_gid;
	id->mtime = st->st_mtim;
	id->ctime = st->st_ctim;
}

/* The same file (device and inode). */
static bool
same_file(const struct ident *id, const struct stat *st)
{
	return st->st_dev == id->dev && st->st_ino == id->ino;
}

/* The same file with the same size, link count, mode, owner, mtime and
 * ctime. */
static bool
same_ident(const struct ident *id, const struct stat *st)
{
	return same_file(id, st) && st->st_size == id->size &&
	    st->st_nlink == id->nlink && st->st_mode == id->mode &&
	    st->st_uid == id->uid && st->st_gid == id->gid &&
	    st->st_mtim.tv_sec == id->mtime.tv_sec &&
	    st->st_mtim.tv_nsec == id->mtime.tv_nsec &&
	    st->st_ctim.tv_sec == id->ctime.tv_sec &&
	    st->st_ctim.tv_nsec == id->ctime.tv_nsec;
}

/* Both files unchanged since r was opened from path. */
bool
agentid_replica_current(const struct agentid_replica *r, const char *path)
{
	struct stat st;

	if (r->path == NULL || strcmp(r->path, path) != 0 ||
	    stat(path, &st) != 0 || !same_ident(&r->base->id, &st))
		return false;
	if (stat(r->dpath, &st) != 0)
		return errno == ENOENT && !r->dseen;
	return r->dseen && same_ident(&r->did, &st);
}

/*
 * The file f maps is as it was: fstat of the descriptor kept open, no path
 * walk. A descriptor that no longer names f (the process closed it, as a
 * daemon closes every descriptor after fork, and the number went to
 * another file, or is closed) is forgotten, never closed: it is not ours
 * any more.
 */
static bool
rfile_intact(struct rfile *f)
{
	struct stat st;

	if (f->fd < 0)
		return false;
	if (fstat(f->fd, &st) != 0 || !same_file(&f->id, &st)) {
		f->fd = -1;
		return false;
	}
	return same_ident(&f->id, &st);
}

/* The files mapped are unchanged: see agentid_replica.h. */
bool
agentid_replica_intact(struct agentid_replica *r, const char *path)
{
	if (r->path == NULL || strcmp(r->path, path) != 0 ||
	    !rfile_intact(r->base))
		return false;
	return r->delta == NULL || r->delta->copied || rfile_intact(r->delta);
}

/* Walks the delta's records in file order. */
int
agentid_replica_delta_each(const struct agentid_replica *r,
    agentid_replica_delta_fn fn, void *arg)
{
	const struct rfile *d = r->delta;
	const unsigned char *k, *v;
	struct agentid_replica_delta_rec e;
	uint32_t pos, klen, vlen;
	char name[AGENTID_MAX_NAME + 1];
	int rc;

	if (d == NULL)
		return 0;
	for (pos = d->hdr_end; pos < d->dend; pos += 8 + klen + vlen) {
		if ((rc = rec_at(d, pos, &k, &klen, &v, &vlen)) != 0)
			return rc;
		if (klen < 3 || k[1] != ':' || (k[0] != 'n' && k[0] != 'g' &&
		    k[0] != 'm'))
			continue;
		memset(&e, 0, sizeof(e));
		if (klen - 2 > AGENTID_MAX_NAME ||
		    check_str(k + 2, klen - 2, AGENTID_MAX_NAME) != 0)
			return EBADMSG;
		memcpy(name, k + 2, klen - 2);
		name[klen - 2] = '\0';
		e.name = name;
		e.kind = k[0];
		if (k[0] == 'm') {
			if ((rc = f_groups_of(d, name, &e.gids)) != 0)
				return rc;
		} else if (vlen == 4) {
			if (check_tomb(d, k, klen, v, vlen) != ENOENT)
				return EBADMSG;
			e.tombstone = true;
		} else if (k[0] == 'n') {
			if ((rc = parse_user(d, pos, &e.user)) != 0)
				return rc;
		} else if ((rc = parse_group(d, pos, &e.group)) != 0) {
			return rc;
		}
		if ((rc = fn(&e, arg)) != 0)
			return rc;
	}
	return 0;
}

/* Finds an enumeration list of n positions. */
static int
find_list(const struct rfile *r, const char *key, uint32_t n,
    const unsigned char **out)
{
	uint32_t vlen;
	int rc;

	if ((rc = find(r, key, 2, out, &vlen, NULL)) != 0)
		return EBADMSG;
	return vlen / 4 == n && vlen % 4 == 0 ? 0 : EBADMSG;
}

/* Checks the header record and fills r->info (version 1 or 2). */
static int
read_header(struct rfile *r)
{
	static const unsigned char zero[4];
	const unsigned char *k, *v;
	uint32_t klen, vlen, crc, slen, version, fixed, flags;
	int rc;

	if ((rc = rec_at(r, AGENTID_REPLICA_HEADER_POS, &k, &klen, &v, &vlen)) != 0)
		return rc;
	if (klen != 1 || k[0] != 'H' || vlen < AGENTID_REPLICA_HEADER_FIXED_V1 ||
	    memcmp(v, AGENTID_REPLICA_MAGIC, 8) != 0)
		return EBADMSG;
	version = get32(v + 8);
	fixed = version == 1 ? AGENTID_REPLICA_HEADER_FIXED_V1 :
	    AGENTID_REPLICA_HEADER_FIXED;
	if ((version != 1 && version != AGENTID_REPLICA_VERSION) || vlen < fixed)
		return EBADMSG;
	crc = agentid_replica_crc32c(0, v, 12);
	crc = agentid_replica_crc32c(crc, zero, 4);
	crc = agentid_replica_crc32c(crc, v + 16, vlen - 16);
	if (crc != get32(v + 12))
		return EBADMSG;
	slen = get16(v + fixed - 2);
	if (fixed + slen != vlen ||
	    check_str(v + fixed, slen, AGENTID_REPLICA_MAX_FIELD) != 0)
		return EBADMSG;
	r->info.generated = get64(v + 16);
	r->info.file_size = (uint64_t)get64(v + 24);
	r->data_crc = get32(v + 32);
	r->info.n_users = get32(v + 36);
	r->info.n_groups = get32(v + 40);
	r->info.n_members = get32(v + 44);
	r->info.min_uid = get32(v + 48);
	flags = get32(v + 52);
	r->info.clock_skew = get64(v + 56);
	r->info.nologin_shell.p = (const char *)v + fixed;
	r->info.nologin_shell.len = slen;
	r->hdr_end = (uint32_t)(v + vlen - r->mem);
	if (version == 1) {
		r->gen = r->base_gen = 0;
		flags = 0;
	} else {
		r->gen = (uint64_t)get64(v + 64);
		r->base_gen = (uint64_t)get64(v + 72);
		r->tombs = get32(v + 80);
	}
	r->delta = (flags & AGENTID_REPLICA_FLAG_DELTA) != 0;
	if (r->info.file_size != r->size || r->info.clock_skew < 0 ||
	    r->info.clock_skew > 86400 * 365 ||
	    (flags & ~AGENTID_REPLICA_FLAG_DELTA) != 0 ||
	    (!r->delta && r->base_gen != r->gen) ||
	    (r->delta && (r->base_gen == 0 || r->gen <= r->base_gen)))
		return EBADMSG;
	r->info.generation = r->gen;
	r->info.base_generation = r->base_gen;
	if ((rc = find_list(r, "@p", r->info.n_users, &r->users)) != 0 ||
	    (rc = find_list(r, "@g", r->info.n_groups, &r->groups)) != 0)
		return rc;
	return 0;
}

/* Writes a reason into why (if any); returns rc. */
static int
say(char *why, size_t why_len, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
say(char *why, size_t why_len, int rc, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && why_len > 0) {
		va_start(ap, fmt);
		vsnprintf(why, why_len, fmt, ap);
		va_end(ap);
	}
	return rc;
}

/* The last uid system_user_uid found and the /etc/passwd it came from:
 * a PAM decision checks up to six files and directories owned by agentid,
 * and each check read the whole file again. */
static struct {
	pthread_mutex_t mu;
	bool valid;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtim, ctim;
	uid_t uid;
} sys_cache = { PTHREAD_MUTEX_INITIALIZER, false, 0, 0, 0, { 0, 0 },
	{ 0, 0 }, 0 };

static bool
same_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec && a->tv_nsec == b->tv_nsec;
}

/* The uid of the system user AGENTID_SYSTEM_USER in /etc/passwd, read with
 * fgetpwent_r: an NSS lookup here would recurse into libnss_agent. ENOENT
 * when there is none (or the file cannot be read: fail closed). A uid found
 * is kept while /etc/passwd is the same file (inode, size, mtime, ctime:
 * useradd and vipw rename a new file in; an edit in place moves mtime). */
static int
system_user_uid(uid_t *uid)
{
	struct passwd pw, *res;
	struct stat fst;
	size_t len = 1024;
	char *buf = NULL, *nb;
	FILE *f;
	int rc = ENOENT, e;
	bool have_st;

	*uid = (uid_t)-1; /* owns no file; set on every path for the compiler */
	/* trylock, here and below: a child forked while another thread
	 * held the mutex (libnss_agent lives in any threaded program) must
	 * read the file, not wait for an unlock that never comes */
	if (stat("/etc/passwd", &fst) == 0 &&
	    pthread_mutex_trylock(&sys_cache.mu) == 0) {
		if (sys_cache.valid && sys_cache.dev == fst.st_dev &&
		    sys_cache.ino == fst.st_ino && sys_cache.size == fst.st_size &&
		    same_time(&sys_cache.mtim, &fst.st_mtim) &&
		    same_time(&sys_cache.ctim, &fst.st_ctim)) {
			*uid = sys_cache.uid;
			pthread_mutex_unlock(&sys_cache.mu);
			return 0;
		}
		pthread_mutex_unlock(&sys_cache.mu);
	}
	if ((f = fopen("/etc/passwd", "rce")) == NULL)
		return ENOENT;
	/* the key is the file read, whatever the path named a moment ago */
	have_st = fstat(fileno(f), &fst) == 0;
	for (;;) {
		if (buf == NULL && (buf = malloc(len)) == NULL) {
			rc = ENOMEM;
			break;
		}
		e = fgetpwent_r(f, &pw, buf, len, &res);
		if (e == ERANGE && len < 65536) {
			/* glibc put the stream back at the start of the line */
			if ((nb = realloc(buf, len * 2)) == NULL) {
				rc = ENOMEM;
				break;
			}
			buf = nb;
			len *= 2;
			continue;
		}
		if (e != 0 || res == NULL)
			break;
		if (strcmp(pw.pw_name, AGENTID_SYSTEM_USER) == 0) {
			*uid = pw.pw_uid;
			rc = 0;
			break;
		}
	}
	free(buf);
	fclose(f);
	if (have_st && rc == 0 && pthread_mutex_trylock(&sys_cache.mu) == 0) {
		sys_cache.valid = true;
		sys_cache.dev = fst.st_dev;
		sys_cache.ino = fst.st_ino;
		sys_cache.size = fst.st_size;
		sys_cache.mtim = fst.st_mtim;
		sys_cache.ctim = fst.st_ctim;
		sys_cache.uid = *uid;
		pthread_mutex_unlock(&sys_cache.mu);
	}
	return rc;
}

/* 0 when st belongs to root or the system user and only its owner may
 * write it; EPERM otherwise, with the reason in why. what names the object
 * ("file" or "directory"). */
static int
check_trust(const struct stat *st, const char *what, const char *path,
    char *why, size_t why_len)
{
	uid_t sys;

	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0)
		return say(why, why_len, EPERM, "%s: its %s is writable by group or "
		    "others (mode %04lo): refused", path, what,
		    (unsigned long)(st->st_mode & 07777));
	if (st->st_uid == 0 ||
	    (system_user_uid(&sys) == 0 && st->st_uid == sys))
		return 0;
	return say(why, why_len, EPERM, "%s: its %s is owned by uid %lu, not "
	    "root or " AGENTID_SYSTEM_USER ": refused", path, what,
	    (unsigned long)st->st_uid);
}

/* Opens path's directory, checks it, then opens the file in it (not
 * following a symbolic link, not blocking on a FIFO) and checks that. */
int
agentid_replica_open_trusted(const char *path, int *fd, struct stat *st, char *why,
    size_t why_len)
{
	const char *slash = strrchr(path, '/'), *base;
	struct stat dst;
	char *dir = NULL;
	int dfd = -1, rc;

	*fd = -1;
	if (slash == NULL) {
		dir = strdup(".");
		base = path;
	} else {
		dir = slash == path ? strdup("/") : strndup(path,
		    (size_t)(slash - path));
		base = slash + 1;
	}
	if (dir == NULL) {
		rc = ENOMEM;
		goto out;
	}
	if (base[0] == '\0') {
		rc = say(why, why_len, EBADMSG, "%s: not a file", path);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0 ||
	    fstat(dfd, &dst) != 0) {
		rc = errno != 0 ? errno : EIO;
		goto out;
	}
	if ((rc = check_trust(&dst, "directory", path, why, why_len)) != 0)
		goto out;
	if ((*fd = openat(dfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY |
	    O_NOFOLLOW | O_NONBLOCK)) < 0) {
		rc = errno != 0 ? errno : EIO;
		if (rc == ELOOP)
			rc = say(why, why_len, EPERM, "%s: a symbolic link: refused",
			    path);
		goto out;
	}
	if (fstat(*fd, st) != 0) {
		rc = errno != 0 ? errno : EIO;
		goto out;
	}
	if (!S_ISREG(st->st_mode)) {
		rc = say(why, why_len, EBADMSG, "%s: not a regular file",
		    path);
		goto out;
	}
	rc = check_trust(st, "file", path, why, why_len);
out:
	if (rc != 0 && *fd >= 0) {
		close(*fd);
		*fd = -1;
	}
	if (dfd >= 0)
		close(dfd);
	free(dir);
	return rc;
}

/* Unmaps (or frees the copy of) what r->cdb holds. */
static void
rfile_release(struct rfile *r)
{
	if (r->copied)
		free((void *)r->cdb.cdb_mem);
	else
		cdb_free(&r->cdb);
	r->cdb.cdb_mem = NULL;
}

/* Closes one file: its descriptor only while it still names the file
 * (see rfile_intact). */
static void
rfile_close(struct rfile *r)
{
	struct stat st;

	if (r == NULL)
		return;
	if (r->fd >= 0 && fstat(r->fd, &st) == 0 && same_file(&r->id, &st))
		close(r->fd);
	rfile_release(r);
	free(r);
}

/*
 * Reads the size bytes of fd into private memory and points r->cdb at
 * them as cdb_init points it at a mapping (its fields, as tinycdb 0.78's
 * cdb_init sets them; tinycdb reads no others). A copy cannot be cut
 * under us: nothing to check before a lookup. EBADMSG when the file
 * ended early (cut while read).
 */
static int
rfile_copy(struct rfile *r, int fd, uint32_t size)
{
	unsigned char *buf;
	uint32_t got = 0, dend;
	ssize_t n;

	if ((buf = malloc(size)) == NULL)
		return ENOMEM;
	while (got < size) {
		n = pread(fd, buf + got, size - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(buf);
			return n == 0 ? EBADMSG : errno != 0 ? errno : EIO;
		}
		got += (uint32_t)n;
	}
	memset(&r->cdb, 0, sizeof(r->cdb));
	r->cdb.cdb_fd = -1;
	r->cdb.cdb_fsize = size;
	r->cdb.cdb_mem = buf;
	dend = get32(buf);
	r->cdb.cdb_dend = dend < 2048 ? 2048 : dend >= size ? size : dend;
	r->copied = true;
	return 0;
}

/* Checks who may have written path, maps it and checks its header: a
 * delta when delta, else a base. A delta of at most
 * AGENTID_REPLICA_DELTA_COPY_MAX bytes is read into private memory instead
 * when copy (see agentid_replica_open_flags). */
static int
rfile_open(const char *path, bool delta, bool copy, struct rfile **out,
    char *why, size_t why_len)
{
	struct rfile *r = NULL;
	struct stat st;
	bool loaded = false;
	int fd = -1, rc;

	*out = NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	r->fd = -1;
	if ((rc = agentid_replica_open_trusted(path, &fd, &st, why,
	    why_len)) != 0)
		goto out;
	if (st.st_size < (off_t)(AGENTID_REPLICA_HEADER_VAL +
	    AGENTID_REPLICA_HEADER_FIXED_V1) || st.st_size > (off_t)UINT32_MAX) {
		rc = say(why, why_len, EBADMSG, "%s: %lu bytes: not a replica",
		    path, (unsigned long)st.st_size);
		goto out;
	}
	if (copy && delta && st.st_size <= AGENTID_REPLICA_DELTA_COPY_MAX) {
		if ((rc = rfile_copy(r, fd, (uint32_t)st.st_size)) != 0)
			goto out;
	} else if (cdb_init(&r->cdb, fd) != 0) {
		rc = errno == ENOMEM ? ENOMEM : EBADMSG;
		goto out;
	}
	loaded = true;
	r->cdb.cdb_fd = -1;       /* kept below, or closed; the mapping stays */
	r->mem = r->cdb.cdb_mem;
	r->size = (uint32_t)st.st_size;
	r->dend = get32(r->mem);  /* TOC entry 0: the first hash table */
	if (r->dend < AGENTID_REPLICA_HEADER_POS || r->dend > r->size ||
	    r->cdb.cdb_fsize != r->size) {
		rc = EBADMSG;
		goto out;
	}
	if ((rc = read_header(r)) != 0)
		goto out;
	if (r->delta != delta) {
		rc = say(why, why_len, EBADMSG, "%s: a %s where a %s belongs",
		    path, r->delta ? "delta" : "base", delta ? "delta" : "base");
		goto out;
	}
	ident_set(&r->id, &st);
	/* a mapped file's descriptor is kept for agentid_replica_intact,
	 * above the standard descriptors: a program that closed them and
	 * opens /dev/null must not get ours */
	if (!r->copied && fd < 3) {
		int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);

		if (hi < 0) {
			rc = errno != 0 ? errno : EIO;
			goto out;
		}
		close(fd);
		fd = hi;
	}
	if (!r->copied) {
		r->fd = fd;
		fd = -1;
	}
	*out = r;
	r = NULL;
	rc = 0;
out:
	if (rc == EBADMSG && why != NULL && why_len > 0 && why[0] == '\0')
		say(why, why_len, rc, "%s: corrupt or not a replica", path);
	if (fd >= 0)
		close(fd);
	if (r != NULL) {
		if (loaded)
			rfile_release(r);
		free(r);
	}
	return rc;
}

/* Sets r->info from the base and the delta (newer, when there is one). */
static void
set_info(struct agentid_replica *r)
{
	const struct rfile *f = r->delta != NULL ? r->delta : r->base;

	r->info = r->base->info;
	if (r->delta == NULL)
		return;
	r->info.generated = f->info.generated;
	r->info.min_uid = f->info.min_uid;
	r->info.clock_skew = f->info.clock_skew;
	r->info.nologin_shell = f->info.nologin_shell;
	r->info.generation = f->gen;
	r->info.has_delta = true;
	r->info.delta_users = f->info.n_users;
	r->info.delta_groups = f->info.n_groups;
	r->info.tombstones = f->tombs;
}

/*
 * The base at path and the delta beside it, paired by generation: a delta
 * for an older base is ignored (the writer compacted it into this base); a
 * delta for a newer base means the base was replaced after we opened it:
 * open again (a few times, then give up: EBADMSG). A delta that is there
 * but cannot be trusted or read refuses the whole replica: serving the base
 * alone would bring back what the delta removed (a revoked agent's shell,
 * a group membership).
 */
static int
open_pair(const char *path, unsigned flags, struct agentid_replica **out,
    char *why, size_t why_len)
{
	bool copy = (flags & AGENTID_REPLICA_DELTA_COPY) != 0;
	struct agentid_replica *r = NULL;
	struct rfile *d = NULL;
	int rc = EBADMSG, tries;

	*out = NULL;
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    (r->path = strdup(path)) == NULL ||
	    (r->dpath = malloc(strlen(path) +
	    sizeof(AGENTID_REPLICA_DELTA_SUFFIX))) == NULL) {
		rc = ENOMEM;
		goto out;
	}
	strcpy(r->dpath, path);
	strcat(r->dpath, AGENTID_REPLICA_DELTA_SUFFIX);
	for (tries = 0; tries < 8; tries++) {
		if (tries >= 2) {
			/* the writer is between its two renames (delta, then
			 * base): give it the CPU rather than answer UNAVAIL */
			struct timespec ts = { 0, 1000000L };

			nanosleep(&ts, NULL);
		}
		rfile_close(r->base);
		r->base = NULL;
		if ((rc = rfile_open(path, false, false, &r->base, why,
		    why_len)) != 0)
			goto out;
		r->dseen = false;
		rc = rfile_open(r->dpath, true, copy, &d, why, why_len);
		if (rc == ENOENT) {
			struct stat st;

			/* no delta: only if the base is still the one at path
			 * (a compaction renames a new base in, then unlinks
			 * the delta: between the two opens, the old base
			 * alone would undo its delta) */
			if (stat(path, &st) == 0 && same_ident(&r->base->id, &st))
				break;
			rc = say(why, why_len, EBADMSG, "%s: replaced while "
			    "opened", path);
			continue;
		}
		if (rc != 0)
			goto out;
		r->dseen = true;
		r->did = d->id;
		if (d->base_gen == r->base->gen && r->base->gen != 0) {
			r->delta = d;
			d = NULL;
			break;
		}
		if (d->base_gen < r->base->gen || r->base->gen == 0) {
			rfile_close(d); /* compacted into this base */
			d = NULL;
			break;
		}
		rfile_close(d);
		d = NULL;
		rc = say(why, why_len, EBADMSG, "%s: its delta belongs to a newer "
		    "base", path);
	}
	if (rc != 0 && rc != ENOENT)
		goto out;
	set_info(r);
	*out = r;
	r = NULL;
	rc = 0;
out:
	rfile_close(d);
	agentid_replica_close(r);
	return rc;
}

/* Maps path (and its delta) and checks the headers. */
int
agentid_replica_open(const char *path, struct agentid_replica **out)
{
	return open_pair(path, 0, out, NULL, 0);
}

/* The same, with why. */
int
agentid_replica_open_why(const char *path, struct agentid_replica **out,
    char *why, size_t why_len)
{
	return open_pair(path, 0, out, why, why_len);
}

/* The same, with flags (AGENTID_REPLICA_DELTA_COPY). */
int
agentid_replica_open_flags(const char *path, unsigned flags,
    struct agentid_replica **out)
{
	return open_pair(path, flags, out, NULL, 0);
}

/* One file alone (a writer checking what it wrote). */
int
agentid_replica_open_file(const char *path, bool delta,
    struct agentid_replica **out, char *why, size_t why_len)
{
	struct agentid_replica *r;
	struct rfile *f = NULL;
	int rc;

	*out = NULL;
	if (why != NULL && why_len > 0)
		why[0] = '\0';
	if ((rc = rfile_open(path, delta, false, &f, why, why_len)) != 0)
		return rc;
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		rfile_close(f);
		return ENOMEM;
	}
	r->base = f;
	if (delta) {
		/* lookups see the delta over an empty base */
		r->delta = f;
		if ((r->base = calloc(1, sizeof(*r->base))) == NULL) {
			agentid_replica_close(r);
			return ENOMEM;
		}
		r->base->fd = -1;
	}
	set_info(r);
	*out = r;
	return 0;
}

/* Unmaps r. */
void
agentid_replica_close(struct agentid_replica *r)
{
	if (r == NULL)
		return;
	if (r->base != NULL && r->base->mem == NULL)
		free(r->base); /* the empty base of a delta opened alone */
	else
		rfile_close(r->base);
	rfile_close(r->delta);
	free(r->path);
	free(r->dpath);
	free(r);
}

/* The CRC of everything but the header record. */
static uint32_t
whole_crc(const struct rfile *r)
{
	uint32_t crc;

	crc = agentid_replica_crc32c(0, r->mem, AGENTID_REPLICA_HEADER_POS);
	return agentid_replica_crc32c(crc, r->mem + r->hdr_end,
	    r->size - r->hdr_end);
}

/* Every user of f is reachable by name and uid in f and is the record
 * listed. */
static int
verify_users(const struct rfile *f)
{
	struct agentid_replica_user u, v;
	char name[AGENTID_MAX_NAME + 1];
	uint32_t i;

	for (i = 0; i < f->info.n_users; i++) {
		if (parse_user(f, get32(f->users + 4 * (size_t)i), &u) != 0)
			return EBADMSG;
		memcpy(name, u.name.p, u.name.len);
		name[u.name.len] = '\0';
		if (f_user_by_name(f, name, &v) != 0 || v.pos != u.pos ||
		    f_user_by_uid(f, u.uid, &v) != 0 || v.pos != u.pos ||
		    u.uid < f->info.min_uid || u.gid < f->info.min_uid ||
		    u.uid == AGENTID_REPLICA_NOBODY || u.gid == AGENTID_REPLICA_NOBODY ||
		    u.uid > AGENTID_REPLICA_MAX_ID || u.gid > AGENTID_REPLICA_MAX_ID)
			return EBADMSG;
	}
	return 0;
}

/* Every group of f is reachable by name and gid in f and is the record
 * listed. */
static int
verify_groups(const struct rfile *f)
{
	struct agentid_replica_group g, h;
	char name[AGENTID_MAX_NAME + 1];
	uint32_t i;

	for (i = 0; i < f->info.n_groups; i++) {
		if (parse_group(f, get32(f->groups + 4 * (size_t)i), &g) != 0)
			return EBADMSG;
		memcpy(name, g.name.p, g.name.len);
		name[g.name.len] = '\0';
		if (f_group_by_name(f, name, &h) != 0 || h.pos != g.pos ||
		    f_group_by_gid(f, g.gid, &h) != 0 || h.pos != g.pos ||
		    g.gid < f->info.min_uid || g.gid == AGENTID_REPLICA_NOBODY ||
		    g.gid > AGENTID_REPLICA_MAX_ID)
			return EBADMSG;
	}
	return 0;
}

/* The full check of one file. */
static int
verify_file(const struct rfile *f)
{
	int rc;

	if (f == NULL || f->mem == NULL)
		return 0;
	if (whole_crc(f) != f->data_crc)
		return EBADMSG;
	if ((rc = verify_users(f)) != 0 || (rc = verify_groups(f)) != 0)
		return rc;
	return 0;
}

/* The full check: CRC of each file and every index. */
int
agentid_replica_verify(const struct agentid_replica *r)
{
	int rc;

	if ((rc = verify_file(r->base)) != 0)
		return rc;
	if (r->delta != r->base && (rc = verify_file(r->delta)) != 0)
		return rc;
	return 0;
}
