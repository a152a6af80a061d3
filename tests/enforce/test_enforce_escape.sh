#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_enforce_escape.sh - the enforcer ends every process of a revoked
# agent's session, including one that left with setsid and a double fork,
# and nothing else; a directory that does not answer ends nothing;
# `enforce no` only audits; sessions whose processes are gone are pruned.
# Real slapd, real pam_agent.so through libpam (it registers the sessions),
# real kernel audit sessions (root; SKIP otherwise).
. "$top_srcdir/tests/enforce/enforce-lib.sh"
enforce_setup

session_start A bot-a || finish
session_start B bot-b || finish
sleep 300 &
OUTSIDER=$!
_BG_PIDS+=("$OUTSIDER")
SES_A=$(cat "$D/A.ses")
SES_B=$(cat "$D/B.ses")
read -r -d '' -a PIDS_A <"$D/A.pids"
read -r -d '' -a PIDS_B <"$D/B.pids"
echo "session A: audit session $SES_A, pids ${PIDS_A[*]}; B: $SES_B"

check "pam_agent opened A" grep -qx 'open=PAM_SUCCESS' "$D/A.open"
check "pam_agent opened B" grep -qx 'open=PAM_SUCCESS' "$D/B.open"
check "A and B are distinct audit sessions" [ "$SES_A" != "$SES_B" ]
# the escaper really left the POSIX session and is nobody's child
sid() { ps -o sid= -p "$1" | tr -d ' '; }
ppid() { ps -o ppid= -p "$1" | tr -d ' '; }
check "escaper is in another POSIX session" \
	[ "$(sid "${PIDS_A[1]}")" != "$(sid "${PIDS_A[0]}")" ]
check "escaper's parent is gone (double fork)" \
	[ "$(ppid "${PIDS_A[1]}")" != "$(ppid "${PIDS_A[0]}")" ]
check "escaper still in audit session A" \
	[ "$(cat /proc/"${PIDS_A[1]}"/sessionid)" = "$SES_A" ]
# the registry: one file per session, with the kernel ids
check "two sessions registered" [ "$(ls "$REG" | wc -l)" -eq 2 ]
check "A registered with its audit session" \
	grep -rqx "audit_session $SES_A" "$REG"
audit_has "session_open names the audit session and boot" \
	'"event":"session_open"' '"user":"bot-a"' "\"audit_session\":$SES_A" \
	"\"boot_id\":\"$(cat /proc/sys/kernel/random/boot_id)\""

# 1. everything allowed: nothing ends, the deadline is the chain's notAfter
enforcer
check "pass: 2 sessions, 2 allowed" pass_has allowed=2
check "pass: none denied" pass_has denied=0
check "pass: a deadline" grep -q 'next_deadline=[1-9]' <<<"$PASS"
check "all alive" alive "${PIDS_A[@]}" "${PIDS_B[@]}" "$OUTSIDER"

# 2. revoke the orchestrator bot-a was delegated by
ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: uid=orch,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: revoked
LDIF

# 3. the directory does not answer: no session ends, whatever it knows
kill -STOP "$AGENTID_TEST_LDAP_PID"
enforcer
kill -CONT "$AGENTID_TEST_LDAP_PID"
check "slapd stopped: lookup errors" pass_has lookup_errors=2
check "slapd stopped: nothing denied" pass_has denied=0
check "slapd stopped: A alive" alive "${PIDS_A[@]}"
check "slapd stopped: nothing signalled" pass_has signalled=0

# 4. enforce no: audited, nothing ended
cp "$C" "$C.yes"
echo "enforce no" >>"$C"
enforcer
check "enforce no: denied" pass_has denied=1
check "enforce no: A alive" alive "${PIDS_A[@]}"
audit_has "enforce no: what it would have done" \
	'"event":"session_terminate"' '"user":"bot-a"' '"reason":"revoked"' \
	'"action":"none"'
cp "$C.yes" "$C"

# 5. enforce yes: every process of A ends; B and the outsider do not
N_A=$(ses_procs "$SES_A" | wc -l)
echo "audit session A has $N_A processes"
enforcer
check "pass: A denied" pass_has denied=1
check "pass: B allowed" pass_has allowed=1
check "pass: every process of A signalled" pass_has "signalled=$N_A"
check "no process left in audit session A" [ -z "$(ses_procs "$SES_A")" ]
check "A's sleep and escaper gone" dead "${PIDS_A[@]}"
check "B untouched" alive "${PIDS_B[@]}"
check "outsider untouched" alive "$OUTSIDER"
audit_has "session_terminate" '"event":"session_terminate"' \
	'"user":"bot-a"' '"decision":"deny"' '"reason":"revoked"' \
	"\"culprit\":\"uid=orch,ou=agents,$BASE\"" '"action":"signal"' \
	"\"signalled\":$N_A" "\"audit_session\":$SES_A" '"duration":'
check "A unregistered" [ "$(ls "$REG" | wc -l)" -eq 1 ]
check "B still registered" grep -rqx "user bot-b" "$REG"

# 6. B's processes end by themselves: the next pass prunes it
for p in $(ses_procs "$SES_B"); do kill -KILL "$p"; done
enforcer
check "B pruned" pass_has pruned=1
check "registry empty" [ -z "$(ls "$REG")" ]

# 7. the record is written as the signals go out, not after the grace: a
# process of the session that ignores SIGTERM is still alive (the grace is
# 300 s) when session_terminate is in the trail; the test then kills it,
# which ends the pass
session_start C bot-nosudo || finish
SES_C=$(cat "$D/C.ses")
session_run C "(trap '' TERM; exec sleep 300) & echo \$!"
STUBBORN=$OUT
check "a SIGTERM-ignoring process in C" alive "$STUBBORN"
ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: uid=bot-nosudo,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: suspended
LDIF
sed 's/^enforce_grace .*/enforce_grace 300s/' "$C.yes" >"$C"
grep -qx 'enforce_grace 300s' "$C" || fail "config: enforce_grace not set"
"$ENFORCER" --config "$C" --once >"$D/pass7.out" 2>"$D/enforcer.err" &
EPID7=$!
_BG_PIDS+=("$EPID7")
for _ in $(seq 1 200); do
	grep -q '"event":"session_terminate".*"user":"bot-nosudo"' \
	    "$D/audit.log" && break
	sleep 0.05
done
audit_has "C's session_terminate written during the grace" \
	'"event":"session_terminate"' '"user":"bot-nosudo"' \
	'"reason":"suspended"' '"action":"signal"'
check "the SIGTERM-ignoring process still alive then" alive "$STUBBORN"
check "the enforcer still in its grace then" kill -0 "$EPID7"
kill -KILL "$STUBBORN"
wait "$EPID7"
check "the pass ended once nothing was left" [ $? -eq 0 ]
check "no process left in audit session C" [ -z "$(ses_procs "$SES_C")" ]
cp "$C.yes" "$C"
finish
