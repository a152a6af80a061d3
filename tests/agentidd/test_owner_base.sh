#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_owner_base.sh - owners and groups beside `base`, as deployments lay
# them out: agents under ou=agents (base), their human owners under
# ou=people, posixGroups under ou=groups (group_base), an orchestrator
# agent and a stray agentIdentity entry under ou=elsewhere. The directory
# reads an owner by its DN wherever it is, so agentidd syncs the naming
# context holding base (not base alone, which read every owner as
# owner_missing and locked every agent out). Checks: decisions from
# `source replica` equal decisions from `source directory` (agentid check
# --json, as test_equivalence.sh compares them), owners active and inactive
# (owner_active_filter); an owner made inactive under ou=people reaches the
# replica's decisions; an agentIdentity entry outside base is no agent for
# either source (nor for NSS), and an agent moved out of base stops being
# one; groups under group_base are served by NSS, others not; a changed
# `base` (and a replica from before the naming-context search: no
# AGENTS.search) makes agentidd refresh fully instead of resuming with a
# cookie taken for another search.
set -u
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
DUMP=$B/tests/agentidd/replica_dump
[ -x "$DUMP" ] || { echo "FAIL: $DUMP not built" >&2; exit 1; }

agentidd_setup || exit $?
S=$AGENTID_TEST_LDAP_BASE
# agent LDIF: uid uidNumber owner-DN [ou]
agent() {
	cat <<EOB
dn: uid=$1,ou=${4:-agents},$S
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: $1
cn: $1
uidNumber: $2
gidNumber: 41000
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: $3
agentNotAfter: $(_slapd_gentime +30d)
agentScope: host:*
agentScope: service:sshd

EOB
}
person() { # uid employeeType
	printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\n' \
	    "$1" "$S" "$1"
	printf 'cn: %s\nsn: Human\nemployeeType: %s\n\n' "$1" "$2"
}
{
	for ou in agents people groups elsewhere; do
		printf 'dn: ou=%s,%s\nobjectClass: organizationalUnit\nou: %s\n\n' \
		    "$ou" "$S" "$ou"
	done
	person alice staff
	person bob departed
	person carol staff
	agent bot-a 41001 "uid=alice,ou=people,$S"
	agent bot-b 41002 "uid=bob,ou=people,$S"
	agent bot-c 41003 "UID=Carol, ou=People,$S"
	agent orch 41010 "uid=alice,ou=people,$S" elsewhere
	agent bot-d 41004 "uid=orch,ou=elsewhere,$S"
	agent bot-e 41005 "uid=ghost,ou=people,$S"
	agent bot-f 41006 "uid=bot-a,ou=agents,$S"
	agent stray 41020 "uid=alice,ou=people,$S" elsewhere
	cat <<EOF
dn: cn=bots,ou=groups,$S
objectClass: posixGroup
cn: bots
gidNumber: 41000
memberUid: bot-a

dn: cn=strays,ou=elsewhere,$S
objectClass: posixGroup
cn: strays
gidNumber: 41099
memberUid: stray
EOF
} >"$D/initial.ldif"
ldapmod -a -f "$D/initial.ldif" || { fail "loading the directory"; finish; }

common=("base ou=agents,$S" "group_base ou=groups,$S"
    "owner_active_filter (employeeType=staff)"
    "hostname web1.example.org" "heartbeat 1" "replica $R")
slapd_write_conf "$CONF" "${common[@]}"
CONF_R=$D/agentid-replica.conf CONF_D=$D/agentid-directory.conf
slapd_write_conf "$CONF_R" "${common[@]}" "source replica" \
    "audit_log $D/audit-replica.log"
slapd_write_conf "$CONF_D" "${common[@]}" "source directory" \
    "audit_log $D/audit-directory.log"

start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
wait_in_step 30 || fail "agentidd's cookie never reached the contextCSN"
grep -q "syncing $S, the naming context holding ou=agents,$S" "$D/agentidd.log" &&
    ok "agentidd syncs the naming context holding base" ||
    fail "no naming context in the log: $(grep -i 'sync' "$D/agentidd.log" | head -3)"

# decide USER CONF: the check's JSON on one line, without the fields that
# differ by design (explanation, source); "error" when there is none
decide() {
	local out
	out=$("$AGENTID" --config "$2" check "$1" --json --service sshd \
	    --rhost 10.1.2.3 2>/dev/null)
	out=$(printf '%s' "$out" | tr -d '\n' |
	    sed 's/"explanation": *"[^"]*"//; s/"source": *"[a-z]*",\{0,1\}//')
	printf '%s\n' "${out:-error}"
}
reason() { sed -n 's/.*"reason": *"\([a-z_]*\)".*/\1/p' <<<"$1"; }
# expect USER REASON: both sources decide alike, with REASON
expect() {
	local a b
	a=$(decide "$1" "$CONF_R")
	b=$(decide "$1" "$CONF_D")
	if [ "$a" != "$b" ]; then
		fail "$1: replica and directory differ:"$'\n'"  replica   $a"$'\n'"  directory $b"
	elif [ "$(reason "$a")" != "$2" ]; then
		fail "$1: both say $(reason "$a"), wanted $2: $a"
	else
		ok "$1: $2 from both sources"
	fi
}
expect bot-a ok                # owner under ou=people, staff
expect bot-b owner_inactive    # owner under ou=people, departed
expect bot-c ok                # owner DN spelled differently
expect bot-d ok                # through an orchestrator outside base
expect bot-e owner_missing     # no such owner
expect bot-f ok                # through an agent under base
expect stray not_an_agent         # agentIdentity outside base: no agent
expect orch not_an_agent
expect alice not_an_agent
nr=$(grep -c '"source":"replica"' "$D/audit-replica.log")
nx=$(grep -c '"event":"check"' "$D/audit-replica.log")
[ "$nr" -gt 0 ] && [ "$nr" = "$nx" ] &&
    ok "all $nr checks of the replica config came from the replica" ||
    fail "$nr of $nx checks of the replica config came from the replica"

