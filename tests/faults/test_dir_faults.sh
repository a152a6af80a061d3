#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_dir_faults.sh - the directory under faults, against every front.
#
# A real slapd (syncprov) behind tests/faults/fault_proxy.py, which serves
# ldaps:// and fails on command: down (closed port), hung (the proxy under
# SIGSTOP), slow (every operation delayed so that a decision's three round
# trips fit `timeout`: slow-under; so that each fits and the three do not:
# slow-over; each just under `timeout`: slow-op, which a bound per
# operation would let through after three timeouts), TLS with a certificate
# of the wrong CA, an expired one, one for another host name, a server that
# drops the connection mid-search, one that answers garbage (bytes that are
# not BER; BER with random contents; only the search entries garbled after
# a good bind, which a lookup once took for "no such agent": a PAM
# pass-through). agentidd syncs through the proxy.
#
# For each fault:
#   - with `source directory`: PAM account (libpam, pam_agent.so),
#     `agentid check` and `agentid principals` on a good agent deny
#     (PAM_AUTHINFO_UNAVAIL, exit 2, no principal printed) within timeout
#     + 1 s, never crash, never allow; slow but within `timeout`: they
#     allow, and a revoked agent is denied as revoked;
#   - with agentidd's replica fresh (caught up before the fault): the same
#     fronts decide from the replica (source replica), right, and NSS
#     (getent passwd, through glibc in a private namespace) answers;
#   - an agent added to the directory during the fault is on the host
#     (check from the replica, getent) once the fault ends: agentidd kept
#     its replica, reconnected and caught up; it never exits.
# At the end the replica equals a fresh `agentid sync` of the directory.
# A table of the matrix goes to the log. Runs as root (agentidd drops to
# the user `agentid` in a private namespace; NSS needs one too).
set -u
if [ "${AGENTID_DISTCHECK:-}" = 1 ]; then
	echo "SKIP: ran in the main build of this scripts/test" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
. "${top_srcdir:-.}/tests/nss/nss-lib.sh"
. "${top_srcdir:-.}/tests/faults/faults-lib.sh"
[ "$(id -u)" = 0 ] || _slapd_skip "needs root (agentidd's user, NSS namespace)"
faults_prereqs
nss_setup

T=2               # timeout: the bound under test is T + 1 s
SLOW_UNDER=0.45   # x 3 round trips = 1.35 s: fits T
SLOW_OVER=0.75    # x 3 = 2.25 s: each fits T, the decision does not
SLOW_OP=1.8       # each just under T; x 3 = 5.4 s
BOUND=$(( (T + 1) * 1000 ))

agentidd_setup || exit 1
cleanup() {
	proxy_stop
	agentidd_cleanup
	rm -rf "$NSS_TMP"
}
trap cleanup EXIT
trap 'cleanup; exit 130' INT
trap 'cleanup; exit 143' TERM

BASE=$AGENTID_TEST_LDAP_BASE
# agent UID UIDNUMBER [LDIF lines]: an agent entry, posixAccount for NSS
agent() {
	local u=$1 n=$2
	shift 2
	printf '%s\n' "dn: uid=$u,ou=agents,$BASE" "objectClass: account" \
	    "objectClass: posixAccount" "objectClass: agentIdentity" \
	    "uid: $u" "cn: $u" "uidNumber: $n" "gidNumber: 41000" \
	    "homeDirectory: /home/$u" "loginShell: /bin/sh" \
	    "agentOwner: uid=alice,ou=people,$BASE" \
	    "agentNotAfter: $(_slapd_gentime +30d)" "agentScope: host:*" \
	    "agentScope: service:sshd" "agentScope: service:agentid-*" "$@"
	echo
}
{
	printf '%s\n' "dn: ou=people,$BASE" "objectClass: organizationalUnit" \
	    "ou: people" "" "dn: ou=agents,$BASE" \
	    "objectClass: organizationalUnit" "ou: agents" "" \
	    "dn: uid=alice,ou=people,$BASE" "objectClass: inetOrgPerson" \
	    "uid: alice" "cn: Alice" "sn: A" ""
	agent bot-ok 41001
	agent bot-rev 41002 "agentStatus: revoked"
} >"$D/data.ldif"
ldapmod -a -f "$D/data.ldif" || { fail "loading the directory"; finish; }

