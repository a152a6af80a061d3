#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_cli_escape.sh - what a directory writer puts in an entry reaches the
# terminal escaped: an agent whose description, gecos, scope, uid and owner
# DN hold ESC[2J (clear screen), an OSC title sequence, a newline and a
# backslash, printed by show, list and check in words (escaped: \x1b, \n,
# \\) and in JSON (\u001B, \n); a user name from the command line with
# bytes that are not UTF-8, a C1 CSI and a bidirectional override.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
D=$AGENTID_TEST_LDAP_DIR
ESC=$'\x1b'
# b64 TEXT: TEXT in base64 on one line, for an LDIF "attr:: value"
b64() { printf '%s' "$1" | base64 -w0; }
DESC="hi${ESC}[2J"$'\n'"status: active"
GECOS="Evil${ESC}[2J"$'\n'"Gecos"
SCOPE="host:*${ESC}]0;owned"$'\a'
UIDV="esc${ESC}[31mbot"
cat >"$D/esc.ldif" <<LDIF
dn: ou=people,@BASE@
objectClass: organizationalUnit
ou: people

dn: ou=agents,@BASE@
objectClass: organizationalUnit
ou: agents

dn: uid=alice,ou=people,@BASE@
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example

dn: cn=mal\\5Cory\\1B[2J,ou=people,@BASE@
objectClass: inetOrgPerson
uid: mallory
cn:: $(b64 "mal\\ory${ESC}[2J")
sn: Mallory

dn: uid=esc-bot,ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: esc-bot
cn: esc-bot
uidNumber: 46001
gidNumber: 46001
homeDirectory: /home/esc-bot
gecos:: $(b64 "$GECOS")
description:: $(b64 "$DESC")
agentOwner: uid=alice,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope:: $(b64 "$SCOPE")
agentScope: service:*

dn: cn=esc-uid,ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid:: $(b64 "$UIDV")
cn: esc-uid
uidNumber: 46002
gidNumber: 46002
homeDirectory: /home/esc-uid
agentOwner: cn=mal\\5Cory\\1B[2J,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:*

dn: uid=mal-bot,ou=agents,@BASE@
objectClass: account
objectClass: agentIdentity
uid: mal-bot
agentOwner: cn=mal\\5Cory\\1B[2J,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:*
agentScope: service:*
LDIF
slapd_load "$D/esc.ldif" || exit 1
C="$D/agentid.conf"
slapd_write_conf "$C"

# has TEXT NEEDLE WHAT: TEXT contains NEEDLE (a literal string).
has() {
	CHECKS=$((CHECKS + 1))
	case $1 in
	*"$2"*) echo "ok: $3" ;;
	*) fail "$3: '$2' not in: $(printf '%q' "$1")" ;;
	esac
}

# inert TEXT WHAT: TEXT holds no control character but newline (so no ESC,
# BEL or CR), no C1 CSI (UTF-8 c2 9b) and no U+202E (e2 80 ae).
inert() {
	CHECKS=$((CHECKS + 1))
	if printf '%s' "$1" | LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]\|\xc2\x9b\|\xe2\x80\xae'; then
		fail "$2: raw control characters: $(printf '%q' "$1")"
	else
		echo "ok: $2 is inert"
	fi
}

out=$("$AGENTID" --config "$C" show esc-bot 2>&1)
inert "$out" "show"
has "$out" '  description:  hi\x1b[2J\nstatus: active' "show: description escaped"
has "$out" '  gecos:        Evil\x1b[2J\nGecos' "show: gecos escaped"
has "$out" '  scope:        host:*\x1b]0;owned\x07' "show: scope escaped"
CHECKS=$((CHECKS + 1))
printf '%s\n' "$out" | grep -q '^status: active' &&
    fail "show: the description forged a line" || echo "ok: no forged line"

out=$("$AGENTID" --config "$C" show esc-bot --json 2>&1)
inert "$out" "show --json"
has "$out" '"description":"hi\u001B[2J\nstatus: active"' "show --json: description"
has "$out" '"gecos":"Evil\u001B[2J\nGecos"' "show --json: gecos"

out=$("$AGENTID" --config "$C" list 2>&1)
inert "$out" "list"
has "$out" 'esc\x1b[31mbot' "list: uid escaped"
has "$out" 'cn=mal\\5Cory\x1b[2J,ou=people,' "list: owner DN escaped, its backslash doubled"
out=$("$AGENTID" --config "$C" list --json 2>&1)
inert "$out" "list --json"
has "$out" '"uid":"esc\u001B[31mbot"' "list --json: uid"

# the uid holds ESC: check refuses the name, and says so escaped
out=$("$AGENTID" --config "$C" check "$UIDV" --service x 2>&1)
inert "$out" "check of the ESC uid"
has "$out" 'esc\x1b[31mbot' "check: user escaped"

# an owner DN with ESC (a DN from libldap holds the raw byte)
out=$("$AGENTID" --config "$C" check mal-bot --service x 2>&1)
inert "$out" "check of mal-bot"
has "$out" '  owner:   cn=mal\\5Cory\x1b[2J,ou=people,' "check: owner DN escaped"
has "$out" '           -> cn=mal\\5Cory\x1b[2J,ou=people,' "check: chain escaped"
out=$("$AGENTID" --config "$C" show mal-bot 2>&1)
inert "$out" "show of mal-bot"
has "$out" 'owned by cn=mal\\5Cory\x1b[2J,ou=people,' "show: chain escaped"
out=$("$AGENTID" --config "$C" check mal-bot --service x --json 2>&1)
inert "$out" "check --json of mal-bot"
has "$out" '"owner":"cn=mal\\5Cory\u001B[2J,ou=people,' "check --json: owner"

# what the operator types is escaped too (on stdout and stderr)
BAD=$'\xff'"x"$'\xc2\x9b'"2J"$'\xe2\x80\xae'"txt"$'\\'
for cmd in show check; do
	out=$("$AGENTID" --config "$C" $cmd "$BAD" 2>&1)
	inert "$out" "$cmd of a bad name"
	has "$out" '\xffx\xc2\x9b2J\xe2\x80\xaetxt\\' "$cmd: bad name escaped"
done
# JSON: jansson escapes C0 controls; the C1 CSI and U+202E too (\uXXXX)
out=$("$AGENTID" --config "$C" check "r"$'\xc2\x9b'"l"$'\xe2\x80\xae'"x" --json 2>&1)
inert "$out" "check --json of a C1 and bidi name"
has "$out" '"user":"r\u009Bl\u202Ex"' "check --json: C1 and bidi escaped"
out=$("$AGENTID" --config "$C" "bo${ESC}[2Jgus" 2>&1)
inert "$out" "an unknown command"
has "$out" 'unknown command: bo\x1b[2Jgus' "unknown command escaped"

finish
