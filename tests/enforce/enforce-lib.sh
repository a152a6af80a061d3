# SPDX-License-Identifier: BSD-2-Clause
# enforce-lib.sh - shared by tests/enforce/*.sh (bash, sourced).
#
# Real parts only: a private slapd (tests/integration/slapd-fixture.sh)
# with tests/enforce/enforce.ldif, pam_agent.so through libpam
# (tests/pam/pam_driver), and fresh kernel audit sessions made the way
# pam_loginuid makes them: writing /proc/self/loginuid (root).
#
#   enforce_setup                   skip unless it can run; slapd, config $C,
#                                   PAM service dir $SVC, registry $REG
#   session_start TAG USER [DRIVER OPTION...]
#                                   a fresh audit session in the background:
#                                   pam_agent opens a session for USER in
#                                   it, then `sleep 300` and an escaper
#                                   (setsid + double fork) run there;
#                                   $D/TAG.ses its id, $D/TAG.pids the pids
#   session_run TAG CMD             runs CMD inside session TAG; $OUT
#   ses_procs SES                   pids (not zombies) of audit session SES
#   enforcer [ARGS]                 one pass of agentid-enforcer; $PASS is
#                                   its summary line
#   check DESC COND...              counts, prints ok/FAIL
#   audit_has DESC STRING...        a line of the trail has every STRING
. "$top_srcdir/tests/integration/slapd-fixture.sh"

DRIVER="$top_builddir/tests/pam/pam_driver"
MODULE="$top_builddir/pam_agent/.libs/pam_agent.so"
ENFORCER="$top_builddir/agentidd/agentid-enforcer"
FAILS=0
CHECKS=0
UNSET=4294967295
_BG_PIDS=()

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
# check DESC CMD...: runs CMD; ok when it succeeds
check() {
	local desc=$1
	shift
	CHECKS=$((CHECKS + 1))
	if "$@"; then
		echo "ok: $desc"
	else
		fail "$desc"
	fi
}
# audit_has DESC STRING...: some line of the trail has every STRING
audit_has() {
	local desc=$1 lines s
	shift
	CHECKS=$((CHECKS + 1))
	lines=$(cat "$D/audit.log" 2>/dev/null)
	for s in "$@"; do
		lines=$(grep -F -- "$s" <<<"$lines")
	done
	if [ -n "$lines" ]; then
		echo "ok: audit: $desc"
	else
		fail "audit: $desc: no line with $*"
	fi
}
finish() {
	echo "$CHECKS checks, $FAILS failed"
	[ "$FAILS" -eq 0 ]
	exit $?
}

