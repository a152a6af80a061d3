#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_replica_threads.sh - NSS lookups from 8 threads while agentidd's
# replica writer rewrites the replica, everything built with
# ThreadSanitizer (issue 15, item 5). Run by tests/tsan/run.sh, which
# builds the tree with -fsanitize=thread and sets top_builddir to it; not
# part of "make check" (an ASan tree cannot host TSan code).
#
# A slapd with syncprov holds STABLE agents that never change and 20 that
# an ldapmodify stream suspends and resumes at 100 changes/s; agentidd (TSan)
# follows it and rewrites the replica on each change; tests/tsan/nss_lookups
# (TSan, libnss_agent.so.2 of the TSan tree dlopened) looks agents up from 8
# threads meanwhile: every answer whole and right, and the lookups see the
# writer's changes (state flips). Any ThreadSanitizer report in the lookups
# or in agentidd (halt_on_error; agentidd's reports go to files, it runs as
# the user agentid) fails the test, as do wrong answers and a replica that
# ends out of step with the directory.
#   TSAN_LOOKUPS (per thread, default 20000), TSAN_FLIPS (default 20)
# Root only (agentidd in a private mount namespace): SKIP (77) otherwise.
set -u
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
[ "$(id -u)" = 0 ] || { echo "SKIP: agentidd needs root (its system user in a private mount namespace)" >&2; exit 77; }
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"

LOOKUPS=${TSAN_LOOKUPS:-20000}
FLIPS=${TSAN_FLIPS:-20}
STABLE=200
CHURN=20
NSSMOD=$B/nss_agent/.libs/libnss_agent.so.2
[ -f "$NSSMOD" ] || { echo "FAIL: $NSSMOD not built" >&2; exit 1; }
[ -x "$AGENTIDD" ] || { echo "FAIL: $AGENTIDD not built" >&2; exit 1; }

agentidd_setup || exit 1
TS=$D/tsan
mkdir -p "$TS" && chmod 1777 "$TS"
gcc -std=gnu11 -O1 -g -fsanitize=thread -Wall -Wextra -Werror \
    "$top_srcdir/tests/tsan/nss_lookups.c" -o "$TS/nss_lookups" -ldl -lpthread ||
    { fail "could not build the TSan lookup driver"; finish; }

entry() { # entry NAME UID
	cat <<EOF
dn: uid=$1,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: $1
cn: $1
uidNumber: $2
gidNumber: 41000
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
agentScope: host:*
agentScope: service:*

EOF
}
{
	printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$AGENTID_TEST_LDAP_BASE"
	printf 'dn: ou=agents,%s\nobjectClass: organizationalUnit\nou: agents\n\n' "$AGENTID_TEST_LDAP_BASE"
	printf 'dn: uid=alice,ou=people,%s\nobjectClass: inetOrgPerson\nuid: alice\ncn: Alice\nsn: Example\n\n' "$AGENTID_TEST_LDAP_BASE"
	for ((i = 1; i <= STABLE; i++)); do entry "$(printf stable-%04d $i)" $((43000 + i)); done
	for ((k = 1; k <= CHURN; k++)); do entry "$(printf churn-%02d $k)" $((42000 + k)); done
} | ldapmod -a || { fail "loading the directory"; finish; }

slapd_write_conf "$CONF" "hostname test.example.org" "heartbeat 1" "replica $R"
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1 log_path=$TS/agentidd"
start_daemon
wait_caught_up 120 1 || { fail "agentidd: no initial refresh"; tail "$D/agentidd.log" >&2; finish; }

# the changes: change n suspends churn-(n mod 20 + 1) when (n / 20) is even
# and resumes it when odd, paced at 100/s, until the lookups end
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
churn() {
	local start n=0 target st
	start=$(now_ms)
	while [ ! -e "$D/churn.stop" ]; do
		target=$(( ($(now_ms) - start) / 10 ))
		while [ $n -lt $target ]; do
			st=suspended
			[ $(( (n / CHURN) % 2 )) -eq 1 ] && st=active
			printf 'dn: uid=churn-%02d,ou=agents,%s\nchangetype: modify\nreplace: agentStatus\nagentStatus: %s\n\n' \
			    $((n % CHURN + 1)) "$AGENTID_TEST_LDAP_BASE" "$st"
			n=$((n + 1))
		done
		sleep 0.02
	done
	echo "$n" >"$D/churn.count"
}
( churn | ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" \
    -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
    >"$D/churn.out" 2>&1 ) &
CPID=$!

# the lookups: their own TSan reports on stderr, halting at the first
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
    "$TS/nss_lookups" "$NSSMOD" "$R" "$STABLE" "$CHURN" "$LOOKUPS" "$FLIPS" \
    >"$D/lookups.out" 2>"$D/lookups.err"
rc=$?
touch "$D/churn.stop"
wait "$CPID"
n_changes=$(cat "$D/churn.count")
if [ $rc -eq 0 ]; then
	ok "lookups under TSan: $(cat "$D/lookups.out") ($n_changes directory changes meanwhile)"
else
	fail "nss_lookups exited $rc (66: a ThreadSanitizer report): $(cat "$D/lookups.out")"
	head -n 60 "$D/lookups.err" >&2
fi

# the writer caught up: the replica says what the directory says
wait_in_step 120 || fail "agentidd not in step after the changes"
stop_daemon
rc=$?
[ $rc -eq 0 ] && ok "agentidd (TSan) stopped cleanly" ||
    fail "agentidd exited $rc (66: a ThreadSanitizer report)"
reports=$(ls "$TS"/agentidd.* 2>/dev/null)
if [ -z "$reports" ]; then
	ok "no ThreadSanitizer report from agentidd"
else
	fail "ThreadSanitizer reports from agentidd: $reports"
	head -n 60 $reports >&2
fi
finish
