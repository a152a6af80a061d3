#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_sshd_userfiles.sh - end to end, with a real sshd and the host setup
# README.md documents: what an agent's own files cannot do.
#
# 1. A user's ~/.pam_environment (read by Debian's `pam_env.so
# user_readenv=1`, which runs after common-session) must not replace what
# pam_agent.so reads (SSH_AUTH_INFO_0) nor what it writes (AGENTID_*).
#
# The agent bot-env logs in with its certificate (task TASK-2001); its
# ~/.pam_environment sets AGENTID_OWNER=evil, AGENTID_TASK, AGENTID_SESSION
# and SSH_AUTH_INFO_0 (another valid certificate of its own, task
# FORGED-2002). Three PAM stacks, all with Debian 12's two pam_env lines:
#
#   old:  pam_agent before pam_env only (the order documented before):
#         the session shows AGENTID_OWNER=evil (checked: the attack is real)
#   late: pam_agent after pam_env only: the decision and the audit read the
#         forged certificate (checked: why one line after pam_env is wrong)
#   new:  pam_agent before pam_env AND as the last session line (the order
#         README.md and pam_agent(8) document): the session sees the true
#         AGENTID_*, the final PAM environment holds sshd's SSH_AUTH_INFO_0,
#         the trail has one session_open (the true certificate) and one
#         session_close; a local human whose ~/.pam_environment sets
#         AGENTID_* gets none of them.
#
# 2. A plain key in an agent's ~/.ssh/authorized_keys must not let it in:
# with sshd's AuthorizedKeysFile on, `Match Group agents` /
# `AuthorizedKeysFile none` makes sshd refuse the key (without the block,
# sshd accepts it: checked, so the test shows the block is what refuses).
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
[ -z "$why" ] || skip "the sshd user files test: $why"
[ -n "$(find /lib /usr/lib -name pam_env.so -print -quit 2>/dev/null)" ] ||
    skip "pam_env.so is not installed (Debian: libpam-modules)"

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
# check DESC COMMAND...: one assertion
check() {
	local desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		ok "$desc"
	else
		fail "$desc"
	fi
}
# eventually CMD...: CMD succeeds within 5 s (a file pam_exec writes in the
# session's process may land a moment after the client has its output)
eventually() {
	local i
	for i in $(seq 50); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

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
OWNER="uid=alice,ou=people,$BASE"
cleanup() {
	sshd_stop
	slapd_stop
}
trap cleanup EXIT INT TERM

slapd_load "$top_srcdir/tests/pam/agents.ldif" || exit 1
slapd_write_conf "$C" "hostname test.example.org"

# ---- the agent, with a home of its own (pam_env reads ~/.pam_environment)
HOMES=$D/home
mkdir -p "$HOMES/bot-env" "$HOMES/human" || exit 1
chmod 0755 "$HOMES"
cat >"$D/env.ldif" <<EOF
dn: uid=bot-env,ou=agents,@BASE@
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: bot-env
cn: bot-env
uidNumber: 41010
gidNumber: 41000
homeDirectory: $HOMES/bot-env
loginShell: /bin/sh
agentOwner: $OWNER
agentNotBefore: @TIME(-1d)@
agentNotAfter: @TIME(+30d)@
agentScope: host:test.example.org
agentScope: service:sshd

dn: cn=agents,ou=agents,@BASE@
objectClass: posixGroup
cn: agents
gidNumber: 41000
EOF
slapd_load "$D/env.ldif" || exit 1

# ---- a local human (not an agent): bound over /etc/passwd in this namespace
cp /etc/passwd "$D/passwd" || exit 1
echo "human:x:42010:42010:human:$HOMES/human:/bin/sh" >>"$D/passwd"
mount --bind "$D/passwd" /etc/passwd || exit 1

# ---- keys and certificates
K=$D/keys
mkdir -p "$K"
ssh-keygen -q -t ed25519 -N '' -C ca -f "$K/ca" || exit 1
ssh-keygen -q -t ed25519 -N '' -C agent -f "$K/agent" || exit 1
ssh-keygen -q -t ed25519 -N '' -C host -f "$K/host" || exit 1
# cert NAME SERIAL USER TASK: $K/NAME-cert.pub
cert() {
	cp "$K/agent.pub" "$K/$1.pub"
	ssh-keygen -q -s "$K/ca" -I "pamenv $1" -z "$2" -n "$3" -V -5m:+1h \
	    -O "extension:task@agentid=$4" "$K/$1.pub" || exit 1
}
cert env 2001 bot-env TASK-2001
cert forged 2002 bot-env FORGED-2002
cert human 2003 human TASK-HUMAN
# what sshd puts into SSH_AUTH_INFO_0 for each: "publickey TYPE BASE64"
TRUE_INFO="publickey $(cut -d' ' -f1,2 "$K/env-cert.pub")"
FORGED_INFO="publickey $(cut -d' ' -f1,2 "$K/forged-cert.pub")"

# ~/.pam_environment (pam_env.conf syntax) of both users
for u in bot-env human; do
	cat >"$HOMES/$u/.pam_environment" <<EOF
AGENTID_OWNER OVERRIDE=evil
AGENTID_TASK OVERRIDE=evil-task
AGENTID_SESSION OVERRIDE=0123456789abcdef0123456789abcdef
SSH_AUTH_INFO_0 OVERRIDE="$FORGED_INFO"
EOF
done
chown -R 41010:41000 "$HOMES/bot-env" || exit 1
chown -R 42010:42010 "$HOMES/human" || exit 1

# ---- agents as local users: the replica, through libnss_agent
out=$("$AGENTID" --config "$C" sync 2>&1) || { echo "FAIL: sync: $out" >&2; exit 1; }
sshd_bind_nsswitch "$D" || exit 1

# ---- PAM: three stacks in place of Debian's /etc/pam.d/sshd. The pam_env
# lines are Debian 12's, verbatim. pam_exec (after everything) records the
# final PAM environment, which sshd turns into the session's (it keeps
# SSH_AUTH_INFO_* out of the session itself).
cat >"$D/envdump" <<EOF
#!/bin/sh
env >"$D/pamenv.\$PAM_USER"
EOF
chmod 0755 "$D/envdump"
# stack old|late|new: writes $D/pam.sshd
stack() {
	local first=$1 last=$2
	{
		echo "auth     required pam_deny.so"
		echo "account  required $MODULE config=$C"
		echo "account  required pam_permit.so"
		[ "$first" = yes ] && echo "session  required $MODULE config=$C"
		echo "session  required pam_env.so"
		echo "session  required pam_env.so user_readenv=1 envfile=/etc/default/locale"
		[ "$last" = yes ] && echo "session  required $MODULE config=$C"
		echo "session  optional pam_exec.so quiet $D/envdump"
		echo "password required pam_deny.so"
	} >"$D/pam.sshd.new" || exit 1
	# same inode: the bind mount over /etc/pam.d/sshd follows
	cat "$D/pam.sshd.new" >"$D/pam.sshd" || exit 1
}
stack yes no
sshd_bind_pam "$D/pam.sshd" || exit 1

sshd_start pamenv "$D" "HostKey $K/host" "TrustedUserCAKeys $K/ca.pub" ||
	{ echo "FAIL: sshd did not start" >&2; exit 1; }
PORT=$SSHD_PORT

# login USER CERT: prints what the session sees
login() {
	rm -f "$D/pamenv.$1"
	timeout 60 ssh -F /dev/null -p "$PORT" -i "$K/agent" \
	    -o CertificateFile="$K/$2-cert.pub" -o IdentitiesOnly=yes \
	    -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    "$1@127.0.0.1" \
	    'echo "LOGGED-IN owner=${AGENTID_OWNER-UNSET} task=${AGENTID_TASK-UNSET} session=${AGENTID_SESSION-UNSET} chain=${AGENTID_CHAIN-UNSET}"' \
	    2>"$D/ssh.err"
}
# trail_since N STRING...: lines after line N of the trail that have every STRING
trail_since() {
	local n=$1 lines s
	shift
	lines=$(tail -n +"$((n + 1))" "$LOG" 2>/dev/null)
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	printf '%s' "$lines"
}
# count of trail_since's lines
count_since() {
	local l
	l=$(trail_since "$@")
	if [ -z "$l" ]; then
		echo 0
	else
		wc -l <<<"$l"
	fi
}
# wait_close SID: sshd closes the PAM session after the client has gone
wait_close() {
	for _ in $(seq 1 100); do
		grep -q '"event":"session_close".*"session":"'"$1"'"' "$LOG" 2>/dev/null &&
			return 0
		sleep 0.1
	done
	return 1
}
# lines: how many lines the trail has now
lines() {
	if [ -f "$LOG" ]; then
		wc -l <"$LOG"
	else
		echo 0
	fi
}

# ---- 1. ~/.pam_environment
# old: the attack is real in this setup
N=$(lines)
out=$(login bot-env env)
CHECKS=$((CHECKS + 1))
if [[ $out == "LOGGED-IN owner=evil task=evil-task session=0123456789abcdef0123456789abcdef "* ]]; then
	ok "old order: ~/.pam_environment replaced AGENTID_* (the attack works here)"
else
	fail "old order: expected the user's values, got '$out' $(cat "$D/ssh.err")"
fi
check "old order: the decision read sshd's certificate (serial 2001)" \
	test "$(count_since "$N" '"event":"session_open"' '"user":"bot-env"' '"serial":2001')" = 1

# ---- late: one line after pam_env reads the user's SSH_AUTH_INFO_0
stack no yes
N=$(lines)
out=$(login bot-env env)
CHECKS=$((CHECKS + 1))
if [[ $out == *" task=FORGED-2002 "* ]] &&
    [ "$(count_since "$N" '"event":"session_open"' '"user":"bot-env"' '"serial":2002' '"task":"FORGED-2002"')" = 1 ]; then
	ok "late order: the forged certificate reached the decision and the trail"
else
	fail "late order: expected the forged certificate: '$out' $(cat "$D/ssh.err")"
fi

# ---- new: the documented order
stack yes yes
N=$(lines)
out=$(login bot-env env)
rc=$?
CHECKS=$((CHECKS + 1))
if [ $rc -eq 0 ] && [[ $out == "LOGGED-IN owner=$OWNER task=TASK-2001 session="* ]] &&
    [[ $out == *" chain=uid=bot-env,ou=agents,$BASE;$OWNER" ]]; then
	ok "new order: the session sees the true AGENTID_*: $out"
else
	fail "new order: '$out' (exit $rc) $(cat "$D/ssh.err")"
	tail -20 "$D/sshd-pamenv.log" >&2
fi
SID=$(sed -n 's/.* session=\([0-9a-f]*\) .*/\1/p' <<<"$out")
check "new order: AGENTID_SESSION is pam_agent's ($SID)" \
	test "${#SID}" = 32 -a "$SID" != 0123456789abcdef0123456789abcdef
check "new order: one session_open, the true certificate, that session" \
	test "$(count_since "$N" '"event":"session_open"' '"user":"bot-env"' \
	    '"decision":"allow"' '"key_id":"pamenv env"' '"serial":2001' \
	    '"task":"TASK-2001"' "\"session\":\"$SID\"")" = 1
