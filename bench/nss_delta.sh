#!/bin/bash
# SPDX-License-Identifier: BSD-2-Clause
# bench/nss_delta.sh - what one directory change costs agentidd at 100k and
# 1M agents: the records delta and the NSS delta written by agentidd's own
# store code (bench/nss_delta.c), median/p99/max over 100 changes, and the
# time from each to the changed agent visible through getpwnam_r
# (libnss_agent.so.2 looked up in a loop, its remap of the new delta
# included); then the same
# change written with a full NSS base (what every batch cost before the
# delta). Prints figures; never fails on time (exit 1 only if something
# does not work).
#
#   top_srcdir=... top_builddir=... bash bench/nss_delta.sh     (as root)
#
# Uses an optimised build without sanitizers: when top_builddir is
# sanitized, one is configured and built under a temporary directory.
# NSS_DELTA_SIZES (default "100000 1000000"), NSS_DELTA_CHANGES (100).
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
[ "$(id -u)" = 0 ] || { echo "bench/nss_delta.sh: run as root" >&2; exit 1; }
W=$(mktemp -d /tmp/agentid-nss-delta.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
if grep -q -- '^[A-Z_]* = .*-fsanitize' "$bld/Makefile" 2>/dev/null; then
	echo "building an optimised copy without sanitizers in $W/build ..."
	mkdir -p "$W/build"
	(cd "$W/build" && "$src/configure" -q CFLAGS="-O2 -g" >/dev/null &&
	    make -j2 >/dev/null 2>&1) || { echo "build failed" >&2; exit 1; }
	B=$W/build
else
	B=$bld
fi
make -C "$B" bench/nss_delta >/dev/null 2>&1 ||
    { echo "make bench/nss_delta failed" >&2; exit 1; }
echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
for n in ${NSS_DELTA_SIZES:-100000 1000000}; do
	echo ""
	"$B/bench/nss_delta" --agents "$n" --changes "${NSS_DELTA_CHANGES:-100}" \
	    "$B/nss_agent/.libs/libnss_agent.so.2" || exit 1
done
