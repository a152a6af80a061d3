#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_pam_env.sh - pam_agent.so's two session lines around pam_env, through
# the real libpam (tests/pam/pam_driver, pam_start_confdir) and the module of
# the build tree (under --enable-sanitizers: ASan and LeakSanitizer see the
# session data kept from line to line). Between the lines, pam_env.so (with
# a conffile of ours, as a user's ~/.pam_environment would) replaces
# AGENTID_OWNER, empties AGENTID_CHAIN and replaces SSH_AUTH_INFO_0. The
# second line must put them back, never decide or audit again, answer what
# the first answered; close audits once; a handle opened again after close
# decides afresh. tests/e2e/test_sshd_userfiles.sh does the same with sshd.
#
# Needs slapd, ssh-keygen, pam_env.so and pam_start_confdir: else 77 (SKIP).
set -u

. "$top_srcdir/tests/integration/slapd-fixture.sh"

DRIVER="$top_builddir/tests/pam/pam_driver"
MODULE="$top_builddir/pam_agent/.libs/pam_agent.so"
FAILS=0
CHECKS=0

skip() {
	echo "" >&2
	echo "*** SKIP: $* ***" >&2
	echo "" >&2
	exit 77
}
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}
[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built" >&2; exit 1; }
[ -f "$MODULE" ] || { echo "FAIL: $MODULE not built" >&2; exit 1; }
command -v ssh-keygen >/dev/null || skip "ssh-keygen not installed (openssh-client)"
[ -n "$(find /lib /usr/lib -name pam_env.so -print -quit 2>/dev/null)" ] ||
	skip "pam_env.so is not installed (Debian: libpam-modules)"
"$DRIVER" --confdir /nonexistent --service x --user x close >/dev/null 2>&1
[ $? -eq 77 ] && skip "libpam has no pam_start_confdir"

slapd_start || exit 1
trap slapd_stop EXIT INT TERM
slapd_load "$top_srcdir/tests/pam/agents.ldif" || exit 1
D=$AGENTID_TEST_LDAP_DIR
# pam_agent registers sessions here, not in /run/agentid/sessions
export AGENTID_SESSION_DIR=$D/sessions
BASE=$AGENTID_TEST_LDAP_BASE
LOG=$D/audit.log
C=$D/agentid.conf
ERRF=$D/driver.err
slapd_write_conf "$C" "hostname test.example.org"

K=$D/keys
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C ca -f "$K/ca" || exit 1
ssh-keygen -q -t ed25519 -N '' -C agent -f "$K/agent" || exit 1
cp "$K/agent.pub" "$K/ok.pub"
ssh-keygen -q -s "$K/ca" -n bot-ok -I "env ok" -z 31 -V -5m:+1h \
    -O extension:task@agentid=T-31 "$K/ok.pub" || exit 1
INFO="publickey $(cut -d' ' -f1,2 "$K/ok-cert.pub")"
OWNER="uid=alice,ou=people,$BASE"

# what a user's ~/.pam_environment could say (pam_env.conf syntax)
cat >"$D/user.env" <<'EOF'
AGENTID_OWNER OVERRIDE=evil
AGENTID_CHAIN DEFAULT=
SSH_AUTH_INFO_0 OVERRIDE=forged
EOF
SVC=$D/svc
mkdir -p "$SVC"
# stack N: the service file with N pam_agent session lines (1: before
# pam_env only, 2: before and after)
stack() {
	{
		echo "session required $MODULE config=$C"
		echo "session required pam_env.so readenv=0 conffile=$D/user.env"
		[ "$1" = 2 ] && echo "session required $MODULE config=$C"
	} >"$SVC/sshd"
}
# drive USER ACTION...: OUT = the driver's output
drive() {
	local user=$1 rc
	shift
	OUT=$("$DRIVER" --confdir "$SVC" --service sshd --user "$user" \
	    --rhost 127.0.0.1 --pin "$MODULE" --env "SSH_AUTH_INFO_0=$INFO" \
	    "$@" 2>"$ERRF")
	rc=$?
	[ $rc -eq 0 ] || fail "driver $user $*: exit $rc: $(cat "$ERRF")"
}
# has DESC LINE / lacks DESC PATTERN: on the last output
has() {
	CHECKS=$((CHECKS + 1))
	if grep -qxF -- "$2" <<<"$OUT"; then
		echo "ok: $1"
	else
		fail "$1: no line '$2' in: $OUT"
	fi
}
lacks() {
	CHECKS=$((CHECKS + 1))
	if grep -q -- "$2" <<<"$OUT"; then
		fail "$1: '$2' in: $OUT"
	else
		echo "ok: $1"
	fi
}
# records EVENT USER: how many audit records since the mark
MARK=0
mark() {
	if [ -f "$LOG" ]; then MARK=$(wc -l <"$LOG"); else MARK=0; fi
}
records() {
	tail -n +"$((MARK + 1))" "$LOG" 2>/dev/null |
	    grep -F "\"event\":\"$1\"" | grep -cF "\"user\":\"$2\""
}
nrec() { # nrec DESC EVENT USER N
	local n
	n=$(records "$2" "$3")
	CHECKS=$((CHECKS + 1))
	if [ "$n" = "$4" ]; then
		echo "ok: $1"
	else
		fail "$1: $n $2 records for $3, expected $4"
	fi
}

# one line before pam_env: the replacement is real (the test can fail)
stack 1
drive bot-ok open
has "one line: pam_env replaced AGENTID_OWNER" "env AGENTID_OWNER=evil"

# two lines
stack 2
mark
drive bot-ok open close
has "two lines: open" "open=PAM_SUCCESS"
has "two lines: AGENTID_OWNER restored" "env AGENTID_OWNER=$OWNER"
has "two lines: AGENTID_CHAIN restored" \
	"env AGENTID_CHAIN=uid=bot-ok,ou=agents,$BASE;$OWNER"
has "two lines: AGENTID_TASK kept" "env AGENTID_TASK=T-31"
has "two lines: SSH_AUTH_INFO_0 restored" "env SSH_AUTH_INFO_0=$INFO"
nrec "two lines: one session_open" session_open bot-ok 1
nrec "two lines: one session_close" session_close bot-ok 1

mark
drive carol open close
lacks "two lines, not an agent: no AGENTID_* at all" "^env AGENTID_"
has "two lines, not an agent: SSH_AUTH_INFO_0 restored" "env SSH_AUTH_INFO_0=$INFO"
CHECKS=$((CHECKS + 1))
# at most one: whether a user that is not an agent is audited is not this
# test's business, a second decision is
if [ "$(records session_open carol)" -le 1 ]; then
	echo "ok: two lines, not an agent: no second decision"
else
	fail "two lines, not an agent: $(records session_open carol) session_open records"
fi

mark
drive bot-expired open
has "two lines, refused: the second line answers the same" "open=PAM_ACCT_EXPIRED"
lacks "two lines, refused: no AGENTID_*" "^env AGENTID_"
nrec "two lines, refused: one session_open" session_open bot-expired 1

# the same handle opened again after close: a new decision, a new session
mark
drive bot-ok open close open close
nrec "open, close, open: two session_open" session_open bot-ok 2
nrec "open, close, open: two session_close" session_close bot-ok 2
mark
drive bot-expired open close open
nrec "refused, close, open: decided afresh" session_open bot-expired 2

echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
