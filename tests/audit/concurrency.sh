#!/bin/sh
# concurrency.sh - 8 processes x 500 appends at once (as 8 logins would):
# 4000 complete lines, none interleaved, each writer's records all present,
# and "agentid audit verify" passes, also while the appends are going on.
# Then the same with fsync on, smaller.
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
	lines=$(wc -l < "$log")
	[ "$lines" -eq $((procs * count)) ] ||
		fail "$log: $lines lines, expected $((procs * count))"
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
	[ "$last" -eq $((procs * count)) ] || fail "last seq $last"
	out=$("$agentid" audit verify "$log") || fail "verify failed: $out"
	echo "$out"
	echo "$out" | grep -q "intact: $((procs * count)) lines" || fail "summary: $out"
}

run "$tmp/a/audit.log" 8 500
run "$tmp/b/audit.log" 4 50 --fsync
echo "PASS: concurrent appends"
