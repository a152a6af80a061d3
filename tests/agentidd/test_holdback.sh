#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_holdback.sh - a refresh that would delete more than half of the agents
# is held back until a second refresh confirms it (agentidd keeps serving
# them meanwhile), but it must not vouch for that replica: no contact is
# written, so decisions go to the directory (`deleted`), never an allow from
# a replica that still holds an agent the directory deleted.
set -u
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
agentidd_setup || exit 1
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

dn: uid=bot-ok,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: bot-ok
cn: bot-ok
uidNumber: 41001
gidNumber: 41000
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
agentScope: host:*
agentScope: service:*
EOF
# a long heartbeat: the second refresh comes a heartbeat after the first
slapd_write_conf "$CONF" "hostname test.example.org" "heartbeat 30" \
    "replica $R"
start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
wait_in_step 30 || fail "agentidd not in step"
out=$("$AGENTID" --config "$CONF" check bot-ok --json 2>&1)
grep -q '"source": *"replica"' <<<"$out" && grep -q '"decision": *"allow"' <<<"$out" &&
    ok "before: allowed from the replica" || fail "before: $out"
stop_daemon
ldapdelete -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" "uid=bot-ok,ou=agents,$AGENTID_TEST_LDAP_BASE" ||
    fail "deleting bot-ok"
# agentidd was away longer than replica_max_age
touch -d '-1 min' "${R%.cdb}.contact"
start_daemon
wait_caught_up 30 2 || { fail "no refresh after the restart"; tail "$D/agentidd.log" >&2; finish; }
# held back, written, and nothing more until we let it go on
kill -STOP "$DPID"
grep -q 'held back' "$D/agentidd.log" && ! grep -q 'second refresh confirms' "$D/agentidd.log" &&
    ok "the delete of 1 of 1 agents is held back" ||
    fail "no hold-back: $(tail -3 "$D/agentidd.log")"
out=$("$AGENTID" --config "$CONF" check bot-ok --json 2>&1)
grep -q '"decision": *"deny"' <<<"$out" && grep -q '"source": *"directory"' <<<"$out" &&
    ok "held back: bot-ok decided by the directory (denied)" ||
    fail "held back: a deleted agent decided from the replica: $(tr -d '\n' <<<"$out")"
kill -CONT "$DPID"
finish
