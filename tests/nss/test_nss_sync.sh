#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_sync.sh - `agentid sync` against a private slapd: the summary,
# warnings for entries below min_uid, chain states (expired, suspended,
# revoked by cascade, orphaned) served as the nologin shell, groups and
# initgroups through glibc, re-sync after a change, and the old replica kept
# when the directory is down.
set -u
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
AGENTID=${top_builddir:-.}/agentid
FAILS=0 CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }

slapd_start
trap 'slapd_stop; rm -rf "$NSS_TMP"' EXIT
slapd_load "${top_srcdir:-.}/tests/nss/sync.ldif" || exit 1
D=$AGENTID_TEST_LDAP_DIR
CONF=$D/agentid.conf
R=$D/agents.cdb
slapd_write_conf "$CONF" "owner_active_filter (employeeType=staff)" \
    "nologin_shell /usr/sbin/nologin"

# sync: one-line summary, a warning for each entry below min_uid
out=$("$AGENTID" --config "$CONF" sync 2>"$D/sync.err")
rc=$?
CHECKS=$((CHECKS + 1))
if [ $rc -eq 0 ] && [[ $out =~ ^synced\ 7\ agents,\ 2\ groups\ \(1\ expired,\ 2\ suspended,\ 2\ orphaned\;\ 3\ skipped,\ 0\ local\ collisions\)\ in\ [0-9.]+\ s\ →\ $R$ ]]; then
	ok "sync: $out"
else
	fail "sync exit $rc: $out $(cat "$D/sync.err")"
fi
grep -q 'low-bot: uidNumber 500 or gidNumber 500 below min_uid 1000' "$D/sync.err" &&
    ok "warned about low-bot" || fail "no warning for low-bot: $(cat "$D/sync.err")"
grep -q 'group wheel-ish: gidNumber 10 below min_uid 1000' "$D/sync.err" &&
    ok "warned about group wheel-ish" || fail "no warning for wheel-ish"
[ "$(stat -c %a "$R")" = 644 ] && ok "replica mode 0644" ||
    fail "replica mode $(stat -c %a "$R")"
ls "$D" | grep -q '\.tmp\.' && fail "temporary file left: $(ls "$D")" ||
    ok "no temporary file left"

why=$(nss_unusable)
if [ -n "$why" ]; then
	echo "*** SKIP (part): getent checks: $why ***" >&2
else
	nss_setup
	expect() { # WANTED EXIT CMD...
		local want=$1 rc=$2 got out
		shift 2
		out=$(nss_run "$R" "$@" 2>&1)
		got=$?
		[ "$got" = "$rc" ] && [ "$out" = "$want" ] && ok "$*" ||
		    fail "$*: exit $got (wanted $rc): '$out' (wanted '$want')"
	}
	expect "ok-bot:*:41001:41001:OK bot:/home/ok-bot:/bin/sh" 0 getent passwd ok-bot
	expect "helper:*:41005:41005::/home/helper:/bin/bash" 0 getent passwd 41005
	for u in exp-bot susp-bot sub-bot orphan-bot dave-bot; do
		out=$(nss_run "$R" getent passwd "$u")
		case $out in
		*":/home/$u:/usr/sbin/nologin") ok "$u: nologin" ;;
		*) fail "$u: $out" ;;
		esac
	done
	expect "" 2 getent passwd low-bot
	expect "" 2 getent passwd orch
	expect "bots:*:42001:ok-bot,exp-bot,helper,alice" 0 getent group bots
	expect "" 2 getent group wheel-ish
	expect "41005 42001 42002" 0 id -G helper
	expect "41001 42001" 0 id -G ok-bot

	# suspend ok-bot: it and its delegate helper lose their shells
	ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
	    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<EOF2 || fail "ldapmodify"
