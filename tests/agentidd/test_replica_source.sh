#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_replica_source.sh - where decisions come from (DESIGN.md `source`):
# with agentidd running and fresh, `agentid check` and PAM account decide
# from the replica (audited "source":"replica") and slapd sees no
# operation for them (its stats log: no new connection, no search but
# agentidd's); agentidd stopped and replica_max_age (2 s) passed: from the
# directory; a user the replica still knows but the directory deleted:
# `deleted`; slapd stopped too: `offline cache` decides from the replica
# ("source":"offline", the same decisions), `offline deny` answers
# ldap_unavailable / PAM_AUTHINFO_UNAVAIL, and so does `offline cache` once
# the replica is older than offline_max_age.
set -u
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
DRIVER=$B/tests/pam/pam_driver
MODULE=$(cd "$B" && pwd)/pam_agent/.libs/pam_agent.so
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built" >&2; exit 1; }
[ -f "$MODULE" ] || { echo "FAIL: $MODULE not built" >&2; exit 1; }
"$DRIVER" --confdir /nonexistent --service x --user x close >/dev/null 2>&1
[ $? -eq 77 ] && _slapd_skip "libpam has no pam_start_confdir"

agentidd_setup --debug stats || exit 1
SLOG=$D/slapd.log
ldapmod -a <<EOF || { fail "loading the directory"; finish; }
dn: ou=people,$AGENTID_TEST_LDAP_BASE
objectClass: organizationalUnit
ou: people

dn: ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: organizationalUnit
ou: agents

dn: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example

dn: uid=carol,ou=people,$AGENTID_TEST_LDAP_BASE
objectClass: inetOrgPerson
uid: carol
cn: Carol
sn: Human

