#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# test_nss_threads.sh - libnss_agent under ThreadSanitizer: 8 threads x N
# lookups while the replica is replaced continuously. The module's sources
# and tests/nss/nss_threads.c are compiled here with -fsanitize=thread (the
# tree itself may be built with ASan, which cannot be mixed with TSan), with
# the file re-checked every millisecond (NSS_AGENT_CHECK_MS=1) so that lookups
# race with remaps all the time. NSS_THREADS_LOOKUPS sets N: 25000 in "make
# check" to stay under a minute; bench/nss.sh runs the full 100000.
set -u
src=${top_srcdir:-.}
bld=${top_builddir:-.}
N=${NSS_THREADS_LOOKUPS:-25000}
skip() { printf '\n*** SKIP: %s ***\n\n' "$*" >&2; exit 77; }

command -v gcc >/dev/null 2>&1 || skip "gcc is missing"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/agentid-tsan.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
echo 'int main(void){return 0;}' >"$tmp/t.c"
gcc -fsanitize=thread "$tmp/t.c" -o "$tmp/t" 2>/dev/null && "$tmp/t" ||
    skip "gcc cannot build or run -fsanitize=thread programs here"

gcc -std=gnu11 -O1 -g -fsanitize=thread -Wall -Wextra -Werror \
    -I"$bld" -I"$src/include" -I"$src/common" \
    -I"$src/nss_agent" \
    "$src"/nss_agent/buffer.c "$src"/nss_agent/map.c "$src"/nss_agent/passwd.c \
    "$src"/nss_agent/group.c "$src"/common/replica_reader.c \
    "$src"/tests/nss/nss_threads.c -o "$tmp/nss_threads" -lcdb -lpthread ||
    { echo "FAIL: could not build the TSan driver" >&2; exit 1; }

"$bld/tests/nss/gen_replica" --users 2000 --tag genA "$tmp/a.cdb" &&
"$bld/tests/nss/gen_replica" --users 2000 --tag genB "$tmp/b.cdb" &&
    cp "$tmp/a.cdb" "$tmp/agents.cdb" || exit 1

# halt_on_error: any data race or lock-order problem fails the test
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" \
    "$tmp/nss_threads" "$tmp/a.cdb" "$tmp/b.cdb" "$tmp/agents.cdb" 2000 "$N"
rc=$?
[ $rc -eq 0 ] && echo "ok: no race, every answer whole" ||
    echo "FAIL: nss_threads exited $rc" >&2
exit $rc
