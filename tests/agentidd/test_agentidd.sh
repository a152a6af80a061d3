#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_agentidd.sh - agentidd against a slapd with syncprov: the initial
# refresh writes the replica (equal to what `agentid sync` writes); an add,
# a revocation and a delete show in the NSS replica (latency printed, 5 s
# ceiling); as root, an add, a change and a delete show through getent
# (libnss_agent) while the base file keeps its inode (only the delta is
# rewritten); a restart resumes with the saved cookie (no entries resent); a
# burst of 10,000 changes ends with the replica equal to the directory; a
# SIGKILLed slapd comes back and agentidd catches up. As root agentidd
# drops to the system user `agentid`, which the packages create: here it
# exists only in a private mount namespace, in a copy of /etc bound
# over the real one (readers accept a replica owned by root or agentid).
set -u
# the long agentidd tests run once per scripts/test, in its main build;
# the second configuration of `make distcheck` builds them and skips them
if [ "${AGENTID_DISTCHECK:-}" = 1 ]; then
	echo "SKIP: ran in the main build of this scripts/test" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
B=${top_builddir:-.}
AGENTIDD=$B/agentidd/agentidd
AGENTID=$B/agentid
DUMP=$B/tests/agentidd/replica_dump
FAILS=0 CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }

[ -r /usr/lib/ldap/syncprov.so ] || [ -r /usr/lib/ldap/syncprov.la ] ||
    _slapd_skip "slapd's syncprov module is missing"
slapd_start --syncprov
D=$AGENTID_TEST_LDAP_DIR
DPID=
SLAPD2=
cleanup() {
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -n "$SLAPD2" ] && kill -9 "$SLAPD2" 2>/dev/null && wait "$SLAPD2" 2>/dev/null
	slapd_stop
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
slapd_load "${top_srcdir:-.}/tests/nss/sync.ldif" || exit 1
mkdir -p "$D/replica"
CONF=$D/agentid.conf
R=$D/replica/agents.cdb
slapd_write_conf "$CONF" "owner_active_filter (employeeType=staff)" \
    "heartbeat 1" "replica $R"
USEROPT=()
[ "$(id -u)" = 0 ] && USEROPT=(--user agentid)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

start_daemon() {
	"$AGENTIDD" --foreground --config "$CONF" "${USEROPT[@]}" \
	    >>"$D/agentidd.log" 2>&1 &
	DPID=$!
}
stop_daemon() {
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	local rc=$?
	DPID=
	return $rc
}
# Waits (up to $1 s) until the log has $2 lines matching "caught up".
wait_caught_up() {
	local i
	for i in $(seq 1 $(($1 * 10))); do
		[ "$(grep -c 'caught up' "$D/agentidd.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}
ldapmod() {
	ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
	    -w "$AGENTID_TEST_LDAP_ROOTPW" "$@" >/dev/null
}
nss_line() { "$DUMP" nss "$R" 2>/dev/null | grep "^$1 "; }
# Polls (5 s) until CMD succeeds; prints the latency in ms.
poll() {
	local t0 t1 i
	t0=$(date +%s%N)
	for i in $(seq 1 500); do
		if "$@"; then
			t1=$(date +%s%N)
			echo $(((t1 - t0) / 1000000))
			return 0
		fi
		sleep 0.01
	done
	return 1
}
compare_with_sync() {
	"$AGENTID" --config "$CONF" sync --replica "$D/ref.cdb" >/dev/null 2>&1 ||
	    { echo "agentid sync failed"; return 1; }
	"$DUMP" nss "$D/ref.cdb" | sort >"$D/ref.txt"
	compare_with_ref
}
# compare_with_ref: agentidd's replica against the last reference (the
# directory no longer changes: one sync, then only agentidd is waited for)
compare_with_ref() {
	"$DUMP" nss "$R" | sort >"$D/got.txt"
	cmp -s "$D/ref.txt" "$D/got.txt"
}

# --- initial refresh
start_daemon
wait_caught_up 20 1 && ok "initial refresh caught up" ||
    { fail "no initial refresh"; cat "$D/agentidd.log" >&2; exit 1; }
[ -s "$R" ] && ok "NSS replica written" || fail "no NSS replica"
if compare_with_sync; then
	ok "replica equals agentid sync's ($(wc -l <"$D/ref.txt") agents)"
else
	fail "replica differs from agentid sync's"; diff "$D/ref.txt" "$D/got.txt" >&2
fi
[ -s "${R%.cdb}.records" ] && [ -s "${R%.cdb}.contact" ] &&
    [ -s "${R%.cdb}.cookie" ] && ok "records, contact and cookie written" ||
    fail "companion files missing: $(ls "$D/replica")"
if [ "$(id -u)" = 0 ]; then
	[ "$(stat -c %U "$D/replica")" = agentid ] &&
	    [ "$(stat -c %U "${R%.cdb}.records")" = agentid ] &&
	    ok "dropped to agentid; the replica directory is its" ||
	    fail "owner $(stat -c %U "$D/replica")"
fi
m1=$(stat -c %Y "${R%.cdb}.contact")
sleep 2.2
m2=$(stat -c %Y "${R%.cdb}.contact")
[ "$m2" -gt "$m1" ] && ok "heartbeat refreshes the contact file" ||
    fail "contact not refreshed ($m1 -> $m2)"
# agentid status: the daemon, its directory, and the source a decision uses
st=$("$AGENTID" --config "$CONF" status --json 2>&1)
case $st in
*'"agentidd":"running"'*'"uri":"ldap://127.0.0.1:'*'"source":"replica"'*)
	ok "status: agentidd running, decisions from the replica" ;;
