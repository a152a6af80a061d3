#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_delta_attacks.sh - what a directory writer tries through the NSS
# replica's delta while agentidd runs (each change arrives as a delta over
# the base): a group that lists root gets root nothing; a group moved onto
# a local group's gid is not served; a newcomer claiming a served agent's
# uid or name is refused and the served agent keeps them; an agent renamed
# away leaves its name to a newcomer of the same batch, never twice; a
# deleted group leaves its members' lists. Root only (a copy of /etc in a
# private mount namespace); SKIP otherwise.
set -u
if [ "$(id -u)" != 0 ]; then
	echo "SKIP: needs root (private mount namespace, getent through the module)" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
agentidd_setup || exit 1
slapd_load "${top_srcdir:-.}/tests/nss/sync.ldif" || { fail "loading"; finish; }
echo "localteam:x:3000:" >>/etc/group
slapd_write_conf "$CONF" "owner_active_filter (employeeType=staff)" \
    "heartbeat 1" "replica $R"
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
nss_setup
start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
A=ou=agents,$AGENTID_TEST_LDAP_BASE
G=ou=groups,$AGENTID_TEST_LDAP_BASE
ino0=$(stat -c %i "$R")

ent() { nss_run "$R" getent "$@" 2>/dev/null; }
# waits (5 s at most) until "$@" holds
until_ok() {
	local _
	for _ in $(seq 1 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}
agent() { # name uid
	cat <<EOF
dn: uid=$1,$A
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: $1
cn: $1
uidNumber: $2
gidNumber: $2
homeDirectory: /home/$1
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)

EOF
}

# --- a group listing root and an agent
ldapmod -a <<EOF || fail "ldapadd evil"
dn: cn=evil,$G
objectClass: posixGroup
cn: evil
gidNumber: 42050
memberUid: root
memberUid: ok-bot
EOF
if until_ok eval 'ent initgroups ok-bot | grep -qw 42050'; then
	ok "evil listed ok-bot: in its groups"
else fail "evil not in ok-bot's groups: $(ent initgroups ok-bot)"; fi
ent initgroups root | grep -qw 42050 &&
    fail "root got the directory group evil: $(ent initgroups root)" ||
    ok "root gets no directory group"

# --- a group moved onto a local group's gid
ldapmod <<EOF || fail "ldapmodify bots"
dn: cn=bots,$G
changetype: modify
replace: gidNumber
gidNumber: 3000
EOF
if until_ok eval '! ent initgroups ok-bot | grep -qw 42001'; then
	ok "bots left its old gid"
else fail "bots still 42001: $(ent initgroups ok-bot)"; fi
ent initgroups ok-bot | grep -qw 3000 &&
    fail "ok-bot got the local group 3000: $(ent initgroups ok-bot)" ||
    ok "ok-bot is not put in the local group 3000"
ent group 3000 | grep -q '^localteam:' && ! ent group bots >/dev/null &&
    ok "gid 3000 is localteam only" || fail "group 3000: $(ent group 3000); bots: $(ent group bots)"

# --- a newcomer claiming ok-bot's uid, another its name (other DN)
{ agent thief 41001; } | ldapmod -a || fail "ldapadd thief"
ldapmod -a <<EOF || fail "ldapadd second ok-bot"
dn: uid=ok-bot,ou=people,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: ok-bot
cn: ok-bot
uidNumber: 41077
gidNumber: 41077
homeDirectory: /home/ok-bot2
loginShell: /bin/bash
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
EOF
{ agent marker 41090; } | ldapmod -a || fail "ldapadd marker"
until_ok eval 'ent passwd marker >/dev/null' || fail "marker never served"
ent passwd 41001 | grep -q '^ok-bot:\*:41001:' &&
    ok "uid 41001 stays ok-bot's" || fail "uid 41001: $(ent passwd 41001)"
ent passwd thief >/dev/null && fail "thief served: $(ent passwd thief)" ||
    ok "thief not served"
n=$(ent passwd | grep -c '^ok-bot:')
[ "$n" -le 1 ] && ok "ok-bot enumerated at most once ($n)" ||
    fail "ok-bot enumerated $n times: $(ent passwd | grep '^ok-bot:')"
ent passwd 41077 >/dev/null && fail "uid 41077 served: $(ent passwd 41077)" ||
    ok "the second ok-bot's uid is not served"

# --- renamed away, the name taken in the same batch
ldapmod <<EOF || fail "ldapmodify renames"
dn: uid=helper,$A
changetype: modrdn
newrdn: uid=helper-old
deleteoldrdn: 1

EOF
{ agent helper 41095; } | ldapmod -a || fail "ldapadd new helper"
if until_ok eval 'ent passwd helper-old >/dev/null'; then
	ok "helper renamed helper-old"
else fail "helper-old not served"; fi
until_ok eval 'ent passwd helper | grep -q "^helper:\*:41095:"' &&
    ok "the new helper has the name" || fail "helper: $(ent passwd helper)"
n=$(ent passwd | grep -c '^helper:')
[ "$n" = 1 ] && ok "helper enumerated once" || fail "helper enumerated $n times"
ent passwd 41005 | grep -q '^helper-old:' && ok "41005 is helper-old" ||
    fail "41005: $(ent passwd 41005)"

# --- a deleted group leaves its members' lists
ldapdelete -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" "cn=evil,$G" || fail "deleting evil"
if until_ok eval '! ent initgroups ok-bot | grep -qw 42050'; then
	ok "evil gone from ok-bot's groups"
else fail "ok-bot still in 42050: $(ent initgroups ok-bot)"; fi
[ "$(stat -c %i "$R")" = "$ino0" ] && ok "all of it as deltas (base inode kept)" ||
    echo "note: a base was rewritten meanwhile"
stop_daemon || true
rm -rf "$NSS_TMP"
finish
