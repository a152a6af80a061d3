#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_abi.sh - libagentid.so exports exactly the functions its version
# script names (common/libagentid.sym), every one of them is defined, and
# every function the public headers (include/agentid*.h) declare is named
# there: no internal helper leaks through a glob, no ABI entry is missing.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
lib=$(find . -path '*/.libs/libagentid.so.0' 2>/dev/null | head -1)
[ -n "$lib" ] || lib=.libs/libagentid.so.0
if [ ! -e "$lib" ]; then
	echo "SKIP: libagentid.so.0 not built" >&2
	exit 77
fi
command -v nm >/dev/null || { echo "SKIP: nm not installed" >&2; exit 77; }
fail=0
sym=$(sed -n 's/^ *\(agentid_[a-z0-9_]*\);$/\1/p' "$top_srcdir/common/libagentid.sym" | sort -u)
exported=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' |
	grep -v '^_' | sed 's/@.*//' | sort -u)
declared=$(cat "$top_srcdir"/include/agentid*.h | grep -oE '\bagentid_[a-z0-9_]+\(' |
	tr -d '(' | sort -u)
extra=$(comm -13 <(printf '%s\n' "$sym") <(printf '%s\n' "$exported"))
missing=$(comm -23 <(printf '%s\n' "$sym") <(printf '%s\n' "$exported"))
undeclared=$(comm -23 <(printf '%s\n' "$declared") <(printf '%s\n' "$sym"))
if [ -n "$extra" ]; then
	echo "FAIL: exported but not in libagentid.sym: $extra"; fail=1
fi
if [ -n "$missing" ]; then
	echo "FAIL: in libagentid.sym but not defined: $missing"; fail=1
fi
if [ -n "$undeclared" ]; then
	echo "FAIL: declared in include/ but not exported: $undeclared"; fail=1
fi
if grep -q 'agentid_\*' "$top_srcdir/common/libagentid.sym"; then
	echo "FAIL: libagentid.sym exports by glob"; fail=1
fi
[ $fail -eq 0 ] && echo "ok: libagentid.so exports $(printf '%s\n' "$exported" | wc -l) functions, each named"
exit $fail