# NSS: the agents under base only; the groups under group_base only
"$DUMP" nss "$R" >"$D/nss.txt" 2>&1
if grep -q '^bot-a ' "$D/nss.txt" && grep -q '^bot-d ' "$D/nss.txt" &&
    ! grep -q '^stray \|^orch ' "$D/nss.txt"; then
	ok "NSS serves the agents under base, not those outside it"
else
	fail "NSS users: $(tr '\n' ';' <"$D/nss.txt")"
fi
if "$AGENTID" --config "$CONF" sync --replica "$D/ref.cdb" >/dev/null \
    2>"$D/sync.err"; then
	"$DUMP" nss "$D/ref.cdb" | sort >"$D/nss-ref.txt"
	sort "$D/nss.txt" >"$D/nss-got.txt"
	cmp -s "$D/nss-ref.txt" "$D/nss-got.txt" &&
	    ok "NSS replica equals a full agentid sync" ||
	    fail "NSS replica differs from agentid sync: $(diff "$D/nss-ref.txt" "$D/nss-got.txt" | head -5)"
else
	fail "agentid sync: $(head -3 "$D/sync.err")"
fi
if [ "$(id -u)" = 0 ]; then
	. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
	nss_setup
	g=$(nss_run "$R" getent group bots 2>/dev/null)
	[ "$g" = "bots:*:41000:bot-a" ] &&
	    ok "getent group: a group under group_base (outside base) served" ||
	    fail "getent group bots: '$g'"
	g=$(nss_run "$R" getent group strays 2>/dev/null)
	[ -z "$g" ] && ok "getent group: a group outside group_base not served" ||
	    fail "getent group strays: '$g'"
	rm -rf "$NSS_TMP"
fi

# an owner under ou=people made inactive: the replica's decisions follow
t0=$(date +%s%N)
ldapmod <<EOF || fail "ldapmodify carol"
dn: uid=carol,ou=people,$S
changetype: modify
replace: employeeType
employeeType: departed
EOF
got=
for _ in $(seq 1 100); do
	got=$(reason "$(decide bot-c "$CONF_R")")
	[ "$got" = owner_inactive ] && break
	sleep 0.1
done
if [ "$got" = owner_inactive ]; then
	ok "an owner made inactive outside base: replica says owner_inactive after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
	fail "replica still says $got for bot-c"
fi
wait_in_step 30 || fail "agentidd's cookie never reached the contextCSN"
expect bot-c owner_inactive

# an agent moved out of base is no agent any more; the orchestrator's
# chain still reads it as an owner
ldapmod <<EOF || fail "ldapmodify modrdn bot-a"
dn: uid=bot-a,ou=agents,$S
changetype: modrdn
newrdn: uid=bot-a
deleteoldrdn: 1
newsuperior: ou=elsewhere,$S
EOF
wait_in_step 30 || fail "agentidd's cookie never reached the contextCSN"
expect bot-a not_an_agent
expect bot-f owner_missing     # its owner's DN moved away

# the cookie belongs to one search: a new base (or no AGENTS.search, a
# replica written before the naming-context search) refreshes fully
stop_daemon || fail "agentidd exit status"
[ -s "${R%.cdb}.search" ] && ok "the sync search is saved beside the cookie" ||
    fail "no ${R%.cdb}.search"
grep -c 'full refresh started' "$D/agentidd.log" >"$D/n-full"
start_daemon
wait_caught_up 30 2 || fail "no second catch-up"
[ "$(grep -c 'incremental refresh started' "$D/agentidd.log")" = 1 ] &&
    ok "a restart with the same search resumes from the cookie" ||
    fail "restart did not resume incrementally"
stop_daemon || fail "agentidd exit status"
rm -f "${R%.cdb}.search"
start_daemon
wait_caught_up 30 3 || fail "no third catch-up"
grep -q 'sync search changed since the saved cookie' "$D/agentidd.log" &&
    [ "$(grep -c 'full refresh started' "$D/agentidd.log")" = $(($(cat "$D/n-full") + 1)) ] &&
    ok "a replica without AGENTS.search is refreshed fully" ||
    fail "no full refresh without AGENTS.search"
stop_daemon || fail "agentidd exit status"
common[0]="base $S"
slapd_write_conf "$CONF" "${common[@]}"
slapd_write_conf "$CONF_R" "${common[@]}" "source replica" \
    "audit_log $D/audit-replica.log"
slapd_write_conf "$CONF_D" "${common[@]}" "source directory" \
    "audit_log $D/audit-directory.log"
start_daemon
wait_caught_up 30 4 || fail "no fourth catch-up"
[ "$(grep -c 'full refresh started' "$D/agentidd.log")" = $(($(cat "$D/n-full") + 2)) ] &&
    ok "a new base refreshes fully" || fail "a new base resumed from the cookie"
wait_in_step 30 || fail "agentidd's cookie never reached the contextCSN"
expect stray ok                # now under base: an agent
expect bot-a ok
expect bot-f owner_missing

grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" &&
    fail "sanitizer report in agentidd's log"
stop_daemon || fail "agentidd exit status"
finish
