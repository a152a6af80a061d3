#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_equivalence.sh - the correctness property of the replica (DESIGN.md:
# "decisions from a caught-up replica equal decisions from the directory,
# reason for reason"). gen_directory makes a random directory from a seed
# (chains, statuses, windows, scopes, fingerprints, owners of every kind,
# cycles, two uid values; base is ou=agents, the owners, groups and a few
# agentIdentity entries beside it); agentidd replicates it; random
# modifications, renames and deletions follow through ldapmodify; after
# agentidd caught up (its saved cookie carries the provider's contextCSN),
# every request is decided by `agentid check --json` twice, with `source
# replica` and with `source directory` on the same slapd, and the two
# answers must be the same (decision, reason, owner, chain, window,
# culprit; or both an error).
# The NSS replica agentidd kept (a base and its delta) must then equal what
# a full `agentid sync` writes.
#
#   AGENTID_EQUIV_SEED=N   replay a run (the seed is printed)
#   AGENTID_EQUIV_N=N      entries (default 300; ~N*5/3 requests, N/3 changes)
#   AGENTID_EQUIV_JOBS=N   parallel checks (default 2)
#   AGENTID_EQUIV_REQUESTS=N  decide only the first N requests (a big
#                          directory with a bounded run time)
#   AGENTIDD_TEST_COMPACT_FAIL=1  agentidd's compaction children fail: the
#                          synchronous fallback is what gets compared
#                          (test_compact_fallback.sh)
# Root runs agentidd as the system user agentid in a private mount
# namespace, as test_agentidd.sh does.
set -u
# the long agentidd tests run once per scripts/test, in its main build;
# the second configuration of `make distcheck` builds them and skips them
if [ "${AGENTID_DISTCHECK:-}" = 1 ]; then
	echo "SKIP: ran in the main build of this scripts/test" >&2
	exit 77
fi
. "${top_srcdir:-.}/tests/agentidd/agentidd-ns.sh"
agentidd_namespace "$0"
. "${top_srcdir:-.}/tests/integration/slapd-fixture.sh"
. "${top_srcdir:-.}/tests/agentidd/agentidd-lib.sh"
B=${top_builddir:-.}
GEN=$B/tests/agentidd/gen_directory
N=${AGENTID_EQUIV_N:-300}
JOBS=${AGENTID_EQUIV_JOBS:-2}
SEED=${AGENTID_EQUIV_SEED:-$(( (RANDOM << 15 | RANDOM) ))}
echo "equivalence: seed $SEED, $N entries (replay: AGENTID_EQUIV_SEED=$SEED" \
    "AGENTID_EQUIV_N=$N)"

[ -x "$GEN" ] || { echo "FAIL: $GEN not built" >&2; exit 1; }
agentidd_setup || exit $?
D=$AGENTID_TEST_LDAP_DIR
"$GEN" "$SEED" "$N" "$D" "$AGENTID_TEST_LDAP_BASE" ||
    { echo "FAIL: gen_directory" >&2; exit 1; }
# base is ou=agents: owners, groups and a few agentIdentity entries live
# beside it, as in deployments (agentidd syncs the naming context)
S=$AGENTID_TEST_LDAP_BASE
common=("base ou=agents,$S" "group_base ou=groups,$S"
    "owner_filter (|(objectClass=person)(objectClass=organizationalRole))"
    "owner_active_filter (|(employeeType=staff)(description=active*))"
    "hostname web1.example.org" "heartbeat 1" "replica $R")
slapd_write_conf "$CONF" "${common[@]}"
CONF_R=$D/agentid-replica.conf CONF_D=$D/agentid-directory.conf
slapd_write_conf "$CONF_R" "${common[@]}" "source replica" \
    "audit_log $D/audit-replica.log"
slapd_write_conf "$CONF_D" "${common[@]}" "source directory" \
    "audit_log $D/audit-directory.log"

t0=$(date +%s)
ldapmod -a -c -f "$D/initial.ldif" 2>"$D/initial.err"
echo "initial: $(grep -c '^dn:' "$D/initial.ldif") entries sent," \
    "$(grep -c 'ldap_add' "$D/initial.err") refused (duplicate names)"
start_daemon
wait_caught_up $((60 + N / 100)) 1 || { fail "no initial refresh"; tail "$D/agentidd.log" >&2; exit 1; }
wait_in_step $((60 + N / 100)) && ok "agentidd caught up with the initial directory" ||
    fail "agentidd's cookie never reached the provider's contextCSN"

# One request (a line of requests.txt) decided from both sources; prints
# "same REASON" or "DIFF ..." with both answers.
decide_both() {
	local user=$1 service=$2 host=$3 rhost=$4 fp=$5 args a b ra rb
	args=(check "$user" --json --service "$service")
	[ "$host" != - ] && args+=(--host "$host")
	[ "$rhost" != - ] && args+=(--rhost "$rhost")
	[ "$fp" != - ] && args+=(--ca-fingerprint "$fp")
	a=$("$AGENTID" --config "$CONF_R" "${args[@]}" 2>/dev/null); ra=$?
	b=$("$AGENTID" --config "$CONF_D" "${args[@]}" 2>/dev/null); rb=$?
	# the explanation is prose and the source differs by design; the
	# fields around them are the decision
	a=$(printf '%s' "$a" | tr -d '\n' |
	    sed 's/"explanation": *"[^"]*"//; s/"source": *"[a-z]*",\{0,1\}//')
	b=$(printf '%s' "$b" | tr -d '\n' |
	    sed 's/"explanation": *"[^"]*"//; s/"source": *"[a-z]*",\{0,1\}//')
	if [ "$ra" = "$rb" ] && [ "$a" = "$b" ]; then
		if [ "$ra" = 2 ] && [ -z "$a" ]; then
			echo "same error"
		else
			echo "same $(printf '%s' "$a" | sed -n 's/.*"reason": *"\([a-z_]*\)".*/\1/p')"
		fi
	else
		printf 'DIFF %s\n  replica   (exit %s): %s\n  directory (exit %s): %s\n' \
		    "${args[*]}" "$ra" "$a" "$rb" "$b"
	fi
}
export -f decide_both
export AGENTID CONF_R CONF_D ASAN_OPTIONS

