# SPDX-License-Identifier: BSD-2-Clause
# agentidd-ns.sh - sourced first by the tests that run agentidd as root.
# agentidd drops to the system user `agentid`, which the packages create;
# in a test it exists only in a private mount namespace, in a copy of the
# whole /etc bound over /etc (a file bound over /etc/passwd alone would be
# detached the moment anything on the host renamed a new passwd over it).
# Readers accept a replica owned by root or agentid.
#
# agentidd_namespace SCRIPT: as root and not yet inside, re-runs SCRIPT in
# such a namespace and exits with its status (77 when unshare is refused);
# otherwise returns.
agentidd_namespace() {
	local rc
	[ "$(id -u)" = 0 ] || return 0
	[ -z "${AGENTIDD_TEST_ETC:-}" ] || return 0
	if ! unshare -m --propagation private true 2>/dev/null; then
		echo "SKIP: unshare -m is not permitted here" >&2
		exit 77
	fi
	AGENTIDD_TEST_ETC=$(mktemp -d /tmp/agentidd-etc.XXXXXX) || exit 1
	export AGENTIDD_TEST_ETC
	cp -a /etc/. "$AGENTIDD_TEST_ETC/" || exit 1
	grep -q '^agentid:' /etc/passwd ||
	    echo 'agentid:x:64910:64910:agentid test:/nonexistent:/usr/sbin/nologin' \
	    >>"$AGENTIDD_TEST_ETC/passwd"
	grep -q '^agentid:' /etc/group ||
	    echo 'agentid:x:64910:' >>"$AGENTIDD_TEST_ETC/group"
	unshare -m --propagation private bash -c '
	    mount --bind "$AGENTIDD_TEST_ETC" /etc && exec bash "$0"' "$1"
	rc=$?
	rm -rf "$AGENTIDD_TEST_ETC"
	exit $rc
}