*) fail "status: $st" ;;
esac
case $st in
*'"replica_agents":0,'*|*'"replica_agents":null'*) fail "status: no agents: $st" ;;
*) ok "status: the replica's agents counted" ;;
esac

# --- add, revoke, delete
ldapmod -a <<EOF2 || fail "ldapadd new-bot"
dn: uid=new-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: new-bot
cn: new-bot
uidNumber: 41100
gidNumber: 41100
homeDirectory: /home/new-bot
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
EOF2
if ms=$(poll eval 'nss_line new-bot | grep -q " 0 "'); then
	ok "add visible through the NSS replica after $ms ms"
else fail "added agent not visible within 5 s"; fi
ldapmod <<EOF2 || fail "ldapmodify revoke"
dn: uid=new-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: agentStatus
agentStatus: revoked
EOF2
if ms=$(poll eval 'nss_line new-bot | grep -q "^new-bot 41100 41100 2 "'); then
	ok "revocation visible after $ms ms"
else fail "revocation not visible within 5 s: $(nss_line new-bot)"; fi
ldapmod <<EOF2 || fail "ldapmodify delete"
dn: uid=new-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: delete
EOF2
if ms=$(poll eval '! nss_line new-bot >/dev/null'); then
	ok "delete visible after $ms ms"
else fail "delete not visible within 5 s"; fi
# --- a change is written as a delta beside the base: the base file is
# not rewritten (same inode), getent through libnss_agent sees the change
if [ "$(id -u)" = 0 ]; then
	. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
	nss_setup
	pwline() { nss_run "$R" getent passwd "$@" 2>/dev/null; }
	ino0=$(stat -c %i "$R")
	ldapmod -a <<EOF2 || fail "ldapadd delta-bot"
dn: uid=delta-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: delta-bot
cn: delta-bot
uidNumber: 41101
gidNumber: 41101
homeDirectory: /home/delta-bot
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
EOF2
	if ms=$(poll eval 'pwline delta-bot | grep -q "^delta-bot:\*:41101:41101:.*:/bin/sh$"'); then
		ok "getent: an added agent served after $ms ms"
	else fail "getent: added agent not served: $(pwline delta-bot)"; fi
	ldapmod <<EOF2 || fail "ldapmodify delta-bot"
dn: uid=delta-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: loginShell
loginShell: /bin/bash
EOF2
	if ms=$(poll eval 'pwline delta-bot | grep -q ":/bin/bash$"'); then
		ok "getent: a changed shell served after $ms ms"
	else fail "getent: shell change not served: $(pwline delta-bot)"; fi
	[ "$(pwline 41101 | cut -d: -f1)" = delta-bot ] &&
	    ok "getent by uid" || fail "getent passwd 41101: $(pwline 41101)"
	n=$(pwline | grep -c '^delta-bot:')
	[ "$n" = 1 ] && ok "enumeration lists it once" ||
	    fail "enumeration lists delta-bot $n times"
	[ "$(stat -c %i "$R")" = "$ino0" ] && [ -s "$R.delta" ] &&
	    ok "only the delta was rewritten (base inode $ino0 kept, $(stat -c %s "$R.delta") bytes of delta)" ||
	    fail "the base was rewritten (inode $ino0 -> $(stat -c %i "$R"))"
	ldapmod <<EOF2 || fail "ldapmodify delete delta-bot"
dn: uid=delta-bot,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: delete
EOF2
	if ms=$(poll eval '! pwline delta-bot >/dev/null'); then
		ok "getent: a deleted agent gone after $ms ms"
	else fail "getent: deleted agent still served"; fi
	[ "$(stat -c %i "$R")" = "$ino0" ] &&
	    ok "delete written as a tombstone (base inode kept)" ||
	    fail "the base was rewritten for a delete"
	rm -rf "$NSS_TMP"