# Kills what the test started (every process of its audit sessions too).
_enforce_cleanup() {
	local f p
	for f in "$D"/*.ses; do
		[ -f "$f" ] || continue
		for p in $(ses_procs "$(cat "$f")"); do
			kill -KILL "$p" 2>/dev/null
		done
	done
	for p in "${_BG_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null # only ours: slapd is a child too
	done
	slapd_stop
}

enforce_setup() {
	[ "$(id -u)" -eq 0 ] || skip "needs root (fresh kernel audit sessions)"
	[ -x "$DRIVER" ] || { echo "FAIL: $DRIVER not built" >&2; exit 1; }
	[ -f "$MODULE" ] || { echo "FAIL: $MODULE not built" >&2; exit 1; }
	[ -x "$ENFORCER" ] || { echo "FAIL: $ENFORCER not built" >&2; exit 1; }
	"$DRIVER" --confdir /nonexistent --service x --user x close >/dev/null 2>&1
	[ $? -eq 77 ] && skip "libpam has no pam_start_confdir"
	local ses
	ses=$( (echo 60000 >/proc/self/loginuid && cat /proc/self/sessionid) \
	    2>/dev/null)
	[ -n "$ses" ] && [ "$ses" != "$UNSET" ] ||
		skip "cannot start a kernel audit session (/proc/self/loginuid)"
	slapd_start || exit 1
	trap _enforce_cleanup EXIT INT TERM
	slapd_load "$top_srcdir/tests/enforce/enforce.ldif" || exit 1
	D=$AGENTID_TEST_LDAP_DIR
	BASE=$AGENTID_TEST_LDAP_BASE
	C=$D/agentid.conf
	slapd_write_conf "$C" "hostname test.example.org" "enforce_grace 2s" \
	    "timeout 2" "heartbeat 1s"
	REG=$D/sessions
	export AGENTID_SESSION_DIR=$REG
	SVC=$D/pam.d
	mkdir -p "$SVC"
	# what sudo's stack looks like with the module: no password asked
	cat >"$SVC/agentid-test" <<EOF
auth     sufficient $MODULE config=$C
auth     required   pam_deny.so
account  required   $MODULE config=$C
session  required   $MODULE config=$C
EOF
	cp "$SVC/agentid-test" "$SVC/sudo"
}

# ses_procs SES: the live processes of kernel audit session SES.
ses_procs() {
	local want=$1 p s st
	[ "$want" = "$UNSET" ] && return 0
	for p in /proc/[0-9]*; do
		s=$(cat "$p/sessionid" 2>/dev/null) || continue
		[ "$s" = "$want" ] || continue
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' "$p/status" \
		    2>/dev/null)
		[ "$st" = Z ] || [ "$st" = X ] || [ -z "$st" ] && continue
		echo "${p#/proc/}"
	done
}

# session_start TAG USER [DRIVER OPTION...]: see the top of this file.
session_start() {
	local tag=$1 user=$2 i
	shift 2
	rm -f "$D/$tag".*
	(
		echo "$((60000 + RANDOM % 1000))" >/proc/self/loginuid || exit 1
		cat /proc/self/sessionid >"$D/$tag.ses"
		"$DRIVER" --confdir "$SVC" --service agentid-test --user "$user" \
		    --rhost 127.0.0.1 --tty ssh "$@" account open \
		    >"$D/$tag.open" 2>&1
		sleep 300 &
		echo $! >>"$D/$tag.pids"
		# the escape an agent would try: a new POSIX session, and a
		# double fork so that the process is nobody's child
		setsid sh -c "sleep 300 & echo \$! >>'$D/$tag.pids'" </dev/null \
		    >/dev/null 2>&1 &
		wait $!
		for i in $(seq 1 100); do
			[ "$(wc -l <"$D/$tag.pids")" -ge 2 ] && break
			sleep 0.05
		done
		mkfifo "$D/$tag.cmd"
		touch "$D/$tag.ready"
		# serve session_run: one command line per open of the FIFO
		while read -r line <"$D/$tag.cmd"; do
			eval "$line" >"$D/$tag.out" 2>&1
			echo $? >"$D/$tag.rc"
		done
	) &
	_BG_PIDS+=($!)
	for i in $(seq 1 100); do
		[ -f "$D/$tag.ready" ] && return 0
		sleep 0.1
	done
	fail "session $tag did not start: $(cat "$D/$tag.open" 2>/dev/null)"
	return 1
}

# session_run TAG COMMAND-LINE: runs the line (eval) inside session TAG's
# audit session; $OUT is its output.
session_run() {
	local tag=$1 i
	shift
	rm -f "$D/$tag.rc"
	printf '%s\n' "$*" >"$D/$tag.cmd"
	for i in $(seq 1 300); do
		[ -s "$D/$tag.rc" ] && break
		sleep 0.05
	done
	OUT=$(cat "$D/$tag.out" 2>/dev/null)
	[ -s "$D/$tag.rc" ] || fail "session $tag did not run: $*"
}

# enforcer [ARGS]: one pass; $PASS is its summary line.
enforcer() {
	PASS=$("$ENFORCER" --config "$C" --once "$@" 2>"$D/enforcer.err")
	local rc=$?
	echo "enforcer: $PASS"
	[ $rc -eq 0 ] || fail "agentid-enforcer exit $rc: $(cat "$D/enforcer.err")"
}
# pass_has KEY=VALUE: the last pass's summary says so
pass_has() {
	grep -qw -- "$1" <<<"$PASS"
}
# alive PID...: every one is a live process
alive() {
	local p st
	for p in "$@"; do
		st=$(sed -n 's/^State:[[:space:]]*\([A-Z]\).*/\1/p' \
		    "/proc/$p/status" 2>/dev/null)
		[ -n "$st" ] && [ "$st" != Z ] || return 1
	done
}
# dead PID...: none is a live process
dead() {
	local p
	for p in "$@"; do
		alive "$p" && return 1
	done
	return 0
}
