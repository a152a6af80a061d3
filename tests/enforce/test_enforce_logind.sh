#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_enforce_logind.sh - a session with a logind id is ended through
# org.freedesktop.login1.Manager.TerminateSession (sd-bus), tested against a
# stand-in for logind on a private dbus-daemon (no systemd runs here); when
# logind refuses, the enforcer falls back to signals. Processes logind left
# behind get SIGKILL after enforce_grace either way.
. "$top_srcdir/tests/enforce/enforce-lib.sh"
command -v dbus-daemon >/dev/null || skip "dbus-daemon not installed"
# Debian's python3-dbus and python3-gi live in the system interpreter
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3
"$PY" -c 'import dbus, dbus.mainloop.glib; from gi.repository import GLib' \
	2>/dev/null || skip "python3-dbus or python3-gi not installed"
enforce_setup

dbus-daemon --session --nofork --nopidfile --print-address=3 \
	3>"$D/bus.addr" >/dev/null 2>&1 &
_BG_PIDS+=($!)
for i in $(seq 1 100); do [ -s "$D/bus.addr" ] && break; sleep 0.05; done
BUS=$(head -n1 "$D/bus.addr")
[ -n "$BUS" ] || { fail "dbus-daemon gave no address"; finish; }
"$PY" "$top_srcdir/tests/enforce/fake_logind.py" "$BUS" "$D/logind.log" \
	"$D/logind.ready" &
_BG_PIDS+=($!)
for i in $(seq 1 100); do [ -f "$D/logind.ready" ] && break; sleep 0.05; done
[ -f "$D/logind.ready" ] || { fail "fake logind did not start"; finish; }
export AGENTID_TEST_LOGIND_BUS=$BUS

# pam_systemd would have put XDG_SESSION_ID into the PAM environment
session_start L bot-a --env XDG_SESSION_ID=c42 || finish
session_start M bot-b --env XDG_SESSION_ID=missing7 || finish
SES_L=$(cat "$D/L.ses")
SES_M=$(cat "$D/M.ses")
read -r -d '' -a PIDS_L <"$D/L.pids"
read -r -d '' -a PIDS_M <"$D/M.pids"
check "L registered with its logind session" grep -rqx "login_session c42" "$REG"
audit_has "session_open names the logind session" '"event":"session_open"' \
	'"user":"bot-a"' '"login_session":"c42"' "\"audit_session\":$SES_L"

enforcer
check "all allowed" pass_has allowed=2
check "logind not asked yet" [ ! -s "$D/logind.log" ]

ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: uid=orch,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: revoked

dn: uid=bot-b,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: suspended
LDIF
enforcer
check "both denied" pass_has denied=2
check "logind asked to terminate c42" grep -qx c42 "$D/logind.log"
check "logind asked for missing7 too" grep -qx missing7 "$D/logind.log"
check "nothing left in L (SIGKILL after the grace)" [ -z "$(ses_procs "$SES_L")" ]
check "nothing left in M (signals after logind refused)" \
	[ -z "$(ses_procs "$SES_M")" ]
check "L's processes gone" dead "${PIDS_L[@]}"
check "M's processes gone" dead "${PIDS_M[@]}"
audit_has "L ended through logind" '"event":"session_terminate"' \
	'"user":"bot-a"' '"reason":"revoked"' '"action":"logind"' \
	'"login_session":"c42"'
audit_has "M ended by signals" '"event":"session_terminate"' \
	'"user":"bot-b"' '"reason":"suspended"' '"action":"signal"' \
	"\"culprit\":\"uid=bot-b,ou=agents,$BASE\""
check "registry empty" [ -z "$(ls "$REG")" ]
finish