faults_make_certs "$D/certs" || { fail "making certificates"; finish; }
proxy_start "$AGENTID_TEST_LDAP_PORT" "$D/certs" ||
    { fail "fault_proxy.py did not start"; finish; }
URI="ldaps://127.0.0.1:$PROXY_PORT"
common=("uri $URI" "timeout $T" "hostname web1.example.org" "heartbeat 1"
    "replica $R")
slapd_write_conf "$CONF" "${common[@]}" "replica_max_age 30s"
DCONF=$D/directory.conf
slapd_write_conf "$DCONF" "${common[@]}" "source directory"
# the reference for the end: the directory itself, not through the proxy
slapd_write_conf "$D/ref.conf" "hostname web1.example.org" \
    "replica $D/ref.cdb"
pam_service agentid-faults-dir "$DCONF"
pam_service agentid-faults-rep "$CONF"

start_daemon
wait_caught_up 30 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
wait_in_step 30 || fail "agentidd not in step at the start"

# --- the proxy in mode pass answers: the denials below are the faults'
decide_check "$DCONF" bot-ok
[ "$RC:$REASON:$SOURCE" = 0:ok:directory ] &&
    ok "no fault: check through the proxy allows (${EL} ms)" ||
    fail "no fault: check through the proxy: exit $RC $REASON $SOURCE"
decide_pam agentid-faults-dir bot-ok
[ "$CODE" = PAM_SUCCESS ] && ok "no fault: PAM through the proxy: PAM_SUCCESS" ||
    fail "no fault: PAM through the proxy: $CODE"

# fault_on NAME / fault_off NAME
fault_on() {
	case $1 in
	down) proxy_mode down ;;
	hung) kill -STOP "$PROXY_PID" ;;
	slow-under) proxy_mode latency "$SLOW_UNDER" ;;
	slow-over) proxy_mode latency "$SLOW_OVER" ;;
	slow-op) proxy_mode latency "$SLOW_OP" ;;
	wrong-ca) proxy_mode cert wrongca ;;
	expired) proxy_mode cert expired ;;
	mismatch) proxy_mode cert mismatch ;;
	drop) proxy_mode drop ;;
	garbage) proxy_mode garbage junk ;;
	garbage-ber) proxy_mode garbage ber ;;
	garbage-entry) proxy_mode garbage entry ;;
	esac
}
fault_off() {
	[ "$1" = hung ] && kill -CONT "$PROXY_PID"
	proxy_mode pass
}

# The fronts against the directory, one after the other (each timed
# alone: two at once on two cores under ASan would time the machine);
# results in $D/dir.FRONT as "rc elapsed answer".
directory_fronts() {
	decide_pam agentid-faults-dir bot-ok
	echo "0 $EL $CODE" >"$D/dir.pam"
	decide_check "$DCONF" bot-ok
	echo "$RC $EL $REASON" >"$D/dir.check"
	decide_check "$DCONF" bot-rev
	echo "$RC $EL $REASON" >"$D/dir.rev"
	decide_principals "$DCONF" bot-ok
	echo "$RC $EL $OUT" >"$D/dir.princ"
}

# within NAME WHAT EL: the elapsed time within timeout + 1 s
within() {
	if [ "$3" -le "$BOUND" ]; then
		ok "$1: $2 in $3 ms (bound $BOUND ms)"
	else
		fail "$1: $2 took $3 ms, more than timeout + 1 s ($BOUND ms)"
	fi
}

nss_line() { nss_run "$R" getent passwd "$1" 2>>"$D/fronts.err"; }

