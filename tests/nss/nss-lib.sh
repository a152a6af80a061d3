# SPDX-License-Identifier: BSD-2-Clause
# nss-lib.sh - runs commands through the real glibc NSS path with
# libnss_agent.so.2, without touching the host (bash, sourced by tests/nss/*.sh
# and bench/nss.sh).
#
#   nss_unusable                    prints why nss_run cannot work (or nothing)
#   nss_setup [LIBDIR] [DB_LINES]   checks root + unshare (else exit 77, SKIP),
#       writes an nsswitch.conf ("passwd: files agent", "group: files agent"
#       unless DB_LINES, a string of nsswitch lines, is given) and picks the
#       module directory (default: the build tree's nss_agent/.libs).
#   nss_run REPLICA CMD [ARGS...]   runs CMD in a private mount namespace where
#       that nsswitch.conf is bind-mounted over /etc/nsswitch.conf (and nscd's
#       socket hidden), with LD_LIBRARY_PATH at the module and AGENTID_REPLICA
#       at REPLICA. A sanitized module gets the ASan runtime preloaded.
#   nss_bind SRC DST                adds a bind mount for later nss_run calls.

NSS_TMP=${NSS_TMP:-$(mktemp -d "${TMPDIR:-/tmp}/agentid-nss.XXXXXX")}
NSS_BINDS=()
# the caller removes $NSS_TMP (its own EXIT trap may be needed for others)

# Prints a SKIP notice and exits 77 (automake's "skipped").
nss_skip() {
	echo "" >&2
	echo "*** SKIP: $* ***" >&2
	echo "" >&2
	exit 77
}

# Why nss_run cannot work here (nothing when it can).
nss_unusable() {
	if [ "$(id -u)" != 0 ]; then
		echo "needs root for a private mount namespace"
	elif ! command -v unshare >/dev/null 2>&1; then
		echo "unshare is missing (util-linux)"
	elif ! unshare -m --propagation private true 2>/dev/null; then
		echo "unshare -m is not permitted here"
	fi
}

nss_setup() {
	local libdir=${1:-${top_builddir:-.}/nss_agent/.libs}
	local lines=${2:-$'passwd: files agent\ngroup: files agent'} why
	why=$(nss_unusable)
	[ -z "$why" ] || nss_skip "$why"
	[ -e "$libdir/libnss_agent.so.2" ] ||
	    { echo "nss_setup: no $libdir/libnss_agent.so.2" >&2; exit 1; }
	NSS_LIBDIR=$(cd "$libdir" && pwd)
	printf '%s\n' "$lines" "shadow: files" "hosts: files" >"$NSS_TMP/nsswitch.conf"
	NSS_PRELOAD=
	if readelf -d "$NSS_LIBDIR/libnss_agent.so.2" 2>/dev/null | grep -q libasan; then
		NSS_PRELOAD=$(gcc -print-file-name=libasan.so)
	fi
}

nss_bind() {
	NSS_BINDS+=("$1" "$2")
}

nss_run() {
	local replica=$1
	shift
	AGENTID_REPLICA=$replica LD_LIBRARY_PATH=$NSS_LIBDIR \
	    LD_PRELOAD=$NSS_PRELOAD ASAN_OPTIONS=detect_leaks=0 \
	    unshare -m --propagation private bash -c '
		conf=$1; shift
		mount --bind "$conf" /etc/nsswitch.conf || exit 125
		if [ -S /var/run/nscd/socket ]; then
			mount -t tmpfs none /var/run/nscd || exit 125
		fi
		while [ "$1" != "--" ]; do
			mount --bind "$1" "$2" || exit 125
			shift 2
		done
		shift
		exec "$@"' nss_run "$NSS_TMP/nsswitch.conf" "${NSS_BINDS[@]}" -- "$@"
}
