#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_replicated.sh - agentidd against a replicated directory: a provider
# slapd (syncprov) and a consumer slapd (syncrepl refreshAndPersist from it,
# syncprov too), `uri PROVIDER` then `uri CONSUMER` in agentid.conf.
# The provider SIGKILLed, then (later) SIGSTOPped: agentidd fails over to
# the consumer, and decisions never go wrong meanwhile (they come from the
# replica; every request is checked against its expected reason while the
# failover happens). After the provider returns, changes made on it reach
# the host through the consumer.
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
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"

# --- the provider, its data, the consumer
agentidd_setup || exit 1
P_DIR=$D P_URI=$AGENTID_TEST_LDAP_URI P_PID=$AGENTID_TEST_LDAP_PID
P_LDAPI=$AGENTID_TEST_LDAP_LDAPI_URI P_PORT=$AGENTID_TEST_LDAP_PORT
P_LDAPS_PORT=$AGENTID_TEST_LDAP_LDAPS_PORT P_CA=$AGENTID_TEST_LDAP_CACERT
P2=
cleanup() {
	[ -n "$P2" ] && kill -9 "$P2" 2>/dev/null && wait "$P2" 2>/dev/null
	agentidd_cleanup
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM
agent() { # agent UID [extra LDIF lines]
	local u=$1
	shift
	printf '%s\n' "dn: uid=$u,ou=agents,$AGENTID_TEST_LDAP_BASE" \
	    "objectClass: account" "objectClass: agentIdentity" "uid: $u" \
	    "agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE" "$@"
	case "$*" in
	*agentScope*) ;;
	*) printf '%s\n' "agentScope: host:*" "agentScope: service:sshd" ;;
	esac
	case "$*" in
	*agentNotAfter*) ;;
	*) echo "agentNotAfter: $(_slapd_gentime +30d)" ;;
	esac
	echo
}
{
	printf '%s\n' "dn: ou=people,$AGENTID_TEST_LDAP_BASE" \
	    "objectClass: organizationalUnit" "ou: people" "" \
	    "dn: ou=agents,$AGENTID_TEST_LDAP_BASE" \
	    "objectClass: organizationalUnit" "ou: agents" "" \
	    "dn: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE" \
	    "objectClass: inetOrgPerson" "uid: alice" "cn: Alice" "sn: A" "" \
	    "dn: uid=carol,ou=people,$AGENTID_TEST_LDAP_BASE" \
	    "objectClass: inetOrgPerson" "uid: carol" "cn: Carol" "sn: C" ""
	agent bot-ok
	agent bot-rev "agentStatus: revoked"
	agent bot-susp "agentStatus: suspended"
	agent bot-exp "agentNotAfter: $(_slapd_gentime -2d)"
	agent bot-scope "agentScope: host:*" "agentScope: service:cron"
} >"$D/data.ldif"
ldapmod -a -f "$D/data.ldif" || { fail "loading the provider"; finish; }

slapd_start --consumer-of "$P_URI" || { fail "consumer did not start"; finish; }
C_URI=$AGENTID_TEST_LDAP_URI C_LDAPI=$AGENTID_TEST_LDAP_LDAPI_URI
cat "$P_CA" "$AGENTID_TEST_LDAP_CACERT" >"$P_DIR/both-ca.pem"
# consumer in step with the provider
in_step() { [ -n "$(context_csn "$C_LDAPI")" ] &&
    [ "$(context_csn "$C_LDAPI")" = "$(context_csn "$P_LDAPI")" ]; }
for _ in $(seq 1 100); do in_step && break; sleep 0.1; done
in_step && ok "the consumer replicated the provider" ||
    { fail "consumer not in step: $(context_csn "$C_LDAPI") vs $(context_csn "$P_LDAPI")"; finish; }
AGENTID_TEST_LDAP_DIR=$P_DIR
slapd_write_conf "$CONF" "uri $P_URI" "uri $C_URI" \
    "tls_cacert $P_DIR/both-ca.pem" "timeout 2" "heartbeat 1" \
    "replica_max_age 60s" "replica $R" "hostname web1.example.org"

# --- what every decision must say (users whose change is on its way may
# also say what they said before: ALT)
declare -A WANT=([bot-ok]=ok [bot-rev]=revoked [bot-susp]=suspended
    [bot-exp]=expired [bot-scope]=scope_service [carol]=not_an_agent
    [bot-late]=not_an_agent)
declare -A ALT=()
DECISIONS=0 WRONG=0
reason_of() {
	"$AGENTID" --config "$CONF" check "$1" --json 2>&1 | tr -d '\n' |
	    sed -n 's/.*"reason": *"\([a-z_]*\)".*/\1/p'
}
verify_all() { # one round of every request; counts the wrong ones
	local u r
	for u in "${!WANT[@]}"; do
		r=$(reason_of "$u")
		DECISIONS=$((DECISIONS + 1))
		if [ "$r" != "${WANT[$u]}" ] && [ "$r" != "${ALT[$u]:-}" ]; then
			WRONG=$((WRONG + 1))
			echo "wrong decision ($1): $u: $r, wanted ${WANT[$u]}" >&2
		fi
	done
}
contact_uri() { sed -n 's/.*uri=\([^ ]*\).*/\1/p' "${R%.cdb}.contact" 2>/dev/null; }
# verify_until SECS LABEL CMD...: decision rounds until CMD succeeds
verify_until() {
	local secs=$1 label=$2 t_end
	shift 2
	t_end=$(($(date +%s) + secs))
	while [ "$(date +%s)" -lt "$t_end" ]; do
		verify_all "$label"
		"$@" && return 0
	done
	return 1
}

