#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# enospc.sh - a full disk: the writer returns a clear error, leaves no
# partial record behind, and the trail still verifies. Needs root and
# unshare(1) for a private tmpfs of a few KiB; skips (77) otherwise.
set -eu
: "${top_builddir:?}"
writer="$top_builddir/tests/audit/audit_writer"
agentid="$top_builddir/agentid"
if [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null 2>&1 ||
   ! unshare -m --propagation private true 2>/dev/null; then
	echo "SKIP: enospc.sh needs root and a private mount namespace" >&2
	exit 77
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-audit-full.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/mnt"
export writer agentid tmp
unshare -m --propagation private sh -eu -c '
	fail() { echo "FAIL: $*" >&2; exit 1; }
	mount -t tmpfs -o size=12k,mode=0755 agentid-test "$tmp/mnt"
	log="$tmp/mnt/log/audit.log"
	# far more than 12 KiB of records: the disk fills up on the way
	if "$writer" "$log" 1000 2> "$tmp/err"; then fail "the writer never failed"; fi
	grep -q "No space left on device" "$tmp/err" || fail "error: $(cat "$tmp/err")"
	grep -q "$log" "$tmp/err" || fail "the error does not name the log"
	[ "$(tail -c 1 "$log" | od -An -c | tr -d " ")" = "\\n" ] || fail "a partial record was left"
	"$agentid" audit verify "$log" || fail "the trail does not verify after ENOSPC"
	n=$(wc -l < "$log")
	[ "$n" -gt 0 ] || fail "nothing was written"
	echo "full after $n records: $(cat "$tmp/err")"
'
echo "PASS: disk full"
