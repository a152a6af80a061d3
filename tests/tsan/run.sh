#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# tests/tsan/run.sh - agentidd's replica writer and the NSS module under
# ThreadSanitizer (issue 15, item 5): configures the tree with
# -fsanitize=thread in a build directory of its own (default build/tsan;
# TSAN_BUILD overrides), builds it, then runs
# tests/tsan/test_replica_threads.sh against that build: 8 threads of NSS
# lookups (libnss_agent.so.2) while agentidd (also TSan) rewrites the
# replica for 100 directory changes/s. Any data race, lock-order problem or
# wrong answer fails the run. (The module's threads against renamed files
# run under TSan in make check already: tests/nss/test_nss_threads.sh.)
#   tests/tsan/run.sh           full: 200000 lookups per thread
#   tests/tsan/run.sh --short   20000 lookups per thread (scripts/test)
# Exits 77 when TSan programs cannot be built or run here, or not root.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
bld=${TSAN_BUILD:-$top/build/tsan}
jobs=$(nproc 2>/dev/null || echo 2)
skip() { printf '\n*** SKIP: %s ***\n\n' "$*" >&2; exit 77; }
lookups=200000 flips=200
[ "${1:-}" = "--short" ] && lookups=20000 flips=100

start=$(date +%s)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-tsan.XXXXXX") || exit 1
echo 'int main(void){return 0;}' >"$tmp/t.c"
gcc -fsanitize=thread "$tmp/t.c" -o "$tmp/t" 2>/dev/null && "$tmp/t" ||
	{ rm -rf "$tmp"; skip "gcc cannot build or run -fsanitize=thread programs here"; }
rm -rf "$tmp"

mkdir -p "$bld" || exit 1
cd "$bld" || exit 1
if [ ! -f Makefile ]; then
	[ -x "$top/configure" ] || (cd "$top" && mkdir -p m4 && autoreconf -fi >/dev/null 2>&1)
	"$top/configure" -q --enable-werror CFLAGS="-O1 -g -fsanitize=thread" \
	    LDFLAGS="-fsanitize=thread" ||
		{ echo "run.sh: configure failed" >&2; exit 1; }
fi
make -s -j"$jobs" >make.out 2>&1 ||
	{ tail -n 40 make.out >&2; echo "run.sh: build failed" >&2; exit 1; }
echo "run.sh: built in $(( $(date +%s) - start )) s ($bld)"

t0=$(date +%s)
top_srcdir=$top top_builddir=$bld TSAN_LOOKUPS=$lookups TSAN_FLIPS=$flips \
    AGENTID_LDAP_MODULE="$bld/common/.libs/agentid-ldap.so" \
    bash "$top/tests/tsan/test_replica_threads.sh"
rc=$?
echo "run.sh: test_replica_threads exited $rc after $(( $(date +%s) - t0 )) s; $(( $(date +%s) - start )) s in all"
exit $rc