start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
grep -q "$P_URI.*refresh started" "$D/agentidd.log" &&
    ok "agentidd syncs from the provider first" || fail "not on the provider"
verify_all start
[ "$WRONG" = 0 ] && ok "decisions right from the start" || fail "wrong decisions at start"

# --- SIGKILL the provider
kill -9 "$P_PID"
wait "$P_PID" 2>/dev/null
on_consumer() { grep -q "$C_URI.*refresh started" "$D/agentidd.log" &&
    [ "$(contact_uri)" = "$C_URI" ]; }
if verify_until 30 sigkill on_consumer; then
	ok "provider SIGKILLed: agentidd failed over to the consumer"
else
	fail "no failover after SIGKILL"; tail "$D/agentidd.log" >&2
fi
verify_all after-sigkill
[ "$WRONG" = 0 ] && ok "no wrong decision through the SIGKILL failover ($DECISIONS decisions)" ||
    fail "$WRONG wrong decisions through the SIGKILL failover"

# --- the provider returns; a change made on it reaches the host
slapd -f "$P_DIR/slapd.conf" -d 0 -h "ldap://127.0.0.1:$P_PORT/ \
ldaps://127.0.0.1:$P_LDAPS_PORT/ $P_LDAPI" >>"$P_DIR/slapd.log" 2>&1 &
P2=$!
for _ in $(seq 1 50); do
	ldapsearch -x -LLL -H "$P_LDAPI" -s base -b "" >/dev/null 2>&1 && break
	sleep 0.1
done
LDAPMOD_URI=$P_LDAPI ldapmod <<EOF || fail "ldapmodify on the provider"
dn: uid=bot-ok,ou=agents,$AGENTID_TEST_LDAP_BASE
changetype: modify
replace: agentStatus
agentStatus: revoked
EOF
WANT[bot-ok]=revoked ALT[bot-ok]=ok
t0=$(date +%s%N)
if verify_until 30 provider-back eval '[ "$(reason_of bot-ok)" = revoked ]'; then
	ok "a change on the returned provider reached the host in $((($(date +%s%N) - t0) / 1000000)) ms (via the consumer)"
else
	fail "the change on the provider never arrived"
fi
unset 'ALT[bot-ok]'

# --- SIGSTOP: agentidd restarted on the provider, which then hangs
stop_daemon || fail "agentidd exit status"
n_started=$(grep -c 'refresh started' "$D/agentidd.log")
start_daemon
wait_caught_up 30 2 || fail "restart did not catch up"
[ "$(grep 'refresh started' "$D/agentidd.log" | tail -1 | grep -c "$P_URI")" = 1 ] &&
    ok "restarted agentidd syncs from the provider again" ||
    fail "restarted agentidd: $(grep 'refresh started' "$D/agentidd.log" | tail -1)"
kill -STOP "$P2"
on_consumer2() { [ "$(grep -c 'refresh started' "$D/agentidd.log")" -gt $((n_started + 1)) ] &&
    grep 'refresh started' "$D/agentidd.log" | tail -1 | grep -q "$C_URI" &&
    [ "$(contact_uri)" = "$C_URI" ]; }
w0=$WRONG
if verify_until 40 sigstop on_consumer2; then
	ok "provider SIGSTOPped: agentidd failed over to the consumer"
else
	fail "no failover after SIGSTOP"; tail "$D/agentidd.log" >&2
fi
[ "$WRONG" = "$w0" ] && ok "no wrong decision through the SIGSTOP failover" ||
    fail "$((WRONG - w0)) wrong decisions through the SIGSTOP failover"
kill -CONT "$P2"
LDAPMOD_URI=$P_LDAPI ldapmod -a <<EOF || fail "ldapadd on the provider"
$(agent bot-late)
EOF
WANT[bot-late]=ok ALT[bot-late]=not_an_agent
t0=$(date +%s%N)
if verify_until 30 sigcont eval '[ "$(reason_of bot-late)" = ok ]'; then
	ok "after SIGCONT an agent added on the provider reached the host in $((($(date +%s%N) - t0) / 1000000)) ms"
else
	fail "the agent added on the provider never arrived"
fi
unset 'ALT[bot-late]'
verify_all end
echo "$DECISIONS decisions checked against their expected reasons, $WRONG wrong"
[ "$WRONG" = 0 ] && ok "no wrong decision at any point" ||
    fail "$WRONG wrong decisions"
stop_daemon || fail "agentidd exit status"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" &&
    fail "sanitizer report in agentidd's log"
finish
