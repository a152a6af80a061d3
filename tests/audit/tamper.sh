#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tamper.sh - "agentid audit verify" on an intact trail (exit 0 + summary),
# on each kind of tampering (exit 1 + file and first bad line), on
# unreadable input (exit 2), and with no FILE (audit_log from --config).
set -eu
: "${top_builddir:?}"
writer="$top_builddir/tests/audit/audit_writer"
agentid="$top_builddir/agentid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-audit-tamper.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

log="$tmp/log/audit.log"
"$writer" "$log" 20
cp "$log" "$tmp/orig"

# expect CODE [PATTERN] -- runs verify on $log, checks exit code and stderr
expect() {
	code=$1 pattern=$2
	shift 2
	set +e
	"$agentid" audit verify "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	set -e
	[ "$rc" -eq "$code" ] || {
		cat "$tmp/out" "$tmp/err" >&2
		fail "$*: exit $rc, expected $code"
	}
	[ -z "$pattern" ] || grep -q -- "$pattern" "$tmp/err" "$tmp/out" || {
		cat "$tmp/out" "$tmp/err" >&2
		fail "$*: no '$pattern' in the output"
	}
}

expect 0 "intact: 20 lines" "$log"
grep -q '^span: 2026-09-21T14:13:20Z .. 2026-09-21T14:13:39Z$' "$tmp/out" || fail "span"
grep -q '^decisions: allow 11, deny 8, error 1$' "$tmp/out" || fail "decisions"
grep -q 'reasons: ok 11, revoked 3, expired 3, scope_host 2, other 1$' "$tmp/out" || fail "reasons"
grep -q '^head: [0-9a-f]\{64\}$' "$tmp/out" || fail "head"

# edited line 6: a denial turned into an allow
sed '6s/"decision":"[a-z]*"/"decision":"allow"/;6s/"reason":"[a-z_]*"/"reason":"ok"/' "$tmp/orig" > "$log"
cmp -s "$log" "$tmp/orig" && fail "sed did not edit line 6"
expect 1 "audit.log:6: edited" "$log"

# edited line 1
sed '1s/"user":"bot-w-0"/"user":"bot-w-X"/' "$tmp/orig" > "$log"
expect 1 "audit.log:1: edited" "$log"

# removed line 12
sed '12d' "$tmp/orig" > "$log"
expect 1 "audit.log:12: line(s) removed" "$log"

# reordered: lines 3 and 4 swapped
awk 'NR == 3 { held = $0; next } { print } NR == 4 { print held }' "$tmp/orig" > "$log"
[ "$(sed -n 4p "$log")" = "$(sed -n 3p "$tmp/orig")" ] || fail "awk did not swap"
expect 1 "audit.log:3: line(s) removed or reordered" "$log"

# duplicated line 9
sed '9p' "$tmp/orig" > "$log"
expect 1 "audit.log:10: duplicated" "$log"

# truncated last line (no newline)
head -c -30 "$tmp/orig" > "$log"
expect 1 "audit.log:20: truncated" "$log"

# a line that is not JSON at all
sed '15s/.*/hello/' "$tmp/orig" > "$log"
expect 1 "audit.log:15: not a valid audit record" "$log"

# unreadable input: missing file, a directory
expect 2 "No such file" "$tmp/missing.log"
expect 2 "directory" "$tmp"
# usage error
expect 2 "usage" --bogus

# without FILE: audit_log of the configuration
cp "$tmp/orig" "$log"
printf 'audit_log %s\n' "$log" > "$tmp/agentid.conf"
chmod 600 "$tmp/agentid.conf"
set +e
"$agentid" --config "$tmp/agentid.conf" audit verify > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" -eq 0 ] || { cat "$tmp/out" >&2; fail "verify from config: exit $rc"; }
grep -q "intact: 20 lines" "$tmp/out" || fail "verify from config: summary"
sed '5d' "$tmp/orig" > "$log"
set +e
"$agentid" --config "$tmp/agentid.conf" audit verify > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" -eq 1 ] || fail "verify from config, tampered: exit $rc"
set +e
"$agentid" --config "$tmp/nonexistent.conf" audit verify > "$tmp/out" 2>&1
rc=$?
set -e
[ "$rc" -eq 2 ] || fail "verify with a missing config: exit $rc"
echo "PASS: tampering detected"
