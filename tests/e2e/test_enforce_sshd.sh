#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_enforce_sshd.sh - end to end, runtime enforcement with real parts: a
# real sshd (tests/e2e/sshd-lib.sh) whose session stack runs pam_loginuid
# (a fresh kernel audit session per login) and then pam_agent.so (which
# registers the session), agentidd (syncrepl from a slapd with syncprov,
# writing the replica) and agentid-enforcer in daemon mode (inotify on the
# replica and the registry, deadlines).
#
#   1. an agent logged in over ssh with its certificate, running `sleep 60`,
#      is cut off after `ldapmodify` revokes its orchestrator: the ssh
#      client exits (10 s ceiling; the figure is printed, not asserted) and
#      the trail has session_terminate with reason revoked;
#   2. a certificate valid for 10 s (enforce_cert_expiry yes, clock_skew 0)
#      ends its session with reason cert_expired;
#   3. slapd stopped (SIGSTOP): a live session is not ended while the
#      directory does not answer and the replica goes stale.
#
# Needs root, unshare, sshd, ssh, ssh-keygen, slapd with syncprov, and a
# writable /proc/self/loginuid: else exit 77 (SKIP).
set -u

skip() {
	echo "" >&2
	echo "*** SKIP: $* ***" >&2
	echo "" >&2
	exit 77
}
# the long agentidd tests run once per scripts/test, in its main build
if [ "${AGENTID_DISTCHECK:-}" = 1 ]; then
	skip "ran in the main build of this scripts/test"
fi
. "$top_srcdir/tests/e2e/sshd-lib.sh"
why=$(sshd_unusable)
[ -z "$why" ] || skip "the sshd enforcement test: $why"
[ -r /usr/lib/ldap/syncprov.so ] || [ -r /usr/lib/ldap/syncprov.la ] ||
	skip "slapd's syncprov module is missing (agentidd needs it)"
ses=$( (echo 60000 >/proc/self/loginuid && cat /proc/self/sessionid) \
    2>/dev/null)
[ -n "$ses" ] && [ "$ses" != 4294967295 ] ||
	skip "cannot start a kernel audit session (/proc/self/loginuid)"
for m in /lib/x86_64-linux-gnu/security /usr/lib/x86_64-linux-gnu/security \
    /lib/security /usr/lib/security /lib64/security /usr/lib64/security; do
	[ -f "$m/pam_loginuid.so" ] && { LOGINUID_OK=1; break; }
done
[ -n "${LOGINUID_OK:-}" ] || skip "pam_loginuid.so is not installed"

# Everything below runs in a private mount namespace, with a copy of /etc
# bound over /etc (agentidd drops to the system user agentid, which exists
# only in the copy; see tests/agentidd/test_agentidd.sh).
if [ -z "${AGENTID_E2E_ETC:-}" ]; then
	AGENTID_E2E_ETC=$(mktemp -d /tmp/agentid-e2eenf-etc.XXXXXX) || exit 1
	export AGENTID_E2E_ETC
	cp -a /etc/. "$AGENTID_E2E_ETC/" || { rm -rf "$AGENTID_E2E_ETC"; exit 1; }
	grep -q '^agentid:' /etc/passwd ||
	    echo 'agentid:x:64910:64910:agentid test:/nonexistent:/usr/sbin/nologin' \
	    >>"$AGENTID_E2E_ETC/passwd"
	grep -q '^agentid:' /etc/group ||
	    echo 'agentid:x:64910:' >>"$AGENTID_E2E_ETC/group"
	unshare -m --propagation private "$BASH" -c '
	    mount --bind "$AGENTID_E2E_ETC" /etc && exec "$BASH" "$0"' "$0"
	rc=$?
	rm -rf "$AGENTID_E2E_ETC"
	exit $rc
fi

. "$top_srcdir/tests/integration/slapd-fixture.sh"

B=$top_builddir
AGENTIDD=$B/agentidd/agentidd
ENFORCER=$B/agentidd/agentid-enforcer
FAILS=0
CHECKS=0
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { echo "ok: $*"; }
check() {
	local desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then ok "$desc"; else fail "$desc"; fi
}
for f in "$AGENTIDD" "$ENFORCER"; do
	[ -x "$f" ] || { echo "FAIL: $f not built" >&2; exit 1; }
done
sshd_pick_modules "$B" || { echo "FAIL: modules not built" >&2; exit 1; }
MODULE=$SSHD_PAM_MODULE
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}

