#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_failover.sh - several uris: a closed port, then a slapd stopped with
# SIGSTOP (accepts connections, never answers), before the one that works.
# The figures (elapsed seconds) are printed; the assertions are that the
# answer comes from the working server, and that a stopped server alone
# gives exit 2 (ldap_unavailable) instead of hanging.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

now_ms() { date +%s%3N; }

slapd_start || exit 1                   # the stopped one
STOPPED_URI=$AGENTID_TEST_LDAP_URI
STOPPED_LDAPS=$AGENTID_TEST_LDAP_LDAPS_URI
STOPPED_CA=$AGENTID_TEST_LDAP_CACERT
STOPPED_PID=$AGENTID_TEST_LDAP_PID
slapd_start || exit 1                   # the good one
slapd_load "$top_srcdir/tests/integration/reasons.ldif" || exit 1
GOOD_URI=$AGENTID_TEST_LDAP_URI
GOOD_LDAPS=$AGENTID_TEST_LDAP_LDAPS_URI
CLOSED_PORT=$(_slapd_free_port)
D=$AGENTID_TEST_LDAP_DIR
T=2
# both instances' CAs, so that one config trusts either server
cat "$STOPPED_CA" "$AGENTID_TEST_LDAP_CACERT" >"$D/both-ca.pem"

# 1. first uri refuses connections -> the second answers
slapd_write_conf "$D/closed.conf" "uri ldap://127.0.0.1:$CLOSED_PORT" \
    "uri $GOOD_URI" "timeout $T" "hostname web1.example.org"
expect_check "$D/closed.conf" 0 ok ok-bot
expect_check "$D/closed.conf" 1 revoked worker

# 2. first uri is a stopped slapd -> the second answers after one timeout
kill -STOP "$STOPPED_PID"
slapd_write_conf "$D/stopped.conf" "uri $STOPPED_URI" "uri $GOOD_URI" \
    "timeout $T" "hostname web1.example.org"
start=$(now_ms)
expect_check "$D/stopped.conf" 0 ok ok-bot
el=$(( $(now_ms) - start ))
# expect_check runs check twice (JSON and words)
echo "figure: failover past a SIGSTOPped server, 2 checks: ${el} ms (timeout ${T}s)"
# generous bound: only catches a hang (no failover), not slowness
[ "$el" -lt $(( 2 * (T + 1) * 1000 + 20000 )) ] ||
    fail "failover took ${el} ms"

# 3. only the stopped server -> exit 2 ldap_unavailable, not a hang
slapd_write_conf "$D/onlystopped.conf" "uri $STOPPED_URI" "timeout $T" \
    "hostname web1.example.org"
start=$(now_ms)
out=$(agentid_timeout 60 --config "$D/onlystopped.conf" check ok-bot 2>&1)
rc=$?
el=$(( $(now_ms) - start ))
CHECKS=$((CHECKS + 1))
echo "figure: a SIGSTOPped server alone: exit $rc after ${el} ms (timeout ${T}s)"
[ $rc -eq 2 ] || fail "stopped server: exit $rc, wanted 2: $out"
case $out in *ldap_unavailable*) ;; *) fail "stopped server: $out" ;; esac

# 3b. the same over TLS: ldaps:// and StartTLS to the stopped server do
#     not hang in the TLS handshake (libldap 2.5 has no timeout there)
slapd_write_conf "$D/ldaps-stopped.conf" "uri $STOPPED_LDAPS" \
    "tls_cacert $D/both-ca.pem" "timeout $T"
slapd_write_conf "$D/starttls-stopped.conf" "uri $STOPPED_URI" \
    "ssl start_tls" "tls_cacert $D/both-ca.pem" "timeout $T"
for how in ldaps starttls; do
	start=$(now_ms)
	out=$(agentid_timeout 60 --config "$D/$how-stopped.conf" check ok-bot 2>&1)
	rc=$?
	el=$(( $(now_ms) - start ))
	CHECKS=$((CHECKS + 1))
	echo "figure: a SIGSTOPped server alone ($how): exit $rc after ${el} ms (timeout ${T}s)"
	[ $rc -eq 2 ] || fail "stopped server ($how): exit $rc, wanted 2: $out"
done
slapd_write_conf "$D/tlsfailover.conf" "uri $STOPPED_LDAPS" "uri $GOOD_LDAPS" \
    "tls_cacert $D/both-ca.pem" "timeout $T" "hostname web1.example.org"
start=$(now_ms)
expect_check "$D/tlsfailover.conf" 0 ok ok-bot
echo "figure: ldaps failover past a SIGSTOPped server, 2 checks: $(( $(now_ms) - start )) ms"

# 4. a server that stops after the bind: the search times out -> exit 2
#    (the decision is never taken on half the data)
kill -CONT "$STOPPED_PID"
slapd_write_conf "$D/late.conf" "uri $STOPPED_URI" "timeout $T"
(sleep 0.3; kill -STOP "$STOPPED_PID") &
STOPPER=$!
# the stopped instance holds no agents: ok-bot is simply not there, but a
# stop mid-way must still end in a bounded time with 0, 1 or 2
out=$(agentid_timeout 60 --config "$D/late.conf" list 2>&1)
rc=$?
wait "$STOPPER"
CHECKS=$((CHECKS + 1))
[ $rc -le 2 ] || fail "server stopped mid-way: exit $rc (hang or crash): $out"

# 5. all uris down -> ldap_unavailable
kill -CONT "$STOPPED_PID"
slapd_write_conf "$D/alldown.conf" "uri ldap://127.0.0.1:$CLOSED_PORT" \
    "uri ldap://127.0.0.1:1" "timeout $T"
expect_check "$D/alldown.conf" 2 ldap_unavailable ok-bot

finish