check "new order: no second decision (one session_open in all)" \
	test "$(count_since "$N" '"event":"session_open"')" = 1
check "new order: the forged certificate is in no record" \
	test "$(count_since "$N" 'FORGED-2002')" = 0
# the final PAM environment, as pam_exec saw it after the last line
check "new order: the PAM environment holds sshd's SSH_AUTH_INFO_0" eventually \
	grep -qxF "SSH_AUTH_INFO_0=$TRUE_INFO" "$D/pamenv.bot-env"
check "new order: the PAM environment holds the true AGENTID_OWNER" eventually \
	grep -qxF "AGENTID_OWNER=$OWNER" "$D/pamenv.bot-env"
CHECKS=$((CHECKS + 1))
if wait_close "$SID" &&
    [ "$(count_since "$N" '"event":"session_close"')" = 1 ]; then
	ok "new order: one session_close for the session"
else
	fail "new order: session_close records: $(trail_since "$N" '"event":"session_close"')"
fi

# a human: pam_agent ignores it, and AGENTID_* never come from the user
N=$(lines)
out=$(login human human)
rc=$?
CHECKS=$((CHECKS + 1))
if [ $rc -eq 0 ] &&
    [ "$out" = "LOGGED-IN owner=UNSET task=UNSET session=UNSET chain=UNSET" ]; then
	ok "new order: a human gets no AGENTID_* from ~/.pam_environment"
