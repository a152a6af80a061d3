#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_collisions.sh - `agentid sync` never writes an agent or a group
# that takes a local account's name, uid, group name or gid, nor uid/gid
# 65534 or above 2^31-1: each is warned about (naming the entry and the
# rule) and counted in the summary. A directory posixGroup named "sudo" does
# not show in `id` of an agent. The local accounts are this test's own
# /etc/passwd and /etc/group, bind-mounted in a private mount namespace for
# sync and for the glibc lookups (root; SKIP otherwise).
set -u
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
AGENTID=${top_builddir:-.}/agentid
FAILS=0 CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }

why=$(nss_unusable)
[ -z "$why" ] || nss_skip "$why"
nss_setup
slapd_start
trap 'slapd_stop; rm -rf "$NSS_TMP"' EXIT
slapd_load "${top_srcdir:-.}/tests/nss/collisions.ldif" || exit 1
D=$AGENTID_TEST_LDAP_DIR
CONF=$D/agentid.conf
R=$D/agents.cdb
slapd_write_conf "$CONF" "owner_active_filter (employeeType=staff)"

# the local accounts: root for the tools, a user with uid 1000 and its
# private group, a user named like a directory agent, sudo, a group whose
# gid a directory group takes, nobody/nogroup
cat >"$NSS_TMP/passwd" <<'P'
root:x:0:0:root:/root:/bin/bash
localuser:x:1000:1000:Local User:/home/localuser:/bin/bash
taken-bot:x:1500:1500:Local Bot:/home/taken-bot:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
P
cat >"$NSS_TMP/group" <<'G'
root:x:0:
sudo:x:27:localuser
localuser:x:1000:
taken-bot:x:1500:
localgrp:x:43022:
nogroup:x:65534:
G
chmod 644 "$NSS_TMP/passwd" "$NSS_TMP/group"
nss_bind "$NSS_TMP/passwd" /etc/passwd
nss_bind "$NSS_TMP/group" /etc/group

# sync with those files as /etc/passwd and /etc/group (ldapi:// needs no NSS)
out=$(nss_run "$R" "$AGENTID" --config "$CONF" sync 2>"$D/sync.err")
rc=$?
CHECKS=$((CHECKS + 1))
if [ $rc -eq 0 ] && [[ $out =~ ^synced\ 1\ agents,\ 1\ groups\ .*\;\ 9\ skipped,\ 5\ local\ collisions\) ]]; then
	ok "sync: $out"
else
	fail "sync exit $rc: $out $(cat "$D/sync.err")"
fi
warned() { # WHAT PATTERN
	grep -q -- "$2" "$D/sync.err" && ok "warned: $1" ||
	    fail "no warning for $1 ($2): $(cat "$D/sync.err")"
}
warned "uid of a local user" 'uid1000-bot: uidNumber 1000 of a local user'
warned "name of a local user" 'taken-bot: name of a local user'
warned "gid of a local group" 'gid-bot: gidNumber 1000 of a local group'
warned "nobody" 'nobody-bot: uidNumber 65534 or gidNumber 43005 is 65534'
warned "uid above 2^31-1" 'huge-bot: uidNumber 2147483648 or gidNumber 43006 is .*above 2147483647'
warned "group sudo" 'group sudo: name of a local group'
warned "gid of a local group (group)" 'group dup-gid: gidNumber 43022 of a local group'
warned "nogroup" 'group nogroup-ish: gidNumber 65534 is 65534'
warned "gid above 2^31-1" 'group huge-group: gidNumber 4294967294 is .*above 2147483647'
n=$(grep -c 'not written' "$D/sync.err")
[ "$n" = 9 ] && ok "9 warnings" || fail "$n warnings: $(cat "$D/sync.err")"

expect() { # WANTED EXIT CMD...
	local want=$1 rc=$2 got out
	shift 2
	out=$(nss_run "$R" "$@" 2>&1)
	got=$?
	[ "$got" = "$rc" ] && [ "$out" = "$want" ] && ok "$*" ||
	    fail "$*: exit $got (wanted $rc): '$out' (wanted '$want')"
}
expect "good-bot:*:43001:43001::/home/good-bot:/bin/sh" 0 getent passwd good-bot
expect "localuser:x:1000:1000:Local User:/home/localuser:/bin/bash" 0 getent passwd 1000
expect "taken-bot:x:1500:1500:Local Bot:/home/taken-bot:/bin/sh" 0 getent passwd taken-bot
expect "" 2 getent passwd uid1000-bot
expect "" 2 getent passwd gid-bot
expect "" 2 getent passwd nobody-bot
expect "" 2 getent passwd huge-bot
expect "" 2 getent passwd 43003
expect "sudo:x:27:localuser" 0 getent group sudo
expect "" 2 getent group 43021
expect "" 2 getent group dup-gid
expect "okgroup:*:43020:good-bot" 0 getent group okgroup
# `id` lists the groups the agent is in: never sudo, never a local group
expect "43001 43020" 0 id -G good-bot
out=$(nss_run "$R" id -Gn good-bot 2>/dev/null)
case " $out " in
*" sudo "*|*" localgrp "*) fail "id -Gn good-bot: $out" ;;
*) ok "id -Gn good-bot: $out (no sudo)" ;;
esac

echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
