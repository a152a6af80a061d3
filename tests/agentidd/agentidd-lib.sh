# SPDX-License-Identifier: BSD-2-Clause
# shellcheck shell=bash
# agentidd-lib.sh - what the agentidd tests share (bash, sourced after
# tests/integration/slapd-fixture.sh, inside the private mount namespace
# the tests set up as root).
#
#   agentidd_setup [slapd_start args]  slapd with syncprov; sets D, CONF, R,
#                                      AGENTIDD, AGENTID, USEROPT; the trap
#   start_daemon [CONF] / stop_daemon  agentidd in the foreground, log in
#                                      $D/agentidd.log, pid in DPID
#   wait_caught_up SECS N              N "caught up" lines in the log
#   wait_in_step SECS [LDAPI_URI]      agentidd's saved cookie carries the
#                                      provider's contextCSN (caught up)
#   ldapmod ARGS                       ldapmodify as the root DN (ldapi)
#   ok / fail / finish                 counting checks; finish exits

B=${top_builddir:-.}
AGENTIDD=$B/agentidd/agentidd
AGENTID=$B/agentid # used by the tests that source this file
export AGENTID
FAILS=0 CHECKS=0
DPID=
fail() { echo "FAIL: $*" >&2; FAILS=$((FAILS + 1)); }
ok() { CHECKS=$((CHECKS + 1)); echo "ok: $*"; }
finish() {
	echo "$CHECKS checks, $FAILS failures"
	[ "$FAILS" -eq 0 ]
	exit
}

agentidd_cleanup() {
	if [ -n "$DPID" ]; then
		kill -CONT "$DPID" 2>/dev/null
		kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	fi
	slapd_stop
}

agentidd_setup() {
	[ -r /usr/lib/ldap/syncprov.so ] || [ -r /usr/lib/ldap/syncprov.la ] ||
	    _slapd_skip "slapd's syncprov module is missing"
	slapd_start --syncprov "$@" || return 1
	D=$AGENTID_TEST_LDAP_DIR
	trap agentidd_cleanup EXIT
	trap 'agentidd_cleanup; exit 130' INT
	trap 'agentidd_cleanup; exit 143' TERM
	mkdir -p "$D/replica"
	CONF=$D/agentid.conf
	R=$D/replica/agents.cdb
	USEROPT=()
	[ "$(id -u)" = 0 ] && USEROPT=(--user agentid)
	export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0}
	return 0
}

start_daemon() {
	"$AGENTIDD" --foreground --config "${1:-$CONF}" "${USEROPT[@]}" \
	    >>"$D/agentidd.log" 2>&1 &
	DPID=$!
}

stop_daemon() {
	local rc
	kill -CONT "$DPID" 2>/dev/null
	kill -TERM "$DPID" 2>/dev/null
	wait "$DPID"
	rc=$?
	DPID=
	return $rc
}

wait_caught_up() {
	for _ in $(seq 1 $(($1 * 10))); do
		[ "$(grep -c 'caught up' "$D/agentidd.log")" -ge "$2" ] && return 0
		sleep 0.1
	done
	return 1
}

ldapmod() {
	ldapmodify -x -H "${LDAPMOD_URI:-$AGENTID_TEST_LDAP_LDAPI_URI}" \
	    -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
	    "$@" >/dev/null
}

# The provider's contextCSN (the suffix entry's, as syncprov keeps it).
context_csn() {
	ldapsearch -x -LLL -o ldif-wrap=no -H "${1:-$AGENTID_TEST_LDAP_LDAPI_URI}" \
	    -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
	    -s base -b "$AGENTID_TEST_LDAP_BASE" contextCSN 2>/dev/null |
	    sed -n 's/^contextCSN: //p' | sort | tail -1
}

# The csn in agentidd's saved cookie ("rid=000,csn=...").
cookie_csn() {
	tr "," "\n" 2>/dev/null <"${R%.cdb}.cookie" | sed -n 's/^csn=//p' |
	    tr ';' '\n' | sort | tail -1
}

# Waits (up to $1 s) until the cookie agentidd saved after writing the
# replica carries the provider's contextCSN, and the contact file was
# written after it: everything the provider holds is in the replica.
wait_in_step() {
	local want
	for _ in $(seq 1 $(($1 * 10))); do
		want=$(context_csn "${2:-}")
		[ -n "$want" ] && [ "$(cookie_csn)" = "$want" ] && return 0
		sleep 0.1
	done
	echo "provider $(context_csn "${2:-}"), agentidd $(cookie_csn)" >&2
	return 1
}
