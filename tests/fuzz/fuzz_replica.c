/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_replica.c - fuzz target: a replica file image (tests/nss/gen_replica
 * writes the seeds) through the reader the NSS module uses: open (header,
 * TOC), every lookup, enumeration and member list, and the full verify.
 *
 * The reader maps a file and refuses one that root (or the system user)
 * does not own: the image is written into a private directory (mode 0700)
 * and the target needs root, as the NSS tests do; otherwise every input is
 * refused at open and the replay says so.
 *
 * Each image is read three ways: as the base (agents.cdb), as a delta
 * alone, and as the delta (agents.cdb.delta) beside a fixed base of
 * generation 1 that the target writes once with the writer, so that a
 * delta seed (gen_replica --delta) reaches the code that pairs the two
 * files and hides base entries.
 *
 * Built twice: as fuzz_replica, and with FUZZ_FIX_CRC as fuzz_replica_crc,
 * which first rewrites the file size and the CRCs of the image (each
 * record's, the whole file's, then the header's) so that mutations reach
 * the code behind those checks.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "agentid_replica.h"
#include "agentid_replica_writer.h"
#include "replica_format.h"
#include "fuzz_util.h"

#define MAX_IMAGE (1u << 20)
#define MAX_WALK 256u

static char path[4096], base_path[4096], delta_path[4200];
static bool base_ok;

#ifdef FUZZ_FIX_CRC
static uint32_t
get32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
put32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* Makes the checksums of img right, as the writer would have: record CRCs
 * over key and value from byte 4, then the file size and the whole-file
 * CRC in the header, then the header's own CRC. Walks the data section as
 * the TOC's first entry bounds it; stops at the first record that does not
 * fit. */
static void
fix_crcs(unsigned char *img, size_t size)
{
	static const unsigned char zero[4];
	uint32_t dend, pos, kl, vl, crc, hvl;
	unsigned char *hv;

	if (size < AGENTID_REPLICA_HEADER_VAL + AGENTID_REPLICA_HEADER_FIXED)
		return;
	dend = get32(img);
	if (dend > size)
		dend = (uint32_t)size;
	for (pos = AGENTID_REPLICA_HEADER_POS; pos + 8 <= dend;
	    pos += 8 + kl + vl) {
		kl = get32(img + pos);
		vl = get32(img + pos + 4);
		if (kl > dend - pos - 8 || vl > dend - pos - 8 - kl)
			break;
		if (kl >= 2 && vl >= 4 && img[pos + 9] == ':' &&
		    (img[pos + 8] == 'n' || img[pos + 8] == 'g' ||
		    img[pos + 8] == 'm')) {
			crc = agentid_replica_crc32c(0, img + pos + 8, kl);
			crc = agentid_replica_crc32c(crc, img + pos + 8 + kl + 4,
			    vl - 4);
			put32(img + pos + 8 + kl, crc);
		}
	}
	/* the header record: key "H" at 2048 */
	if (get32(img + AGENTID_REPLICA_HEADER_POS) != 1)
		return;
	hvl = get32(img + AGENTID_REPLICA_HEADER_POS + 4);
	if (hvl < AGENTID_REPLICA_HEADER_FIXED ||
	    hvl > size - AGENTID_REPLICA_HEADER_VAL)
		return;
	hv = img + AGENTID_REPLICA_HEADER_VAL;
	/* a delta: make it belong to the fixed base (generation 1) */
	if (hvl >= AGENTID_REPLICA_HEADER_FIXED && get32(hv + 8) == 2 &&
	    (get32(hv + 52) & AGENTID_REPLICA_FLAG_DELTA) != 0) {
		put32(hv + 72, 1);
		put32(hv + 76, 0);
		if (get32(hv + 64) < 2 && get32(hv + 68) == 0)
			put32(hv + 64, 2);
	}
	put32(hv + 24, (uint32_t)size);
	put32(hv + 28, 0);
	crc = agentid_replica_crc32c(0, img, AGENTID_REPLICA_HEADER_POS);
	crc = agentid_replica_crc32c(crc, hv + hvl,
	    size - AGENTID_REPLICA_HEADER_VAL - hvl);
	put32(hv + 32, crc);
	crc = agentid_replica_crc32c(0, hv, 12);
	crc = agentid_replica_crc32c(crc, zero, 4);
	crc = agentid_replica_crc32c(crc, hv + 16, hvl - 16);
	put32(hv + 12, crc);
}
#endif

/* Removes the image and its directory at exit. */
static void
cleanup(void)
{
	char *slash;

	if (path[0] == '\0')
		return;
	unlink(path);
	unlink(base_path);
	unlink(delta_path);
	if ((slash = strrchr(path, '/')) != NULL) {
		*slash = '\0';
		rmdir(path);
	}
}

/* Writes the image to dst (replacing it); 0 or errno. */
static int
write_to(const char *dst, const uint8_t *data, size_t size)
{
	int fd, rc = 0;
	size_t off = 0;
	ssize_t w;

	if ((fd = open(dst, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0)
		return errno;
	while (off < size) {
		if ((w = write(fd, data + off, size - off)) <= 0) {
			rc = w < 0 ? errno : EIO;
			break;
		}
		off += (size_t)w;
	}
	close(fd);
	return rc;
}

/* The fixed base the delta reading pairs with: two users, a group. */
static int
write_base(void)
{
	struct agentid_replica_meta meta = { 1700000000, 1000, 60,
	    "/usr/sbin/nologin", 1 };
	struct agentid_replica_entry e = { "bot-ok", 100001, 100001, "g", "/h",
	    "/bin/sh", AGENTID_REPLICA_OK, false, 0, 1900000000 };
	struct agentid_replica_writer *w = NULL;
	struct agentid_error err = { "" };
	char *members[] = { "bot-ok", "agent-0000001" };
	int rc;

	if ((rc = agentid_replica_writer_new(base_path, &meta, &w, &err)) != 0)
		return rc;
	if ((rc = agentid_replica_write_user(w, &e, &err)) == 0) {
		e.name = "agent-0000001";
		e.uid = e.gid = 100002;
		rc = agentid_replica_write_user(w, &e, &err);
	}
	if (rc == 0)
		rc = agentid_replica_write_group(w, "team-00001", 200001, members,
		    2, &err);
	if (rc == 0)
		rc = agentid_replica_commit(w, &err);
	agentid_replica_writer_free(w);
	return rc;
}

/* Writes the image to path (replacing it); 0 or errno. */
static int
write_image(const uint8_t *data, size_t size)
{
	if (path[0] == '\0') {
		/* tmpfs when there is one: on ext4, rewriting a truncated
		 * file forces a flush at close (auto_da_alloc), 100x slower */
		char dir[] = "/dev/shm/agentid-fuzz-replica.XXXXXX";
		char tdir[] = "/tmp/agentid-fuzz-replica.XXXXXX";

		if (mkdtemp(dir) == NULL && mkdtemp(strcpy(dir, tdir)) == NULL)
			return errno;
		snprintf(path, sizeof(path), "%s/agents.cdb", dir);
		snprintf(base_path, sizeof(base_path), "%s/base.cdb", dir);
		snprintf(delta_path, sizeof(delta_path), "%s/base.cdb.delta", dir);
		atexit(cleanup);
		base_ok = write_base() == 0;
	}
	return write_to(path, data, size);
}

/* Copies a replica string into a C string (names are at most 256 bytes). */
static void
cstr(const struct agentid_replica_str *s, char *buf, size_t len)
{
	size_t n = s->len < len - 1 ? s->len : len - 1;

	memcpy(buf, s->p, n);
	buf[n] = '\0';
}

/* Every read the NSS module makes, on whatever the image holds. */
static void
read_all(const struct agentid_replica *r)
{
	const struct agentid_replica_info *info = agentid_replica_info(r);
	struct agentid_replica_user u, v;
	struct agentid_replica_group g, h;
	struct agentid_replica_gids gids;
	struct agentid_replica_str m;
	char name[AGENTID_MAX_NAME + 1];
	uint32_t i, j;
	size_t cur;

	uint32_t c;
	int rc;

	(void)info;
	for (i = 0, c = 0; i < MAX_WALK; i++) {
		if ((rc = agentid_replica_user_next(r, &c, &u)) == ENOENT)
			break;
		if (rc != 0)
			continue;
		(void)agentid_replica_user_valid(r, &u, 1800000000);
		(void)agentid_replica_id_ok(r, u.uid);
		cstr(&u.name, name, sizeof(name));
		(void)agentid_replica_user_by_name(r, name, &v);
		(void)agentid_replica_user_by_uid(r, u.uid, &v);
		if (agentid_replica_groups_of(r, name, &gids) == 0)
			for (j = 0; j < gids.n && j < MAX_WALK; j++)
				(void)agentid_replica_group_by_gid(r,
				    agentid_replica_gid_at(&gids, j), &h);
	}
	for (i = 0, c = 0; i < MAX_WALK; i++) {
		if ((rc = agentid_replica_group_next(r, &c, &g)) == ENOENT)
			break;
		if (rc != 0)
			continue;
		cstr(&g.name, name, sizeof(name));
		(void)agentid_replica_group_by_name(r, name, &h);
		(void)agentid_replica_group_by_gid(r, g.gid, &h);
		for (cur = 0, j = 0; j < MAX_WALK &&
		    agentid_replica_member_next(&g, &cur, &m); j++) {
			cstr(&m, name, sizeof(name));
			(void)agentid_replica_user_by_name(r, name, &v);
		}
	}
	/* names and ids of the fixture, and ones no record has */
	(void)agentid_replica_user_by_name(r, "bot-ok", &u);
	(void)agentid_replica_user_by_name(r, "agent-0000001", &u);
	(void)agentid_replica_user_by_uid(r, 100001, &u);
	(void)agentid_replica_user_by_uid(r, 0, &u);
	(void)agentid_replica_group_by_name(r, "team-00001", &g);
	(void)agentid_replica_group_by_gid(r, 200001, &g);
	(void)agentid_replica_groups_of(r, "agent-0000001", &gids);
	(void)agentid_replica_verify(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agentid_replica *r = NULL;
	static int warned;
	char why[512];
	const uint8_t *img = data;
#ifdef FUZZ_FIX_CRC
	uint8_t *copy = NULL;
#endif

	if (size > MAX_IMAGE)
		return 0;
	if (geteuid() != 0) {
		if (!warned++)
			fprintf(stderr, "fuzz_replica: not root: the reader "
			    "refuses every file (only root-owned replicas are "
			    "read)\n");
		return 0;
	}
#ifdef FUZZ_FIX_CRC
	if ((copy = malloc(size ? size : 1)) == NULL)
		return 0;
	memcpy(copy, data, size);
	fix_crcs(copy, size);
	img = copy;
#endif
	if (write_image(img, size) == 0) {
		if (agentid_replica_open_why(path, &r, why, sizeof(why)) == 0) {
			read_all(r);
			agentid_replica_close(r);
		}
		if (agentid_replica_open_file(path, true, &r, why,
		    sizeof(why)) == 0) {
			read_all(r);
			agentid_replica_close(r);
		}
	}
	if (base_ok && write_to(delta_path, img, size) == 0 &&
	    agentid_replica_open_why(base_path, &r, why, sizeof(why)) == 0) {
		read_all(r);
		agentid_replica_close(r);
	}
#ifdef FUZZ_FIX_CRC
	free(copy);
#endif
	return 0;
}
