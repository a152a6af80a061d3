#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# concurrency.sh - 8 processes x 500 appends at once (as 8 logins would):
# 4000 complete lines, none interleaved, each writer's records all present,
# and "agentid audit verify" passes, also while the appends are going on.
# Then the same with fsync on, smaller, and with sealing on (records
# spread over many sealing intervals: seal lines appear among them, the
# chain and every seal verify with the key).
set -eu
: "${top_builddir:?}"
writer="$top_builddir/tests/audit/audit_writer"
agentid="$top_builddir/agentid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-audit-conc.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

run() { # run LOG PROCS COUNT [writer options]
	log=$1 procs=$2 count=$3
	shift 3
	pids=
	i=0
	while [ "$i" -lt "$procs" ]; do
		"$writer" "$@" --tag "w$i" "$log" "$count" &
		pids="$pids $!"
		i=$((i + 1))
	done
	# verify concurrently with the writers: a record being written must
	# never be reported as a truncated line
	checks=0
	while :; do
		running=0
		for p in $pids; do
			kill -0 "$p" 2>/dev/null && running=1
		done
		[ "$running" -eq 1 ] || break
		if [ -s "$log" ]; then
			"$agentid" audit verify --quiet "$log" ||
				fail "verify during the appends failed"
			checks=$((checks + 1))
		fi
	done
	for p in $pids; do
		wait "$p" || fail "a writer failed"
	done
	echo "verified $checks times while appending"
	lines=$(grep -vc '"event":"seal"' "$log" || true)
	[ "$lines" -eq $((procs * count)) ] ||
		fail "$log: $lines records, expected $((procs * count))"
	seals=$(grep -c '"event":"seal"' "$log" || true)
	total=$((lines + seals))
	# every line is one whole record: starts with {"ts": and ends with "}
	bad=$(grep -vc '^{"ts":"[^"]*",.*,"seq":[0-9]*,"prev":"[0-9a-f]\{64\}"}$' "$log" || true)
	[ "$bad" -eq 0 ] || fail "$log: $bad interleaved or partial lines"
	i=0
	while [ "$i" -lt "$procs" ]; do
		n=$(grep -c "\"session\":\"w$i\"" "$log" || true)
		[ "$n" -eq "$count" ] || fail "writer w$i: $n records, expected $count"
		i=$((i + 1))
	done
	# seq runs 1..N without gaps even though appends raced
	last=$(tail -n 1 "$log" | sed 's/.*"seq":\([0-9]*\),.*/\1/')
	[ "$last" -eq "$total" ] || fail "last seq $last"
	out=$("$agentid" audit verify ${vkey:+--key "$vkey"} "$log") ||
		fail "verify failed: $out"
	echo "$out"
	echo "$out" | grep -q "intact: $total lines" || fail "summary: $out"
}

vkey=
run "$tmp/a/audit.log" 8 500
run "$tmp/b/audit.log" 4 50 --fsync

# sealing on: 60 s intervals, each writer's records 7 s apart (~60 intervals)
mkdir -m 700 "$tmp/c"
printf 'audit_log %s\naudit_seal_interval 60\n' "$tmp/c/audit.log" > "$tmp/c.conf"
chmod 600 "$tmp/c.conf"
vkey=$("$agentid" --config "$tmp/c.conf" audit keygen --now 1790000000 2>/dev/null)
run "$tmp/c/audit.log" 6 500 --seal-key "$tmp/c/audit.seal" --ts 1790000000 --step 7
[ "$seals" -ge 50 ] || fail "sealing on: only $seals seal lines"
echo "$out" | grep -q "all good" || fail "sealing on: seals not all checked"
echo "PASS: concurrent appends"
