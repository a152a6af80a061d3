/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replica_format.h - the layout of the replica file, shared by the reader
 * and the writer only (not part of any public header).
 *
 * File format, version 2 (the reader also reads version 1 bases). All
 * integers little-endian. A cdb file whose first record (at offset 2048)
 * has key "H" and the header as value:
 *
 *   off  0  magic "AGIDRPL1"          off 36  u32 users
 *   off  8  u32 format version (2)     off 40  u32 groups
 *   off 12  u32 CRC-32C of the header  off 44  u32 member index entries
 *           value with this field = 0  off 48  u32 min_uid
 *   off 16  i64 generation time        off 52  u32 flags (bit 0: delta)
 *   off 24  u64 file size              off 56  i64 clock_skew
 *   off 32  u32 CRC-32C of the rest    off 64  u64 generation
 *           (TOC, then every byte      off 72  u64 base generation (a
 *           after the header record)           base: its own generation)
 *   off 80  u32 tombstones             off 84  u16 length + nologin shell
 * Version 1 had the shell at off 64 and no generation (read as 0: no
 * delta ever pairs with it).
 *
 * Two files: the base (PATH) holds every entry; the delta (PATH.delta)
 * holds what changed since that base: entries, tombstones and member lists
 * that replace the base's. A reader uses a delta only when its base
 * generation equals the base's generation; looks in the delta first; and
 * serves a base entry only when the delta has neither its name nor its id
 * (so an entry renamed, deleted or whose id another entry took in the
 * delta is hidden, and no name or id ever has two answers).
 *
 * Other keys (the CRC of a record covers its key and value bytes 4..end):
 *   "n:" NAME     user: u32 crc, u32 uid, u32 gid, u8 state, u8 flags
 *                 (bit 0: has notBefore), u16 0, i64 notBefore, i64 notAfter,
 *                 u16 gecos, home, shell lengths, u16 0, then those bytes;
 *                 in a delta, a value of only the crc is a tombstone
 *   'u' u32 UID   u32 file position of the "n:" record
 *   "g:" NAME     group: u32 crc, u32 gid, u32 count, count x (u16 len, bytes);
 *                 a tombstone as for users
 *   'G' u32 GID   u32 file position of the "g:" record
 *   "m:" NAME     u32 crc, u32 count, count x u32 gid (groups listing NAME;
 *                 a base has one for every listed name, initgroups serves
 *                 only users; a delta's replaces the base's whole)
 *   "@p", "@g"    enumeration order: u32 positions of the "n:"/"g:" records
 *                 (live entries only)
 *
 * The reader checks the header (magic, version, CRC, size equal to the file's)
 * when it maps a file, and each record's CRC and every position and length
 * when it reads one: a lookup never trusts the mapped bytes. The whole-file
 * CRC is checked by agentid_replica_verify (sync runs it before the rename).
 */
#ifndef AGENTID_REPLICA_FORMAT_H
#define AGENTID_REPLICA_FORMAT_H

#include "agentid.h" /* AGENTID_MAX_NAME: a macro, no symbol */

#define AGENTID_REPLICA_MAGIC "AGIDRPL1"
#define AGENTID_REPLICA_VERSION 2u
#define AGENTID_REPLICA_FLAG_DELTA 1u
#define AGENTID_REPLICA_HEADER_POS 2048u   /* the "H" record */
#define AGENTID_REPLICA_HEADER_VAL (2048u + 8u + 1u) /* its value */
#define AGENTID_REPLICA_HEADER_FIXED 86u   /* header bytes before the shell */
#define AGENTID_REPLICA_HEADER_FIXED_V1 66u
/* The delta beside a base: PATH + this suffix. */
#define AGENTID_REPLICA_DELTA_SUFFIX ".delta"
#define AGENTID_REPLICA_MAX_FIELD 4096u    /* gecos, home, shell, nologin */
#define AGENTID_REPLICA_MAX_MEMBERS 65536u /* per group */
#define AGENTID_REPLICA_MAX_ID 2147483647u /* larger ids are not served */
#define AGENTID_REPLICA_NOBODY 65534u      /* nobody/nogroup: not served */
/* Besides root, the system user that may own the replica and its
 * directory (agentidd runs as it). */
#define AGENTID_SYSTEM_USER "agentid"

#endif
