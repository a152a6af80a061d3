# SPDX-License-Identifier: BSD-2-Clause
# lib.sh - helpers for the integration tests of agentid (bash, sourced
# after slapd-fixture.sh). Each failed expectation is counted in FAILS.

AGENTID="${top_builddir:-.}/agentid"
AGENTID_LIBPATH=
# The libtool wrapper costs ~0.2 s a run; call the real binary when it is
# there (tests run it hundreds of times).
if [ -x "${top_builddir:-.}/.libs/agentid" ] &&
    [ -e "${top_builddir:-.}/.libs/libagentid.so" ]; then
	AGENTID_LIBPATH="${top_builddir:-.}/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	_agentid_real() {
		LD_LIBRARY_PATH="$AGENTID_LIBPATH" "${top_builddir:-.}/.libs/agentid" "$@"
	}
	AGENTID=_agentid_real
fi

# agentid_timeout SECS ARGS...: agentid ARGS, killed after SECS seconds.
agentid_timeout() {
	local secs=$1
	shift
	if [ -n "$AGENTID_LIBPATH" ]; then
		timeout "$secs" env LD_LIBRARY_PATH="$AGENTID_LIBPATH" \
		    "${top_builddir:-.}/.libs/agentid" "$@"
	else
		timeout "$secs" "$AGENTID" "$@"
	fi
}

FAILS=0
CHECKS=0
# libldap's own leak with TLS client certificates (see lsan.supp)
export LSAN_OPTIONS="suppressions=${top_srcdir:-.}/tests/integration/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"

# Prints a failure and counts it.
fail() {
	echo "FAIL: $*" >&2
	FAILS=$((FAILS + 1))
}

# expect_check CONF RC REASON [ARGS...]: runs "agentid check ARGS" and
# wants exit code RC and REASON in the JSON output (and in words).
expect_check() {
	local conf=$1 rc=$2 reason=$3 out got
	local LAST_ERR="$AGENTID_TEST_LDAP_DIR/last.err"
	shift 3
	CHECKS=$((CHECKS + 1))
	out=$("$AGENTID" --config "$conf" check --json "$@" 2>"$LAST_ERR")
	got=$?
	if [ "$got" != "$rc" ]; then
		fail "check $*: exit $got, wanted $rc; output: $out $(cat "$LAST_ERR")"
		return 1
	fi
	case $out in
	*"\"reason\":\"$reason\""*) ;;
	*) fail "check $*: wanted reason $reason, got: $out"; return 1 ;;
	esac
	out=$("$AGENTID" check "$@" --config "$conf" 2>"$LAST_ERR")
	got=$?
	if [ "$got" != "$rc" ]; then
		fail "check $* (words): exit $got, wanted $rc"
		return 1
	fi
	case $out in
	*"$reason"*) ;;
	*) fail "check $* (words): reason $reason missing in: $out"; return 1 ;;
	esac
	echo "ok: check $* -> exit $rc, $reason"
}

# finish: prints a summary and exits 0 or 1.
finish() {
	echo "$CHECKS checks, $FAILS failures"
	[ "$FAILS" -eq 0 ]
	exit $?
}

