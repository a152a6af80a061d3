#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_sshd.sh - end to end: a real sshd (Debian openssh-server) on
# 127.0.0.1 with TrustedUserCAKeys, UsePAM yes and pam_agent.so, agents
# served by libnss_agent.so.2 from the replica `agentid sync` wrote, all of
# it against a private slapd and inside a private mount namespace (bind
# mounts over /etc/pam.d/sshd and /etc/nsswitch.conf; the host's files are
# never touched). An active agent logs in with its certificate and runs a
# command; expired, revoked and out-of-scope agents are refused, first by
# `agentid principals` (AuthorizedPrincipalsCommand), then, on a second
# sshd without it, by pam_agent.so's account check; a certificate from a
# CA the agent is not bound to is refused by the session check. The audit
# trail must show each reason and the certificate's key ID, serial and task.
#
# Needs root, unshare, sshd, ssh, ssh-keygen, slapd: else exit 77 (SKIP).
set -u

skip() {
	echo "" >&2
	echo "*** SKIP: $* ***" >&2
	echo "" >&2
	exit 77
}
. "$top_srcdir/tests/e2e/sshd-lib.sh"
why=$(sshd_unusable)
[ -z "$why" ] || skip "the sshd end-to-end test: $why"

# Everything below runs in a private mount namespace.
if [ -z "${AGENTID_E2E_INNER:-}" ]; then
	AGENTID_E2E_INNER=1 exec unshare -m --propagation private \
	    "$BASH" "$0" "$@"
fi

. "$top_srcdir/tests/integration/slapd-fixture.sh"

B=$top_builddir
AGENTID="$B/agentid"
FAILS=0
CHECKS=0
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
ok() {
	echo "ok: $*"
}

# sshd cannot load ASan-instrumented modules: under --enable-sanitizers
# sshd_pick_modules takes the uninstrumented copies mk/pam.mk builds.
sshd_pick_modules "$B" || { echo "FAIL: modules not built" >&2; exit 1; }
MODULE=$SSHD_PAM_MODULE
NSSDIR=$SSHD_NSSDIR

slapd_start || exit 1
D=$AGENTID_TEST_LDAP_DIR
# pam_agent registers sessions here, not in /run/agentid/sessions
export AGENTID_SESSION_DIR=$D/sessions
BASE=$AGENTID_TEST_LDAP_BASE
LOG=$D/audit.log
C=$D/agentid.conf
cleanup() {
	sshd_stop
	slapd_stop
}
trap cleanup EXIT INT TERM

slapd_load "$top_srcdir/tests/pam/agents.ldif" || exit 1
slapd_write_conf "$C" "hostname test.example.org"

# ---- keys and certificates
K=$D/keys
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C ca1 -f "$K/ca1" || exit 1
ssh-keygen -q -t ecdsa -N '' -C ca2 -f "$K/ca2" || exit 1
ssh-keygen -q -t ed25519 -N '' -C agent -f "$K/agent" || exit 1
ssh-keygen -q -t ed25519 -N '' -C host -f "$K/host" || exit 1
cat "$K/ca1.pub" "$K/ca2.pub" >"$K/trusted_cas"
# cert NAME CA SERIAL USER: $K/NAME-cert.pub for USER with task TASK-SERIAL
cert() {
	cp "$K/agent.pub" "$K/$1.pub"
	ssh-keygen -q -s "$K/$2" -I "e2e $1" -z "$3" -n "$4" -V -5m:+1h \
	    -O "extension:task@agentid=TASK-$3" \
	    -O "extension:on-behalf-of@agentid=alice@example.org" \
	    "$K/$1.pub" || exit 1
}
cert ok ca1 1001 bot-ok
cert expired ca1 1002 bot-expired
cert revoked ca1 1003 bot-revoked
cert scope ca1 1004 bot-scope
cert bound ca1 1005 bot-bound
cert bound-ca2 ca2 1006 bot-bound
CA1_FP=$(ssh-keygen -lf "$K/ca1.pub" | awk '{print $2}')

