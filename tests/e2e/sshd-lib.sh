# SPDX-License-Identifier: BSD-2-Clause
# sshd-lib.sh - a real sshd with pam_agent.so and libnss_agent.so.2 on
# loopback, inside a private mount namespace, without touching the host's
# files (bash; sourced by scripts/demo.d/20-sshd.sh, written to be sourced
# by tests/e2e/test_sshd.sh as well).
#
#   sshd_unusable            prints why a private sshd cannot run here (or
#                            nothing): root, unshare -m, sshd, ssh, ssh-keygen
#   sshd_pick_modules BUILDDIR
#                            sets SSHD_PAM_MODULE, SSHD_LDAP_MODULE and
#                            SSHD_NSSDIR (absolute): the build tree's
#                            pam_agent.so, the directory plugin it opens
#                            (agentid-ldap.so) and libnss_agent.so.2, or,
#                            when those are
#                            ASan-instrumented (sshd cannot load them), the
#                            uninstrumented copies mk/pam.mk builds in
#                            tests/e2e for "make check". Returns 1 (message
#                            on stderr) when they are not built.
#
# The rest must run in a private mount namespace already
# (unshare -m --propagation private):
#
#   sshd_bind_nsswitch DIR   writes DIR/nsswitch.conf ("passwd: files agent",
#                            "group: files agent"), binds it over
#                            /etc/nsswitch.conf and hides nscd's socket
#   sshd_bind_pam FILE       binds FILE over /etc/pam.d/sshd
#   sshd_principals_command AGENTID CONF
#                            sshd wants AuthorizedPrincipalsCommand on a
#                            root-owned path no one else can write, all the
#                            way up (so not under /tmp): writes
#                            /mnt/principals (a tmpfs mounted on /mnt) that
#                            runs "AGENTID --config CONF principals ARGS",
#                            and sets SSHD_PRINCIPALS_LINES to the two
#                            sshd_config lines that use it
#   sshd_start NAME DIR [sshd_config line]...
#                            writes DIR/sshd-NAME.conf (ListenAddress on a
#                            free 127.0.0.1 port, PidFile in DIR, UsePAM yes,
#                            certificates only: no passwords, no
#                            authorized_keys (AuthorizedKeysFile is
#                            SSHD_AUTHORIZED_KEYS_FILE, default none), no
#                            root, LogLevel VERBOSE, then
#                            the given lines: HostKey and TrustedUserCAKeys
#                            at least), checks it with sshd -t, starts sshd
#                            (log DIR/sshd-NAME.log) with AGENTID_REPLICA at
#                            SSHD_REPLICA (default DIR/agents.cdb),
#                            AGENTID_LDAP_MODULE at SSHD_LDAP_MODULE and
#                            LD_LIBRARY_PATH at SSHD_NSSDIR, and waits until
#                            it accepts connections. Sets SSHD_PORT; returns
#                            1 (message on stderr) on failure. The first
#                            call mounts a tmpfs on /run with an empty
#                            /run/sshd (sshd's privilege separation
#                            directory) rather than create it on the host.
#   sshd_stop                stops every sshd sshd_start started. Call it
#                            from the caller's EXIT trap.
#
# Needs _slapd_free_port from tests/integration/slapd-fixture.sh.

SSHD=${SSHD:-/usr/sbin/sshd}
SSHD_PIDS=()
SSHD_PRIVATE_RUN=

# Why a private sshd cannot run here (nothing when it can).
sshd_unusable() {
	if [ "$(id -u)" != 0 ]; then
		echo "needs root (a private mount namespace, sshd)"
	elif ! command -v unshare >/dev/null 2>&1; then
		echo "unshare is missing (Debian: util-linux)"
	elif ! unshare -m --propagation private true 2>/dev/null; then
		echo "unshare -m is not permitted here"
	elif [ ! -x "$SSHD" ]; then
		echo "sshd is not installed (Debian: openssh-server)"
	elif ! command -v ssh >/dev/null 2>&1 ||
	    ! command -v ssh-keygen >/dev/null 2>&1; then
		echo "ssh/ssh-keygen are not installed (Debian: openssh-client)"
	fi
}

# True when the shared object $1 is ASan-instrumented.
_sshd_uses_asan() {
	readelf -d "$1" 2>/dev/null | grep -q 'libasan'
}

