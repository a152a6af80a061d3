#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_logins_load.sh - logins under load (issue 15, item 3): P processes x
# R rounds of PAM account + session open + close through the real libpam
# stack (tests/load/login_load: one process each, a fresh PAM handle per
# round), a mix of allowed and denied agents whose answers are known, with
# a sealed audit trail (audit_seal_interval 1s). Two phases:
#   1. decisions from the directory (slapd fixture, `source directory`);
#   2. decisions from agentidd's replica (`source replica`) while an
#      ldapmodify stream changes the directory at 100 changes/s: the
#      agentStatus of 20 agents outside the tested set, toggled between
#      active and suspended (their final state is checked in the replica
#      afterwards). agentidd runs as root in a private mount namespace
#      (tests/agentidd/agentidd-ns.sh); not root: phase 2 is skipped, said
#      loudly.
# Each phase asserts: zero unexpected PAM results; the trail holds exactly
# the expected lines per event (account = P*R, session_open = session_close
# = the allowed rounds; seal lines come on top, at least one); every line
# is whole; `agentid audit verify` passes, and with the verification key
# too (`audit verify --key`); agentidd ended no session. It prints the
# decisions (account + session open) per second; nothing is timed.
#
# Size: AGENTID_LOAD_PROCS (default 16) x AGENTID_LOAD_ROUNDS. The issue
# asks for 16 x 500; under ASan on a busy 2-core VM that takes 3 minutes
# for both phases, so "make check" (and scripts/test) run 16 x 100 and say
# so; AGENTID_LOAD_ROUNDS=500 runs the full size.
set -u
# a long test: it runs once per scripts/test, in its main build; the second
# configuration of `make distcheck` builds it and skips it
if [ "${AGENTID_DISTCHECK:-}" = 1 ]; then
	echo "SKIP: ran in the main build of this scripts/test" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"

PROCS=${AGENTID_LOAD_PROCS:-16}
ROUNDS=${AGENTID_LOAD_ROUNDS:-100}
CHANGES_PER_S=100
case "$PROCS$ROUNDS" in *[!0-9]*|'') echo "FAIL: bad AGENTID_LOAD_PROCS/ROUNDS" >&2; exit 1 ;; esac
if [ "$ROUNDS" -lt 500 ] || [ "$PROCS" -lt 16 ]; then
	echo "!! NOTE: short form: $PROCS processes x $ROUNDS rounds (the issue's full size is"
	echo "!! 16 x 500: AGENTID_LOAD_ROUNDS=500)"
fi
LOAD=$B/tests/load/login_load
MODULE=$(cd "$B" && pwd)/pam_agent/.libs/pam_agent.so
[ -x "$LOAD" ] || { echo "FAIL: $LOAD not built" >&2; exit 1; }
[ -f "$MODULE" ] || { echo "FAIL: $MODULE not built" >&2; exit 1; }
"$LOAD" --confdir /nonexistent --service x --rounds 0 --worker 0 x=allow \
    >/dev/null 2>&1
[ $? -eq 77 ] && _slapd_skip "libpam has no pam_start_confdir"

agentidd_setup || exit 1
slapd_load "$top_srcdir/tests/pam/agents.ldif" || { fail "loading agents.ldif"; finish; }
# 20 agents outside the tested set, for the changes of phase 2
for k in $(seq -w 1 20); do
	cat <<EOF