# an agent bound to CA1 only
cat >"$D/bound.ldif" <<EOF
dn: uid=bot-bound,ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: bot-bound
cn: bot-bound
uidNumber: 41005
gidNumber: 41000
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: uid=alice,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:*
agentScope: service:sshd
agentKeyFingerprint: $CA1_FP
EOF
slapd_load "$D/bound.ldif" || exit 1

# ---- agents as local users: the replica, through libnss_agent
out=$("$AGENTID" --config "$C" sync 2>&1) || { echo "FAIL: sync: $out" >&2; exit 1; }
sshd_bind_nsswitch "$D" || exit 1
export AGENTID_REPLICA=$D/agents.cdb LD_LIBRARY_PATH=$NSSDIR
CHECKS=$((CHECKS + 1))
if out=$(getent passwd bot-ok) && [ "${out%%:*}" = bot-ok ]; then
	ok "bot-ok resolves through libnss_agent: $out"
else
	fail "getent passwd bot-ok through libnss_agent: '$out'"
fi
unset LD_LIBRARY_PATH AGENTID_REPLICA

# ---- PAM: pam_agent.so in place of Debian's /etc/pam.d/sshd
cat >"$D/pam.sshd" <<EOF
auth     required pam_deny.so
account  required $MODULE config=$C unknown=deny
session  required $MODULE config=$C
password required pam_deny.so
EOF
sshd_bind_pam "$D/pam.sshd" || exit 1

# ---- AuthorizedPrincipalsCommand (/mnt/principals, on a tmpfs)
sshd_principals_command "$AGENTID" "$C" || exit 1

# start_sshd NAME [extra sshd_config lines]: sets PORT
start_sshd() {
	sshd_start "$@" || { echo "FAIL: sshd $1 did not start" >&2; exit 1; }
	PORT=$SSHD_PORT
}

