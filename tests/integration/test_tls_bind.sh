#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_tls_bind.sh - TLS and binds against a slapd where anonymous users
# read nothing: ldaps and StartTLS with the right CA work, a wrong CA fails
# closed (exit 2, no decision); simple binds need TLS or ldapi://; SASL
# EXTERNAL over ldapi:// (peer credentials) and over TLS (client
# certificate) are mapped to the reader by authz-regexp.
. "$top_srcdir/tests/integration/slapd-fixture.sh"
. "$top_srcdir/tests/integration/lib.sh"

slapd_start --anon none || exit 1
slapd_load "$top_srcdir/tests/integration/reasons.ldif" || exit 1
D=$AGENTID_TEST_LDAP_DIR
H="hostname web1.example.org"
PW="bindpw_file $AGENTID_TEST_LDAP_READERPW_FILE"
BDN="binddn $AGENTID_TEST_LDAP_READERDN"
LDAPS=$AGENTID_TEST_LDAP_LDAPS_URI
LDAPI=$AGENTID_TEST_LDAP_LDAPI_URI

# anonymous may not read here: exit 2, no decision (proves the ACL, so that
# the successes below prove the binds)
slapd_write_conf "$D/anon.conf" "$H"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$D/anon.conf" check ok-bot 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "anonymous read refused: exit $rc, wanted 2: $out"
case $out in *allowed*|*denied*) fail "anonymous: a decision: $out" ;; esac

# simple bind over plain ldap:// is refused before a password is sent
slapd_write_conf "$D/plain.conf" "$H" "$BDN" "$PW" "ssl off"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$D/plain.conf" check ok-bot 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "simple bind over plain ldap: exit $rc: $out"
case $out in
*"neither TLS nor ldapi"*) echo "ok: simple bind over plain ldap:// refused" ;;
*) fail "simple bind over plain ldap: $out" ;;
esac

# simple bind over StartTLS, ldaps:// and ldapi://
slapd_write_conf "$D/starttls.conf" "$H" "$BDN" "$PW" "ssl start_tls"
expect_check "$D/starttls.conf" 0 ok ok-bot
slapd_write_conf "$D/ldaps.conf" "$H" "$BDN" "$PW" "uri $LDAPS"
expect_check "$D/ldaps.conf" 0 ok ok-bot
expect_check "$D/ldaps.conf" 1 revoked worker
slapd_write_conf "$D/ldapi.conf" "$H" "$BDN" "$PW" "uri $LDAPI"
expect_check "$D/ldapi.conf" 0 ok ok-bot
# ssl on with an ldap:// uri: TLS from the first byte, like ldaps://
slapd_write_conf "$D/sslon.conf" "$H" "$BDN" "$PW" "ssl on" \
    "uri ldaps://127.0.0.1:$AGENTID_TEST_LDAP_LDAPS_PORT"
expect_check "$D/sslon.conf" 0 ok ok-bot

# wrong password: exit 2 (no decision)
(umask 077; printf 'wrong' >"$D/wrongpw")
slapd_write_conf "$D/badpw.conf" "$H" "$BDN" "bindpw_file $D/wrongpw" \
    "uri $LDAPI"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$D/badpw.conf" check ok-bot 2>&1)
rc=$?
[ $rc -eq 2 ] || fail "wrong password: exit $rc: $out"
case $out in *allowed*|*denied*) fail "wrong password gave a decision" ;; esac
# a password file readable by others is refused
chmod 0644 "$D/wrongpw"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$D/badpw.conf" check ok-bot 2>&1)
[ $? -eq 2 ] || fail "bindpw_file mode 0644 accepted: $out"

# wrong CA: fails closed, ldaps:// and StartTLS alike
for ssl in "uri $LDAPS" "ssl start_tls"; do
	slapd_write_conf "$D/wrongca.conf" "$H" "$ssl" \
	    "tls_cacert $AGENTID_TEST_LDAP_WRONG_CACERT"
	CHECKS=$((CHECKS + 1))
	out=$("$AGENTID" --config "$D/wrongca.conf" check ok-bot 2>&1)
	rc=$?
	[ $rc -eq 2 ] || fail "wrong CA ($ssl): exit $rc, wanted 2: $out"
	case $out in
	*allowed*|*denied*) fail "wrong CA ($ssl) gave a decision: $out" ;;
	*ldap_unavailable*) echo "ok: wrong CA ($ssl) -> exit 2, no decision" ;;
	*) fail "wrong CA ($ssl): $out" ;;
	esac
done
# tls_reqcert never accepts it (documented as unsafe); demand is the default
slapd_write_conf "$D/never.conf" "$H" "$BDN" "$PW" "uri $LDAPS" \
    "tls_reqcert never" "tls_cacert $AGENTID_TEST_LDAP_WRONG_CACERT"
expect_check "$D/never.conf" 0 ok ok-bot

# SASL EXTERNAL over ldapi://: our uid maps to the reader
slapd_write_conf "$D/external.conf" "$H" "uri $LDAPI" "sasl_mech EXTERNAL"
expect_check "$D/external.conf" 0 ok ok-bot
expect_check "$D/external.conf" 1 chain_cycle cyc-a
# SASL EXTERNAL with a TLS client certificate
slapd_write_conf "$D/extcert.conf" "$H" "uri $LDAPS" "sasl_mech EXTERNAL" \
    "tls_cert $AGENTID_TEST_LDAP_CLIENT_CERT" \
    "tls_key $AGENTID_TEST_LDAP_CLIENT_KEY"
expect_check "$D/extcert.conf" 0 ok ok-bot
# SASL EXTERNAL without any identity (plain ldap://): refused, exit 2
slapd_write_conf "$D/extnone.conf" "$H" "sasl_mech EXTERNAL"
CHECKS=$((CHECKS + 1))
out=$("$AGENTID" --config "$D/extnone.conf" check ok-bot 2>&1)
[ $? -eq 2 ] || fail "SASL EXTERNAL without identity: $out"

finish