else
	fail "new order, human: '$out' (exit $rc) $(cat "$D/ssh.err")"
fi
check "new order: the human's SSH_AUTH_INFO_0 is sshd's" eventually \
	grep -qF "SSH_AUTH_INFO_0=publickey $(cut -d' ' -f1,2 "$K/human-cert.pub")" \
	"$D/pamenv.human"
check "new order: no agent record for the human" \
	test "$(count_since "$N" '"user":"human"' '"decision":"allow"')" = 0

# ---- 2. ~/.ssh/authorized_keys: plain keys, Match Group agents
mkdir -p "$HOMES/bot-env/.ssh" || exit 1
cp "$K/agent.pub" "$HOMES/bot-env/.ssh/authorized_keys" || exit 1
chown -R 41010:41000 "$HOMES/bot-env/.ssh" || exit 1
check "the agents' group resolves (Match Group needs it)" \
	env LD_LIBRARY_PATH="$NSSDIR" AGENTID_REPLICA="$D/agents.cdb" \
	getent group agents
# plain USER SSHDNAME: a login with the plain key, no certificate; sets
# PLAIN_OUT, PLAIN_RC and ACCEPTED (how many times sshd logged that it
# accepted a key for USER meanwhile)
plain() {
	local log=$D/sshd-$2.log n
	n=$(wc -l <"$log")
	PLAIN_OUT=$(timeout 60 ssh -F /dev/null -p "$PORT" -i "$K/agent" \
	    -o IdentitiesOnly=yes -o CertificateFile=/dev/null \
	    -o IdentityAgent=none -o BatchMode=yes -o ConnectTimeout=10 \
	    -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null \
	    -o GlobalKnownHostsFile=/dev/null -o LogLevel=ERROR \
	    "$1@127.0.0.1" 'echo LOGGED-IN' 2>"$D/ssh.err")
	PLAIN_RC=$?
	ACCEPTED=$(tail -n +"$((n + 1))" "$log" |
	    grep -c "Accepted publickey for $1 ")
}
SSHD_AUTHORIZED_KEYS_FILE=.ssh/authorized_keys
sshd_start keys-open "$D" "HostKey $K/host" "TrustedUserCAKeys $K/ca.pub" ||
	{ echo "FAIL: sshd keys-open did not start" >&2; exit 1; }