fi
# an owner leaving owner_active_filter orphans alice's agents
ldapmod <<EOF2 || fail "ldapmodify alice"
dn: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: employeeType
employeeType: departed
EOF2
if ms=$(poll eval 'nss_line ok-bot | grep -q "^ok-bot 41001 41001 3 "'); then
	ok "owner made inactive: ok-bot orphaned after $ms ms"
else fail "owner change not applied: $(nss_line ok-bot)"; fi
compare_with_sync && ok "still equal to agentid sync's" ||
    { fail "differs after changes"; diff "$D/ref.txt" "$D/got.txt" >&2; }

# --- restart resumes with the cookie
stop_daemon && ok "SIGTERM: clean exit" || fail "exit status on SIGTERM"
start_daemon
wait_caught_up 20 2 && ok "restart caught up" || fail "restart did not catch up"
grep -q 'incremental refresh started' "$D/agentidd.log" &&
    ok "restart resumed incrementally" || fail "no incremental refresh"
n=$(grep 'caught up' "$D/agentidd.log" | tail -1 | sed 's/.*(\([0-9]*\) entries.*/\1/')
[ "${n:-999}" -lt 5 ] && ok "restart: $n entries received (no full reload)" ||
    fail "restart received $n entries"

# --- a burst of 10,000 changes
{
	for i in $(seq 1 5000); do
		cat <<EOF2
dn: uid=burst-$i,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: add
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: burst-$i
cn: burst-$i
uidNumber: $((50000 + i))
gidNumber: 50000
homeDirectory: /home/burst-$i
agentOwner: uid=dave,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)

EOF2
	done
	for i in $(seq 1 5000); do
		if [ $((i % 3)) = 0 ]; then
			printf 'dn: uid=burst-%s,ou=agents,%s\nchangetype: delete\n\n' \
			    "$i" "$AGENTID_TEST_LDAP_BASE"
		else
			printf 'dn: uid=burst-%s,ou=agents,%s\nchangetype: modify\nreplace: agentStatus\nagentStatus: suspended\n\n' \
			    "$i" "$AGENTID_TEST_LDAP_BASE"
		fi
	done
} >"$D/burst.ldif"
t0=$(date +%s)
ldapmod -c -f "$D/burst.ldif" || fail "burst ldapmodify"
t1=$(date +%s)
echo "burst: 10,000 changes sent in $((t1 - t0)) s"
compare_with_sync || for i in $(seq 1 240); do
	sleep 0.5
	compare_with_ref && break
done
if cmp -s "$D/ref.txt" "$D/got.txt"; then
	ok "after the burst the replica equals the directory ($(wc -l <"$D/got.txt") agents)"
else
	fail "replica differs after the burst"; diff "$D/ref.txt" "$D/got.txt" | head >&2
	tail -n 20 "$D/agentidd.log" >&2
fi

# --- SIGKILL slapd, restart it, catch up
kill -9 "$AGENTID_TEST_LDAP_PID"
wait "$AGENTID_TEST_LDAP_PID" 2>/dev/null
sleep 1
# the same listeners and database
slapd -f "$D/slapd.conf" -d 0 -h "ldap://127.0.0.1:$AGENTID_TEST_LDAP_PORT/ \
ldaps://127.0.0.1:$AGENTID_TEST_LDAP_LDAPS_PORT/ $AGENTID_TEST_LDAP_LDAPI_URI" \
    >>"$D/slapd.log" 2>&1 &
SLAPD2=$!
for i in $(seq 1 50); do
	ldapsearch -x -LLL -H "$AGENTID_TEST_LDAP_LDAPI_URI" -s base -b "" >/dev/null 2>&1 && break
	sleep 0.1
done
ldapmod <<EOF2 || fail "ldapmodify after slapd restart"
dn: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: employeeType
employeeType: staff
EOF2
for i in $(seq 1 300); do
	nss_line ok-bot | grep -q "^ok-bot 41001 41001 0 " && break
	sleep 0.1
done
nss_line ok-bot | grep -q "^ok-bot 41001 41001 0 " &&
    ok "after slapd was killed and restarted agentidd caught up" ||
    { fail "no catch-up after slapd restart: $(nss_line ok-bot)"; tail "$D/agentidd.log" >&2; }
compare_with_sync && ok "equal to agentid sync's after the restart" ||
    fail "differs after slapd restart"

stop_daemon || fail "exit status"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" &&
    fail "sanitizer report in the log"
echo "$CHECKS checks, $FAILS failures"
[ $FAILS -eq 0 ]
