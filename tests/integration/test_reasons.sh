#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_reasons.sh - every reason code of DESIGN.md end to end: directory
# entries in a real slapd -> libagentid's LDAP source -> policy engine ->
# "agentid check" exit code and reason. Also the injection names.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start || exit 1
slapd_load "$top_srcdir/tests/integration/reasons.ldif" || exit 1
C="$AGENTID_TEST_LDAP_DIR/agentid.conf"
slapd_write_conf "$C" "hostname web1.example.org" "max_lifetime 365d" \
    "owner_active_filter (employeeType=staff)"

expect_check "$C" 0 ok ok-bot
expect_check "$C" 1 not_an_agent alice
expect_check "$C" 1 not_an_agent carol
expect_check "$C" 1 not_an_agent nobody-at-all
expect_check "$C" 1 chain_cycle cyc-a
expect_check "$C" 1 chain_too_deep d1
expect_check "$C" 0 ok d2              # 4 agents: exactly the limit
expect_check "$C" 1 owner_missing lost-bot
expect_check "$C" 1 owner_inactive orphan-bot
expect_check "$C" 1 suspended paused-bot
expect_check "$C" 1 revoked worker
expect_check "$C" 1 revoked boss
expect_check "$C" 1 not_yet_valid future-bot
expect_check "$C" 1 expired old-bot
expect_check "$C" 1 lifetime_exceeds_policy long-bot
expect_check "$C" 1 scope_service cron-bot
expect_check "$C" 0 ok cron-bot --service cron
expect_check "$C" 1 scope_host db-bot
expect_check "$C" 0 ok db-bot --host db-7.example.org
expect_check "$C" 1 scope_from net-bot --rhost 192.0.2.7
expect_check "$C" 0 ok net-bot --rhost 10.1.2.3
expect_check "$C" 1 cert_mismatch key-bot --ca-fingerprint SHA256:bm90dGhla2V5bm90dGhla2V5bm90dGhla2V5bm90dGg
expect_check "$C" 0 ok key-bot --ca-fingerprint SHA256:Zm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm9vYmFyZm8
expect_check "$C" 0 ok helper                          # host web1 granted by lead
expect_check "$C" 1 scope_host helper --host db-1      # lead does not grant it

# The delegator named as the culprit, in words a sysadmin understands.
out=$("$AGENTID" --config "$C" check worker)
case $out in
"denied: revoked — uid=boss,ou=agents,$AGENTID_TEST_LDAP_BASE (delegator of uid=worker,ou=agents,$AGENTID_TEST_LDAP_BASE) is revoked"*)
	echo "ok: explanation names the delegator" ;;
*) fail "explanation of worker: $out" ;;
esac

# The JSON of check carries what DESIGN.md promises.
out=$("$AGENTID" --config "$C" check worker --json)
for key in decision reason user owner chain not_before not_after; do
	case $out in
	*"\"$key\":"*) ;;
	*) fail "check --json lacks $key: $out" ;;
	esac
done
case $out in
*'"decision":"deny"'*'"owner":"uid=alice,ou=people,'*'"chain":["uid=worker,ou=agents,'*'","uid=boss,ou=agents,'*'","uid=alice,ou=people,'*) ;;
*) fail "check --json worker: $out" ;;
esac

# Injection: names that are filter syntax match nothing (escaped), and the
# agents still exist.
expect_check "$C" 1 not_an_agent '*'
expect_check "$C" 1 not_an_agent 'x)(uid=*'
expect_check "$C" 1 not_an_agent '*)(objectClass=*'
expect_check "$C" 1 not_an_agent 'ok-bot)(uid=*'
expect_check "$C" 1 not_an_agent 'ok-*'
expect_check "$C" 1 not_an_agent '\2a'
# LDAP matches uid without case; user names are case-sensitive
expect_check "$C" 1 not_an_agent OK-BOT
expect_check "$C" 1 not_an_agent 'ok-bot '
# Names the library refuses outright: error, no decision.
for bad in "" "a/b" "$(printf 'a\tb')" "$(head -c 300 /dev/zero | tr '\0' a)"; do
	CHECKS=$((CHECKS + 1))
	out=$("$AGENTID" --config "$C" check "$bad" 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "check '$bad': exit $rc, wanted 2: $out"
done

# ldap_unavailable: nobody listens -> exit 2, no allow/deny decision.
U="$AGENTID_TEST_LDAP_DIR/down.conf"
slapd_write_conf "$U" "uri ldap://127.0.0.1:1" "timeout 2"
expect_check "$U" 2 ldap_unavailable ok-bot
out=$("$AGENTID" --config "$U" check ok-bot 2>&1)
case $out in
*allowed*|*denied*) fail "unreachable directory gave a decision: $out" ;;
esac

# Every check went to the audit trail, event "check".
n=$(grep -c '"event":"check"' "$AGENTID_TEST_LDAP_DIR/audit.log")
if [ "${n:-0}" -lt 20 ]; then
	fail "audit trail has $n check events"
else
	echo "ok: $n check events in the audit trail"
fi

finish