TABLE=()
n=0
for F in down hung slow-under slow-over slow-op wrong-ca expired mismatch drop \
    garbage garbage-ber garbage-entry; do
	n=$((n + 1))
	echo "=== fault: $F"
	n_err=$(grep -c 'reconnecting in' "$D/agentidd.log")
	fault_on "$F" || fail "$F: could not set the fault"
	t_fault=$(ms)

	# -- a fresh replica decides, rightly, without the directory
	rep=ok
	decide_check "$CONF" bot-ok
	[ "$RC:$REASON:$SOURCE" = 0:ok:replica ] || {
		rep=WRONG; fail "$F: replica: check bot-ok: exit $RC $REASON $SOURCE"; }
	decide_check "$CONF" bot-rev
	[ "$RC:$REASON:$SOURCE" = 1:revoked:replica ] || {
		rep=WRONG; fail "$F: replica: check bot-rev: exit $RC $REASON $SOURCE"; }
	decide_pam agentid-faults-rep bot-ok
	[ "$CODE" = PAM_SUCCESS ] || {
		rep=WRONG; fail "$F: replica: PAM bot-ok: $CODE"; }
	decide_pam agentid-faults-rep bot-rev
	[ "$CODE" = PAM_PERM_DENIED ] || {
		rep=WRONG; fail "$F: replica: PAM bot-rev: $CODE"; }
	grep '"event":"account"' "$D/audit.log" | grep '"user":"bot-rev"' |
	    tail -n 1 | grep -q '"source":"replica"' || {
		rep=WRONG; fail "$F: replica: PAM's audit does not say source replica"; }
	decide_principals "$CONF" bot-ok
	[ "$RC:$OUT" = 0:bot-ok ] || {
		rep=WRONG; fail "$F: replica: principals bot-ok: exit $RC '$OUT'"; }
	decide_principals "$CONF" bot-rev
	[ "$RC:$OUT" = "0:" ] || {
		rep=WRONG; fail "$F: replica: principals bot-rev: exit $RC '$OUT'"; }
	[ "$rep" = ok ] && ok "$F: the fresh replica decides rightly (check, PAM, principals)"
	nss=ok
	case $(nss_line bot-ok) in
	"bot-ok:*:41001:41000::/home/bot-ok:/bin/sh") ;;
	*) nss=FAIL; fail "$F: getent passwd bot-ok: $(nss_line bot-ok)" ;;
	esac

	# -- a change the directory takes during the fault
	agent "late-$F" $((42000 + n)) | ldapmod -a ||
	    fail "$F: adding late-$F to the directory"

	# -- the directory decides: fail closed, in time (slow-under: allow)
	directory_fronts
	read -r p_rc p_el p_code <"$D/dir.pam"
	read -r c_rc c_el c_reason <"$D/dir.check"
	read -r v_rc v_el v_reason <"$D/dir.rev"
	read -r s_rc s_el s_out <"$D/dir.princ"
	if [ "$F" = slow-under ]; then
		[ "$p_code" = PAM_SUCCESS ] && ok "$F: PAM allows the good agent" ||
		    fail "$F: PAM: $p_code, wanted PAM_SUCCESS"
		[ "$c_rc:$c_reason" = 0:ok ] && ok "$F: check allows the good agent" ||
		    fail "$F: check bot-ok: exit $c_rc $c_reason, wanted 0 ok"
		[ "$v_rc:$v_reason" = 1:revoked ] && ok "$F: check denies the revoked one" ||
		    fail "$F: check bot-rev: exit $v_rc $v_reason, wanted 1 revoked"
		[ "$s_rc:${s_out:-}" = 0:bot-ok ] && ok "$F: principals prints the agent" ||
		    fail "$F: principals: exit $s_rc '${s_out:-}', wanted bot-ok"
	else
		[ "$p_code" = PAM_AUTHINFO_UNAVAIL ] &&
		    ok "$F: PAM account: PAM_AUTHINFO_UNAVAIL" ||
		    fail "$F: PAM account: $p_code, wanted PAM_AUTHINFO_UNAVAIL"
		[ "$c_rc" = 2 ] && ok "$F: check bot-ok: exit 2 ${c_reason:-}" ||
		    fail "$F: check bot-ok: exit $c_rc ${c_reason:-}, wanted 2"
		[ "$v_rc" = 2 ] && ok "$F: check bot-rev: exit 2 ${v_reason:-}" ||
		    fail "$F: check bot-rev: exit $v_rc ${v_reason:-}, wanted 2"
		[ "$s_rc:${s_out:-}" = 2: ] && ok "$F: principals: exit 2, nothing printed" ||
		    fail "$F: principals: exit $s_rc '${s_out:-}', wanted 2 and nothing"
	fi
	within "$F" "PAM account" "$p_el"
	within "$F" "check" "$c_el"
	within "$F" "check (revoked)" "$v_el"
	within "$F" "principals" "$s_el"

	# -- agentidd meets the fault twice: on its connection, then when it
	# reconnects (a slow server within timeout is no fault for it), and
	# takes nothing from the faulty server meanwhile
	met=-
	case $F in
	slow-*) ;;
	*)
		for _ in $(seq 1 150); do
			[ "$(grep -c 'reconnecting in' "$D/agentidd.log")" -ge $((n_err + 2)) ] &&
			    break
			sleep 0.1
		done
		met=$(grep -B1 'reconnecting in' "$D/agentidd.log" | tail -n 2 |
		    head -n 1 | sed 's/^.*127\.0\.0\.1:[0-9]*[^:]*: //' | cut -c1-72)
		[ "$(grep -c 'reconnecting in' "$D/agentidd.log")" -ge $((n_err + 2)) ] &&
		    ok "$F: agentidd met the fault, also on reconnecting: $met" ||
		    fail "$F: agentidd did not fail twice within 15 s"
		decide_check "$CONF" "late-$F"
		[ "$RC:$REASON:$SOURCE" = 1:not_an_agent:replica ] &&
		    ok "$F: nothing came through the faulty server" ||
		    fail "$F: during the fault: check late-$F: exit $RC $REASON $SOURCE"
		;;
	esac
	kill -0 "$DPID" 2>/dev/null || fail "$F: agentidd exited during the fault"
	fault_lasted=$(( $(ms) - t_fault ))
	fault_off "$F" || fail "$F: could not end the fault"
	t_off=$(ms)

	# -- agentidd reconnects and brings the change; NSS answers meanwhile
	caught=
	for _ in $(seq 1 300); do
		decide_check "$CONF" "late-$F"
		if [ "$RC:$REASON:$SOURCE" = 0:ok:replica ] &&
		    nss_line "late-$F" | grep -q "^late-$F:\*:$((42000 + n)):"; then
			caught=$(( $(ms) - t_off ))
			break
		fi
		case $(nss_line bot-ok) in
		bot-ok:*) ;;
		*) nss=FAIL; fail "$F: getent passwd bot-ok failed during the catch-up" ;;
		esac
		sleep 0.2
	done
	if [ -n "$caught" ]; then
		ok "$F: the agent added during the fault is on the host $caught ms after it ended"
	else
		fail "$F: late-$F never reached the host: $(tail -n 5 "$D/agentidd.log")"
		caught=never
	fi
	kill -0 "$DPID" 2>/dev/null || fail "$F: agentidd exited"
	TABLE+=("$(printf '%-13s %-22s %-9s %-9s %-16s %-7s %-4s %-8s %s' "$F" \
	    "${p_code#PAM_} ${p_el}ms" "$c_rc ${c_el}ms" "$v_rc ${v_el}ms" \
	    "$s_rc '${s_out:-}' ${s_el}ms" "$rep" "$nss" "$caught" "$met")")
done

# --- nothing lost, nothing corrupted: the replica equals a fresh sync
wait_in_step 30 || fail "agentidd not in step at the end"
DUMP=$B/tests/agentidd/replica_dump
"$AGENTID" --config "$D/ref.conf" sync >/dev/null 2>>"$D/fronts.err" ||
    fail "agentid sync of the reference failed"
"$DUMP" nss "$D/ref.cdb" | sort >"$D/ref.txt"
"$DUMP" nss "$R" | sort >"$D/got.txt"
if [ -s "$D/ref.txt" ] && cmp -s "$D/ref.txt" "$D/got.txt"; then
	ok "after every fault the replica equals a fresh sync ($(wc -l <"$D/ref.txt") agents)"
else
	fail "the replica differs from a fresh sync:"
	diff "$D/ref.txt" "$D/got.txt" >&2
fi
stop_daemon || fail "agentidd exit status"
r=$(sanitizer_reports "$D/agentidd.log" "$D/fronts.err")
[ -z "$r" ] && ok "no sanitizer report (agentidd, fronts)" ||
    fail "sanitizer reports in $r: $(grep -h -A5 'ERROR:\|runtime error' $r | head -20)"

echo
echo "directory faults, timeout $T s (bound $BOUND ms); directory fronts on a good agent, the"
echo "revoked one by check; replica fronts and NSS during the fault; agentidd afterwards"
printf '%-13s %-22s %-9s %-9s %-16s %-7s %-4s %-8s %s\n' fault "PAM(dir)" \
    "check" "chk-rev" "principals" replica NSS "back(ms)" "agentidd met"
for row in "${TABLE[@]}"; do echo "$row"; done
echo
finish