# Decides the first $1 requests from both sources in $JOBS processes;
# counts reasons and differences.
compare_requests() {
	local n=$1 label=$2 out=$D/compare-$2.txt diffs
	head -n "$n" "$D/requests.txt" |
	    xargs -d '\n' -P "$JOBS" -n 1 bash -c \
	    'IFS=$'"'"'\t'"'"' read -r u s h r f <<<"$1"; decide_both "$u" "$s" "$h" "$r" "$f"' _ \
	    >"$out"
	diffs=$(grep -c '^DIFF' "$out")
	echo "$label: $(grep -c '^same' "$out") requests decided alike; per reason:"
	grep '^same' "$out" | sort | uniq -c | sort -rn | sed 's/same //' |
	    awk '{ printf "  %6d %s\n", $1, $2 }'
	if [ "$diffs" = 0 ] && [ "$(grep -c '^same' "$out")" = "$n" ]; then
		ok "$label: $n requests, replica and directory decide alike"
	else
		fail "$label: $diffs of $n requests decided differently (seed $SEED)"
		grep -A2 '^DIFF' "$out" | head -30 >&2
	fi
}

nreq=$(wc -l <"$D/requests.txt")
[ -n "${AGENTID_EQUIV_REQUESTS:-}" ] && [ "$AGENTID_EQUIV_REQUESTS" -lt "$nreq" ] &&
    nreq=$AGENTID_EQUIV_REQUESTS
compare_requests $((nreq / 10)) before-changes

ldapmod -c -f "$D/changes.ldif" 2>"$D/changes.err"
echo "changes: $(grep -c '^changetype' "$D/changes.ldif") sent," \
    "$(grep -c '^ldap_' "$D/changes.err") refused (their entry was gone)"
wait_in_step $((60 + N / 100)) && ok "agentidd caught up with the changes" ||
    fail "agentidd's cookie never reached the provider's contextCSN"
compare_requests "$nreq" after-changes

# the NSS replica, kept by agentidd as a base and deltas of what each batch
# changed (and of the chains through it), equals what a full sync writes
DUMP=$B/tests/agentidd/replica_dump
if "$AGENTID" --config "$CONF" sync --replica "$D/ref.cdb" >/dev/null \
    2>"$D/sync.err"; then
	"$DUMP" nss "$D/ref.cdb" | sort >"$D/nss-ref.txt"
	"$DUMP" nss "$R" | sort >"$D/nss-got.txt"
	if cmp -s "$D/nss-ref.txt" "$D/nss-got.txt"; then
		ok "NSS replica equals a full agentid sync ($(wc -l <"$D/nss-got.txt") agents; delta $( [ -e "$R.delta" ] && stat -c %s "$R.delta" || echo none) bytes)"
	else
		fail "NSS replica differs from a full agentid sync"
		diff "$D/nss-ref.txt" "$D/nss-got.txt" | head -20 >&2
	fi
else
	fail "agentid sync: $(head -3 "$D/sync.err")"
fi

# the replica config really decided from the replica (not a fallback)
nr=$(grep -c '"source":"replica"' "$D/audit-replica.log")
nx=$(grep -c '"event":"check"' "$D/audit-replica.log")
[ "$nr" -gt 0 ] && [ "$nr" = "$nx" ] &&
    ok "all $nr audited checks of the replica config have source replica" ||
    fail "$nr of $nx checks of the replica config came from the replica"
nd=$(grep -c '"source":"directory"' "$D/audit-directory.log")
nx=$(grep -c '"event":"check"' "$D/audit-directory.log")
[ "$nd" -gt 0 ] && [ "$nd" = "$nx" ] &&
    ok "all $nd audited checks of the directory config have source directory" ||
    fail "$nd of $nx checks of the directory config came from the directory"

# compaction: a child writes the new bases while deltas go on; with
# AGENTIDD_TEST_COMPACT_FAIL the child fails and agentidd compacts
# synchronously (the comparisons above then covered that path)
grep 'compaction' "$D/agentidd.log" | head -6 | sed 's/^/  /'
if [ -n "${AGENTIDD_TEST_COMPACT_FAIL:-}" ]; then
	grep -q 'compaction: new .* in place' "$D/agentidd.log" &&
	    fail "a failing compaction child's bases were put in place"
	grep -q 'compaction: child' "$D/agentidd.log" &&
	    ! grep -q 'compacting synchronously' "$D/agentidd.log" &&
	    echo "  (no compaction child had ended yet)"
else
	grep -q 'compaction in the background failed' "$D/agentidd.log" &&
	    fail "a compaction child failed: $(grep -m1 'background failed' \
	    "$D/agentidd.log")"
fi
stop_daemon || fail "agentidd exit status"
grep -q 'ERROR: AddressSanitizer\|runtime error' "$D/agentidd.log" &&
    fail "sanitizer report in agentidd's log"
echo "equivalence: $(($(date +%s) - t0)) s"
finish