PORT=$SSHD_PORT
plain bot-env keys-open
check "without Match Group agents, sshd accepts the agent's plain key" \
	test "$ACCEPTED" -ge 1
sshd_start keys-match "$D" "HostKey $K/host" "TrustedUserCAKeys $K/ca.pub" \
    "Match Group agents" "    AuthorizedKeysFile none" ||
	{ echo "FAIL: sshd keys-match did not start" >&2; exit 1; }
PORT=$SSHD_PORT
plain bot-env keys-match
CHECKS=$((CHECKS + 1))
if [ "$PLAIN_RC" -ne 0 ] && [[ $PLAIN_OUT != *LOGGED-IN* ]] &&
    [ "$ACCEPTED" = 0 ]; then
	ok "Match Group agents / AuthorizedKeysFile none: plain key refused by sshd"
else
	fail "plain key with the Match block: exit $PLAIN_RC, accepted $ACCEPTED: '$PLAIN_OUT'"
fi
out=$(login bot-env env)
check "Match Group agents: the certificate still logs in" \
	test "${out%% *}" = LOGGED-IN
unset SSHD_AUTHORIZED_KEYS_FILE

# ---- the trail is intact
CHECKS=$((CHECKS + 1))
if out=$("$AGENTID" --config "$C" audit verify "$LOG" 2>&1); then
	ok "audit verify: $(head -1 <<<"$out")"
else
	fail "audit verify: $out"
fi

if [ "$FAILS" -ne 0 ]; then
	echo "--- sshd log" >&2
	tail -30 "$D"/sshd-*.log >&2
fi
echo "$CHECKS checks, $FAILS failures"
[ "$FAILS" -eq 0 ]
