#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test_man_conf.sh - man/agentid.conf.5 documents every key that
# common/config.c accepts (a tagged paragraph naming it), and, when groff is
# installed, renders without a single warning.
set -u
src=${top_srcdir:-.}
page="$src/man/agentid.conf.5"
table="$src/common/config.c"

keys=$(sed -n 's/^[[:space:]]*{ "\([a-z_]*\)", K_[A-Z_]*,.*/\1/p' "$table")
if [ -z "$keys" ]; then
	echo "FAIL: no key table found in $table (format changed?)" >&2
	exit 1
fi
status=0
n=0
for k in $keys; do
	n=$((n + 1))
	# the tag line after .TP: ".BI key ...", ".B key ..." or "\fBkey\fR ..."
	if ! awk -v k="$k" '
	    prev == ".TP" && ($0 ~ "^\\.BI? " k "( |$)" ||
	        index($0, "\\fB" k "\\fR") > 0) { found = 1 }
	    { prev = $0 }
	    END { exit !found }' "$page"; then
		echo "FAIL: $page has no entry for key \"$k\"" >&2
		status=1
	fi
done
[ "$status" -eq 0 ] && echo "ok: all $n keys of common/config.c are in agentid.conf(5)"

if command -v groff >/dev/null 2>&1; then
	warn=$(groff -man -Tutf8 -ww -z "$page" 2>&1)
	if [ -n "$warn" ]; then
		printf 'FAIL: groff warns about %s:\n%s\n' "$page" "$warn" >&2
		status=1
	else
		echo "ok: groff renders agentid.conf(5) without warnings"
	fi
else
	echo "SKIP (part): groff is not installed, rendering not checked"
fi
exit "$status"
