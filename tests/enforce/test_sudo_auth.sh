#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_sudo_auth.sh - `auth sufficient pam_agent.so` (sudo) through libpam:
# succeeds only from inside a registered agent session of the same user
# (kernel audit session), with a service:sudo grant, while the chain is
# allowed; PAM_AUTH_ERR otherwise; PAM_IGNORE for a user who is not an
# agent. pam_probe.so shows what pam_agent.so itself returned.
. "$top_srcdir/tests/enforce/enforce-lib.sh"
PROBE="$top_builddir/tests/pam/.libs/pam_probe.so"
[ -f "$PROBE" ] || { echo "FAIL: $PROBE not built" >&2; exit 1; }
enforce_setup
cat >"$SVC/sudo" <<EOF2
auth     sufficient $PROBE $MODULE config=$C
auth     required   pam_deny.so
EOF2

session_start S bot-a || finish
session_start N bot-nosudo || finish
SES_S=$(cat "$D/S.ses")
ID_S=$(grep -rlx "user bot-a" "$REG" | xargs -n1 basename)
SUDO="$DRIVER --confdir $SVC --service sudo"
# expect DESC LINE: the last output has this line
expect() {
	CHECKS=$((CHECKS + 1))
	if grep -qxF -- "$2" <<<"$OUT"; then
		echo "ok: $1: $2"
	else
		fail "$1: wanted '$2' in: $(tr '\n' ' ' <<<"$OUT")"
	fi
}

session_run S "$SUDO --user bot-a auth setcred"
expect "agent in its session, sudo granted" "auth=PAM_SUCCESS"
expect "pam_agent itself" "env PAM_PROBE_auth=PAM_SUCCESS"
expect "setcred after our auth" "env PAM_PROBE_setcred=PAM_SUCCESS"
audit_has "auth allowed" '"event":"auth"' '"service":"sudo"' \
	'"user":"bot-a"' '"decision":"allow"' "\"session\":\"$ID_S\"" \
	"\"audit_session\":$SES_S" '"rhost":"127.0.0.1"'

session_run N "$SUDO --user bot-nosudo auth setcred"
expect "agent without a sudo grant" "env PAM_PROBE_auth=PAM_AUTH_ERR"
expect "stack refuses" "auth=PAM_AUTH_ERR"
expect "setcred after a failed auth" "env PAM_PROBE_setcred=PAM_IGNORE"
audit_has "auth denied: scope" '"event":"auth"' '"user":"bot-nosudo"' \
	'"decision":"deny"' '"reason":"scope_service"'

session_run N "$SUDO --user bot-a auth"
expect "bot-a from another audit session" "env PAM_PROBE_auth=PAM_AUTH_ERR"
audit_has "auth denied: not in session" '"event":"auth"' '"user":"bot-a"' \
	'"reason":"not_in_session"'
OUT=$($SUDO --user bot-a auth 2>&1)
expect "bot-a from no audit session at all" "env PAM_PROBE_auth=PAM_AUTH_ERR"

session_run S "$SUDO --user root auth"
expect "a user who is not an agent" "env PAM_PROBE_auth=PAM_IGNORE"

# the session's chain revoked: no sudo any more
ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: uid=orch,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: revoked
LDIF
session_run S "$SUDO --user bot-a auth"
expect "after revocation" "env PAM_PROBE_auth=PAM_AUTH_ERR"
audit_has "auth denied: revoked" '"event":"auth"' '"user":"bot-a"' \
	'"reason":"revoked"' "\"session\":\"$ID_S\""

# the directory down: refused (never a password-less pass)
kill -STOP "$AGENTID_TEST_LDAP_PID"
session_run N "$SUDO --user bot-nosudo auth"
kill -CONT "$AGENTID_TEST_LDAP_PID"
expect "directory unavailable" "env PAM_PROBE_auth=PAM_AUTH_ERR"
finish