slapd_start --syncprov || exit 1
D=$AGENTID_TEST_LDAP_DIR
BASE=$AGENTID_TEST_LDAP_BASE
SLAPD_PID=$AGENTID_TEST_LDAP_PID
LOG=$D/audit.log
C=$D/agentid.conf
R=$D/replica/agents.cdb
REG=$D/sessions
# pam_agent (in sshd) registers sessions here; the enforcer reads them
export AGENTID_SESSION_DIR=$REG
DPID='' EPID=''
SSH_PIDS=()
cleanup() {
	local p
	for p in "${SSH_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	kill -CONT "$SLAPD_PID" 2>/dev/null
	[ -n "$EPID" ] && kill "$EPID" 2>/dev/null && wait "$EPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	sshd_stop
	slapd_stop
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

# orch delegates to bot-e: revoking orch must end bot-e's session. bot-f
# and bot-x answer to alice.
{
	cat <<EOF
dn: ou=people,@BASE@
objectClass: organizationalUnit
ou: people

dn: ou=agents,@BASE@
objectClass: organizationalUnit
ou: agents

dn: uid=alice,ou=people,@BASE@
objectClass: inetOrgPerson
uid: alice
cn: Alice
sn: Example

dn: uid=orch,ou=agents,@BASE@
objectClass: account
objectClass: agentIdentity
uid: orch
agentOwner: uid=alice,ou=people,@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:*
agentScope: service:*
EOF
	n=0
	for a in bot-e:orch,ou=agents bot-f:alice,ou=people bot-x:alice,ou=people; do
		n=$((n + 1))
		cat <<EOF

dn: uid=${a%%:*},ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: ${a%%:*}
cn: ${a%%:*}
uidNumber: $((41200 + n))
gidNumber: 41200
homeDirectory: /tmp
loginShell: /bin/sh
agentOwner: uid=${a#*:},@BASE@
agentNotAfter: @TIME(+30d)@
agentScope: host:test.example.org
agentScope: service:sshd
EOF
	done
} >"$D/enforce-sshd.ldif"
slapd_load "$D/enforce-sshd.ldif" || exit 1
mkdir -p "$D/replica" || exit 1
mkdir -m 0700 "$REG" || exit 1
slapd_write_conf "$C" "hostname test.example.org" "replica $R" \
    "heartbeat 1s" "replica_max_age 4s" "timeout 2" "enforce_grace 2s" \
    "enforce_cert_expiry yes" "clock_skew 0"

# ---- agentidd: the replica, kept in step over syncrepl
"$AGENTIDD" --foreground --config "$C" --user agentid >>"$D/agentidd.log" 2>&1 &
DPID=$!
for _ in $(seq 1 200); do
	grep -q 'caught up' "$D/agentidd.log" && break
	sleep 0.1
done
grep -q 'caught up' "$D/agentidd.log" ||
	{ echo "FAIL: agentidd did not catch up: $(cat "$D/agentidd.log")" >&2; exit 1; }
ok "agentidd caught up"

# ---- the enforcer, as a daemon
"$ENFORCER" --config "$C" >>"$D/enforcer.log" 2>&1 &
EPID=$!

# ---- sshd: agents through libnss_agent from agentidd's replica
sshd_bind_nsswitch "$D" || exit 1
cat >"$D/pam.sshd" <<EOF
auth     required pam_deny.so
account  required $MODULE config=$C unknown=deny
session  required pam_loginuid.so
session  required $MODULE config=$C
password required pam_deny.so
EOF
sshd_bind_pam "$D/pam.sshd" || exit 1

K=$D/keys
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C ca -f "$K/ca" || exit 1
ssh-keygen -q -t ed25519 -N '' -C agent -f "$K/agent" || exit 1
ssh-keygen -q -t ed25519 -N '' -C host -f "$K/host" || exit 1
# cert USER VALIDITY: $K/USER-cert.pub
cert() {
	cp "$K/agent.pub" "$K/$1.pub"
	ssh-keygen -q -s "$K/ca" -I "e2e $1" -z "$RANDOM" -n "$1" -V "$2" \
	    -O "extension:task@agentid=TASK-$1" "$K/$1.pub" || exit 1
}
SSHD_REPLICA=$R
sshd_start enforce "$D" "HostKey $K/host" "TrustedUserCAKeys $K/ca.pub" ||
	{ echo "FAIL: sshd did not start" >&2; exit 1; }
PORT=$SSHD_PORT

# session_start USER: logs USER in (background ssh) running sleep 60; sets
# SPID (the ssh client) once the remote shell said STARTED
session_start() {
	local u=$1
	ssh -n -F /dev/null -p "$PORT" -i "$K/agent" \
	    -o CertificateFile="$K/$u-cert.pub" -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    "$u@127.0.0.1" \
	    'echo "STARTED audit_session=$(cat /proc/self/sessionid)"; exec sleep 60' \
	    >"$D/$u.out" 2>"$D/$u.err" &
	SPID=$!
	SSH_PIDS+=("$SPID")
	for _ in $(seq 1 150); do
		grep -q STARTED "$D/$u.out" && break
		kill -0 "$SPID" 2>/dev/null || break
		sleep 0.1
	done
	if ! grep -q STARTED "$D/$u.out"; then
		fail "$u did not log in: $(cat "$D/$u.out" "$D/$u.err")"
		tail -20 "$D/sshd-enforce.log" >&2
		return 1
	fi
	ok "$u logged in: $(cat "$D/$u.out")"
	# the registration is written before the shell runs
	CHECKS=$((CHECKS + 1))
	if grep -rqx "user $u" "$REG"; then
		ok "$u's session registered"
	else
		fail "$u's session not registered: $(cat "$REG"/* 2>/dev/null)"
	fi
}
# gone_within PID SECS: the ssh client exits within SECS; MS the ms
# since T0
gone_within() {
	local t1 i
	for i in $(seq 1 $(($2 * 50))); do
		if ! kill -0 "$1" 2>/dev/null; then
			t1=$(date +%s%N)
			MS=$(((t1 - T0) / 1000000))
			return 0
		fi
		sleep 0.02
	done
	return 1
}
# audit_lines STRING...: the lines of the trail that have every STRING
audit_lines() {
	local lines s
	lines=$(cat "$LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	[ -n "$lines" ]
}
# audit DESC STRING...: a line of the trail has every STRING. The enforcer
# audits once it has ended the session (the ssh client may exit first):
# up to 10 s for the line to appear.
audit() {
	local desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	for _ in $(seq 1 100); do
		audit_lines "$@" && break
		sleep 0.1
	done
	if audit_lines "$@"; then
		ok "audit: $desc"
	else
		fail "audit: $desc: no line with $*"
	fi
}

# ---- 1. revocation of the orchestrator ends bot-e's live session
cert bot-e -5m:+1h
if session_start bot-e; then
	E_PID=$SPID
	T0=$(date +%s%N)
	ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" -D "$AGENTID_TEST_LDAP_ROOTDN" \
	    -w "$AGENTID_TEST_LDAP_ROOTPW" >/dev/null <<LDIF || fail "ldapmodify"
dn: uid=orch,ou=agents,$BASE
changetype: modify
replace: agentStatus
agentStatus: revoked
LDIF
	CHECKS=$((CHECKS + 1))
	if gone_within "$E_PID" 10; then
		ok "revocation -> ssh session gone after $MS ms"
		echo "FIGURE: revocation in the directory -> ssh client exited: $MS ms"
	else
		fail "bot-e's session still alive 10 s after the revocation"
	fi
	audit "session_terminate revoked" '"event":"session_terminate"' \
	    '"user":"bot-e"' '"decision":"deny"' '"reason":"revoked"' \
	    "\"culprit\":\"uid=orch,ou=agents,$BASE\"" '"duration":'
fi

# ---- 2. a certificate valid for 8 s ends its session at valid_before
cert bot-x -1m:+10s
VB=$(ssh-keygen -Lf "$K/bot-x-cert.pub" | sed -n 's/.*Valid: from .* to \(.*\)$/\1/p')
if session_start bot-x; then
	X_PID=$SPID
	vb=$(date -d "$VB" +%s 2>/dev/null)
	T0=$(date +%s%N)
	CHECKS=$((CHECKS + 1))
	if gone_within "$X_PID" 20; then
		end=$(($(date +%s%N) / 1000000))
		ok "certificate expiry -> ssh session gone ($((end - vb * 1000)) ms after valid_before $VB)"
	else
		fail "bot-x's session alive 20 s after its certificate expired"
	fi
	audit "session_terminate cert_expired" '"event":"session_terminate"' \
	    '"user":"bot-x"' '"reason":"cert_expired"'
fi

# ---- 3. the directory does not answer: no session ends
cert bot-f -5m:+1h
if session_start bot-f; then
	F_PID=$SPID
	kill -STOP "$SLAPD_PID"
	# replica_max_age 4s: long enough for the replica to go stale and the
	# enforcer to fall back to a directory that does not answer
	sleep 8
	c0=$(stat -c %Y "${R%.cdb}.contact" 2>/dev/null || echo 0)
	age=$(($(date +%s) - c0))
	check "slapd stopped: the replica went stale (contact $age s old)" \
	    [ "$age" -gt 4 ]
	check "slapd stopped: bot-f's session alive" kill -0 "$F_PID"
	check "slapd stopped: the enforcer is running" kill -0 "$EPID"
	CHECKS=$((CHECKS + 1))
	if grep -q '"user":"bot-f".*"event":"session_terminate"\|"event":"session_terminate".*"user":"bot-f"' \
	    "$LOG" 2>/dev/null; then
		fail "slapd stopped: session_terminate for bot-f"
	else
		ok "slapd stopped: no session_terminate for bot-f"
	fi
	kill -CONT "$SLAPD_PID"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "--- enforcer log" >&2
	tail -20 "$D/enforcer.log" >&2
	echo "--- agentidd log" >&2
	tail -20 "$D/agentidd.log" >&2
	echo "--- sshd log" >&2
	tail -30 "$D/sshd-enforce.log" >&2
fi
grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" \
    "$D/enforcer.log" && fail "sanitizer report in a log"
echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