# sshd_pick_modules BUILDDIR: see the top of this file.
sshd_pick_modules() {
	local b=$1 mod nss ldap
	mod="$b/pam_agent/.libs/pam_agent.so"
	ldap="$b/common/.libs/agentid-ldap.so"
	nss="$b/nss_agent/.libs"
	[ -f "$mod" ] || { echo "$mod is not built" >&2; return 1; }
	[ -e "$nss/libnss_agent.so.2" ] ||
		{ echo "$nss/libnss_agent.so.2 is not built" >&2; return 1; }
	if _sshd_uses_asan "$mod"; then
		mod="$b/tests/e2e/.libs/pam_agent_plain.so"
		ldap="$b/tests/e2e/.libs/agentid-ldap.so"
		nss="$b/tests/e2e/.libs"
		if [ ! -f "$mod" ] || [ ! -f "$ldap" ] ||
		    [ ! -e "$nss/libnss_agent.so.2" ]; then
			echo "uninstrumented copies in $b/tests/e2e not built" >&2
			return 1
		fi
	fi
	# shellcheck disable=SC2034 # for the caller
	SSHD_PAM_MODULE=$(cd "${mod%/*}" && pwd)/${mod##*/}
	# shellcheck disable=SC2034 # for sshd_start
	SSHD_LDAP_MODULE=$(cd "${ldap%/*}" && pwd)/${ldap##*/}
	SSHD_NSSDIR=$(cd "$nss" && pwd)
}

# sshd_bind_nsswitch DIR: see the top of this file.
sshd_bind_nsswitch() {
	printf 'passwd: files agent\ngroup: files agent\nshadow: files\nhosts: files\n' \
	    >"$1/nsswitch.conf" || return 1
	mount --bind "$1/nsswitch.conf" /etc/nsswitch.conf || return 1
	if [ -S /var/run/nscd/socket ]; then
		mount -t tmpfs none /var/run/nscd || return 1
	fi
}

# sshd_bind_pam FILE: see the top of this file.
sshd_bind_pam() {
	mount --bind "$1" /etc/pam.d/sshd
}

# sshd_principals_command AGENTID CONF: see the top of this file.
sshd_principals_command() {
	mount -t tmpfs -o mode=0755 agentid-sshd /mnt || return 1
	cat >/mnt/principals <<EOF || return 1
#!/bin/sh
exec "$1" --config "$2" principals "\$@"
EOF
	chmod 0755 /mnt/principals || return 1
	# shellcheck disable=SC2034 # for the caller
	SSHD_PRINCIPALS_LINES=(
		"AuthorizedPrincipalsCommand /mnt/principals --ca-fingerprint %F --key-fingerprint %f --key-id %i --serial %s -- %u"
		"AuthorizedPrincipalsCommandUser root"
	)
}

# sshd_start NAME DIR [sshd_config line]...: see the top of this file.
sshd_start() {
	local name=$1 dir=$2 port pid
	shift 2
	port=$(_slapd_free_port) || { echo "sshd_start: no free port" >&2; return 1; }
	{
		cat <<EOF
ListenAddress 127.0.0.1:$port
PidFile $dir/sshd-$name.pid
UsePAM yes
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile ${SSHD_AUTHORIZED_KEYS_FILE:-none}
PermitRootLogin no
StrictModes no
LogLevel VERBOSE
EOF
		printf '%s\n' "$@"
	} >"$dir/sshd-$name.conf" || return 1
	if [ -z "$SSHD_PRIVATE_RUN" ]; then
		# sshd's privilege separation directory, /run/sshd, without
		# touching the host's /run (where it may be missing)
		if ! mount -t tmpfs -o mode=0755 agentid-sshd-run /run ||
		    ! mkdir -m 0755 /run/sshd; then
			echo "sshd_start: cannot make a private /run/sshd" >&2
			return 1
		fi
		SSHD_PRIVATE_RUN=1
	fi
	"$SSHD" -t -f "$dir/sshd-$name.conf" || {
		echo "sshd_start: sshd -t rejects $dir/sshd-$name.conf" >&2
		return 1
	}
	AGENTID_REPLICA=${SSHD_REPLICA:-$dir/agents.cdb} \
	    AGENTID_LDAP_MODULE=$SSHD_LDAP_MODULE \
	    LD_LIBRARY_PATH=$SSHD_NSSDIR \
	    "$SSHD" -D -e -f "$dir/sshd-$name.conf" 2>"$dir/sshd-$name.log" &
	pid=$!
	SSHD_PIDS+=("$pid")
	for _ in $(seq 1 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			# shellcheck disable=SC2034 # for the caller
			SSHD_PORT=$port
			return 0
		fi
		kill -0 "$pid" 2>/dev/null || {
			echo "sshd_start: sshd died: $(cat "$dir/sshd-$name.log")" >&2
			return 1
		}
		sleep 0.1
	done
	echo "sshd_start: sshd does not answer on port $port" >&2
	return 1
}

# sshd_stop: see the top of this file.
sshd_stop() {
	local p
	for p in "${SSHD_PIDS[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	SSHD_PIDS=()
	return 0
}