$(for bn in bot-ok:41001 bot-rev:41002 bot-gone:41003; do
	b=${bn%:*}
	cat <<EOB
dn: uid=$b,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: $b
cn: $b
uidNumber: ${bn#*:}
gidNumber: 41000
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
agentScope: host:*
agentScope: service:sshd
agentScope: service:agentid-*
$( [ $b = bot-rev ] && echo "agentStatus: revoked")

EOB
done)
EOF
common=("hostname test.example.org" "heartbeat 1" "replica_max_age 2s"
    "replica $R")
slapd_write_conf "$CONF" "${common[@]}"
C_CACHE=$D/cache.conf C_DENY=$D/deny.conf C_OLD=$D/old.conf
slapd_write_conf "$C_CACHE" "${common[@]}" "offline cache" "offline_max_age 1d"
slapd_write_conf "$C_DENY" "${common[@]}" "offline deny"
slapd_write_conf "$C_OLD" "${common[@]}" "offline cache" "offline_max_age 1s"
AUDIT=$D/audit.log
SVC=$D/pam.d
mkdir -p "$SVC"
pam_service() { # pam_service CONF: the stack agentid-test with that config
	printf 'account required %s config=%s\n' "$MODULE" "$1" \
	    >"$SVC/agentid-test"
}

# check CONF USER: sets OUT (the JSON on one line) and RC
check() {
	OUT=$("$AGENTID" --config "$1" check "$2" --json 2>&1)
	RC=$?
	OUT=$(tr -d '\n' <<<"$OUT")
}
# account CONF USER: sets CODE (PAM_...)
account() {
	pam_service "$1"
	CODE=$("$DRIVER" --confdir "$SVC" --service agentid-test --user "$2" \
	    --rhost 127.0.0.1 account 2>>"$D/driver.err" | sed -n 's/^account=//p')
}
# last_audit EVENT USER: the last audit line of that event and user
last_audit() {
	grep "\"event\":\"$1\"" "$AUDIT" | grep "\"user\":\"$2\"" | tail -1
}
# expect_check CONF USER REASON SOURCE
expect_check() {
	check "$1" "$2"
	if grep -q "\"reason\": *\"$3\"" <<<"$OUT" &&
	    last_audit check "$2" | grep -q "\"reason\":\"$3\".*\"source\":\"$4\"\|\"source\":\"$4\".*\"reason\":\"$3\""; then
		ok "check $2: $3, source $4"
	else
		fail "check $2: wanted $3 from $4: $OUT; audit: $(last_audit check "$2")"
	fi
}
# expect_account CONF USER PAM_CODE REASON SOURCE
expect_account() {
	account "$1" "$2"
	if [ "$CODE" = "$3" ] &&
	    last_audit account "$2" | grep -q "\"reason\":\"$4\"" &&
	    last_audit account "$2" | grep -q "\"source\":\"$5\""; then
		ok "PAM account $2: $3 ($4, source $5)"
	else
		fail "PAM account $2: wanted $3 $4 from $5, got $CODE; audit: $(last_audit account "$2")"
	fi
}

start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
wait_in_step 30 || fail "agentidd not in step"

# --- fresh replica: no LDAP operation for a decision
agentidd_conns() { # the connections that carry agentidd's sync search
	grep ' SRCH .*filter="(|(objectClass=agentIdentity)' "$SLOG" |
	    sed 's/.*conn=\([0-9]*\) .*/\1/' | sort -u
}
n0=$(wc -l <"$SLOG")
for u in bot-ok bot-rev carol nobody; do check "$CONF" "$u"; done
expect_check "$CONF" bot-ok ok replica
expect_check "$CONF" bot-rev revoked replica
expect_check "$CONF" carol not_an_agent replica
expect_account "$CONF" bot-ok PAM_SUCCESS ok replica
expect_account "$CONF" bot-rev PAM_PERM_DENIED revoked replica
expect_account "$CONF" bot-ok PAM_SUCCESS ok replica
mine=$(agentidd_conns | tr '\n' '|')
ops=$(tail -n +"$((n0 + 1))" "$SLOG" | grep ' ACCEPT \| SRCH \| BIND ' |
    grep -Ev " conn=(${mine%|}) " | grep -c .)
hb=$(tail -n +"$((n0 + 1))" "$SLOG" | grep -c ' SRCH base=""')
[ "$ops" = 0 ] && [ -n "$mine" ] &&
    ok "slapd saw 0 operations for 10 decisions from the replica ($hb heartbeats of agentidd meanwhile)" ||
    fail "$ops LDAP operations during decisions from the replica (agentidd: conn $mine)"

# --- an entry a reader cannot represent (a NUL byte in a value, which slapd
# accepts): the replica fails the decision as a live read does; it never
# turns the agent into "no such agent" (a pass-through for PAM)
ldapmod <<EOF || fail "adding a NUL byte to bot-rev"
dn: uid=bot-rev,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
add: agentScope
agentScope:: c2VydmljZTpzc2gAZA==
EOF
for i in $(seq 50); do
	check "$CONF" bot-rev
	[ "$RC" = 2 ] && break
	sleep 0.1
done
[ "$RC" = 2 ] && ok "malformed agent entry: check fails (exit 2), as from the directory" ||
    fail "malformed agent entry: exit $RC: $OUT"
account "$CONF" bot-rev
[ "$CODE" = PAM_AUTHINFO_UNAVAIL ] &&
    ok "malformed agent entry: PAM account PAM_AUTHINFO_UNAVAIL, not a pass-through" ||
    fail "malformed agent entry: PAM $CODE"
ldapmod <<EOF || fail "removing the NUL byte"
dn: uid=bot-rev,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
delete: agentScope
agentScope:: c2VydmljZTpzc2gAZA==
EOF
for i in $(seq 50); do
	check "$CONF" bot-rev
	[ "$RC" = 1 ] && last_audit check bot-rev | grep -q '"source":"replica"' &&
	    break
	sleep 0.1
done
[ "$RC" = 1 ] && last_audit check bot-rev | grep -q '"source":"replica"' &&
    ok "entry readable again: revoked, from the replica" ||
    fail "after the repair: exit $RC: $OUT; $(last_audit check bot-rev)"

# --- agentidd stopped: the replica goes stale, the directory decides
stop_daemon || fail "agentidd exit status"
sleep 3 # replica_max_age 2s
n0=$(wc -l <"$SLOG")
expect_check "$CONF" bot-ok ok directory
expect_account "$CONF" bot-rev PAM_PERM_DENIED revoked directory
ops=$(tail -n +"$((n0 + 1))" "$SLOG" | grep -c ' SRCH ')
[ "$ops" -gt 0 ] && ok "decisions from the directory show in slapd's log ($ops searches)" ||
    fail "no search seen for decisions from the directory: the count above proves nothing"
ldapmod <<EOF || fail "deleting bot-gone"
dn: uid=bot-gone,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: delete
EOF
expect_check "$CONF" bot-gone deleted directory
expect_account "$CONF" bot-gone PAM_PERM_DENIED deleted directory

# --- slapd stopped too
kill "$AGENTID_TEST_LDAP_PID" && wait "$AGENTID_TEST_LDAP_PID" 2>/dev/null
expect_check "$C_CACHE" bot-ok ok offline
expect_check "$C_CACHE" bot-rev revoked offline
expect_check "$C_CACHE" carol not_an_agent offline
expect_account "$C_CACHE" bot-ok PAM_SUCCESS ok offline
expect_account "$C_CACHE" bot-rev PAM_PERM_DENIED revoked offline
check "$C_DENY" bot-ok
[ "$RC" = 2 ] && grep -q '"reason": *"ldap_unavailable"' <<<"$OUT" &&
    ok "offline deny: check answers ldap_unavailable (exit 2)" ||
    fail "offline deny: exit $RC: $OUT"
account "$C_DENY" bot-ok
[ "$CODE" = PAM_AUTHINFO_UNAVAIL ] &&
    last_audit account bot-ok | grep -q '"reason":"ldap_unavailable"' &&
    ok "offline deny: PAM account PAM_AUTHINFO_UNAVAIL, audited ldap_unavailable" ||
    fail "offline deny: PAM $CODE; audit: $(last_audit account bot-ok)"
account "$C_OLD" bot-ok
[ "$CODE" = PAM_AUTHINFO_UNAVAIL ] &&
    ok "offline cache with a replica older than offline_max_age: PAM_AUTHINFO_UNAVAIL" ||
    fail "offline cache, replica too old: PAM $CODE"

grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" "$D/driver.err" &&
    fail "sanitizer report"
finish