dn: uid=churn-$k,ou=agents,$AGENTID_TEST_LDAP_BASE
objectClass: account
objectClass: posixAccount
objectClass: agentIdentity
uid: churn-$k
cn: churn-$k
uidNumber: $((42000 + 10#$k))
gidNumber: 41000
homeDirectory: /tmp
agentOwner: uid=alice,ou=people,$AGENTID_TEST_LDAP_BASE
agentNotAfter: $(_slapd_gentime +30d)
agentScope: host:*
agentScope: service:*

EOF
done | ldapmod -a || { fail "adding the churn agents"; finish; }

# the tested set (tests/pam/agents.ldif, hostname test.example.org): one
# allowed agent in half of the rounds, three ways of being refused
USERS=(bot-ok=allow bot-expired=PAM_ACCT_EXPIRED bot-ok=allow
    bot-revoked=PAM_PERM_DENIED bot-ok=allow bot-scope=PAM_PERM_DENIED)
# expected allowed rounds: worker w's round i logs in USERS[(w+i) % n]
allowed_expected=0
n_users=${#USERS[@]}
for ((w = 0; w < PROCS; w++)); do
	for ((j = 0; j < n_users; j++)); do
		[ "${USERS[j]#*=}" = allow ] || continue
		# rounds i in [0, ROUNDS) with (w + i) % n == j
		first=$(( (j - w % n_users + n_users) % n_users ))
		[ "$first" -lt "$ROUNDS" ] &&
		    allowed_expected=$((allowed_expected + (ROUNDS - 1 - first) / n_users + 1))
	done
done
TOTAL=$((PROCS * ROUNDS))
echo "load: $PROCS processes x $ROUNDS rounds = $TOTAL logins, $allowed_expected allowed"

export AGENTID_SESSION_DIR=$D/sessions
mkdir -p "$AGENTID_SESSION_DIR"
SVC=$D/pam.d
mkdir -p "$SVC"
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$top_srcdir/tests/integration/lsan.supp}

# now_ms: wall clock in milliseconds (bash 5's EPOCHREALTIME)
now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# run_phase NAME CONF: the load against CONF (its audit_log sealed), then
# every check of the trail; sets SOURCES (the "source" values counted)
run_phase() {
	local name=$1 conf=$2 dir log vkey t0 t1 ms w bad out pid
	local -a pids=()
	dir=$D/$name
	log=$dir/audit.log
	printf 'account required %s config=%s unknown=deny\nsession required %s config=%s\n' \
	    "$MODULE" "$conf" "$MODULE" "$conf" >"$SVC/agentid-load"
	if ! vkey=$("$AGENTID" --config "$conf" audit keygen 2>"$dir/keygen.err"); then
		fail "$name: audit keygen: $(cat "$dir/keygen.err")"
		return
	fi
	t0=$(now_ms)
	for ((w = 0; w < PROCS; w++)); do
		"$LOAD" --confdir "$SVC" --service agentid-load --rounds "$ROUNDS" \
		    --worker "$w" --pin "$MODULE" "${USERS[@]}" \
		    >"$dir/worker.$w.out" 2>"$dir/worker.$w.err" &
		pids+=($!)
	done
	bad=0
	for pid in "${pids[@]}"; do
		wait "$pid" || bad=$((bad + 1))
	done
	t1=$(now_ms)
	ms=$((t1 - t0 > 0 ? t1 - t0 : 1))
	out=$(cat "$dir"/worker.*.out | awk '{r += $2; a += $4; d += $6; u += $8}
	    END {print r + 0, a + 0, d + 0, u + 0}')
	read -r r_sum a_sum d_sum u_sum <<<"$out"
	if [ "$bad" -eq 0 ] && [ "$u_sum" -eq 0 ] && [ "$r_sum" -eq "$TOTAL" ] &&
	    [ "$a_sum" -eq "$allowed_expected" ] &&
	    [ "$d_sum" -eq $((TOTAL - allowed_expected)) ]; then
		ok "$name: $TOTAL logins, $a_sum allowed and $d_sum denied as expected, 0 unexpected"
	else
		fail "$name: $bad worker(s) failed; rounds $r_sum/$TOTAL allowed $a_sum/$allowed_expected denied $d_sum unexpected $u_sum"
		cat "$dir"/worker.*.err | head -n 20 >&2
	fi
	echo "load: $name: $(( (TOTAL + a_sum) * 1000 / ms )) decisions/s" \
	    "($((TOTAL + a_sum)) account + session open decisions, $((TOTAL + 2 * a_sum))" \
	    "audited PAM calls in $((ms / 1000)).$(printf %03d $((ms % 1000))) s," \
	    "$PROCS processes)"

	# a load shorter than an interval writes no seal by itself: once the
	# last record's interval has ended, seal it as a quiet host's timer
	# does, so that --key proves every line
	sleep 1.1
	"$AGENTID" --config "$conf" audit seal >"$dir/seal.out" 2>&1 ||
	    fail "$name: audit seal: $(cat "$dir/seal.out")"

	# the trail: exactly the expected lines per event, seals on top
	local n_acc n_open n_close n_seal n_all n_allow
	n_acc=$(grep -c '"event":"account"' "$log")
	n_open=$(grep -c '"event":"session_open"' "$log")
	n_close=$(grep -c '"event":"session_close"' "$log")
	n_seal=$(grep -c '"event":"seal"' "$log")
	n_all=$(wc -l <"$log")
	n_allow=$(grep '"event":"account"' "$log" | grep '"user":"bot-ok"' |
	    grep -c '"decision":"allow"')
	if [ "$n_acc" -eq "$TOTAL" ] && [ "$n_open" -eq "$allowed_expected" ] &&
	    [ "$n_close" -eq "$allowed_expected" ] && [ "$n_seal" -ge 1 ] &&
	    [ "$n_allow" -eq "$allowed_expected" ] &&
	    [ "$n_all" -eq $((n_acc + n_open + n_close + n_seal)) ]; then
		ok "$name: trail holds exactly $n_acc account, $n_open session_open, $n_close session_close lines (+ $n_seal seals)"
	else
		fail "$name: trail: $n_all lines: account $n_acc/$TOTAL (allow $n_allow), session_open $n_open, session_close $n_close (expected $allowed_expected each), seal $n_seal"
	fi
	bad=$(grep -cv '^{.*"seq":[0-9]*,"prev":"[0-9a-f]\{64\}"}$' "$log")
	[ "$bad" -eq 0 ] && ok "$name: every line whole" ||
	    fail "$name: $bad lines are not whole records"
	if out=$("$AGENTID" audit verify "$log" 2>&1); then
		ok "$name: audit verify: $(tr '\n' ' ' <<<"$out")"
	else
		fail "$name: audit verify: $out"
	fi
	if out=$("$AGENTID" audit verify --key "$vkey" "$log" 2>&1) &&
	    grep -q "^sealed: $n_all lines" <<<"$out" &&
	    grep -q '^unsealed: 0 lines' <<<"$out"; then
		ok "$name: audit verify --key: $n_seal seals, all $n_all lines sealed"
	else
		fail "$name: audit verify --key: $out"
	fi
	SOURCES=$(grep -o '"source":"[a-z]*"' "$log" | sort | uniq -c | tr -s ' \n' ' ')
	echo "load: $name: sources:$SOURCES"
}

common=("hostname test.example.org" "audit_seal_interval 1s")

# ---- phase 1: decisions from the directory
mkdir -m 700 "$D/directory"
C1=$D/directory.conf
slapd_write_conf "$C1" "${common[@]}" "source directory" \
    "audit_log $D/directory/audit.log"
run_phase directory "$C1"
grep -q '"source":"replica"' "$D/directory/audit.log" &&
    fail "directory: a decision came from a replica"

# ---- phase 2: decisions from agentidd's replica, 100 changes/s meanwhile
if [ "$(id -u)" != 0 ]; then
	echo "!! SKIP (phase 2 only): agentidd needs root (a private mount namespace"
	echo "!! with the system user agentid); phase 1 ran"
	finish
fi
mkdir -m 700 "$D/replica-load"
# agentidd audits to a trail of its own (session_terminate), so that the
# PAM trail's count stays exact
CD=$D/agentidd.conf
slapd_write_conf "$CD" "${common[@]}" "heartbeat 1" "replica $R" \
    "audit_log $D/agentidd-audit.log"
C2=$D/replica.conf
slapd_write_conf "$C2" "${common[@]}" "heartbeat 1" "replica $R" \
    "source replica" "audit_log $D/replica-load/audit.log"
start_daemon "$CD"
wait_caught_up 60 1 || { fail "agentidd: no initial refresh"; tail "$D/agentidd.log" >&2; finish; }
wait_in_step 60 || fail "agentidd not in step before the load"

# The changes: churn-KK's agentStatus, change n sets churn-(n mod 20 + 1)
# to suspended when (n / 20) is even, active when odd; paced on the clock
# at CHANGES_PER_S, one ldapmodify reading them as they come.
churn() {
	local start n=0 now target k st
	start=$(now_ms)
	while [ ! -e "$D/churn.stop" ]; do
		now=$(now_ms)
		target=$(( (now - start) * CHANGES_PER_S / 1000 ))
		while [ $n -lt $target ]; do
			k=$(printf %02d $((n % 20 + 1)))
			st=suspended
			[ $(( (n / 20) % 2 )) -eq 1 ] && st=active
			printf 'dn: uid=churn-%s,ou=agents,%s\nchangetype: modify\nreplace: agentStatus\nagentStatus: %s\n\n' \
			    "$k" "$AGENTID_TEST_LDAP_BASE" "$st"
			n=$((n + 1))
		done
		sleep 0.02
	done
	echo "$n" >"$D/churn.count"
	echo "$(( $(now_ms) - start ))" >"$D/churn.ms"
}
rm -f "$D/churn.stop"
( churn | ldapmodify -x -H "$AGENTID_TEST_LDAP_LDAPI_URI" \
    -D "$AGENTID_TEST_LDAP_ROOTDN" -w "$AGENTID_TEST_LDAP_ROOTPW" \
    >"$D/churn.out" 2>&1; echo $? >"$D/churn.rc" ) &
CPID=$!
run_phase replica-load "$C2"
touch "$D/churn.stop"
wait "$CPID"
n_changes=$(cat "$D/churn.count")
applied=$(grep -c '^modifying entry' "$D/churn.out")
churn_ms=$(cat "$D/churn.ms")
echo "load: replica-load: $n_changes directory changes in $((churn_ms / 1000)) s" \
    "($(( n_changes * 1000 / (churn_ms > 0 ? churn_ms : 1) ))/s)"
[ "$(cat "$D/churn.rc")" = 0 ] && [ "$applied" -eq "$n_changes" ] && [ "$n_changes" -gt 0 ] &&
    ok "replica-load: slapd applied all $n_changes changes" ||
    fail "replica-load: ldapmodify exit $(cat "$D/churn.rc"), $applied of $n_changes applied: $(grep -v '^modifying' "$D/churn.out" | head -3)"
grep -q '"source":"replica"' "$D/replica-load/audit.log" &&
    ok "replica-load: decisions came from the replica (sources:$SOURCES)" ||
    fail "replica-load: no decision from the replica (sources:$SOURCES)"
grep -q '"source":"directory"' "$D/replica-load/audit.log" &&
    echo "!! note: some decisions fell back to the directory (replica older than replica_max_age under load): allowed, still right"

# the changes' known effect: once agentidd is in step, each churn agent's
# last status decides it from the replica
wait_in_step 60 || fail "agentidd not in step after the load"
wrong=0
for ((k = 1; k <= 20; k++)); do
	# the last change n < n_changes with n % 20 == k - 1
	last=$(( ((n_changes - k) / 20) * 20 + k - 1 ))
	want=ok
	if [ "$n_changes" -lt "$k" ]; then
		want=ok
	elif [ $(( (last / 20) % 2 )) -eq 0 ]; then
		want=suspended
	fi
	kk=$(printf %02d $k)
	got=$("$AGENTID" --config "$CD" check "churn-$kk" --json 2>&1 | tr -d '\n ')
	grep -q "\"reason\":\"$want\"" <<<"$got" || {
		wrong=$((wrong + 1))
		echo "churn-$kk: wanted $want: $got" >&2
	}
done
src=$(grep '"event":"check"' "$D/agentidd-audit.log" | grep -c '"source":"replica"')
[ "$wrong" -eq 0 ] && [ "$src" -eq 20 ] &&
    ok "replica-load: the 20 changed agents decide from the replica as their last change says" ||
    fail "replica-load: $wrong of 20 changed agents wrong, $src of 20 from the replica"
n_term=$(grep -c '"event":"session_terminate"' "$D/agentidd-audit.log")
[ "$n_term" -eq 0 ] && ok "replica-load: agentidd ended no session of the tested agents" ||
    fail "replica-load: agentidd ended $n_term sessions"
stop_daemon || fail "agentidd exit status"
finish