dn: uid=ok-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: agentStatus
agentStatus: suspended
EOF2
	"$AGENTID" --config "$CONF" sync >/dev/null 2>&1 || fail "second sync"
	expect "ok-bot:*:41001:41001:OK bot:/home/ok-bot:/usr/sbin/nologin" 0 getent passwd ok-bot
	expect "helper:*:41005:41005::/home/helper:/usr/sbin/nologin" 0 getent passwd helper
fi

# --replica PATH; a directory that does not exist is an error
"$AGENTID" --config "$CONF" sync --replica "$D/other.cdb" >/dev/null 2>&1 &&
    [ -s "$D/other.cdb" ] && ok "sync --replica" || fail "sync --replica"
# a delta agentidd left beside the replica: a full sync retires it (the
# new base's generation is above the delta's base, and the delta goes)
if [ "$(id -u)" = 0 ]; then
	if "${top_builddir:-.}/tests/nss/gen_replica" --delta "$D/other.cdb" &&
	    [ -s "$D/other.cdb.delta" ]; then
		"$AGENTID" --config "$CONF" sync --replica "$D/other.cdb" \
		    >/dev/null 2>&1 && [ ! -e "$D/other.cdb.delta" ] &&
		    ok "sync removes the delta of the replica it replaces" ||
		    fail "sync left the delta in place"
	else
		fail "gen_replica --delta"
	fi
fi
"$AGENTID" --config "$CONF" sync --replica "$D/no/such/dir/a.cdb" >/dev/null 2>&1
[ $? -eq 2 ] && ok "sync into a missing directory: exit 2" || fail "missing directory"

# a directory others may write to: readers would refuse the replica, so sync
# refuses to put it there (exit 2, says why, leaves nothing behind)
mkdir -m 0775 "$D/gw" && chmod 0775 "$D/gw"
out=$("$AGENTID" --config "$CONF" sync --replica "$D/gw/a.cdb" 2>&1)
rc=$?
[ $rc -eq 2 ] && [[ $out == *"$D/gw/a.cdb: not put in place"*"directory is writable by group or others (mode 0775): refused"* ]] &&
    [ -z "$(ls -A "$D/gw")" ] && ok "group-writable directory refused: $out" ||
    fail "group-writable directory: exit $rc, $out, left: $(ls -A "$D/gw")"

# the replica may belong to the system user agentid (found in /etc/passwd,
# not through NSS), not to anyone else
if [ -z "$why" ]; then
	mkdir -m 0755 "$D/own" && cp "$R" "$D/own/agents.cdb" || fail "copy"
	{ grep -v '^agentid:' /etc/passwd
	  echo 'agentid:x:990:990:agentid:/nonexistent:/usr/sbin/nologin'; } >"$NSS_TMP/passwd"
	chmod 644 "$NSS_TMP/passwd"
	nss_bind "$NSS_TMP/passwd" /etc/passwd
	chown 990:990 "$D/own/agents.cdb" "$D/own"
	out=$(nss_run "$D/own/agents.cdb" getent passwd ok-bot)
	[ -n "$out" ] && ok "replica owned by agentid served" || fail "agentid-owned replica not served"
	chown 991 "$D/own/agents.cdb"
	out=$(nss_run "$D/own/agents.cdb" getent passwd ok-bot)
	[ $? -eq 2 ] && [ -z "$out" ] && ok "replica owned by uid 991 refused" ||
	    fail "replica owned by uid 991 served: $out"
fi

# directory down: exit 2, the old replica untouched
cp "$R" "$D/before.cdb"
kill -STOP "$AGENTID_TEST_LDAP_PID"
slapd_write_conf "$CONF" "timeout 1"
out=$("$AGENTID" --config "$CONF" sync 2>&1)
rc=$?
kill -CONT "$AGENTID_TEST_LDAP_PID"
[ $rc -eq 2 ] && cmp -s "$R" "$D/before.cdb" && ok "directory down: exit 2, replica kept ($out)" ||
    fail "directory down: exit $rc, $out"
ls "$D" | grep -q '\.tmp\.' && fail "temporary file left" || ok "no temporary file left"

echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