# login USER CERT: runs a command over ssh with that certificate
login() {
	timeout 60 ssh -F /dev/null -p "$PORT" -i "$K/agent" \
	    -o CertificateFile="$K/$2-cert.pub" -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    "$1@127.0.0.1" \
	    'echo "LOGGED-IN uid=$(id -u) task=$AGENTID_TASK session=$AGENTID_SESSION owner=$AGENTID_OWNER"' \
	    2>"$D/ssh.err"
}
# refused DESC USER CERT
refused() {
	local out rc
	CHECKS=$((CHECKS + 1))
	out=$(login "$2" "$3")
	rc=$?
	if [ $rc -ne 0 ] && [[ $out != *LOGGED-IN* ]]; then
		ok "$1: refused (ssh exit $rc)"
	else
		fail "$1: not refused (exit $rc): $out"
	fi
}
# audit DESC STRING...: some line of the trail has every STRING
audit() {
	local desc=$1 lines s
	shift
	CHECKS=$((CHECKS + 1))
	lines=$(cat "$LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	if [ -n "$lines" ]; then
		ok "audit: $desc"
	else
		fail "audit: $desc: no line with $*"
	fi
}

# ---- sshd 1: AuthorizedPrincipalsCommand refuses early
start_sshd gate "$D" "HostKey $K/host" "TrustedUserCAKeys $K/trusted_cas" \
    "${SSHD_PRINCIPALS_LINES[@]}"

CHECKS=$((CHECKS + 1))
out=$(login bot-ok ok)
rc=$?
if [ $rc -eq 0 ] && [[ $out == "LOGGED-IN uid=41001 task=TASK-1001 session="* ]] &&
    [[ $out == *" owner=uid=alice,ou=people,$BASE" ]]; then
	ok "active agent logs in with its certificate: $out"
else
	fail "active agent login (exit $rc): '$out' $(cat "$D/ssh.err")"
	tail -20 "$D/sshd-gate.log" >&2
fi
SID=$(sed -n 's/.* session=\([0-9a-f]*\) .*/\1/p' <<<"$out")
CHECKS=$((CHECKS + 1))
[[ $SID =~ ^[0-9a-f]{32}$ ]] && ok "AGENTID_SESSION in the session: $SID" ||
	fail "no AGENTID_SESSION in '$out'"
# sshd closes the PAM session after the client has gone: give it a moment
for i in $(seq 1 50); do
	grep -q '"event":"session_close".*"session":"'"$SID"'"' "$LOG" 2>/dev/null &&
		break
	sleep 0.1
done
audit "principals allowed bot-ok" '"event":"check"' '"user":"bot-ok"' \
	'"decision":"allow"' '"key_id":"e2e ok"' '"serial":1001'
audit "account allowed bot-ok" '"event":"account"' '"user":"bot-ok"' \
	'"service":"sshd"' '"decision":"allow"' '"rhost":"127.0.0.1"'
audit "session_open: key ID, serial, task, CA" '"event":"session_open"' \
	'"user":"bot-ok"' '"decision":"allow"' '"key_id":"e2e ok"' '"serial":1001' \
	'"task":"TASK-1001"' '"on_behalf_of":"alice@example.org"' \
	"\"ca\":\"$CA1_FP\"" "\"session\":\"$SID\"" \
	"\"owner\":\"uid=alice,ou=people,$BASE\""
audit "session_close with duration" '"event":"session_close"' \
	'"user":"bot-ok"' "\"session\":\"$SID\"" '"duration":' '"task":"TASK-1001"'

refused "expired agent" bot-expired expired
audit "expired refused by principals" '"event":"check"' '"user":"bot-expired"' \
	'"decision":"deny"' '"reason":"expired"' '"key_id":"e2e expired"' '"serial":1002'
refused "revoked agent" bot-revoked revoked
audit "revoked refused by principals" '"event":"check"' '"user":"bot-revoked"' \
	'"reason":"revoked"' '"key_id":"e2e revoked"' '"serial":1003'
refused "out-of-scope agent" bot-scope scope
audit "out of scope refused by principals" '"event":"check"' \
	'"user":"bot-scope"' '"reason":"scope_host"' '"key_id":"e2e scope"'
refused "bound agent, certificate of another CA" bot-bound bound-ca2
audit "CA not bound refused by principals" '"event":"check"' \
	'"user":"bot-bound"' '"reason":"cert_mismatch"' '"key_id":"e2e bound-ca2"'
refused "certificate of another agent" bot-revoked ok
CHECKS=$((CHECKS + 1))
out=$(login bot-bound bound)
[[ $out == "LOGGED-IN uid=41005 task=TASK-1005 "* ]] &&
	ok "bound agent, its CA: logged in" ||
	fail "bound agent with its CA: '$out' $(cat "$D/ssh.err")"

# ---- sshd 2: no AuthorizedPrincipalsCommand: pam_agent.so refuses
start_sshd pam "$D" "HostKey $K/host" "TrustedUserCAKeys $K/trusted_cas"
refused "expired agent (PAM)" bot-expired expired
audit "expired refused by account" '"event":"account"' \
	'"user":"bot-expired"' '"decision":"deny"' '"reason":"expired"'
refused "revoked agent (PAM)" bot-revoked revoked
audit "revoked refused by account" '"event":"account"' \
	'"user":"bot-revoked"' '"reason":"revoked"'
refused "out-of-scope agent (PAM)" bot-scope scope
audit "out of scope refused by account" '"event":"account"' \
	'"user":"bot-scope"' '"reason":"scope_host"'
refused "bound agent, another CA (PAM session)" bot-bound bound-ca2
audit "CA not bound refused by session_open" '"event":"session_open"' \
	'"user":"bot-bound"' '"decision":"deny"' '"reason":"cert_mismatch"' \
	'"key_id":"e2e bound-ca2"' '"serial":1006' '"task":"TASK-1006"'
CHECKS=$((CHECKS + 1))
out=$(login bot-ok ok)
[[ $out == "LOGGED-IN uid=41001 task=TASK-1001 "* ]] &&
	ok "active agent logs in (PAM only)" ||
	fail "active agent, PAM only: '$out' $(cat "$D/ssh.err")"

# ---- the trail is intact
CHECKS=$((CHECKS + 1))
if out=$("$AGENTID" --config "$C" audit verify "$LOG" 2>&1); then
	ok "audit verify: $(head -1 <<<"$out")"
else
	fail "audit verify: $out"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "--- sshd logs" >&2
	tail -30 "$D"/sshd-*.log >&2
fi
echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
