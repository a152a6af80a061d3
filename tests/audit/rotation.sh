#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# rotation.sh - the chain across rotated files: by hand (rename, with and
# without "create"), then with the real logrotate and the snippet shipped in
# packaging/logrotate/agentid (skipped, loudly, when logrotate is missing).
set -eu
: "${top_builddir:?}" "${top_srcdir:?}"
writer="$top_builddir/tests/audit/audit_writer"
agentid="$top_builddir/agentid"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-audit-rot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
verify() { "$agentid" audit verify "$@" > "$tmp/out" 2>&1; }

d="$tmp/log"
log="$d/audit.log"

# 1. rename away, the writer creates the next file itself
"$writer" --tag a "$log" 30
mv "$log" "$log.2"
"$writer" --tag b "$log" 20
# 2. rename away, then an empty file is created (logrotate "create")
mv "$log" "$log.1"
: > "$log"
chmod 600 "$log"
"$writer" --tag c "$log" 10

verify "$log.2" "$log.1" "$log" || { cat "$tmp/out" >&2; fail "verify across 3 files"; }
grep -q "intact: 60 lines in 3 files, seq 1-60" "$tmp/out" || fail "summary: $(cat "$tmp/out")"
grep -q "continues an earlier file" "$tmp/out" && fail "a full history does not continue anything"
head -n 1 "$log" | grep -q '"seq":51,' || fail "seq does not continue across the rotation"

# the newest file alone verifies, noting where it comes from
verify "$log" || { cat "$tmp/out" >&2; fail "verify of the newest file alone"; }
grep -q "note: .*audit.log line 1 continues an earlier file" "$tmp/out" || fail "no continuation note"

# a missing middle file, or the wrong order, breaks the chain
if verify "$log.2" "$log"; then fail "a missing rotated file went unnoticed"; fi
grep -q "audit.log:1: " "$tmp/out" || fail "wrong place: $(cat "$tmp/out")"
if verify "$log.1" "$log.2" "$log"; then fail "wrong order went unnoticed"; fi

# 3. the real logrotate with the shipped snippet
if ! command -v logrotate >/dev/null 2>&1 && [ ! -x /usr/sbin/logrotate ]; then
	echo "SKIP (part): logrotate is not installed; snippet not exercised" >&2
	echo "PASS: rotation by hand"
	exit 0
fi
lr=$(command -v logrotate || echo /usr/sbin/logrotate)
rm -rf "$d"
"$writer" --tag a "$log" 25
conf="$tmp/logrotate.conf"
sed "s|^/var/log/agentid/audit.log {|$log {|" \
	"$top_srcdir/packaging/logrotate/agentid" > "$conf"
grep -q "^$log {" "$conf" || fail "could not adapt the snippet"
if [ "$(id -u)" -ne 0 ]; then
	sed -i 's/^\tcreate 0600 root root/\tcreate 0600/' "$conf"
fi
chmod 644 "$conf"
"$lr" -f -s "$tmp/lr.state" "$conf" || fail "logrotate (1)"
[ -f "$log.1" ] && [ -f "$log" ] || fail "logrotate did not rotate"
"$writer" --tag b "$log" 25
"$lr" -f -s "$tmp/lr.state" "$conf" || fail "logrotate (2)"
"$writer" --tag c "$log" 25
[ -f "$log.2.gz" ] || fail "delaycompress: no audit.log.2.gz"
[ "$(stat -c %a "$log")" = 600 ] || fail "mode of the new file: $(stat -c %a "$log")"
gzip -dc "$log.2.gz" > "$tmp/audit.log.2"
verify "$tmp/audit.log.2" "$log.1" "$log" || { cat "$tmp/out" >&2; fail "verify after logrotate"; }
grep -q "intact: 75 lines in 3 files, seq 1-75" "$tmp/out" || fail "summary after logrotate: $(cat "$tmp/out")"
echo "PASS: rotation by hand and with logrotate"
