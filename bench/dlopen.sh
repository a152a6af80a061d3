#!/bin/bash
# bench/dlopen.sh - what sshd pays to load pam_agent.so for a connection:
# the fresh-process dlopen (libpam and libcrypto loaded already, as in the
# sshd child) of pam_agent.so beside pam_permit.so (the floor) and, when
# installed, nslcd's pam_ldap.so and sssd's pam_sss.so (never installed
# here); then the directory plugin that pam_agent.so opens only when a
# decision needs the directory, and pam_agent.so's load-time dependencies.
# Prints figures; never fails on time (exit 1 only if something does not
# work).
#
#   top_srcdir=... top_builddir=... bash bench/dlopen.sh
#
# Uses a build without sanitizers: when top_builddir is sanitized (or not
# configured), one is configured and built under a temporary directory.
# BENCH_DLOPEN_RUNS: fresh processes per module (default 31).
set -u
src=$(cd "${top_srcdir:-$(dirname "$0")/..}" && pwd)
bld=$(cd "${top_builddir:-.}" && pwd)
RUNS=${BENCH_DLOPEN_RUNS:-31}
W=$(mktemp -d "${TMPDIR:-/tmp}/agentid-dlopen.XXXXXX") || exit 1
trap 'rm -rf "$W"' EXIT
say() { printf '%s\n' "$*"; }

# ---- a build without sanitizers ---------------------------------------------
if [ ! -f "$bld/Makefile" ] || grep -q -- '-fsanitize' "$bld/Makefile"; then
	say "building a copy without sanitizers in $W/build ..."
	mkdir -p "$W/build"
	(cd "$W/build" && "$src/configure" -q CFLAGS="-O2 -g" >/dev/null) ||
		{ echo "bench/dlopen.sh: configure failed" >&2; exit 1; }
	B=$W/build
else
	B=$bld
fi
make -C "$B" -j2 pam_agent/pam_agent.la common/agentid-ldap.la \
    nss_agent/libnss_agent.la bench/dlopen \
    >"$W/make.log" 2>&1 ||
	{ tail -20 "$W/make.log" >&2; echo "bench/dlopen.sh: make failed" >&2; exit 1; }
MOD=$B/pam_agent/.libs/pam_agent.so
PLUGIN=$B/common/.libs/agentid-ldap.so
if readelf -d "$MOD" | grep -q 'libasan'; then
	echo "bench/dlopen.sh: $MOD is built with sanitizers" >&2
	exit 1
fi

# ---- the system's PAM module directory ----------------------------------------
pamdir=
for d in /lib/*-linux-gnu*/security /usr/lib/*-linux-gnu*/security \
    /lib64/security /usr/lib64/security /lib/security /usr/lib/security; do
	if [ -e "$d/pam_permit.so" ]; then
		pamdir=$d
		break
	fi
done
[ -n "$pamdir" ] || { echo "bench/dlopen.sh: pam_permit.so not found" >&2; exit 1; }

say ""
say "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
say "kernel $(uname -r), $(ldd --version | head -1)"
say ""
say "fresh-process dlopen(RTLD_NOW|RTLD_LOCAL), libpam and libcrypto loaded:"
"$B/bench/dlopen" -n "$RUNS" \
    "pam_agent.so=$MOD" \
    "pam_permit.so=$pamdir/pam_permit.so" \
    "pam_ldap.so=$pamdir/pam_ldap.so" \
    "pam_sss.so=$pamdir/pam_sss.so" || exit 1
say ""
say "the same, libnss_agent.so.2 loaded first (nsswitch has agent: sshd looked"
say "the user up before PAM, so libcdb is there already):"
"$B/bench/dlopen" -n "$RUNS" -l "$B/nss_agent/.libs/libnss_agent.so.2" \
    "pam_agent.so=$MOD" "pam_permit.so=$pamdir/pam_permit.so" |
    tail -n +3 | head -2
say ""
say "opened by pam_agent.so only when a decision needs the directory:"
"$B/bench/dlopen" -n "$RUNS" "agentid-ldap.so=$PLUGIN" | tail -n +3 | head -1
say ""
say "load-time dependencies of pam_agent.so (ldd):"
ldd "$MOD" | sed 's/^\s*/  /; s/ (0x[0-9a-f]*)$//'
exit 0
